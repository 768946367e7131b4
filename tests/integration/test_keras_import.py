"""Parity with Keras itself: the seed's model built in Keras 3, saved as .h5, imported, outputs compared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch

from plotlstm.errors import CheckpointError
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.interop.keras import import_keras, keras_to_plotlstm
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule

pytestmark = pytest.mark.slow  # Keras 3 builds the reference models in a subprocess

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5
KERAS_PARAMS = {2: 772_701, 4: 849_504}  # printed by Keras 2.2 for the seed's models (reference README)
SMALL = {"image_size": 8, "lstm_size": 6, "hidden_size": 5}
OTHER = {"image_size": 12, "lstm_size": 7, "hidden_size": 4}
FULL = {"image_size": 256, "lstm_size": 150, "hidden_size": 100, "images": 2}
K2 = "hard_sigmoid_keras2"
CASES: list[dict[str, Any]] = [
    {"name": "bin_sigmoid", **SMALL, "classes": 2, "activation": "sigmoid", "formats": ["keras3", "keras2"]},
    {
        "name": "four_sigmoid",
        **OTHER,
        "classes": 4,
        "activation": "sigmoid",
        "formats": ["keras3", "weights3"],
    },
    {
        "name": "bin_hard",
        **SMALL,
        "classes": 2,
        "activation": K2,
        "formats": ["keras2", "keras2w", "keras3", "weights3"],
    },
    {"name": "four_hard", **OTHER, "classes": 4, "activation": K2, "formats": ["keras2", "keras3"]},
    {"name": "three_hard3", **SMALL, "classes": 3, "activation": "hard_sigmoid", "formats": ["keras3"]},
    {
        "name": "bin_softmax2",
        **SMALL,
        "classes": 2,
        "activation": "sigmoid",
        "softmax2": True,
        "formats": ["keras2"],
    },
    {"name": "full_bin", **FULL, "classes": 2, "activation": K2, "formats": ["keras2"]},
    {"name": "full_four", **FULL, "classes": 4, "activation": K2, "formats": ["keras2"]},
    {"name": "cnn", "kind": "cnn"},
]
# (case, format, recurrent_activation given to the importer or None, what the checkpoint must say)
PARITY = [
    ("bin_sigmoid", "keras3", None, "sigmoid"),
    ("bin_sigmoid", "keras2", None, "sigmoid"),
    ("four_sigmoid", "keras3", None, "sigmoid"),
    ("four_sigmoid", "weights3", "sigmoid", "sigmoid"),
    ("bin_hard", "keras2", None, "hard_sigmoid"),  # Keras 2's file says "hard_sigmoid": Keras 2's function
    ("bin_hard", "keras2w", "hard_sigmoid", "hard_sigmoid"),
    ("bin_hard", "keras3", "hard_sigmoid", "hard_sigmoid"),  # Keras 3 stores the custom function's name
    ("bin_hard", "weights3", "hard_sigmoid", "hard_sigmoid"),
    ("four_hard", "keras2", None, "hard_sigmoid"),
    ("four_hard", "keras3", "hard_sigmoid", "hard_sigmoid"),
    ("three_hard3", "keras3", None, "hard_sigmoid_keras3"),  # Keras 3's own hard_sigmoid is x / 6 + 0.5
    ("bin_softmax2", "keras2", None, "sigmoid"),
    ("full_bin", "keras2", None, "hard_sigmoid"),
    ("full_four", "keras2", None, "hard_sigmoid"),
]


def h5_path(root: Path, case: str, fmt: str) -> Path:
    return root / (f"{case}.weights3.weights.h5" if fmt == "weights3" else f"{case}.{fmt}.h5")


@pytest.fixture(scope="module")
def keras_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case built, randomized, saved and run by Keras 3 (torch backend) in a subprocess."""
    out = tmp_path_factory.mktemp("keras")
    env = {**os.environ, "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, str(ROOT / "tests" / "helpers" / "keras_models.py"), str(out), json.dumps(CASES)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return out


def keras_outputs(root: Path, case: str) -> dict[str, np.ndarray]:
    data = dict(np.load(root / f"{case}.npz"))
    probs = data["probs"]
    data["probs"] = np.concatenate([1 - probs, probs], axis=1) if probs.shape[1] == 1 else probs
    return data


def run_plotlstm(ckpt: dict[str, Any], images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (B, K) and the per-step Dense output (B, S, D) of the imported model on (B, S, S, 3) images."""
    model = PlotLitModule(**ckpt["hyper_parameters"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    seen: dict[str, torch.Tensor] = {}
    model.net.per_step.register_forward_hook(lambda _m, _a, out: seen.setdefault("features", out))
    with torch.no_grad():
        probs = model.probabilities(model(torch.from_numpy(images).permute(0, 3, 1, 2)))
    return probs.numpy(), seen["features"].numpy()


@pytest.mark.parametrize(
    ("case", "fmt", "given", "expected"), PARITY, ids=[f"{c}-{f}" for c, f, _, _ in PARITY]
)
def test_outputs_match_keras(keras_dir: Path, case: str, fmt: str, given: str | None, expected: str) -> None:
    ckpt = keras_to_plotlstm(h5_path(keras_dir, case, fmt), recurrent_activation=given)
    assert ckpt["hyper_parameters"]["net"]["recurrent_activation"] == expected
    keras = keras_outputs(keras_dir, case)
    probs, features = run_plotlstm(ckpt, keras["images"])
    assert probs.shape == keras["probs"].shape
    assert np.abs(features - keras["features"]).max() <= TOLERANCE
    assert np.abs(probs - keras["probs"]).max() <= TOLERANCE
    assert np.ptp(keras["probs"]) > 0.01  # not saturated: the comparison means something


def test_parameter_counts(keras_dir: Path) -> None:
    """Keras's counts are the seed's; plotlstm has one more bias vector (4 H) per LSTM layer."""
    keras_params = json.loads((keras_dir / "params.json").read_text())
    assert keras_params["full_bin"] == KERAS_PARAMS[2]
    assert keras_params["full_four"] == KERAS_PARAMS[4]
    for case, *_ in PARITY:
        spec = next(c for c in CASES if c["name"] == case)
        ckpt = keras_to_plotlstm(
            h5_path(keras_dir, case, "keras2" if "keras2" in spec["formats"] else "keras3")
        )
        ours = sum(v.numel() for k, v in ckpt["state_dict"].items())
        extra = 2 * 4 * spec["lstm_size"]
        if spec.get("softmax2"):
            extra -= spec["image_size"] * spec["hidden_size"] + 1  # one logit instead of two
        assert ours - keras_params[case] == extra
    assert keras_params["full_bin"] + 2 * 4 * 150 == 773_901
    assert keras_params["full_four"] + 2 * 4 * 150 == 850_704


def test_checkpoint_file_loads_everywhere(keras_dir: Path, tmp_path: Path) -> None:
    """The written file: Checkpoint.open (weights_only), PlotClassifier, Keras's numbers, the file's metadata."""
    out = tmp_path / "sub" / "model.ckpt"
    src = h5_path(keras_dir, "bin_hard", "keras2")
    import_keras(src, out)
    ckpt = Checkpoint.open(out)
    hp = ckpt.hparams
    assert hp["class_names"] == ["ceiling", "none"]
    assert hp["interpolation"] == "nearest"
    assert hp["lr"] == 1e-4 and hp["betas"] == [0.9, 0.999]  # from the file's training_config
    assert ckpt.extras["plotlstm_import"] == {"source": str(src.resolve()), "keras_version": "2.2.4"}
    assert "pytorch-lightning_version" in ckpt.extras
    assert set(ckpt.state_dict) == set(PlotLitModule(**hp).state_dict())
    assert not torch.count_nonzero(ckpt.state_dict["net.lstm.bias_hh_l0"])
    classifier = PlotClassifier.from_checkpoint(out, device="cpu")
    keras = keras_outputs(keras_dir, "bin_hard")
    predictions = classifier.predict(torch.from_numpy(keras["images"]).permute(0, 3, 1, 2))
    got = np.array([[p.probabilities["ceiling"], p.probabilities["none"]] for p in predictions])
    assert np.abs(got - keras["probs"]).max() <= TOLERANCE
    assert [f.name for f in out.parent.iterdir()] == ["model.ckpt"]  # no temporary file left


def test_class_names(keras_dir: Path, tmp_path: Path) -> None:
    four = h5_path(keras_dir, "four_hard", "keras2")
    assert keras_to_plotlstm(four)["hyper_parameters"]["class_names"] == [
        "biased",
        "ceiling",
        "none",
        "outlier",
    ]
    assert keras_to_plotlstm(four, class_names=["a", "b", "c", "d"])["hyper_parameters"][
        "class_names"
    ] == list("abcd")
    three = keras_to_plotlstm(h5_path(keras_dir, "three_hard3", "keras3"))
    assert three["hyper_parameters"]["class_names"] == ["0", "1", "2"]
    stored = tmp_path / "stored.h5"
    stored.write_bytes(four.read_bytes())
    with h5py.File(stored, "a") as f:
        f.attrs["class_names"] = json.dumps(["w", "x", "y", "z"])
    assert keras_to_plotlstm(stored)["hyper_parameters"]["class_names"] == ["w", "x", "y", "z"]
    with pytest.raises(CheckpointError, match="3 names"):
        keras_to_plotlstm(four, class_names=["a", "b", "c"])


def test_the_comparison_can_fail(keras_dir: Path) -> None:
    """Negative controls: swapped gates, the other hard sigmoid, a transposed flatten all break parity."""
    keras = keras_outputs(keras_dir, "bin_hard")
    src = h5_path(keras_dir, "bin_hard", "keras2")
    wrong_gate = keras_to_plotlstm(src, recurrent_activation="hard_sigmoid_keras3")
    assert np.abs(run_plotlstm(wrong_gate, keras["images"])[0] - keras["probs"]).max() > 1e-3
    swapped = keras_to_plotlstm(src)
    h = swapped["hyper_parameters"]["net"]["lstm_size"]
    w = swapped["state_dict"]["net.lstm.weight_ih_l0"]
    swapped["state_dict"]["net.lstm.weight_ih_l0"] = torch.cat(
        [w[h : 2 * h], w[:h], w[2 * h :]]
    )  # f, i, g, o
    assert np.abs(run_plotlstm(swapped, keras["images"])[1] - keras["features"]).max() > 1e-3
    flat = keras_to_plotlstm(src)
    hp = flat["hyper_parameters"]
    head = flat["state_dict"]["net.head.weight"]
    flat["state_dict"]["net.head.weight"] = (
        head.reshape(1, hp["image_size"], hp["net"]["hidden_size"]).transpose(1, 2).reshape(1, -1)
    )  # feature-then-time
    assert np.abs(run_plotlstm(flat, keras["images"])[0] - keras["probs"]).max() > 1e-3


def corrupt(src: Path, dst: Path, edit: Any) -> Path:
    dst.write_bytes(src.read_bytes())
    with h5py.File(dst, "a") as f:
        edit(f)
    return dst


def edit_config(f: h5py.File, change: Any) -> None:
    config = json.loads(f.attrs["model_config"])
    change(config["config"])
    f.attrs["model_config"] = json.dumps(config).encode()


def test_bad_files(keras_dir: Path, tmp_path: Path) -> None:
    """Each bad input: one line naming the file, what was expected and what was found; nothing at out."""
    good = h5_path(keras_dir, "bin_hard", "keras2")
    weights_only = h5_path(keras_dir, "bin_hard", "keras2w")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file\n" * 10)
    empty_h5 = tmp_path / "empty.h5"
    h5py.File(empty_h5, "w").close()

    def shrink_dense(f: h5py.File) -> None:
        del f["time_distributed_1/time_distributed_1/kernel:0"]
        f["time_distributed_1/time_distributed_1/kernel:0"] = np.zeros((4, 5), np.float32)

    def one_lstm(f: h5py.File) -> None:
        layers = f["model_weights"].attrs["layer_names"]
        f["model_weights"].attrs["layer_names"] = [n for n in layers if n not in ("lstm_2", b"lstm_2")]

    def conv_weights(f: h5py.File) -> None:
        del f["dense_2/dense_2/kernel:0"]
        f["dense_2/dense_2/kernel:0"] = np.zeros((3, 3, 3, 1), np.float32)

    cases = [
        (tmp_path / "missing.h5", {}, "does not exist"),
        (tmp_path, {}, "does not exist or is not a file"),
        (truncated, {}, "not a readable Keras .h5 file"),
        (garbage, {}, "not a readable Keras .h5 file"),
        (empty_h5, {}, "holds no Keras weights"),
        (keras_dir / "cnn.keras3.h5", {}, "expected layers Permute, .*; found Conv2D, Flatten, Dense"),
        (weights_only, {}, "weights-only file .* pass recurrent_activation="),
        (
            h5_path(keras_dir, "bin_hard", "keras3"),
            {},
            "'plotlstm_test>hard_sigmoid_keras2' is not one plotlstm knows",
        ),
        (good, {"recurrent_activation": "relu"}, "recurrent_activation: unknown value 'relu'"),
        (
            corrupt(weights_only, tmp_path / "chain.h5", shrink_dense),
            {"recurrent_activation": "sigmoid"},
            "does not chain",
        ),
        (
            corrupt(weights_only, tmp_path / "conv.h5", conv_weights),
            {"recurrent_activation": "sigmoid"},
            "layer dense_2 has weights of shapes",
        ),
        (
            corrupt(good, tmp_path / "one.h5", one_lstm),
            {"recurrent_activation": "sigmoid"},
            "found 1 LSTM and 2 Dense",
        ),
        (
            corrupt(
                good,
                tmp_path / "last.h5",
                lambda f: edit_config(f, lambda c: c[3]["config"].update(return_sequences=False)),
            ),
            {},
            "expected lstm_2 with return_sequences=True, found return_sequences=False",
        ),
        (
            corrupt(
                good,
                tmp_path / "perm.h5",
                lambda f: edit_config(f, lambda c: c[0]["config"].update(dims=[1, 2, 3])),
            ),
            {},
            r"expected Permute\(\(2, 1, 3\)\), found Permute\(\(1, 2, 3\)\)",
        ),
    ]
    out = tmp_path / "out" / "model.ckpt"
    for src, kwargs, message in cases:
        with pytest.raises(CheckpointError, match=message) as err:
            import_keras(src, out, **kwargs)
        assert str(src) in str(err.value)
        assert "\n" not in str(err.value)
        assert not out.exists()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_failed_write_leaves_nothing(
    keras_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "model.ckpt"
    out.write_bytes(b"previous")

    def broken_save(obj: Any, path: Any) -> None:
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        import_keras(h5_path(keras_dir, "bin_hard", "keras2"), out)
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]


def cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "plotlstm.import_keras", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli(keras_dir: Path, tmp_path: Path) -> None:
    """One failing and one succeeding run of the command (side by side, to save time)."""
    bad = cli(f"in={keras_dir / 'cnn.keras3.h5'}", f"out={tmp_path / 'cnn.ckpt'}", cwd=tmp_path)
    out = tmp_path / "four.ckpt"
    src = h5_path(keras_dir, "four_hard", "keras3")
    ok = cli(
        f"in={src}", f"out={out}", "classes=[a,b,c,d]", "recurrent_activation=hard_sigmoid", cwd=tmp_path
    )
    ok_out, ok_err = ok.communicate(timeout=180)
    bad_out, bad_err = bad.communicate(timeout=180)

    assert ok.returncode == 0, ok_err
    assert f"wrote {out}" in ok_out
    classifier = PlotClassifier.from_checkpoint(out, device="cpu")
    assert classifier.classes == ["a", "b", "c", "d"]
    keras = keras_outputs(keras_dir, "four_hard")
    predictions = classifier.predict(torch.from_numpy(keras["images"]).permute(0, 3, 1, 2))
    got = np.array([[p.probabilities[c] for c in "abcd"] for p in predictions])
    assert np.abs(got - keras["probs"]).max() <= TOLERANCE

    assert bad.returncode == 2, bad_err
    lines = bad_err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: in: ") and "cnn.keras3.h5" in lines[0]
    assert not (tmp_path / "cnn.ckpt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["four.ckpt"]  # no Hydra output folders either
