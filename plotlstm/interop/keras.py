"""Import the seed's trained Keras model (an ``.h5`` file) as a plotlstm checkpoint.

The Keras model is ``Permute((2, 1, 3))``, ``Reshape((S, 3 S))``, ``LSTM(H, return_sequences=True)`` twice,
``Dropout``, ``TimeDistributed(Dense(D))``, ``Flatten``, ``Dense(1, sigmoid)`` or ``Dense(K, softmax)``.
Weights are read with h5py (no Keras needed) and mapped onto :class:`plotlstm.models.module.PlotLitModule`:

- LSTM kernel ``(in, 4H)`` -> ``weight_ih (4H, in)``, recurrent kernel ``(H, 4H)`` -> ``weight_hh (4H, H)``;
  both libraries order the gate blocks input, forget, cell (PyTorch's "g"), output, so no reordering;
- Keras's one bias -> ``bias_ih``; ``bias_hh`` is zero (PyTorch adds the two);
- Dense kernels ``(in, out)`` are transposed; Keras's ``Flatten`` of ``(S, D)`` is row-major (time, then
  feature), the same as ``torch.flatten(1)``, so the head needs no permutation;
- a binary ``Dense(1, sigmoid)`` head is PlotLitModule's one logit; ``Dense(2, softmax)`` becomes one logit
  ``z1 - z0`` (softmax over two logits is the sigmoid of their difference); ``Dense(K, softmax)`` is kept.

See ``docs/keras-parity.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from plotlstm.errors import CheckpointError, first_line
from plotlstm.models.checkpoint import write
from plotlstm.models.lstm import RECURRENT_ACTIVATIONS

# Keras's flow_from_directory sorts the class folders alphabetically, as PlotDataModule does; the seed's
# folders were the classes below, so class index i of the Keras model is the i-th name here.
DEFAULT_CLASS_NAMES = {2: ["ceiling", "none"], 4: ["biased", "ceiling", "none", "outlier"]}
SEED_LAYERS = "Permute, Reshape, LSTM, LSTM, Dropout, TimeDistributed(Dense), Flatten, Dense"

Lstm = tuple[np.ndarray, np.ndarray, np.ndarray]
Dense = tuple[np.ndarray, np.ndarray]


@dataclass
class KerasFile:
    """What an ``.h5`` file holds: its layers' weights in file order, and its model config if any."""

    path: Path
    keras_version: str | None
    layers: list[tuple[str, list[np.ndarray]]]
    config_layers: list[dict[str, Any]] | None = None
    training_config: dict[str, Any] | None = None
    class_names: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _datasets(group: Any) -> list[np.ndarray]:
    """All arrays under an h5 group, in natural path order (Keras 3's ``vars/0``, ``vars/1``, ...)."""
    import h5py

    found: list[tuple[str, np.ndarray]] = []
    group.visititems(
        lambda name, obj: found.append((name, np.asarray(obj))) if isinstance(obj, h5py.Dataset) else None
    )
    return [array for _, array in sorted(found, key=lambda item: _natural_key(item[0]))]


def _legacy_layers(group: Any) -> list[tuple[str, list[np.ndarray]]]:
    """Keras 2 (and Keras 3 legacy) layout: ``layer_names`` attr, each layer's ``weight_names`` in order."""
    layers = []
    for name in (_text(n) for n in group.attrs["layer_names"]):
        layer = group[name]
        layers.append((name, [np.asarray(layer[_text(w)]) for w in layer.attrs.get("weight_names", [])]))
    return layers


def read_keras_file(path: str | Path) -> KerasFile:
    """Read the weights (and config, if stored) of a Keras ``.h5`` file; :class:`CheckpointError` if unreadable."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"in: {path} does not exist or is not a file")
    try:
        with h5py.File(path, "r") as f:
            version = f.attrs.get("keras_version")
            if "model_weights" in f and "layer_names" in f["model_weights"].attrs:  # full model, Keras 2 or 3
                layers = _legacy_layers(f["model_weights"])
                version = version or f["model_weights"].attrs.get("keras_version")
            elif "layer_names" in f.attrs:  # Keras 2 save_weights
                layers = _legacy_layers(f)
            elif "layers" in f and isinstance(f["layers"], h5py.Group):  # Keras 3 .weights.h5
                layers = [(k, _datasets(f["layers"][k])) for k in sorted(f["layers"], key=_natural_key)]
            else:
                raise CheckpointError(
                    f"in: {path} holds no Keras weights (expected a 'model_weights' group, a 'layer_names' "
                    f"attribute or a Keras 3 'layers' group; found {sorted(f.keys()) or 'nothing'})"
                )
            config = f.attrs.get("model_config")
            training = f.attrs.get("training_config")
            classes = f.attrs.get("class_names")
            keras_file = KerasFile(path, _text(version) if version is not None else None, layers)
            if config is not None:
                keras_file.config_layers = _config_layers(path, json.loads(_text(config)))
            if training is not None:
                keras_file.training_config = json.loads(_text(training))
            if classes is not None:
                keras_file.class_names = (
                    json.loads(_text(classes))
                    if isinstance(classes, (str, bytes))
                    else [_text(c) for c in classes]
                )
            return keras_file
    except (OSError, KeyError, ValueError, TypeError) as err:
        if isinstance(err, CheckpointError):
            raise
        first = first_line(err)
        raise CheckpointError(f"in: {path} is not a readable Keras .h5 file ({first})") from None


def _config_layers(path: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The model config's layers (Keras 2.2 Sequential: a list; later: ``{"layers": [...]}``), no InputLayer."""
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner if isinstance(inner, list) else (inner or {}).get("layers")
    if not isinstance(layers, list):
        raise CheckpointError(f"in: {path} has a model_config without a list of layers")
    return [layer for layer in layers if layer.get("class_name") != "InputLayer"]


def _describe(layer: dict[str, Any]) -> str:
    name = layer.get("class_name", "?")
    if name in ("TimeDistributed", "Bidirectional"):
        name += f"({layer.get('config', {}).get('layer', {}).get('class_name', '?')})"
    return name


def _activation_name(value: Any) -> str:
    """A Keras activation as a name: a string, or a serialized function (Keras 3 dict)."""
    if isinstance(value, dict):
        return _text(value.get("config") or value.get("class_name"))
    return _text(value)


def _check_config(kf: KerasFile) -> dict[str, Any]:
    """Insist that the config is the seed's architecture; return its options (activations, dropout)."""
    layers = kf.config_layers or []
    found = [_describe(layer) for layer in layers]
    expected = SEED_LAYERS.split(", ")
    if found != expected and found != [n for n in expected if n != "Dropout"]:
        raise CheckpointError(
            f"in: {kf.path} is not the seed's model: expected layers {SEED_LAYERS}; found {', '.join(found) or 'none'}"
        )
    by_type: dict[str, list[dict[str, Any]]] = {}
    for layer in layers:
        by_type.setdefault(layer["class_name"], []).append(layer.get("config", {}))

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"in: {kf.path} is not the seed's model: {what}")

    dims = list(by_type["Permute"][0].get("dims", []))
    if dims != [2, 1, 3]:
        raise fail(f"expected Permute((2, 1, 3)), found Permute({tuple(dims)})")
    recurrent = set()
    for lstm in by_type["LSTM"]:
        name = lstm.get("name", "LSTM")
        if not lstm.get("return_sequences", False):
            raise fail(f"expected {name} with return_sequences=True, found return_sequences=False")
        if lstm.get("go_backwards", False):
            raise fail(f"expected {name} with go_backwards=False, found go_backwards=True")
        if not lstm.get("use_bias", True):
            raise fail(f"expected {name} with use_bias=True, found use_bias=False")
        if _activation_name(lstm.get("activation", "tanh")) != "tanh":
            raise fail(f"expected {name} with activation tanh, found {_activation_name(lstm['activation'])}")
        recurrent.add(_activation_name(lstm.get("recurrent_activation", "hard_sigmoid")))
    if len(recurrent) != 1:
        raise fail(f"expected both LSTMs with the same recurrent activation, found {sorted(recurrent)}")
    per_step = by_type["TimeDistributed"][0]["layer"].get("config", {})
    if _activation_name(per_step.get("activation", "linear")) != "linear":
        raise fail(f"expected TimeDistributed(Dense) with linear activation, found {per_step['activation']}")
    head = by_type["Dense"][0]
    units, activation = int(head.get("units", 0)), _activation_name(head.get("activation", "linear"))
    if (units == 1 and activation != "sigmoid") or (units > 1 and activation != "softmax"):
        raise fail(
            f"expected Dense(1, sigmoid) or Dense(K, softmax) last, found Dense({units}, {activation})"
        )
    return {
        "recurrent_activation": recurrent.pop(),
        "dropout": float(by_type["Dropout"][0].get("rate", 0.5)) if "Dropout" in by_type else 0.0,
    }


def _plotlstm_activation(name: str, keras_version: str | None, path: Path) -> str:
    """The SeedLSTM gate function for a Keras recurrent activation name (``hard_sigmoid`` changed in Keras 3)."""
    if name == "sigmoid":
        return "sigmoid"
    if name == "hard_sigmoid":
        major = int(keras_version.split(".")[0]) if keras_version and keras_version[0].isdigit() else 2
        return "hard_sigmoid_keras3" if major >= 3 else "hard_sigmoid"
    raise CheckpointError(
        f"in: {path}: the LSTMs' recurrent activation {name!r} is not one plotlstm knows; "
        f"pass recurrent_activation= one of {list(RECURRENT_ACTIVATIONS)}"
    )


def _split_weights(kf: KerasFile) -> tuple[list[Lstm], list[Dense]]:
    """Sort the layers' weights into LSTMs (kernel, recurrent kernel, bias) and Denses (kernel, bias) by shape."""
    lstms: list[Lstm] = []
    denses: list[Dense] = []
    for name, arrays in kf.layers:
        shapes = [a.shape for a in arrays]
        if not arrays:
            continue
        if (
            len(arrays) == 3
            and len(shapes[0]) == 2
            and len(shapes[1]) == 2
            and shapes[1][1] == 4 * shapes[1][0]
            and shapes[0][1] == shapes[1][1]
            and shapes[2] == (shapes[1][1],)
        ):
            lstms.append((arrays[0], arrays[1], arrays[2]))
        elif len(arrays) == 2 and len(shapes[0]) == 2 and shapes[1] == (shapes[0][1],):
            denses.append((arrays[0], arrays[1]))
        else:
            raise CheckpointError(
                f"in: {kf.path} is not the seed's model: expected LSTM weights (in, 4H), (H, 4H), (4H,) or "
                f"Dense weights (in, out), (out,); layer {name} has weights of shapes {shapes}"
            )
    if len(lstms) != 2 or len(denses) != 2:
        raise CheckpointError(
            f"in: {kf.path} is not the seed's model: expected 2 LSTM and 2 Dense layers with weights; "
            f"found {len(lstms)} LSTM and {len(denses)} Dense"
        )
    return lstms, denses


def _arrange(kf: KerasFile, lstms: list[Lstm], denses: list[Dense]) -> tuple[Lstm, Lstm, Dense, Dense]:
    """Put the layers in the seed's order by how their shapes chain (file order breaks ties)."""
    for first, second in ((0, 1), (1, 0)):
        l1, l2 = lstms[first], lstms[second]
        h = l1[1].shape[0]
        if l2[0].shape[0] != h or l2[1].shape[0] != h or l1[0].shape[0] % 3:
            continue
        size = l1[0].shape[0] // 3
        for a, b in ((0, 1), (1, 0)):
            per_step, head = denses[a], denses[b]
            hidden = per_step[0].shape[1]
            if per_step[0].shape[0] == h and head[0].shape[0] == size * hidden:
                return l1, l2, per_step, head
    found = [f"LSTM({w.shape[0]} -> {u.shape[0]})" for w, u, _ in lstms] + [
        f"Dense({w.shape[0]} -> {w.shape[1]})" for w, _ in denses
    ]
    raise CheckpointError(
        f"in: {kf.path} does not chain like the seed's model: expected LSTM(3S -> H), LSTM(H -> H), "
        f"Dense(H -> D), Dense(S*D -> K); found {', '.join(found)}"
    )


def _optimizer(kf: KerasFile) -> tuple[float, list[float]]:
    """Adam's learning rate and betas from a Keras 2 training_config (float32 noise rounded off), else the seed's."""
    lr, betas = 1e-4, [0.9, 0.999]
    opt = (kf.training_config or {}).get("optimizer_config", {})
    if isinstance(opt, dict) and opt.get("class_name") == "Adam":
        conf = opt.get("config", {})
        lr = float(conf.get("learning_rate", conf.get("lr", lr)))
        betas = [float(conf.get("beta_1", betas[0])), float(conf.get("beta_2", betas[1]))]
    return float(f"{lr:.7g}"), [float(f"{b:.7g}") for b in betas]


def keras_to_plotlstm(
    path: str | Path,
    class_names: Sequence[str] | None = None,
    recurrent_activation: str | None = None,
) -> dict[str, Any]:
    """A plotlstm checkpoint dict (state_dict, hyper_parameters, ...) equivalent to the Keras model at ``path``.

    ``class_names`` default to the file's (if it stores ``class_names``), else :data:`DEFAULT_CLASS_NAMES`
    (the seed's folders, alphabetical as Keras read them), else ``"0"``, ``"1"``, ...
    ``recurrent_activation`` defaults to the file's LSTM config (Keras 2's ``hard_sigmoid`` is
    ``clip(0.2 x + 0.5, 0, 1)``, Keras 3's is ``x / 6 + 0.5`` clipped); a weights-only file needs it given.
    """
    import lightning

    from plotlstm.models.module import PlotLitModule

    if recurrent_activation is not None and recurrent_activation not in RECURRENT_ACTIVATIONS:
        raise CheckpointError(
            f"recurrent_activation: unknown value {recurrent_activation!r} for {path}; "
            f"use one of {list(RECURRENT_ACTIVATIONS)}"
        )
    kf = read_keras_file(path)
    options = _check_config(kf) if kf.config_layers is not None else {"dropout": 0.5}
    if recurrent_activation is None:
        if "recurrent_activation" not in options:
            raise CheckpointError(
                f"in: {kf.path} is a weights-only file (no model_config): it does not say the LSTMs' recurrent "
                f"activation; pass recurrent_activation=hard_sigmoid (Keras 2's default) or sigmoid"
            )
        recurrent_activation = _plotlstm_activation(
            options["recurrent_activation"], kf.keras_version, kf.path
        )
    (k1, r1, b1), (k2, r2, b2), (kd, bd), (kh, bh) = _arrange(kf, *_split_weights(kf))
    lstm_size, image_size, hidden_size = r1.shape[0], k1.shape[0] // 3, kd.shape[1]
    units = kh.shape[1]
    if units == 2:  # Dense(2, softmax): softmax([z0, z1])[1] = sigmoid(z1 - z0)
        kh, bh = kh[:, 1:] - kh[:, :1], bh[1:] - bh[:1]
    num_classes = max(units, 2)
    names = list(class_names) if class_names is not None else kf.class_names
    if names is None:
        names = DEFAULT_CLASS_NAMES.get(num_classes, [str(i) for i in range(num_classes)])
    names = [str(n) for n in names]
    if len(names) != num_classes:
        raise CheckpointError(
            f"classes: {len(names)} names {names} for the {num_classes} classes of the model in {kf.path}"
        )
    lr, betas = _optimizer(kf)
    hparams: dict[str, Any] = {
        "num_classes": num_classes,
        "class_names": names,
        "net": {
            "arch": "seed_lstm",
            "lstm_size": int(lstm_size),
            "num_layers": 2,
            "hidden_size": int(hidden_size),
            "dropout": float(options["dropout"]),
            "recurrent_activation": recurrent_activation,
            "keras_init": False,
        },
        "image_size": int(image_size),
        "interpolation": "nearest",  # Keras's load_img resized with PIL's nearest neighbour
        "lr": lr,
        "betas": betas,
        "weight_decay": 0.0,
    }

    def t(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))

    weights = {
        "net.per_step.weight": t(kd.T),
        "net.per_step.bias": t(bd),
        "net.head.weight": t(kh.T),
        "net.head.bias": t(bh),
    }
    for layer, (kernel, recurrent, bias) in enumerate(((k1, r1, b1), (k2, r2, b2))):
        weights[f"net.lstm.weight_ih_l{layer}"] = t(kernel.T)
        weights[f"net.lstm.weight_hh_l{layer}"] = t(recurrent.T)
        weights[f"net.lstm.bias_ih_l{layer}"] = t(bias)
        weights[f"net.lstm.bias_hh_l{layer}"] = torch.zeros(4 * lstm_size)
    model = PlotLitModule(**hparams)
    model.load_state_dict(weights, strict=True)  # the exact keys and shapes PlotLitModule has
    return {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "hyper_parameters": hparams,
        "pytorch-lightning_version": lightning.__version__,
        "plotlstm_import": {"source": str(kf.path.resolve()), "keras_version": kf.keras_version or "unknown"},
    }


def import_keras(
    src: str | Path,
    out: str | Path,
    class_names: Sequence[str] | None = None,
    recurrent_activation: str | None = None,
) -> dict[str, Any]:
    """Convert the Keras ``.h5`` at ``src``, write the checkpoint to ``out`` atomically and return it."""
    src, out = Path(src), Path(out)
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise CheckpointError(f"out: {out} is the Keras file itself; choose another output path")
    ckpt = keras_to_plotlstm(src, class_names, recurrent_activation)
    write(ckpt, out)
    return ckpt
