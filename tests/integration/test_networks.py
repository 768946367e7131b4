"""Every registered network trains through ``python -m plotlstm.train``'s code and predicts from its checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from plotlstm.inference.classifier import PlotClassifier
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule
from plotlstm.models.networks import NETWORKS
from plotlstm.train import train

CONFIGS = {"seed_lstm": "plotlstm", "resnet18": "resnet18", "bigru": "bigru", "coordconv": "coordconv"}
# options other than the config's, so that the test sees them come back from the checkpoint
OPTIONS = {
    "seed_lstm": ["model.net.lstm_size=12"],
    "resnet18": [],
    "bigru": ["model.net.cell=lstm", "model.net.hidden_size=16"],
    "coordconv": ["model.net.channels=[8,8,16,16]", "model.net.grid=2"],
}
SMALL = ["data.image_size=64", "data.batch_size=4"]


def test_every_network_has_a_config() -> None:
    assert sorted(CONFIGS) == sorted(NETWORKS)
    conf = Path(__file__).resolve().parents[2] / "conf" / "model"
    assert all((conf / f"{name}.yaml").is_file() for name in CONFIGS.values())


@pytest.mark.parametrize("arch", sorted(NETWORKS))
def test_fast_dev_run(arch: str, tiny_root: Path, train_cfg: Callable[..., DictConfig]) -> None:
    cfg = train_cfg(tiny_root, f"model={CONFIGS[arch]}", "+trainer.fast_dev_run=true", *SMALL)
    assert cfg.model.net.arch == arch
    result = train(cfg)
    assert 0.0 <= result["metrics"]["test/acc"] <= 1.0


@pytest.mark.parametrize("arch", sorted(NETWORKS))
def test_checkpoint_predicts_as_the_trained_module(
    arch: str, tiny_root: Path, train_cfg: Callable[..., DictConfig]
) -> None:
    cfg = train_cfg(
        tiny_root,
        f"model={CONFIGS[arch]}",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=2",
        "+trainer.limit_val_batches=1",
        "test=false",
        *SMALL,
        *OPTIONS[arch],
    )
    ckpt = train(cfg)["best_checkpoint"]
    classifier = PlotClassifier.from_checkpoint(ckpt, device="cpu", batch_size=4)
    assert classifier.hparams["net"]["arch"] == arch and classifier.image_size == 64

    opened = Checkpoint.open(ckpt)
    module = PlotLitModule(**opened.hparams)
    module.load_state_dict(opened.state_dict)
    paths = sorted((tiny_root / "test").glob("*/*.png"))[:6]
    images = [classifier.prepare(p) for p in paths]
    with torch.inference_mode():
        expected = module.eval().probabilities(module(torch.stack(images)))
    torch.testing.assert_close(classifier.predict_batch(images), expected)
    predictions = classifier.predict([str(p) for p in paths])
    assert [p.label for p in predictions] == [classifier.classes[i] for i in expected.argmax(1).tolist()]
