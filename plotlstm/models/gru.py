"""A bidirectional recurrent network over the seed's time axis (the plot's columns as steps)."""

from __future__ import annotations

import torch
from torch import nn

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


class BiRNNNet(nn.Module):
    """Columns as steps, as the seed's LSTM, read both ways by a bidirectional GRU (or LSTM).

    Each step is one column of 3 x S values (row-major, channel fastest, as the seed), projected to ``input_size``
    first so that the recurrence stays small. The head reads the per-step outputs pooled over time (mean and max,
    each direction) and the final states of both directions.

    Input: (B, 3, S, S) floats in [0, 1]. Output: logits, (B,) for two classes, (B, K) for K > 2.
    """

    def __init__(
        self,
        num_classes: int,
        image_size: int = 256,
        cell: str = "gru",
        input_size: int = 128,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"model.net.cell: unknown value {cell!r}; use one of {sorted(CELLS)}")
        self.image_size = image_size
        self.project = nn.Sequential(nn.Linear(3 * image_size, input_size), nn.ReLU())
        self.rnn = CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(3 * 2 * hidden_size, 1 if num_classes == 2 else num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape  # (B, 3, S, S)
        s = self.image_size
        if (c, h, w) != (3, s, s):
            raise ValueError(f"BiRNNNet expects images of shape (B, 3, {s}, {s}), got {tuple(x.shape)}")
        seq = self.project(x.permute(0, 3, 2, 1).reshape(b, w, h * c))  # (B, S, input_size): time = x axis
        out = self.rnn(seq)[0]  # (B, S, 2H)
        n = out.shape[2] // 2
        last = torch.cat([out[:, -1, :n], out[:, 0, n:]], dim=1)  # (B, 2H): each direction's final state
        features = torch.cat([out.mean(1), out.amax(1), last], dim=1)  # (B, 6H)
        logits = self.head(self.dropout(features))  # (B, 1) or (B, K)
        return logits.squeeze(1) if logits.shape[1] == 1 else logits
