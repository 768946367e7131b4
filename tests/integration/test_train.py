"""The training command: every experiment, the CLI end to end, resume, DDP, sweeps and bad input."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from plotlstm.errors import CheckpointError, GeneratorError, TrainingError
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule
from plotlstm.train import train

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "plotlstm.train", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": str(cwd)},
    )


FOUR = ["biased", "ceiling", "none", "outlier"]
SIX = ["biased", "ceiling", "heteroskedastic", "none", "nonlinear", "outlier"]


@pytest.mark.parametrize(
    ("experiment", "classes", "lr"),
    [
        ("quickstart", FOUR, 1.5e-3),
        ("seed_binary", ["ceiling", "none"], 1e-4),
        ("seed_four_class", FOUR, 1e-4),
        ("seed_four_class_fast", FOUR, 1e-3),
        ("six_class", SIX, 1e-3),
        ("quickstart_six", SIX, 3e-3),
    ],
)
def test_every_experiment_fast_dev_run(
    experiment: str,
    classes: list[str],
    lr: float,
    tiny_root: Path,
    binary_root: Path,
    six_root: Path,
    train_cfg: Callable[..., DictConfig],
) -> None:
    root = {2: binary_root, 4: tiny_root, 6: six_root}[len(classes)]
    # the GPU experiments on CPU: oneDNN has no bf16 LSTM here, so fp32
    gpu = experiment.endswith("_fast") or experiment == "six_class"
    on_cpu = ["trainer.accelerator=cpu", "trainer.precision=32-true"] if gpu else []
    cfg = train_cfg(root, f"experiment={experiment}", "+trainer.fast_dev_run=true", *on_cpu)
    result = train(cfg)
    folders = sorted(d.name for d in (root / "train").iterdir() if d.is_dir())
    assert result["classes"] == folders == classes
    assert sorted(cfg.synth.classes) == classes
    assert 0.0 <= result["metrics"]["test/acc"] <= 1.0
    assert cfg.model.lr == lr


def test_cli_end_to_end_writes_checkpoint_logs_and_metrics(tiny_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = run_cli(
        f"data.root={tiny_root}",
        f"synth.root={tiny_root}",
        "trainer.max_epochs=1",
        f"hydra.run.dir={run}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run / "checkpoints" / "last.ckpt").is_file()
    rows = list(csv.DictReader((run / "epoch-log.csv").open(), delimiter=";"))
    assert [r["epoch"] for r in rows] == ["0"]
    assert list(rows[0]) == ["epoch", "acc", "loss", "val_acc", "val_loss", "elapsed_s"]
    assert float(rows[0]["val_loss"]) > 0
    assert "test/acc" in (run / "csv" / "metrics.csv").read_text().splitlines()[0]
    metrics = json.loads((run / "metrics.json").read_text())
    assert Path(metrics["best_checkpoint"]).is_file() and 0 <= metrics["metrics"]["test/acc"] <= 1
    assert "test accuracy" in proc.stdout + proc.stderr


def test_resume_continues_the_epoch_count(tiny_root: Path, tmp_path: Path, train_cfg) -> None:
    first = train(train_cfg(tiny_root, "trainer.max_epochs=1", f"paths.output_dir={tmp_path / 'a'}"))
    last = Path(first["best_checkpoint"]).parent / "last.ckpt"
    second = train(
        train_cfg(
            tiny_root, "trainer.max_epochs=2", f"ckpt_path={last}", f"paths.output_dir={tmp_path / 'b'}"
        )
    )
    assert first["epochs"] == 1 and second["epochs"] == 2
    rows = list(csv.DictReader((tmp_path / "b" / "epoch-log.csv").open(), delimiter=";"))
    assert [r["epoch"] for r in rows] == ["1"]
    # the resumed run's best checkpoint is the best of all epochs (not of the resumed ones only), in its folder
    before = list(csv.DictReader((tmp_path / "a" / "epoch-log.csv").open(), delimiter=";"))
    losses = {int(r["epoch"]): float(r["val_loss"]) for r in before + rows}
    best_epoch = min(losses, key=losses.__getitem__)
    best = Path(second["best_checkpoint"])
    assert best.name == f"epoch{best_epoch:02d}.ckpt" and best.parent == tmp_path / "b" / "checkpoints"
    assert best.is_file()


def test_seeded_runs_are_reproducible(tiny_root: Path, tmp_path: Path, train_cfg) -> None:
    results = [
        train(
            train_cfg(
                tiny_root,
                "trainer.max_epochs=1",
                "callbacks.early_stopping=null",
                f"paths.output_dir={tmp_path / d}",
            )
        )
        for d in ("a", "b")
    ]
    assert results[0]["metrics"]["train/loss"] == results[1]["metrics"]["train/loss"]
    assert results[0]["metrics"]["test/loss"] == results[1]["metrics"]["test/loss"]


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(tiny_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "ddp"
    proc = run_cli(
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=2",
        "data.batch_size=4",
        f"data.root={tiny_root}",
        f"synth.root={tiny_root}",
        f"hydra.run.dir={run}",
        cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Starting with 2 processes" in out
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 1


@pytest.mark.slow
def test_optuna_sweep_runs_trials(tiny_root: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=1",
        "+trainer.fast_dev_run=true",
        f"data.root={tiny_root}",
        f"synth.root={tiny_root}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    best = (tmp_path / "sweep" / "optimization_results.yaml").read_text()
    assert "best_params" in best and "model.lr" in best


def test_missing_data_is_one_line_naming_the_command(tmp_path: Path) -> None:
    proc = run_cli(f"data.root={tmp_path / 'none'}", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: data.root:")
    assert "python -m plotlstm.generate" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("override", "match"),
    [
        (
            "synth.classes=[none,wobbly]",
            "classes: unknown class 'wobbly'; valid classes: none, biased, outlier",
        ),
        (
            "synth.class_params={nonlinear: {strength: [2, 500]}}",
            r"class_params\.nonlinear\.strength: \[2, 500\] is out of range",
        ),
        ("+synth.n_range=[5,100]", r"n_range: low 5 is below 10"),
    ],
)
def test_bad_synth_settings_fail_before_any_work(
    tmp_path: Path, train_cfg, override: str, match: str
) -> None:
    root = tmp_path / "fresh"
    cfg = train_cfg(root, "experiment=quickstart_six", override)
    with pytest.raises(GeneratorError, match=match) as info:
        train(cfg)
    assert "\n" not in str(info.value) and not root.exists()


def test_checkpoint_with_other_classes_is_refused(
    tiny_root: Path, binary_root: Path, tmp_path: Path, train_cfg
) -> None:
    model = PlotLitModule(num_classes=2, class_names=["ceiling", "none"])
    ckpt = tmp_path / "binary.ckpt"
    Checkpoint.save(model, ckpt)
    with pytest.raises(CheckpointError, match=r"trained on classes \['ceiling', 'none'\]"):
        train(train_cfg(tiny_root, f"ckpt_path={ckpt}"))


def test_nan_loss_is_a_clear_error(tiny_root: Path, train_cfg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PlotLitModule, "loss", lambda self, logits, y: logits.sum() * float("nan"))
    with pytest.raises(TrainingError, match=r"training loss became NaN or infinite at epoch 0"):
        train(train_cfg(tiny_root, "trainer.max_epochs=1"))


@pytest.mark.gpu
def test_fast_experiment_on_the_gpu(tiny_root: Path, train_cfg: Callable[..., DictConfig]) -> None:
    """seed_four_class_fast as it runs on a GPU: bf16, the decoded set kept on the device."""
    cfg = train_cfg(tiny_root, "experiment=seed_four_class_fast", "+trainer.fast_dev_run=true")
    result = train(cfg)
    assert cfg.trainer.accelerator in ("gpu", "cuda", "auto") and cfg.data.cache in ("device", "auto")
    assert 0.0 <= result["metrics"]["test/acc"] <= 1.0


# --- init_weights: fine-tuning from given weights ------------------------------------------------------------------

TINY_NET = ("data.image_size=32", "model.net.lstm_size=8", "model.net.hidden_size=4")


def _net_weights(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if k.startswith("net.")}


@pytest.mark.parametrize("with_init", [True, False])
def test_init_weights_starts_training_from_the_given_network(
    with_init: bool, four_class_ckpt: Path, tiny_root: Path, tmp_path: Path, train_cfg
) -> None:
    """With lr 0 the optimiser changes nothing, so the run's checkpoint holds the network it started from: the
    given one with init_weights (and the epochs count from 0, a fresh fit), a newly initialised one without."""
    cfg = train_cfg(
        tiny_root,
        *TINY_NET,
        *([f"init_weights={four_class_ckpt}"] if with_init else []),
        "model.lr=0",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=2",
        "+trainer.limit_val_batches=1",
        "test=false",
        f"paths.output_dir={tmp_path / 'run'}",
    )
    result = train(cfg)
    assert result["epochs"] == 1 and result["init_weights"] == (str(four_class_ckpt) if with_init else None)
    given = _net_weights(four_class_ckpt)
    for saved in (Path(result["best_checkpoint"]), tmp_path / "run" / "checkpoints" / "last.ckpt"):
        trained = _net_weights(saved)
        assert trained.keys() == given.keys()
        same = all(torch.equal(trained[k], given[k]) for k in given)
        assert same == with_init, saved


def test_init_weights_from_a_run_folder(
    four_class_ckpt: Path, tiny_root: Path, tmp_path: Path, train_cfg
) -> None:
    run = tmp_path / "earlier"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "epoch00.ckpt").write_bytes(four_class_ckpt.read_bytes())
    cfg = train_cfg(tiny_root, *TINY_NET, f"init_weights={run}", "+trainer.fast_dev_run=true", "test=false")
    assert train(cfg)["init_weights"] == str(run / "checkpoints" / "epoch00.ckpt")


def test_init_weights_by_a_bundled_models_name(tiny_root: Path, train_cfg) -> None:
    """``init_weights=general`` reads the bundled file (whose 7 classes are not this 4-class set's: refused)."""
    from plotlstm.inference.classifier import BUNDLED

    cfg = train_cfg(tiny_root, "init_weights=general", "+trainer.fast_dev_run=true", "test=false")
    with pytest.raises(CheckpointError, match=re.escape(str(BUNDLED["general"]))):
        train(cfg)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ((), r"init_weights: .*model\.ckpt does not fit the model to train: net\.hidden_size=4 there, 100 here; "
         r"net\.lstm_size=8 there, 150 here; image_size=32 there, 256 here"),
        (("data.image_size=32", "model.net.hidden_size=4"), r"net\.lstm_size=8 there, 150 here \(set model\.net"),
        (("data.image_size=32", "model=bigru"), r"net\.arch='seed_lstm' there, 'bigru' here"),
        (("model.net.lstm_size=8", "model.net.hidden_size=4"), r"fit the model to train \(image_size=32 there, 256 here\)$"),
    ],
)  # fmt: skip
def test_init_weights_with_another_network_is_refused(
    overrides: tuple[str, ...], match: str, four_class_ckpt: Path, tiny_root: Path, train_cfg
) -> None:
    cfg = train_cfg(tiny_root, *overrides, f"init_weights={four_class_ckpt}", "+trainer.fast_dev_run=true")
    with pytest.raises(CheckpointError, match=match) as info:
        train(cfg)
    assert "\n" not in str(info.value)


def test_init_weights_at_another_image_size_for_a_size_free_network(
    tiny_root: Path, tmp_path: Path, train_cfg
) -> None:
    """CoordConv's weights do not depend on the input size: a 32 px network starts a 64 px run (fine-tuning at a
    finer input), which then holds its learned weights unchanged at lr 0."""
    classes = ["biased", "ceiling", "none", "outlier"]
    small = Checkpoint.save(
        PlotLitModule(4, classes, image_size=32, net=dict(arch="coordconv", channels=[4, 8])),
        tmp_path / "c.pt",
    )
    cfg = train_cfg(
        tiny_root,
        "model=coordconv",
        "model.net.channels=[4,8]",
        "data.image_size=64",
        f"init_weights={small}",
        "model.lr=0",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=1",
        "+trainer.limit_val_batches=1",
        "test=false",
    )
    result = train(cfg)
    trained, given = _net_weights(Path(result["best_checkpoint"])), _net_weights(small)
    learned = [k for k in given if k.endswith(("weight", "bias"))]  # BatchNorm's running statistics do move
    assert trained.keys() == given.keys() and len(learned) == 8
    assert all(torch.equal(trained[k], given[k]) for k in learned)
    assert torch.load(result["best_checkpoint"], weights_only=True)["hyper_parameters"]["image_size"] == 64


def test_init_weights_with_other_classes_is_refused(tiny_root: Path, tmp_path: Path, train_cfg) -> None:
    binary = Checkpoint.save(
        PlotLitModule(2, ["ceiling", "none"], image_size=32, net=dict(lstm_size=8, hidden_size=4)),
        tmp_path / "b.pt",
    )
    cfg = train_cfg(tiny_root, *TINY_NET, f"init_weights={binary}", "+trainer.fast_dev_run=true")
    with pytest.raises(
        CheckpointError,
        match=r"^init_weights: .*b\.pt was trained on classes \['ceiling', 'none'\], but .* has \['biased', ",
    ):
        train(cfg)


@pytest.mark.parametrize("kind", ["missing", "not a checkpoint"])
def test_bad_init_weights_file_fails_before_any_work(kind: str, tmp_path: Path, train_cfg) -> None:
    path = tmp_path / "weights.pt"
    if kind == "not a checkpoint":
        path.write_bytes(b"not a checkpoint")
    root = tmp_path / "fresh"  # would be generated first, were the file not checked before
    match = "does not exist" if kind == "missing" else "is not a readable checkpoint"
    with pytest.raises(CheckpointError, match=rf"^init_weights: .*weights\.pt {match}") as info:
        train(train_cfg(root, f"init_weights={path}"))
    assert "\n" not in str(info.value) and not root.exists()


def test_a_data_set_drawn_with_other_settings_is_named_in_a_warning(
    tmp_path: Path, train_cfg: Callable[..., DictConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """Training on the synth preset's root: a complete set of other settings (an older preset, a smaller run)
    is trained on as it is, with one warning naming the setting; the preset's own settings give none."""
    from plotlstm.synth.generator import generate
    from plotlstm.train import ensure_data

    root = tmp_path / "d"
    kw = dict(classes=["none", "ceiling"], test_per_class=1, seed=3, workers=1, progress=False)
    generate(root, train_per_class=2, **kw)
    preset = ["synth.classes=[none,ceiling]", "synth.test_per_class=1", "synth.seed=3"]
    with caplog.at_level("WARNING", logger="plotlstm.train"):
        ensure_data(train_cfg(root, *preset, "synth.train_per_class=2"))
        assert not caplog.records
        ensure_data(train_cfg(root, *preset, "synth.train_per_class=5"))
    (record,) = caplog.records
    assert record.getMessage().startswith(f"synth.train_per_class: {root} holds a data set drawn with")
    assert "'none': 2" in record.getMessage() and len(list((root / "train" / "none").glob("*.png"))) == 2
