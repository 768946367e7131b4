"""``PlotClassifier``: a trained network as a library call on files, PIL images, arrays or tensors.

The one inference path: the library, ``predict``, ``evaluate`` and the service all prepare images with
:meth:`PlotClassifier.prepare` and run them through :meth:`PlotClassifier.probabilities`; answers are
:class:`plotlstm.inference.results.Prediction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
import torch
from PIL import Image
from torch import nn

from plotlstm.data.images import image_to_uint8, open_rgb, scale
from plotlstm.errors import CheckpointError, DataError, PlotLSTMError, one_line
from plotlstm.inference.results import Prediction
from plotlstm.inference.unrecognized import decide
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.networks import probabilities
from plotlstm.progress import track

ImageInput = str | Path | Image.Image | np.ndarray | torch.Tensor
WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
BUNDLED_MODEL = WEIGHTS / "designs.pt"
"""The default model shipped with the package (``docs/model-card.md``), used when no checkpoint is given."""
BUNDLED = {"designs": BUNDLED_MODEL, "general": WEIGHTS / "general.pt"}
"""The files shipped with the package, by the name ``ckpt_path`` may give instead of a path: ``designs`` (the
default: the reference's process and other designs, violation families, R's other panels) and ``general`` (the
previous default, trained on the reference's process only; ``docs/model-card.md``)."""


def is_bundled_name(value: object) -> TypeGuard[str]:
    """Whether a ``ckpt_path``/``init_weights`` value names a bundled model (and is not a path here)."""
    return isinstance(value, str) and value in BUNDLED and not Path(value).exists()


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto``: cuda when present, else cpu; otherwise the named device, refused in one line
    (:class:`PlotLSTMError` naming ``device``) when it is unknown or not on this machine."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(str(device))
    except RuntimeError:
        raise PlotLSTMError(
            f"device: unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if chosen.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise PlotLSTMError(f"device: {device!r} asked for, but this machine has no usable CUDA GPU")
        if chosen.index is not None and chosen.index >= count:
            raise PlotLSTMError(f"device: {device!r} asked for, but this machine has {count} CUDA GPU(s)")
    elif chosen.type == "mps" and not torch.backends.mps.is_available():
        raise PlotLSTMError(f"device: {device!r} asked for, but MPS is not available on this machine")
    elif chosen.type not in ("cpu", "cuda", "mps"):
        raise PlotLSTMError(f"device: {device!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return chosen


class PlotClassifier:
    """Classify plots with a trained network, preprocessed exactly as in training (see ``plotlstm.data.images``).

    ``interpolation`` and ``image_size`` come from the checkpoint; ``nearest`` (the seed's) where it says none.
    """

    def __init__(
        self,
        net: nn.Module,
        classes: Sequence[str],
        image_size: int,
        interpolation: str = "nearest",
        device: str | torch.device = "auto",
        batch_size: int = 64,
        checkpoint: str = "",
        hparams: dict[str, Any] | None = None,
        min_confidence: float = 0.0,
        min_spoiled: float = 0.0,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise PlotLSTMError(f"batch_size: must be a whole number >= 1, got {batch_size!r}")
        self.device = pick_device(device)
        self.net = net.to(self.device).eval()
        self.classes = list(classes)
        self.image_size, self.interpolation = int(image_size), interpolation
        self.batch_size = batch_size
        self.checkpoint = checkpoint
        self.hparams = hparams or {}
        self.min_confidence = min_confidence
        """Below this top probability the answer is ``unrecognized`` (see ``plotlstm.inference.unrecognized``)."""
        self.min_spoiled = min_spoiled
        """Below this ``1 - P(none)`` a violation is answered ``none`` (``plotlstm.inference.unrecognized``)."""

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | Path | Checkpoint, device: str | torch.device = "auto", batch_size: int = 64
    ) -> PlotClassifier:
        """A checkpoint file, a training run's folder (its best) or an opened :class:`Checkpoint`, read once,
        without executing pickled code."""
        ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else Checkpoint.open(checkpoint)
        return cls(
            ckpt.build_network(),
            ckpt.classes,
            ckpt.image_size,
            ckpt.interpolation,
            device=device,
            batch_size=batch_size,
            checkpoint=str(ckpt.path),
            hparams=ckpt.hparams,
            min_confidence=ckpt.min_confidence,
            min_spoiled=ckpt.min_spoiled,
        )

    @classmethod
    def pretrained(
        cls, name: str = "designs", device: str | torch.device = "auto", batch_size: int = 64
    ) -> PlotClassifier:
        """A model bundled with the package (:data:`BUNDLED`: ``designs``, the default, or ``general``;
        ``docs/model-card.md``)."""
        if name not in BUNDLED:
            raise CheckpointError(
                f"ckpt_path: no bundled model {name!r}; the bundled ones are {sorted(BUNDLED)}"
            )
        if not BUNDLED[name].is_file():
            raise CheckpointError(
                f"ckpt_path: the bundled model {BUNDLED[name]} is missing; give ckpt_path=..."
            )
        return cls.from_checkpoint(BUNDLED[name], device=device, batch_size=batch_size)

    @classmethod
    def load(
        cls,
        path: str | Path | Checkpoint | None = None,
        device: str | torch.device = "auto",
        batch_size: int = 64,
    ) -> PlotClassifier:
        """``path`` when given (a checkpoint file, run folder, :class:`Checkpoint`, or the name of a bundled model:
        ``general``, ``designs``), else the bundled default."""
        if path in (None, ""):
            return cls.pretrained(device=device, batch_size=batch_size)
        if is_bundled_name(path):
            return cls.pretrained(path, device=device, batch_size=batch_size)
        return cls.from_checkpoint(path, device=device, batch_size=batch_size)  # type: ignore[arg-type]

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def prepare(self, item: ImageInput) -> torch.Tensor:
        """One input as a (3, S, S) tensor (uint8, or float in [0, 1]) ready for the network."""
        size, interpolation = self.image_size, self.interpolation
        if isinstance(item, (str, Path)):
            return image_to_uint8(open_rgb(item), size, interpolation)
        if isinstance(item, Image.Image):
            return image_to_uint8(item, size, interpolation)
        if isinstance(item, torch.Tensor):
            if item.is_floating_point() and item.numel() and (item.min() < 0 or item.max() > 1):
                raise DataError(
                    f"tensor input: float values must lie in [0, 1], got {item.min()}..{item.max()}"
                )
            if item.ndim == 3 and item.shape[0] == 3 and item.shape[1:] == (size, size):
                return item  # already model input
            item = item.permute(1, 2, 0).cpu().numpy() if item.ndim == 3 else item.cpu().numpy()
        if isinstance(item, np.ndarray):
            array = item
            if array.dtype != np.uint8:
                if array.size and (array.min() < 0 or array.max() > 1):
                    raise DataError(
                        f"array input: float values must lie in [0, 1], got {array.min()}..{array.max()}"
                    )
                array = (array * 255).round().astype(np.uint8)
            if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
                raise DataError(
                    f"array input: expected (H, W), (H, W, 3) or (H, W, 4), got shape {item.shape}"
                )
            return image_to_uint8(Image.fromarray(array.squeeze()), size, interpolation)
        raise DataError(
            f"unsupported input type {type(item).__name__}: give a path, PIL image, array or tensor"
        )

    def batches(self, images: Sequence[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Prepared images stacked ``batch_size`` at a time."""
        for start in range(0, len(images), self.batch_size):
            yield torch.stack(list(images[start : start + self.batch_size]))

    @torch.inference_mode()
    def probabilities(self, batches: Iterable[torch.Tensor]) -> torch.Tensor:
        """(N, K) probabilities for batches of prepared images (uint8 or floats in [0, 1]): the one loop."""
        out = [probabilities(self.net(scale(b.to(self.device)))).cpu() for b in batches]
        return torch.cat(out) if out else torch.empty(0, len(self.classes))

    def explain(
        self, inputs: ImageInput | Sequence[ImageInput], classes: str | Sequence[str] | None = None
    ) -> np.ndarray:
        """Evidence over the columns of the model's input (S values; (B, S) for a list) for each input's
        predicted class, or for ``classes``: positive where the columns speak for it
        (:mod:`plotlstm.inference.explain`)."""
        from plotlstm.inference.explain import column_evidence

        single = not isinstance(inputs, (list, tuple))
        items = [inputs] if single else list(inputs)
        images = torch.stack([self.prepare(x) for x in items]).to(self.device)
        if classes is None:
            names = [self.classes[int(i)] for i in self.probabilities([images]).argmax(1)]
        else:
            names = [classes] * len(items) if isinstance(classes, str) else list(classes)
            unknown = [c for c in names if c not in self.classes]
            if unknown:
                raise DataError(f"classes: {unknown[0]!r} is not one of the model's classes {self.classes}")
        index = torch.tensor([self.classes.index(c) for c in names])
        evidence = column_evidence(self.net, images, index.to(self.device), names=names).float().cpu().numpy()
        return evidence[0] if single else evidence

    def predict_batch(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        """(N, K) probabilities for a list of prepared images."""
        return self.probabilities(self.batches(images))

    def to_predictions(
        self,
        probs: torch.Tensor,
        sources: Iterable[str],
        truths: Iterable[str] | None = None,
        images: Sequence[torch.Tensor] | None = None,
    ) -> Iterator[Prediction]:
        """Predictions from (N, K) probabilities: the most probable class, or ``unrecognized`` by the rules of
        :mod:`plotlstm.inference.unrecognized` (with the prepared ``images``, flat ones are caught too)."""
        rows = probs.tolist()
        truths = list(truths) if truths is not None else [""] * len(rows)
        pictures: Sequence[torch.Tensor | None] = images if images is not None else [None] * len(rows)
        for row, source, true, image in zip(rows, sources, truths, pictures, strict=True):
            label = decide(row, self.classes, image, self.min_confidence, self.min_spoiled)
            yield Prediction(source, label, dict(zip(self.classes, row, strict=True)), true=true)

    def predict(self, inputs: ImageInput | Sequence[ImageInput]) -> Prediction | list[Prediction]:
        """Classify one input (returns a Prediction) or a list of them (returns a list, batched internally).

        A 4-D tensor or array is a batch. Unreadable inputs raise :class:`plotlstm.errors.DataError`.
        """
        single = not isinstance(inputs, (list, tuple)) and not (
            isinstance(inputs, (torch.Tensor, np.ndarray)) and inputs.ndim == 4
        )
        items: list[Any] = [inputs] if single else list(inputs)
        sources = [str(x) if isinstance(x, (str, Path)) else f"<input {i}>" for i, x in enumerate(items)]
        images = [self.prepare(x) for x in items]
        predictions = list(self.to_predictions(self.predict_batch(images), sources, images=images))
        return predictions[0] if single else predictions

    def predict_files(self, paths: Sequence[str | Path], progress: bool = False) -> list[Prediction]:
        """Classify image files in batches; a file that cannot be read gets a Prediction with ``error`` set and
        the others still run. The answers equal ``predict(readable_paths)``."""
        rows: list[Prediction | None] = [None] * len(paths)
        pending: list[tuple[int, torch.Tensor]] = []

        def flush() -> None:
            probs = self.predict_batch([x for _, x in pending])
            sources = [str(paths[i]) for i, _ in pending]
            images = [x for _, x in pending]
            for (i, _), pred in zip(pending, self.to_predictions(probs, sources, images=images), strict=True):
                rows[i] = pred
            pending.clear()

        for i, path in enumerate(track(paths, "predict", len(paths), progress)):
            if Path(path).is_dir():
                rows[i] = Prediction(str(path), error=f"{path}: no image files in this folder")
            else:
                try:
                    pending.append((i, self.prepare(path)))
                except DataError as err:
                    rows[i] = Prediction(str(path), error=one_line(err))
            if len(pending) == self.batch_size:
                flush()
        if pending:
            flush()
        return [row for row in rows if row is not None]
