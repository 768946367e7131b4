"""``PlotClassifier``: a trained PlotLSTM as a library call on paths, PIL images, arrays or tensors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from plotlstm.data.images import image_to_uint8, open_rgb, scale
from plotlstm.errors import CheckpointError, DataError
from plotlstm.inference.checkpoint import read_checkpoint, resolve_checkpoint
from plotlstm.inference.unrecognized import decide
from plotlstm.models.module import PlotLSTM

ImageInput = str | Path | Image.Image | np.ndarray | torch.Tensor
BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "weights" / "general.pt"
"""The model shipped with the package (``docs/model-card.md``), used when no checkpoint is given."""


@dataclass(frozen=True)
class Prediction:
    """One image's answer: the predicted class and the probability of every class."""

    label: str
    probabilities: dict[str, float]
    source: str = ""

    @property
    def confidence(self) -> float:
        """The label's probability; for ``unrecognized`` by a rule (not a model class), 1 - the top probability."""
        if self.label in self.probabilities:
            return self.probabilities[self.label]
        return 1.0 - max(self.probabilities.values(), default=0.0)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.probabilities)


def pick_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


class PlotClassifier:
    """Classify plots with a trained model, preprocessed exactly as in training (see ``plotlstm.transforms``)."""

    def __init__(
        self,
        model: PlotLSTM,
        device: str | torch.device = "auto",
        batch_size: int = 64,
        checkpoint: str = "",
        min_confidence: float = 0.0,
    ) -> None:
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = batch_size
        self.checkpoint = checkpoint
        self.min_confidence = min_confidence
        """Below this top probability the answer is ``unrecognized`` (see ``plotlstm.inference.unrecognized``)."""

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str | torch.device = "auto", batch_size: int = 64
    ) -> PlotClassifier:
        """Load a checkpoint file (or a training run's folder: its best) without executing pickled code."""
        path = resolve_checkpoint(path)
        ckpt = read_checkpoint(path)
        hparams = dict(ckpt["hyper_parameters"])
        hparams["keras_init"] = False
        try:
            model = PlotLSTM(**hparams)
            model.load_state_dict(ckpt["state_dict"])
        except (TypeError, RuntimeError, ValueError) as err:
            raise CheckpointError(
                f"ckpt_path: {path} does not fit PlotLSTM ({str(err).splitlines()[0]})"
            ) from None
        rules = ckpt.get("unrecognized") if isinstance(ckpt.get("unrecognized"), dict) else {}
        return cls(
            model,
            device=device,
            batch_size=batch_size,
            checkpoint=str(path),
            min_confidence=float(rules.get("min_confidence", 0.0)),
        )

    @classmethod
    def pretrained(cls, device: str | torch.device = "auto", batch_size: int = 64) -> PlotClassifier:
        """The model bundled with the package (``plotlstm/weights/general.pt``, see ``docs/model-card.md``)."""
        if not BUNDLED_MODEL.is_file():
            raise CheckpointError(
                f"ckpt_path: the bundled model {BUNDLED_MODEL} is missing; give ckpt_path=..."
            )
        return cls.from_checkpoint(BUNDLED_MODEL, device=device, batch_size=batch_size)

    @classmethod
    def load(
        cls, path: str | Path | None = None, device: str | torch.device = "auto", batch_size: int = 64
    ) -> PlotClassifier:
        """``path`` when given (a checkpoint file or run folder), else the bundled model."""
        if path in (None, ""):
            return cls.pretrained(device=device, batch_size=batch_size)
        return cls.from_checkpoint(path, device=device, batch_size=batch_size)  # type: ignore[arg-type]

    @property
    def classes(self) -> list[str]:
        return list(self.model.class_names)

    @property
    def image_size(self) -> int:
        return int(self.model.hparams.image_size)

    def prepare(self, item: ImageInput) -> torch.Tensor:
        """One input as a (3, S, S) tensor (uint8, or float in [0, 1]) ready for the model."""
        size, interpolation = self.image_size, self.model.hparams.get("interpolation", "nearest")
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

    @torch.inference_mode()
    def predict_batch(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        """(N, K) probabilities for prepared images, in batches of ``batch_size``."""
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack([scale(x) for x in images[start : start + self.batch_size]]).to(self.device)
            out.append(self.model.probabilities(self.model(batch)).cpu())
        return torch.cat(out) if out else torch.empty(0, len(self.classes))

    def to_predictions(
        self, probs: torch.Tensor, sources: Iterable[str], images: Sequence[torch.Tensor] | None = None
    ) -> Iterator[Prediction]:
        """Predictions from (N, K) probabilities; with the prepared ``images``, flat ones are ``unrecognized``."""
        rows = probs.tolist()
        pictures: Sequence[torch.Tensor | None] = images if images is not None else [None] * len(rows)
        for row, source, image in zip(rows, sources, pictures, strict=True):
            label = decide(row, self.classes, image, self.min_confidence)
            yield Prediction(label, dict(zip(self.classes, row, strict=True)), source)

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
        predictions = list(self.to_predictions(self.predict_batch(images), sources, images))
        return predictions[0] if single else predictions
