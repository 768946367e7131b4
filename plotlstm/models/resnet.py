"""torchvision's ResNet-18, trained from scratch (no downloaded weights): the CNN baseline."""

from __future__ import annotations

import torch
import torchvision
from torch import nn


class ResNet18Net(nn.Module):
    """``torchvision.models.resnet18(weights=None)`` with a head for the plot classes.

    Input: (B, 3, S, S) floats in [0, 1] (any S >= 32: global average pooling makes it size-agnostic).
    Output: logits, (B,) for two classes, (B, K) for K > 2.
    """

    def __init__(self, num_classes: int, image_size: int = 256) -> None:
        super().__init__()
        self.image_size = image_size
        self.resnet = torchvision.models.resnet18(
            weights=None, num_classes=1 if num_classes == 2 else num_classes
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, 3, S, S) -> (B, 64, S/4, S/4) stem -> 4 stages -> (B, 512, S/32, S/32) -> pool -> (B, 1 or K)
        logits = self.resnet(x * 2.0 - 1.0)  # [0, 1] -> [-1, 1]; BatchNorm does the rest
        return logits.squeeze(1) if logits.shape[1] == 1 else logits
