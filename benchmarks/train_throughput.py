"""Training images/s: a raw PyTorch loop (the ceiling) vs plotlstm's Lightning training, with and without the cache.

    python benchmarks/train_throughput.py --root data/quickstart --batch-size 50 --steps 30 [--precision bf16-mixed]

(a) raw: the same model, a plain loop over tensors already on the device; (b) Lightning from the PNG data set with
the decoded-tensor cache (``device`` on a GPU, ``disk`` on a CPU); (c) Lightning from the PNGs without the cache.
All three in one run, at the same batch size; prints images/s, ms a step and the ratios to (a). On a GPU, (b) also
counts the host-device synchronisations in its timed steps (``torch.cuda.set_sync_debug_mode``), in a separate
run after the timed one. ``--image-size 32`` on a CPU makes the model's work small, so the ratio shows the
framework's own cost a step.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import lightning as L
import torch

from plotlstm.data.datamodule import PlotDataModule
from plotlstm.models.module import PlotLitModule


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def raw_loop(
    num_classes: int, batch: int, steps: int, warmup: int, precision: str, device: torch.device, size: int
) -> float:
    model = PlotLitModule(num_classes, image_size=size).to(device).train()
    opt = model.configure_optimizers()
    x = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)
    y = torch.randint(0, num_classes, (batch,), device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision.startswith("bf16"))
    for step in range(warmup + steps):
        if step == warmup:
            sync(device)
            start = time.perf_counter()
        with autocast:
            loss = model.loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(device)
    return steps * batch / (time.perf_counter() - start)


class Clock(L.Callback):
    """Times the training steps after ``warmup``; with ``count_syncs``, makes each CUDA sync in them a warning."""

    def __init__(self, warmup: int, count_syncs: bool = False) -> None:
        self.warmup, self.start, self.images, self.count_syncs = warmup, 0.0, 0, count_syncs

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch, batch_idx: int
    ) -> None:
        if trainer.global_step == self.warmup and not self.start:
            sync(module.device)
            self.start = time.perf_counter()
            if self.count_syncs:
                torch.cuda.set_sync_debug_mode("warn")
        if self.start:
            self.images += len(batch[1])

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.count_syncs:
            torch.cuda.set_sync_debug_mode("default")
        sync(module.device)
        self.elapsed = time.perf_counter() - self.start


def lightning_run(
    args: argparse.Namespace, cache: str, count_syncs: bool = False
) -> tuple[Clock, list[warnings.WarningMessage]]:
    """Fits for ``warmup + steps`` steps; returns the clock and the CUDA sync warnings of the timed steps."""
    dm = PlotDataModule(
        args.root,
        batch_size=args.batch_size,
        image_size=args.image_size,
        num_workers=args.workers,
        pin_memory=True,
        cache=cache,
    )
    classes = dm.check()
    model = PlotLitModule(len(classes), class_names=classes, image_size=args.image_size)
    if args.compile:
        model = torch.compile(model)
    clock = Clock(args.warmup, count_syncs)
    trainer = L.Trainer(
        max_steps=args.warmup + args.steps,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        precision=args.precision,
        callbacks=[clock],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(model, datamodule=dm)
    return clock, [w for w in caught if "synchronizing" in str(w.message)]


def report(label: str, images_per_s: float, batch: int, raw: float | None = None) -> None:
    ratio = f"  ratio to (a): {images_per_s / raw:.3f}" if raw else ""
    print(f"{label:<46}{images_per_s:9.1f} images/s {1000 * batch / images_per_s:8.2f} ms/step{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", required=True)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument(
        "--cache", choices=["disk", "device"], help="(b)'s cache; default: device on a GPU, else disk"
    )
    parser.add_argument("--skip-uncached", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model in (b) and (c)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    num_classes = len(PlotDataModule(args.root).check())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU x{torch.get_num_threads()}"
    print(f"device: {name}, torch {torch.__version__}, batch {args.batch_size}, precision {args.precision}")
    raw = raw_loop(
        num_classes, args.batch_size, args.steps, args.warmup, args.precision, device, args.image_size
    )
    report("(a) raw PyTorch loop, tensors on the device:", raw, args.batch_size)
    cache = args.cache or ("device" if device.type == "cuda" else "disk")
    cached, _ = lightning_run(args, cache)
    report(
        "(b) Lightning, PNG data set with the cache:", cached.images / cached.elapsed, args.batch_size, raw
    )
    if device.type == "cuda":
        try:  # a diagnostic: its failure must not cost the figures above and below
            _, syncs = lightning_run(args, cache, count_syncs=True)
        except Exception as e:
            print(f"(b) host-device syncs: not counted ({type(e).__name__}: {e})")
        else:
            print(f"(b) host-device syncs in {args.steps} timed steps: {len(syncs)}")
            for where in sorted({f"{w.filename}:{w.lineno}" for w in syncs}):
                print(f"    at {where}")
    if not args.skip_uncached:
        plain, _ = lightning_run(args, "none")
        report("(c) Lightning, PNG data set, no cache:", plain.images / plain.elapsed, args.batch_size, raw)


if __name__ == "__main__":
    main()
