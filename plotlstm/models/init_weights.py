"""``init_weights``: start a training run's network from given weights (fine-tuning), after checking they fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import lightning as L

from plotlstm.errors import CheckpointError
from plotlstm.inference.checkpoint import load_network, read_checkpoint, resolve_checkpoint

log = logging.getLogger(__name__)

INIT_ONLY_NET_OPTIONS = frozenset({"keras_init", "dropout"})
"""Network options that do not shape or change the trained function (initialisation, regularisation): they may
differ between ``init_weights`` and the model being trained."""


def find_init_weights(path: str | Path) -> Path:
    """The file ``init_weights`` names (a run folder: its best checkpoint), checked to be a readable plotlstm
    checkpoint: a missing or foreign file stops training before any data is drawn."""
    path = resolve_checkpoint(path, "init_weights")
    read_checkpoint(path, field="init_weights")
    return path


def load_init_weights(model: L.LightningModule, path: str | Path, classes: Sequence[str], root: str) -> Path:
    """Start ``model``'s network from the network in ``path`` (a checkpoint, run folder or weights-only file such
    as ``plotlstm/weights/general.pt``), after checking that it was trained on ``classes`` (``root``'s), in the
    same order, and that its network and input size are the model's. Returns the file read; errors name
    ``init_weights``. Optimiser, schedule and epoch count are the model's own (unlike ``ckpt_path``)."""
    path = resolve_checkpoint(path, "init_weights")
    net, theirs = load_network(path, "init_weights")
    ours = dict(model.hparams)
    if list(theirs["class_names"]) != list(classes):
        raise CheckpointError(
            f"init_weights: {path} was trained on classes {list(theirs['class_names'])}, but {root} has "
            f"{list(classes)}"
        )
    their_net, our_net = dict(theirs["net"]), dict(ours["net"])
    differ = [
        f"net.{key}={their_net[key]!r} there, {our_net[key]!r} here"
        for key in sorted(set(their_net) & set(our_net) - INIT_ONLY_NET_OPTIONS)
        if their_net[key] != our_net[key]
    ]
    size = f"image_size={theirs['image_size']} there, {ours['image_size']} here"
    resized = int(theirs["image_size"]) != int(ours["image_size"])
    if differ:
        differ += [size] if resized else []
        raise CheckpointError(
            f"init_weights: {path} does not fit the model to train: {'; '.join(differ)} (set model.net.* and "
            "data.image_size to the file's)"
        )
    try:  # a network whose weights do not depend on the input size (coordconv, resnet18) may change it
        model.net.load_state_dict(net.state_dict())
    except RuntimeError as err:
        why = size if resized else str(err).splitlines()[0]
        raise CheckpointError(f"init_weights: {path} does not fit the model to train ({why})") from None
    if resized:
        log.info(
            "init_weights: %s was trained at %s px; fine-tuning it at %s px",
            path,
            theirs["image_size"],
            ours["image_size"],
        )
    their_interp = theirs.get("interpolation") or "nearest"
    if their_interp != ours.get("interpolation"):
        log.warning(
            "init_weights: %s was trained on images resized with %s, this run resizes with %s (data.interpolation)",
            path,
            their_interp,
            ours.get("interpolation"),
        )
    log.info("starting from the network of %s (optimiser, schedule and epochs start fresh)", path)
    return path
