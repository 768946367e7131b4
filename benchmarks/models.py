"""The registered networks side by side on the same data and seed: accuracy, size and speed (docs/baselines.md).

    python benchmarks/models.py --root data/quickstart --image-size 64 --epochs 3 --lrs 1e-3 3e-3 \
        --out runs/baselines --json runs/baselines/models.json

For each network (``--archs``, default every one in ``plotlstm.models.networks.NETWORKS``) and each learning rate
of ``--lrs``: ``plotlstm.train.train`` with the project's Hydra config (``model=<arch>``, one-cycle schedule,
early stopping and the best checkpoint by validation loss), validating on ``--val-fraction`` of train, never on the
test split. The learning rate whose best checkpoint has the highest validation accuracy (then the lowest validation
loss) is chosen per network; only the chosen run is scored on the test split, through ``plotlstm.inference``
(``PlotClassifier.from_checkpoint``, the path that prediction uses). ``--shifted ROOT ...``: the chosen checkpoints
are also scored on the test split of other data sets (a robustness check: plots drawn with ``style=varied``).
Then, in the same process and one network after another, on the CPU: parameters, training images/s (forward,
loss, backward, Adam step on random batches), inference latency for one image and images/s at batch 64.
``--accelerator auto`` trains on a GPU where there is one (the speed figures stay CPU figures).
``--renderers N``: the chosen checkpoints also read ``N`` plots per class of each real renderer of
``benchmarks/renderers.py`` (R, ggplot2, plotnine, seaborn, matplotlib; drawn once into ``--renderer-cache``).

A run folder that already holds a finished run of the same network, lr, image size and epochs (its
``metrics.json``) is reused, so a stopped benchmark resumes. Missing quickstart data is generated first.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir

import plotlstm
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.evaluation import evaluate
from plotlstm.models.module import PlotLitModule
from plotlstm.models.networks import NETWORKS
from plotlstm.train import train

CONF = Path(plotlstm.__file__).resolve().parent / "conf"
MODEL_CONFIG = {"seed_lstm": "plotlstm"}  # arch -> conf/model/<name>.yaml where the names differ


def compose_train(arch: str, lr: float, run: Path, args: argparse.Namespace) -> Any:
    """The training config for one run, composed as ``python -m plotlstm.train`` would."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(
            config_name="train",
            overrides=[
                f"model={MODEL_CONFIG.get(arch, arch)}",
                f"data.root={args.root}",
                f"synth.root={args.root}",
                f"data.image_size={args.image_size}",
                f"data.interpolation={args.interpolation}",
                f"data.val_fraction={args.val_fraction}",
                f"data.batch_size={args.batch_size}",
                f"data.cache={args.cache}",
                f"model.lr={lr}",
                "model.scheduler=onecycle",
                f"trainer.max_epochs={args.epochs}",
                f"trainer.accelerator={args.accelerator}",
                f"trainer.precision={args.precision}",
                f"seed={args.seed}",
                "test=false",
                "generate_missing_data=false",
                f"paths.output_dir={run}",
                "~callbacks.rich_progress_bar",
            ],
        )


def best_epoch(run: Path) -> dict[str, float]:
    """The epoch log's row with the lowest validation loss (the epoch of the best checkpoint)."""
    rows = list(csv.DictReader((run / "epoch-log.csv").open(), delimiter=";"))
    row = min(rows, key=lambda r: float(r["val_loss"]))
    return {
        "epoch": int(row["epoch"]),
        "val_acc": float(row["val_acc"]),
        "val_loss": float(row["val_loss"]),
        "train_loss_last": float(rows[-1]["loss"]),
        "epochs_run": len(rows),
        "fit_s": float(rows[-1]["elapsed_s"]),
    }


def sweep(arch: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train ``arch`` at every lr of ``--lrs``; choose by validation; score the chosen checkpoint on test."""
    runs = []
    for lr in args.lrs:
        run = args.out / f"{arch}-lr{lr:g}-{args.image_size}px-{args.epochs}ep"
        done = run / "metrics.json"  # a finished run of these settings is reused: the script can be resumed
        result = json.loads(done.read_text()) if done.is_file() else train(compose_train(arch, lr, run, args))
        runs.append({"lr": lr, "checkpoint": result["best_checkpoint"], **best_epoch(run)})
        print(f"{arch} lr={lr:g}: {runs[-1]}", flush=True)
    chosen = max(runs, key=lambda r: (r["val_acc"], -r["val_loss"]))
    device = "cpu" if args.accelerator == "cpu" else "auto"
    report = evaluate(chosen["checkpoint"], args.root, split="test", device=device)
    shifted = {
        str(root): evaluate(chosen["checkpoint"], root, split="test", device=device) for root in args.shifted
    }
    return {
        "arch": arch,
        "sweep": runs,
        "lr": chosen["lr"],
        "checkpoint": chosen["checkpoint"],
        "val_acc": chosen["val_acc"],
        "test_acc": report["accuracy"],
        "test_n": report["n"],
        "test_per_class_recall": {c: v["recall"] for c, v in report["per_class"].items()},
        "shifted_acc": {root: r["accuracy"] for root, r in shifted.items()},
        "shifted_per_class_recall": {
            root: {c: v["recall"] for c, v in r["per_class"].items()} for root, r in shifted.items()
        },
    }


def renderer_accuracy(checkpoint: str, args: argparse.Namespace) -> dict[str, Any]:
    """Accuracy and per-class recall on every available real renderer (``benchmarks/renderers.py``)."""
    import renderers

    classifier = PlotClassifier.from_checkpoint(checkpoint, device="cpu")
    result = renderers.run(classifier, renderers.RENDERERS, args.renderers, 0, cache=args.renderer_cache)
    return {
        name: {"accuracy": r["accuracy"], "recall": r["recall"]} for name, r in result["renderers"].items()
    }


def train_speed(arch: str, args: argparse.Namespace, classes: int) -> float:
    """Training images/s: PlotLitModule's loss, backward and Adam step on random uint8 batches, after warm-up."""
    torch.manual_seed(args.seed)
    model = PlotLitModule(classes, net={"arch": arch}, image_size=args.image_size).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randint(0, 256, (args.batch_size, 3, args.image_size, args.image_size), dtype=torch.uint8)
    y = torch.randint(0, classes, (args.batch_size,))
    for step in range(2 + args.speed_steps):
        if step == 2:
            start = time.perf_counter()
        loss = model.loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return args.speed_steps * args.batch_size / (time.perf_counter() - start)


@torch.inference_mode()
def inference_speed(checkpoint: str, repeats: int) -> dict[str, float]:
    """Median latency (ms) of one prepared image and images/s at batch 64, through ``PlotClassifier``."""
    classifier = PlotClassifier.from_checkpoint(checkpoint, device="cpu", batch_size=64)
    size = classifier.image_size
    one = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8)]
    batch = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8) for _ in range(64)]
    classifier.predict_batch(batch)  # warm-up, both shapes
    classifier.predict_batch(one)
    latencies = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.predict_batch(one)
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(max(1, repeats // 10)):
        classifier.predict_batch(batch)
    per_batch = (time.perf_counter() - start) / max(1, repeats // 10)
    return {
        "latency_ms": 1000 * statistics.median(latencies),
        "batch64_images_s": 64 / per_batch,
        "parameters": classifier.parameters,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'network':<10} {'lr':>7} {'val acc':>8} {'test acc':>9} {'params':>11} {'train img/s':>12} "
        f"{'1-image ms':>11} {'b64 img/s':>10}"
    )
    shifted = list(rows[0]["shifted_acc"]) if rows else []
    head += "".join(f" {'shifted ' + str(i + 1):>10}" for i in range(len(shifted)))
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['arch']:<10} {r['lr']:>7g} {r['val_acc']:>8.4f} {r['test_acc']:>9.4f} {r['parameters']:>11,} "
            f"{r['train_images_s']:>12.1f} {r['latency_ms']:>11.1f} {r['batch64_images_s']:>10.1f}"
            + "".join(f" {r['shifted_acc'][root]:>10.4f}" for root in shifted)
        )
    lines += [f"shifted {i + 1}: {root} (test split)" for i, root in enumerate(shifted)]
    for r in rows:
        if "renderers" in r:
            lines.append(
                f"{r['arch']} on real renderers: "
                + ", ".join(f"{name} {v['accuracy']:.4f}" for name, v in r["renderers"].items())
            )
    return "\n".join(lines)


def write(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"}
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "torch": torch.__version__, "threads": args.threads}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"settings": settings, **meta, "results": rows}, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", type=Path, default=Path(os.environ.get("PLOTLSTM_DATA", "data")) / "quickstart"
    )
    parser.add_argument("--archs", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--lrs", nargs="+", type=float, default=[1e-3, 3e-3])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--interpolation", default="box")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument(
        "--shifted",
        nargs="*",
        type=Path,
        default=[],
        help="other data sets (e.g. another renderer style) whose test split the chosen checkpoints are also scored on",
    )
    parser.add_argument(
        "--renderers", type=int, default=0, help="plots per class from each real renderer (0: skip)"
    )
    parser.add_argument(
        "--renderer-cache", type=Path, default=None, help="where drawn renderer plots are kept"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--accelerator", default="cpu", help="training only (auto: CUDA when present)")
    parser.add_argument("--precision", default="32-true", help="training only (bf16-mixed on a recent GPU)")
    parser.add_argument("--cache", default="disk", help="data.cache: none | disk | device | auto")
    parser.add_argument("--speed-steps", type=int, default=5, help="timed training steps a network")
    parser.add_argument("--repeats", type=int, default=50, help="timed one-image predictions a network")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=Path("runs/baselines"))
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if not 0 < args.val_fraction < 1:
        parser.error("--val-fraction: must lie in (0, 1): the learning rate is chosen on it, never on test")
    torch.set_num_threads(args.threads)
    if not (args.root / "manifest.csv").exists():
        from plotlstm.synth.generator import generate

        generate(args.root, progress=True)  # the quickstart preset's defaults: 4 classes, 300 + 100 a class

    rows = []
    for arch in args.archs:
        rows.append(sweep(arch, args))
        if args.json:  # the training results so far, in case a later network is stopped
            write(args, rows)
    classes = len(PlotClassifier.from_checkpoint(rows[0]["checkpoint"], device="cpu").classes)
    if args.renderers:
        for row in rows:
            row["renderers"] = renderer_accuracy(row["checkpoint"], args)
    for row in rows:  # speed: one network after another, in the same process, after all training
        row["train_images_s"] = train_speed(row["arch"], args, classes)
        row.update(inference_speed(row["checkpoint"], args.repeats))
    print(table(rows))
    if args.json:
        write(args, rows)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
