"""A small CNN with coordinate channels (CoordConv): convolutions that know where they are in the plot."""

from __future__ import annotations

import torch
from torch import nn


def add_coordinates(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C + 2, H, W): x and y positions in [-1, 1] as two more channels (Liu et al., 2018)."""
    b, _, h, w = x.shape
    ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([x, xs, ys], dim=1)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 conv, BatchNorm, ReLU, then 2x2 max pooling: halves H and W."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class CoordConvNet(nn.Module):
    """Coordinate channels, then ``len(channels)`` conv blocks, each halving the size; the last feature map is
    average-pooled to ``grid`` x ``grid`` cells and flattened, so the head sees where each feature lies (not one
    global pool), then dropout and a linear head.

    Input: (B, 3, S, S) floats in [0, 1], S divisible by 2 ** len(channels). Output: logits, (B,) for two
    classes, (B, K) for K > 2.
    """

    def __init__(
        self,
        num_classes: int,
        image_size: int = 256,
        channels: tuple[int, ...] | list[int] = (16, 32, 64, 128),
        grid: int = 4,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if not channels or image_size % (2 ** len(channels)) or image_size // (2 ** len(channels)) < grid:
            raise ValueError(
                f"model.net.channels: image_size {image_size} must be divisible by 2 ** {len(channels)} "
                f"and leave at least grid={grid} cells"
            )
        self.image_size = image_size
        blocks, c_in = [], 3 + 2
        for c_out in channels:
            blocks.append(conv_block(c_in, c_out))
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c_in * grid * grid, 1 if num_classes == 2 else num_classes)
        # channels-last weights and maps: oneDNN's faster convolutions (on a 2-core CPU 1.3x a training step,
        # 1.7-1.9x inference: benchmarks/coordconv_speed.py); the input follows ``memory_format`` in ``trunk``
        self.memory_format = torch.channels_last
        self.to(memory_format=self.memory_format)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Every block but the last: (B, 3, S, S) -> (B, C', S / 2**(n-1), S / 2**(n-1)); each column of it stands
        for S / 2**(n-1) pixel columns (where ``explain`` occludes, :mod:`plotlstm.inference.explain`)."""
        x = add_coordinates(x * 2.0 - 1.0).contiguous(memory_format=self.memory_format)
        return self.features[:-1](x)

    def top(self, features: torch.Tensor) -> torch.Tensor:
        """The last block and the head: the trunk's features -> logits, (B,) or (B, K)."""
        # (B, C', s, s) -> (B, C, s / 2, s / 2) -> (B, C, grid, grid) -> (B, C * grid**2)
        pooled = self.pool(self.features[-1](features)).flatten(1)
        logits = self.head(self.dropout(pooled))  # (B, 1) or (B, K)
        return logits.squeeze(1) if logits.shape[1] == 1 else logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, 3, S, S) -> (B, 5, S, S) -> blocks -> (B, C, grid, grid) -> head
        return self.top(self.trunk(x))
