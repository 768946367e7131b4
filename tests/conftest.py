"""Shared fixtures: tiny generated data sets and Hydra configs for fast CPU tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

CONF = Path(__file__).resolve().parents[1] / "conf"
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four classes, 4 train + 2 test plots each, drawn by the real generator."""
    from plotlstm.synth.generator import generate

    return generate(
        tmp_path_factory.mktemp("tiny"),
        train_per_class=4,
        test_per_class=2,
        seed=0,
        workers=1,
        progress=False,
    )


@pytest.fixture(scope="session")
def binary_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's binary experiment in miniature: none vs ceiling."""
    from plotlstm.synth.generator import generate

    return generate(
        tmp_path_factory.mktemp("binary"),
        classes=("none", "ceiling"),
        train_per_class=4,
        test_per_class=2,
        seed=1,
        workers=1,
        progress=False,
    )


@pytest.fixture(scope="session")
def six_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All six classes, 4 train + 2 test plots each."""
    from plotlstm.synth.generator import generate
    from plotlstm.synth.simulate import CLASSES

    return generate(
        tmp_path_factory.mktemp("six"),
        classes=CLASSES,
        train_per_class=4,
        test_per_class=2,
        seed=0,
        workers=1,
        progress=False,
    )


@pytest.fixture
def train_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose ``conf/train.yaml`` as the command would, with the run folder in ``tmp_path``."""

    def make(root: Path, *overrides: str, progress_bar: bool = False) -> DictConfig:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return compose(
                config_name="train",
                overrides=[
                    f"data.root={root}",
                    f"synth.root={root}",
                    f"paths.output_dir={tmp_path / 'run'}",
                    *([] if progress_bar else ["~callbacks.rich_progress_bar"]),
                    *overrides,
                ],
            )

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``gpu`` tests are skipped, with the reason shown, where CUDA is not available."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="gpu: no CUDA device on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


KERNEL = "plotlstm-test"  # the notebook tests run with kernel_name=KERNEL


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Jupyter kernel spec ``plotlstm-test`` for this interpreter (first on JUPYTER_PATH), so notebooks run in
    this venv; returns an empty working folder."""
    import json
    import os
    import sys

    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    monkeypatch.setenv(
        "JUPYTER_PATH", os.pathsep.join([str(tmp_path / "jupyter"), os.environ.get("JUPYTER_PATH", "")])
    )
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.fixture(scope="session")
def four_class_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained four-class checkpoint with a tiny network (32 px input): fast to load and run."""
    from plotlstm.models.checkpoint import Checkpoint
    from plotlstm.models.module import PlotLitModule

    torch.manual_seed(0)
    model = PlotLitModule(
        4, ["biased", "ceiling", "none", "outlier"], image_size=32, net=dict(lstm_size=8, hidden_size=4)
    )
    return Checkpoint.save(model, tmp_path_factory.mktemp("four") / "model.ckpt")
