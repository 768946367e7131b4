"""The networks a model config can name (``model.net.arch``) and how logits become probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from plotlstm.models.coordconv import CoordConvNet
from plotlstm.models.gru import BiRNNNet
from plotlstm.models.lstm import SeedLSTMNet
from plotlstm.models.resnet import ResNet18Net

# arch name -> network class; each takes num_classes, image_size and its own options (docs/baselines.md)
NETWORKS: dict[str, type[nn.Module]] = {
    "seed_lstm": SeedLSTMNet,
    "resnet18": ResNet18Net,
    "bigru": BiRNNNet,
    "coordconv": CoordConvNet,
}
SEED_NET = {"arch": "seed_lstm"}


def plain(value: Any) -> Any:
    """Config containers (OmegaConf, tuples) as plain dicts and lists, so that checkpoints load weights-only."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def build_network(arch: str = "seed_lstm", *, num_classes: int, image_size: int, **options: Any) -> nn.Module:
    """The network ``arch`` for ``num_classes`` classes on (B, 3, image_size, image_size) input."""
    if arch not in NETWORKS:
        raise ValueError(f"model.net.arch: unknown network {arch!r}; use one of {sorted(NETWORKS)}")
    try:
        return NETWORKS[arch](num_classes=num_classes, image_size=image_size, **options)
    except TypeError as err:
        raise ValueError(f"model.net: {err}") from None


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """(B, K) class probabilities: a (B,) logit is the second of two classes (sigmoid), (B, K) logits softmax."""
    if logits.ndim == 1:
        p = torch.sigmoid(logits.float())
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(logits.float(), dim=1)
