"""``Checkpoint``: a plotlstm checkpoint file read once, the one owner of its format.

The layout is Lightning's (``state_dict`` with the network's weights under ``net.*``, ``hyper_parameters``), plus
optional extras such as ``unrecognized`` (see :mod:`plotlstm.inference.unrecognized`). Files are read with
``weights_only=True``: no pickled code runs. Files written before the network was its own module (flat LSTM
hyper-parameters, keys ``lstm.*``) are upgraded as they are read. Only torch is needed here (no Lightning).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from plotlstm.atomic import atomic_path
from plotlstm.errors import CheckpointError, first_line
from plotlstm.models.networks import SEED_NET, build_network

REQUIRED_HPARAMS = ("num_classes", "class_names", "image_size", "net")
LEGACY_NET_KEYS = ("lstm_size", "num_layers", "hidden_size", "dropout", "recurrent_activation", "keras_init")


def upgrade(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint written before the network was its own module (flat LSTM hyper-parameters, keys ``lstm.*``,
    ``per_step.*``, ``head.*``) in today's layout (``net`` hyper-parameters, keys ``net.*``); others unchanged."""
    hparams = ckpt.get("hyper_parameters")
    if not isinstance(hparams, dict) or "net" in hparams:
        return ckpt
    net = dict(SEED_NET) | {k: hparams.pop(k) for k in LEGACY_NET_KEYS if k in hparams}
    ckpt["hyper_parameters"] = {**hparams, "net": net}
    state = ckpt.get("state_dict")
    if isinstance(state, dict):
        ckpt["state_dict"] = {
            (f"net.{k}" if k.split(".")[0] in ("lstm", "per_step", "head") else k): v
            for k, v in state.items()
        }
    return ckpt


def _load(path: Path, field: str) -> Any:
    """``torch.load`` of ``path``, weights only; any failure in one line naming ``field``."""
    if not path.is_file():
        raise CheckpointError(f"{field}: {path} does not exist or is not a file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - the weights-only unpickler raises many types for foreign files
        raise CheckpointError(f"{field}: {path} is not a readable checkpoint ({first_line(err)})") from None


def find(path: str | Path, field: str = "ckpt_path") -> Path:
    """The file a setting names: a checkpoint file, or a training run's folder (its best checkpoint, else its
    last). A run's folder is resolved by its ``metrics.json`` or by its one kept checkpoint, without reading
    weights; only a folder with several candidates has its ``last.ckpt`` read for the best path."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise CheckpointError(f"{field}: {path} does not exist")
    run = path.parent if path.name == "checkpoints" else path
    folder = run / "checkpoints" if (run / "checkpoints").is_dir() else path
    try:
        best = json.loads((run / "metrics.json").read_text()).get("best_checkpoint") or ""
    except (OSError, ValueError, AttributeError):
        best = ""
    if best and Path(best).is_file():
        return Path(best)
    last = folder / "last.ckpt"
    candidates = sorted(p for p in folder.glob("*.ckpt") if p.name != "last.ckpt")
    if len(candidates) != 1 and last.is_file():
        callbacks = _load(last, field).get("callbacks", {})
        for state in callbacks.values() if isinstance(callbacks, dict) else ():
            best = state.get("best_model_path") if isinstance(state, dict) else None
            if best and Path(best).is_file():
                return Path(best)
    candidates = candidates or ([last] if last.is_file() else [])
    if not candidates:
        raise CheckpointError(f"{field}: no checkpoint (*.ckpt) in {folder}")
    return candidates[-1]


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A plotlstm checkpoint: where it came from, its (upgraded) hyper-parameters, its weights and its extras.

    ``field`` is the setting that named it; every error about the file names it.
    """

    path: Path
    hparams: dict[str, Any]
    state_dict: dict[str, torch.Tensor] = field(repr=False)
    extras: dict[str, Any] = field(default_factory=dict, repr=False)
    field: str = "ckpt_path"

    @classmethod
    def open(cls, path: str | Path, field: str = "ckpt_path") -> Checkpoint:
        """Read a checkpoint file or a training run's folder (its best checkpoint) once, and check that it is
        plotlstm's."""
        path = find(path, field)
        raw = _load(path, field)
        if isinstance(raw, dict):
            upgrade(raw)
        hparams = raw.get("hyper_parameters") if isinstance(raw, dict) else None
        if (
            not isinstance(hparams, dict)
            or not isinstance(raw.get("state_dict"), dict)
            or any(k not in hparams for k in REQUIRED_HPARAMS)
        ):
            raise CheckpointError(
                f"{field}: {path} is not a plotlstm checkpoint (no plotlstm hyper-parameters)"
            )
        extras = {k: v for k, v in raw.items() if k not in ("state_dict", "hyper_parameters")}
        return cls(path, dict(hparams), raw["state_dict"], extras, field)

    @property
    def classes(self) -> list[str]:
        """The class names, in the order of the network's outputs."""
        return [str(c) for c in self.hparams["class_names"]]

    @property
    def image_size(self) -> int:
        return int(self.hparams["image_size"])

    @property
    def interpolation(self) -> str:
        """How training resized images (``nearest``, the seed's, where the file says none)."""
        return self.hparams.get("interpolation") or "nearest"

    @property
    def preprocessing(self) -> tuple[int, str]:
        """(image_size, interpolation): what inference must do to an image before the network."""
        return self.image_size, self.interpolation

    @property
    def net_options(self) -> dict[str, Any]:
        return dict(self.hparams["net"])

    @property
    def min_confidence(self) -> float:
        """Below this top probability an answer is ``unrecognized`` (the ``unrecognized`` extra; 0: off)."""
        rules = self.extras.get("unrecognized")
        return float(rules.get("min_confidence", 0.0)) if isinstance(rules, dict) else 0.0

    @property
    def min_spoiled(self) -> float:
        """Below this ``1 - P(none)`` a violation is answered ``none`` (the ``verdict`` extra; 0: off)."""
        rules = self.extras.get("verdict")
        return float(rules.get("min_spoiled", 0.0)) if isinstance(rules, dict) else 0.0

    def build_network(self) -> nn.Module:
        """The network with this file's weights, in eval mode (``keras_init`` off: the weights replace it)."""
        options = self.net_options
        if "keras_init" in options:
            options["keras_init"] = False
        prefix = "net."
        weights = {k[len(prefix) :]: v for k, v in self.state_dict.items() if k.startswith(prefix)}
        try:
            net = build_network(
                num_classes=int(self.hparams["num_classes"]), image_size=self.image_size, **options
            )
            net.load_state_dict(weights)
        except (TypeError, RuntimeError, ValueError) as err:
            raise CheckpointError(
                f"{self.field}: {self.path} does not fit its network ({first_line(err)})"
            ) from None
        return net.eval()

    def require_classes(self, classes: list[str], root: str) -> None:
        """Refuse (naming the field) a checkpoint trained on other classes, or in another order, than ``root``'s."""
        if self.classes != list(classes):
            raise CheckpointError(
                f"{self.field}: {self.path} was trained on classes {self.classes}, but {root} has {list(classes)}"
            )

    @staticmethod
    def save(model: nn.Module, path: str | Path, **extras: Any) -> Path:
        """Write a trained module (``state_dict``, ``hparams``) in Lightning's layout, atomically, so that
        :meth:`open`, ``PlotClassifier`` and training's ``ckpt_path`` take it; ``extras`` go in beside."""
        import lightning

        ckpt = {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            "pytorch-lightning_version": lightning.__version__,
            **extras,
        }
        return write(ckpt, path)


def write(ckpt: dict[str, Any], path: str | Path) -> Path:
    """``torch.save`` a checkpoint's dict to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)
    return path
