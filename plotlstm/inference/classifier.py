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
from plotlstm.models.module import PlotLSTM

ImageInput = str | Path | Image.Image | np.ndarray | torch.Tensor


@dataclass(frozen=True)
class Prediction:
    """One image's answer: the predicted class and the probability of every class."""

    label: str
    probabilities: dict[str, float]
    source: str = ""

    @property
    def confidence(self) -> float:
        return self.probabilities[self.label]

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
    """Classify plots with a trained model, preprocessed exactly as in training (see ``plotlstm.data.images``)."""

    def __init__(
        self, model: PlotLSTM, device: str | torch.device = "auto", batch_size: int = 64, checkpoint: str = ""
    ) -> None:
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = batch_size
        self.checkpoint = checkpoint

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
        return cls(model, device=device, batch_size=batch_size, checkpoint=str(path))

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

    def to_predictions(self, probs: torch.Tensor, sources: Iterable[str]) -> Iterator[Prediction]:
        for row, source in zip(probs.tolist(), sources, strict=True):
            best = max(range(len(row)), key=row.__getitem__)
            yield Prediction(self.classes[best], dict(zip(self.classes, row, strict=True)), source)

    def predict(self, inputs: ImageInput | Sequence[ImageInput]) -> Prediction | list[Prediction]:
        """Classify one input (returns a Prediction) or a list of them (returns a list, batched internally).

        A 4-D tensor or array is a batch. Unreadable inputs raise :class:`plotlstm.errors.DataError`.
        """
        single = not isinstance(inputs, (list, tuple)) and not (
            isinstance(inputs, (torch.Tensor, np.ndarray)) and inputs.ndim == 4
        )
        items: list[Any] = [inputs] if single else list(inputs)
        sources = [str(x) if isinstance(x, (str, Path)) else f"<input {i}>" for i, x in enumerate(items)]
        predictions = list(self.to_predictions(self.predict_batch([self.prepare(x) for x in items]), sources))
        return predictions[0] if single else predictions
