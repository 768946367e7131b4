"""Resuming into a new run folder keeps the checkpoint callback's best score and best file."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parents[2] / "conf" / "callbacks" / "model_checkpoint.yaml"


def test_best_score_survives_a_new_run_folder(tmp_path: Path) -> None:
    old, new = tmp_path / "a" / "checkpoints", tmp_path / "b" / "checkpoints"
    old.mkdir(parents=True)
    best = old / "epoch03.ckpt"
    best.write_bytes(b"the best weights so far")
    state = {
        "monitor": "val/loss",
        "best_model_score": torch.tensor(0.25),
        "best_model_path": str(best),
        "current_score": torch.tensor(0.4),
        "dirpath": str(old),
        "best_k_models": {str(best): torch.tensor(0.25)},
        "kth_best_model_path": str(best),
        "kth_value": torch.tensor(0.25),
        "last_model_path": str(old / "last.ckpt"),
    }
    cfg = OmegaConf.load(CONF).model_checkpoint
    cfg.dirpath = str(new)
    callback = instantiate(cfg)  # what training builds from the config
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "dirpath has changed ... won't be reloaded"
        callback.load_state_dict(state)
    assert callback.best_model_score == torch.tensor(0.25)
    copied = new / "epoch03.ckpt"
    assert callback.best_model_path == str(copied) and copied.read_bytes() == best.read_bytes()
    assert callback.best_k_models == {str(copied): torch.tensor(0.25)}
    assert callback.kth_best_model_path == str(copied) and callback.kth_value == torch.tensor(0.25)
    assert best.is_file()  # the old run is left as it was


def test_same_folder_and_other_metric_behave_as_lightning(tmp_path: Path) -> None:
    cfg = OmegaConf.load(CONF).model_checkpoint
    cfg.dirpath = str(tmp_path)
    callback = instantiate(cfg)
    state = {
        "monitor": "val/acc",
        "best_model_score": torch.tensor(0.9),
        "best_model_path": "x.ckpt",
        "dirpath": str(tmp_path / "elsewhere"),
        "best_k_models": {"x.ckpt": torch.tensor(0.9)},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        callback.load_state_dict(state)  # another monitored metric: its scores are not carried over
    assert callback.best_model_score is None and callback.best_k_models == {}
