"""``init_weights``: start a training run's network from given weights (fine-tuning), after checking they fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import lightning as L

from plotlstm.errors import CheckpointError, first_line
from plotlstm.models.checkpoint import Checkpoint

log = logging.getLogger(__name__)

INIT_ONLY_NET_OPTIONS = frozenset({"keras_init", "dropout"})
"""Network options that do not shape or change the trained function (initialisation, regularisation): they may
differ between ``init_weights`` and the model being trained."""


def load_init_weights(model: L.LightningModule, ckpt: Checkpoint, classes: Sequence[str], root: str) -> Path:
    """Start ``model``'s network from the network of ``ckpt`` (opened from ``init_weights``: a checkpoint, run
    folder or weights-only file such as ``plotlstm/weights/general.pt``), after checking that it was trained on
    ``classes`` (``root``'s), in the same order, and that its network and input size are the model's. Returns
    the file read; errors name ``init_weights``. Optimiser, schedule and epoch count are the model's own (unlike
    ``ckpt_path``)."""
    path, theirs, ours = ckpt.path, ckpt.hparams, dict(model.hparams)
    ckpt.require_classes(list(classes), root)
    net = ckpt.build_network()
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
        why = size if resized else first_line(err)
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
