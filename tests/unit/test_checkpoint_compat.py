"""Checkpoints written before the network became its own module still load, and inference needs no Lightning.

The fixture ``legacy-main-2026-11-26.ckpt`` was written by main at 5a7649d (``save_checkpoint`` of a
``PlotLitModule(4 classes, image_size=16, lstm_size=8, hidden_size=4)``); the ``.npz`` beside it holds three images
and the probabilities that code gave them.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from plotlstm.inference.classifier import PlotClassifier
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LEGACY = FIXTURES / "legacy-main-2026-11-26.ckpt"
EXPECTED = np.load(FIXTURES / "legacy-main-2026-11-26.npz")


def test_legacy_checkpoint_gives_the_same_probabilities() -> None:
    classifier = PlotClassifier.from_checkpoint(LEGACY, device="cpu")
    assert classifier.classes == ["biased", "ceiling", "none", "outlier"]
    assert classifier.image_size == 16 and classifier.interpolation == "nearest"
    probs = classifier.predict_batch(list(torch.from_numpy(EXPECTED["images"])))
    np.testing.assert_allclose(probs.numpy(), EXPECTED["probs"], atol=1e-6)
    assert np.ptp(EXPECTED["probs"]) > 0.05  # the comparison means something


def test_legacy_layout_is_mapped_to_the_network_module() -> None:
    raw = torch.load(LEGACY, map_location="cpu", weights_only=True)
    assert "lstm.weight_ih_l0" in raw["state_dict"] and "lstm_size" in raw["hyper_parameters"]
    ckpt = Checkpoint.open(LEGACY)
    hp = ckpt.hparams
    assert hp["net"] == {
        "arch": "seed_lstm",
        "lstm_size": 8,
        "num_layers": 2,
        "hidden_size": 4,
        "dropout": 0.5,
        "recurrent_activation": "sigmoid",
        "keras_init": True,
    }
    assert set(ckpt.state_dict) == set(PlotLitModule(**hp).state_dict())  # resumable by the LightningModule
    model = PlotLitModule(**hp)
    legacy = torch.load(LEGACY, map_location="cpu", weights_only=True)
    model.on_load_checkpoint(legacy)  # what Lightning calls before load_state_dict when resuming
    model.load_state_dict(legacy["state_dict"])
    net = Checkpoint.open(LEGACY).build_network()
    x = torch.from_numpy(EXPECTED["images"]).float() / 255
    torch.testing.assert_close(model.eval()(x), net(x))


def test_inference_loads_without_lightning_or_torchmetrics() -> None:
    code = (
        "import sys, torch\n"
        "from plotlstm.inference.classifier import PlotClassifier\n"
        f"c = PlotClassifier.from_checkpoint({str(LEGACY)!r}, device='cpu')\n"
        "c.predict(torch.zeros(3, 16, 16))\n"
        "print(sorted(m for m in ('lightning', 'torchmetrics', 'pytorch_lightning') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
