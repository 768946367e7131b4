"""Training images/s: a raw PyTorch loop (the ceiling) vs plotlstm's Lightning training, with and without the cache.

    python benchmarks/train_throughput.py --root data/quickstart --batch-size 50 --steps 30 [--precision bf16-mixed]

(a) raw: the same model, a plain loop over tensors already on the device; (b) Lightning from the PNG data set with
the decoded-tensor cache (``device`` on a GPU, ``disk`` on a CPU); (c) Lightning from the PNGs without the cache.
All three in one run, at the same batch size; prints images/s and the ratios to (a).
"""

from __future__ import annotations

import argparse
import os
import time

import lightning as L
import torch

from plotlstm.data import PlotDataModule
from plotlstm.model import PlotLSTM


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def raw_loop(
    num_classes: int, batch: int, steps: int, warmup: int, precision: str, device: torch.device
) -> float:
    model = PlotLSTM(num_classes).to(device).train()
    opt = model.configure_optimizers()
    x = torch.randint(0, 256, (batch, 3, 256, 256), dtype=torch.uint8, device=device)
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
    """Times the training steps after ``warmup``."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.images = warmup, 0.0, 0

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch, batch_idx: int
    ) -> None:
        if trainer.global_step == self.warmup and not self.start:
            sync(module.device)
            self.start = time.perf_counter()
        if self.start:
            self.images += len(batch[1])

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        sync(module.device)
        self.elapsed = time.perf_counter() - self.start


def lightning_run(args: argparse.Namespace, cache: str) -> float:
    dm = PlotDataModule(
        args.root, batch_size=args.batch_size, num_workers=args.workers, pin_memory=True, cache=cache
    )
    classes = dm.check()
    model = PlotLSTM(len(classes), class_names=classes)
    if args.compile:
        model = torch.compile(model)
    clock = Clock(args.warmup)
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
    trainer.fit(model, datamodule=dm)
    return clock.images / clock.elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", required=True)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--skip-uncached", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model in (b) and (c)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    num_classes = len(PlotDataModule(args.root).check())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU x{torch.get_num_threads()}"
    print(f"device: {name}, torch {torch.__version__}, batch {args.batch_size}, precision {args.precision}")
    raw = raw_loop(num_classes, args.batch_size, args.steps, args.warmup, args.precision, device)
    print(f"(a) raw PyTorch loop, tensors on the device: {raw:9.1f} images/s")
    cached = lightning_run(args, "device" if device.type == "cuda" else "disk")
    print(
        f"(b) Lightning, PNG data set with the cache: {cached:9.1f} images/s  ratio to (a): {cached / raw:.3f}"
    )
    if not args.skip_uncached:
        plain = lightning_run(args, "none")
        print(
            f"(c) Lightning, PNG data set, no cache:      {plain:9.1f} images/s  ratio to (a): {plain / raw:.3f}"
        )


if __name__ == "__main__":
    main()
