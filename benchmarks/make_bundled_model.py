"""Export a trained run as the package's bundled model, ``plotlstm/weights/general.pt`` (weights only).

The file has the layout :meth:`plotlstm.models.checkpoint.Checkpoint.save` writes (``state_dict``,
``hyper_parameters``), so ``torch.load(weights_only=True)`` and ``PlotClassifier.from_checkpoint`` read it, plus
``"unrecognized": {"min_confidence": t}``: the confidence threshold of ``plotlstm.inference.unrecognized``,
calibrated on the run's validation split (the stratified share of its train set that chose the checkpoint; never
its test split, never the renderers benchmark) as the
``--quantile`` quantile of the top probability of the residual plots there (so about that share of them would
be caught), and no higher than ``--max-threshold``.

Run: ``python benchmarks/make_bundled_model.py --ckpt logs/train/runs/RUN --data data/general_designs/train
--val-fraction 0.05 --seed 42``; it
prints the file's size and sha256 (for ``docs/model-card.md``).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import torch

from plotlstm.data.datamodule import stratified_split
from plotlstm.inference.classifier import BUNDLED_MODEL, PlotClassifier
from plotlstm.inference.evaluation import load_folder, predict_folder
from plotlstm.inference.unrecognized import UNRECOGNIZED
from plotlstm.models.checkpoint import Checkpoint, write


def calibrate(
    classifier: PlotClassifier, folder: Path, quantile: float, cap: float, val_fraction: float, seed: int
) -> float:
    """The ``quantile`` of the top probability over the residual plots (not the non-plots) of ``folder``'s
    validation split (``val_fraction`` of it, stratified by ``seed``, as training carved it; 0: all of it), capped."""
    dataset = load_folder(classifier, folder)
    if val_fraction:
        dataset.samples = [
            dataset.samples[i] for i in stratified_split(dataset.targets, val_fraction, seed)[1]
        ]
        dataset.targets = [t for _, t in dataset.samples]
    _, probs, targets = predict_folder(classifier, dataset, progress=True)
    keep = torch.tensor([classifier.classes[int(t)] != UNRECOGNIZED for t in targets])
    top = probs[keep].max(dim=1).values
    return float(min(cap, torch.quantile(top, quantile).item()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="the trained run folder or checkpoint file")
    parser.add_argument("--data", required=True, type=Path, help="the run's train ImageFolder (ROOT/train)")
    parser.add_argument("--val-fraction", type=float, default=0.05, help="the run's data.val_fraction")
    parser.add_argument("--seed", type=int, default=42, help="the run's seed (train.yaml: 42)")
    parser.add_argument("--out", type=Path, default=BUNDLED_MODEL)
    parser.add_argument("--quantile", type=float, default=0.0005)
    parser.add_argument("--max-threshold", type=float, default=0.6)
    args = parser.parse_args()
    ckpt = Checkpoint.open(args.ckpt)
    classifier = PlotClassifier.from_checkpoint(ckpt)
    threshold = calibrate(
        classifier, args.data, args.quantile, args.max_threshold, args.val_fraction, args.seed
    )
    weights = {  # the weights and what rebuilds the network: no optimizer state, no callbacks
        "state_dict": ckpt.state_dict,
        "hyper_parameters": ckpt.hparams,
        "pytorch-lightning_version": ckpt.extras.get("pytorch-lightning_version", ""),
        "unrecognized": {"min_confidence": threshold},
        "source": {
            "checkpoint": Path(classifier.checkpoint).name,
            "calibrated_on": f"{args.data.parent.name}/{args.data.name}",
        },
    }
    write(weights, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    size = args.out.stat().st_size
    print(f"{args.out}: {size / 1e6:.2f} MB, sha256 {digest}, min_confidence {threshold:.4f}")
    check = PlotClassifier.from_checkpoint(args.out, device="cpu")
    assert check.classes == classifier.classes and abs(check.min_confidence - threshold) < 1e-12


if __name__ == "__main__":
    main()
