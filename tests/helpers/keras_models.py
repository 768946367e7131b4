"""Build the seed's Keras model with Keras 3 and write it as ``.h5`` files, with Keras's own outputs.

Run as a script (a subprocess, so that Keras's backend choice cannot leak into other tests)::

    python tests/keras_models.py OUT_DIR CASES_JSON

Each case (a dict: name, image_size, lstm_size, hidden_size, classes, activation, formats, images) writes
``OUT_DIR/<name>.<format>.h5`` for every format in ``formats`` (``softmax2``: a Dense(2, softmax) head), and ``OUT_DIR/<name>.npz`` with the
images (B, S, S, 3), Keras's probabilities and the TimeDistributed(Dense) output at every step.
``OUT_DIR/params.json`` gets Keras's trainable parameter count of every case.

Formats: ``keras3`` (``model.save("m.h5")``, Keras 3's legacy full-model h5), ``weights3`` (Keras 3's
``.weights.h5``), ``keras2`` (a full-model file laid out as Keras 2.2.4 wrote it: layer names ``lstm_1``,
``time_distributed_1``, ``dense_2``, weight names ``lstm_1/kernel:0``, a Sequential config as a list of layers,
``recurrent_activation: "hard_sigmoid"``) and ``keras2w`` (Keras 2's ``save_weights``: the same without config).

Activations: ``sigmoid``; ``hard_sigmoid_keras2`` (Keras 2's clip(0.2 x + 0.5, 0, 1), a custom function in
Keras 3); ``hard_sigmoid`` (Keras 3's built-in, relu6(x + 3) / 6). A case with ``"kind": "cnn"`` writes a small
CNN instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "torch"
os.environ.setdefault("OMP_NUM_THREADS", "1")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402


@keras.saving.register_keras_serializable(package="plotlstm_test")
def hard_sigmoid_keras2(x: Any) -> Any:
    """Keras 2's hard sigmoid, which Keras 3 no longer has."""
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


def build(
    image_size: int, lstm_size: int, hidden_size: int, classes: int, activation: str, softmax2: bool = False
) -> keras.Sequential:
    """The seed's Sequential model (its notebook, with Keras 3's spelling); ``softmax2``: Dense(2, softmax) head."""
    head = 1 if classes == 2 and not softmax2 else classes
    gate = hard_sigmoid_keras2 if activation == "hard_sigmoid_keras2" else activation
    s = image_size
    return keras.Sequential(
        [
            keras.Input((s, s, 3)),
            layers.Permute((2, 1, 3)),
            layers.Reshape((s, s * 3)),
            layers.LSTM(lstm_size, return_sequences=True, recurrent_activation=gate),
            layers.LSTM(lstm_size, return_sequences=True, recurrent_activation=gate),
            layers.Dropout(0.5),
            layers.TimeDistributed(layers.Dense(hidden_size)),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid") if head == 1 else layers.Dense(head, activation="softmax"),
        ]
    )


def randomize(model: keras.Model, rng: np.random.Generator) -> None:
    """Random weights everywhere, biases included (so that their placement matters)."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights(
                [
                    (
                        rng.normal(0, 1 / np.sqrt(w.shape[0]), w.shape)
                        if w.ndim == 2
                        else rng.normal(0, 0.5, w.shape)
                    ).astype(np.float32)
                    for w in weights
                ]
            )


def keras2_config(model: keras.Model, image_size: int, activation: str) -> dict[str, Any]:
    """The model_config Keras 2.2.4 wrote for the seed's Sequential model: a list of layer configs."""
    s = image_size
    lstm = {
        "trainable": True,
        "return_sequences": True,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "activation": "tanh",
        "recurrent_activation": "hard_sigmoid" if activation == "hard_sigmoid_keras2" else activation,
        "use_bias": True,
        "unit_forget_bias": True,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "implementation": 1,
    }
    units = [layer.units for layer in model.layers if isinstance(layer, layers.LSTM)]
    hidden = model.layers[5].layer.units
    head = model.layers[-1]
    head_activation = "sigmoid" if head.units == 1 else "softmax"
    return {
        "class_name": "Sequential",
        "config": [
            {
                "class_name": "Permute",
                "config": {
                    "name": "permute_1",
                    "trainable": True,
                    "batch_input_shape": [None, s, s, 3],
                    "dtype": "float32",
                    "dims": [2, 1, 3],
                },
            },
            {
                "class_name": "Reshape",
                "config": {"name": "reshape_1", "trainable": True, "target_shape": [s, 3 * s]},
            },
            {"class_name": "LSTM", "config": {"name": "lstm_1", "units": units[0], **lstm}},
            {"class_name": "LSTM", "config": {"name": "lstm_2", "units": units[1], **lstm}},
            {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": True, "rate": 0.5}},
            {
                "class_name": "TimeDistributed",
                "config": {
                    "name": "time_distributed_1",
                    "trainable": True,
                    "layer": {
                        "class_name": "Dense",
                        "config": {
                            "name": "dense_1",
                            "units": hidden,
                            "activation": "linear",
                            "use_bias": True,
                        },
                    },
                },
            },
            {
                "class_name": "Flatten",
                "config": {"name": "flatten_1", "trainable": True, "data_format": "channels_last"},
            },
            {
                "class_name": "Dense",
                "config": {
                    "name": "dense_2",
                    "units": head.units,
                    "activation": head_activation,
                    "use_bias": True,
                },
            },
        ],
    }


def write_keras2(
    path: Path, model: keras.Model, image_size: int, activation: str, weights_only: bool
) -> None:
    """Write ``model`` as Keras 2.2.4's ``model.save`` (or ``save_weights``) laid its h5 file out."""
    names = [
        "permute_1",
        "reshape_1",
        "lstm_1",
        "lstm_2",
        "dropout_1",
        "time_distributed_1",
        "flatten_1",
        "dense_2",
    ]
    suffixes = {3: ["kernel:0", "recurrent_kernel:0", "bias:0"], 2: ["kernel:0", "bias:0"], 0: []}
    with h5py.File(path, "w") as f:
        if weights_only:
            group = f
        else:
            f.attrs["keras_version"] = b"2.2.4"
            f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps(keras2_config(model, image_size, activation)).encode()
            training = {
                "optimizer_config": {
                    "class_name": "Adam",
                    "config": {
                        "lr": float(np.float32(1e-4)),
                        "beta_1": float(np.float32(0.9)),
                        "beta_2": float(np.float32(0.999)),
                    },
                },
                "loss": "binary_crossentropy",
            }
            f.attrs["training_config"] = json.dumps(training).encode()
            group = f.create_group("model_weights")
        group.attrs["layer_names"] = [n.encode() for n in names]
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.2.4"
        for name, layer in zip(names, model.layers, strict=True):
            g = group.create_group(name)
            weights = layer.get_weights()
            weight_names = [f"{name}/{s}" for s in suffixes[len(weights)]]
            g.attrs["weight_names"] = [n.encode() for n in weight_names]
            for weight_name, value in zip(weight_names, weights, strict=True):
                g.create_dataset(weight_name, data=value)


def run_case(out: Path, case: dict[str, Any], params: dict[str, int]) -> None:
    rng = np.random.default_rng(case.get("seed", 0))
    name = case["name"]
    if case.get("kind") == "cnn":
        model = keras.Sequential(
            [
                keras.Input((16, 16, 3)),
                layers.Conv2D(4, 3),
                layers.Flatten(),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.save(out / f"{name}.keras3.h5")
        return
    s = case["image_size"]
    model = build(
        s,
        case["lstm_size"],
        case["hidden_size"],
        case["classes"],
        case["activation"],
        case.get("softmax2", False),
    )
    randomize(model, rng)
    params[name] = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    for fmt in case["formats"]:
        if fmt == "keras3":
            model.save(out / f"{name}.keras3.h5")
        elif fmt == "weights3":
            model.save_weights(out / f"{name}.weights3.weights.h5")
        elif fmt in ("keras2", "keras2w"):
            write_keras2(
                out / f"{name}.{fmt}.h5", model, s, case["activation"], weights_only=fmt == "keras2w"
            )
    images = rng.uniform(0, 1, (case.get("images", 3), s, s, 3)).astype(np.float32)
    x = ops.convert_to_tensor(images)
    for layer in model.layers[:-2]:
        x = layer(x, training=False)
    features = ops.convert_to_numpy(x)
    probs = ops.convert_to_numpy(model(images, training=False))
    np.savez(out / f"{name}.npz", images=images, probs=probs, features=features)


def main(out_dir: str, cases_json: str) -> None:
    out = Path(out_dir)
    params: dict[str, int] = {}
    for case in json.loads(cases_json):
        run_case(out, case, params)
    (out / "params.json").write_text(json.dumps(params))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
