"""Find and read plotlstm checkpoints without executing pickled code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from plotlstm.atomic import atomic_path
from plotlstm.errors import CheckpointError
from plotlstm.models.networks import build_network, upgrade_checkpoint

REQUIRED_HPARAMS = ("num_classes", "class_names", "image_size", "net")


def resolve_checkpoint(path: str | Path, field: str = "ckpt_path") -> Path:
    """A checkpoint file, or a training run's folder (its best checkpoint, else its last); errors name ``field``."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise CheckpointError(f"{field}: {path} does not exist")
    folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    last = folder / "last.ckpt"
    if last.is_file():
        for state in read_checkpoint(last, check=False, field=field).get("callbacks", {}).values():
            best = state.get("best_model_path") if isinstance(state, dict) else None
            if best and Path(best).is_file():
                return Path(best)
    candidates = sorted(p for p in folder.glob("*.ckpt") if p.name != "last.ckpt") or (
        [last] if last.is_file() else []
    )
    if not candidates:
        raise CheckpointError(f"{field}: no checkpoint (*.ckpt) in {folder}")
    return candidates[-1]


def read_checkpoint(path: str | Path, check: bool = True, field: str = "ckpt_path") -> dict[str, Any]:
    """Load a Lightning checkpoint with ``weights_only=True``; with ``check``, insist that it is plotlstm's.

    Errors name ``field``, the setting that gave ``path``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{field}: {path} does not exist or is not a file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (
        Exception
    ) as err:  # torch's weights-only unpickler raises many types for files that are not checkpoints
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{field}: {path} is not a readable checkpoint ({first})") from None
    if not check:
        return ckpt
    if isinstance(ckpt, dict):
        upgrade_checkpoint(ckpt)
    hparams = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    if (
        not isinstance(hparams, dict)
        or "state_dict" not in ckpt
        or any(k not in hparams for k in REQUIRED_HPARAMS)
    ):
        raise CheckpointError(f"{field}: {path} is not a plotlstm checkpoint (no plotlstm hyper-parameters)")
    return ckpt


def checkpoint_classes(path: str | Path) -> list[str]:
    """The class names a checkpoint was trained on."""
    return list(read_checkpoint(path)["hyper_parameters"]["class_names"])


def save_checkpoint(model: torch.nn.Module, path: str | Path, **extra: Any) -> Path:
    """Save a PlotLSTM the way Lightning lays out a checkpoint (``state_dict``, ``hyper_parameters``), atomically,
    so that :func:`read_checkpoint`, ``PlotClassifier`` and training's ``ckpt_path`` take it."""
    import lightning

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        **extra,
    }
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)
    return path


def load_network(path: str | Path, field: str = "ckpt_path") -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network of a checkpoint (file or training run folder), in eval mode, and its hyper-parameters.

    Only torch is needed: no Lightning, no torchmetrics, no pickled code. Errors name ``field``.
    """
    path = resolve_checkpoint(path, field)
    ckpt = read_checkpoint(path, field=field)
    hparams = dict(ckpt["hyper_parameters"])
    net_options = (
        {**hparams["net"], "keras_init": False} if "keras_init" in hparams["net"] else hparams["net"]
    )
    prefix = "net."
    weights = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    try:
        net = build_network(
            num_classes=int(hparams["num_classes"]), image_size=int(hparams["image_size"]), **net_options
        )
        net.load_state_dict(weights)
    except (TypeError, RuntimeError, ValueError) as err:
        raise CheckpointError(
            f"{field}: {path} does not fit its network ({str(err).splitlines()[0]})"
        ) from None
    return net.eval(), hparams
