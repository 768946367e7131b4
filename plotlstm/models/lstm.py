"""The seed's network: the plot's x axis read as time by two stacked LSTMs (a plain ``nn.Module``).

``SeedLSTM`` is ``nn.LSTM`` with a slower exact path for Keras 2's ``hard_sigmoid`` gates; ``SeedLSTMNet`` is the
whole network of the original write-up, as Keras built it.
"""

from __future__ import annotations

import torch
from torch import nn

RECURRENT_ACTIVATIONS = ("sigmoid", "hard_sigmoid", "hard_sigmoid_keras3")


def hard_sigmoid_keras2(x: torch.Tensor) -> torch.Tensor:
    """Keras 2's hard sigmoid: clip(0.2 x + 0.5, 0, 1) (Keras 3 and PyTorch use x / 6 instead)."""
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


_GATE_FUNCTIONS = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": hard_sigmoid_keras2,
    "hard_sigmoid_keras3": nn.functional.hardsigmoid,
}


class SeedLSTM(nn.LSTM):
    """``nn.LSTM`` (batch first, no states in or out) whose gate activation can be a hard sigmoid.

    With ``recurrent_activation="sigmoid"`` this is exactly ``nn.LSTM`` (cuDNN on a GPU). Any other activation
    runs a step-by-step loop over the same parameters, so a state dict moves freely between the two.
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int, recurrent_activation: str = "sigmoid"
    ):
        if recurrent_activation not in _GATE_FUNCTIONS:
            raise ValueError(
                f"model.recurrent_activation: unknown value {recurrent_activation!r}; "
                f"use one of {list(RECURRENT_ACTIVATIONS)}"
            )
        super().__init__(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.recurrent_activation = recurrent_activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if self.recurrent_activation == "sigmoid":
            return super().forward(x)[0]
        gate = _GATE_FUNCTIONS[self.recurrent_activation]
        n = self.hidden_size
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = (
                getattr(self, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
            inputs = torch.nn.functional.linear(x, w_ih, b_ih + b_hh)  # all steps at once
            w_hh_t = w_hh.t()
            h = x.new_zeros(x.shape[0], n)
            c = torch.zeros_like(h)
            outputs = []
            for t in range(x.shape[1]):
                # gate blocks i, f, g, o in PyTorch and Keras; few ops a step (about 1.7x faster on a GPU)
                z = torch.addmm(inputs[:, t], h, w_hh_t)
                gates = gate(z)  # one call for all blocks; the g block's value is not used
                c = torch.addcmul(gates[:, n : 2 * n] * c, gates[:, :n], torch.tanh(z[:, 2 * n : 3 * n]))
                h = gates[:, 3 * n :] * torch.tanh(c)
                outputs.append(h)
            x = torch.stack(outputs, dim=1)
        return x


class SeedLSTMNet(nn.Module):
    """Permute so that width is time, reshape to S steps of 3 x S values (row-major, channel fastest, as Keras's
    ``Permute((2, 1, 3))`` + ``Reshape``), LSTM(150) x 2, Dropout(0.5), a Linear(100) at every step, flatten, head.

    Input: (B, 3, S, S) floats in [0, 1]. Output: logits, (B,) for two classes (one logit, as the seed's sigmoid
    head), (B, K) for K > 2.
    """

    def __init__(
        self,
        num_classes: int,
        image_size: int = 256,
        lstm_size: int = 150,
        num_layers: int = 2,
        hidden_size: int = 100,
        dropout: float = 0.5,
        recurrent_activation: str = "sigmoid",
        keras_init: bool = True,
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.lstm = SeedLSTM(3 * image_size, lstm_size, num_layers, recurrent_activation)
        self.dropout = nn.Dropout(dropout)
        self.per_step = nn.Linear(lstm_size, hidden_size)
        self.head = nn.Linear(image_size * hidden_size, 1 if num_classes == 2 else num_classes)
        if keras_init:
            self.reset_parameters_like_keras()

    def reset_parameters_like_keras(self) -> None:
        """Keras 2.2 defaults: Glorot-uniform kernels, orthogonal recurrent kernels, forget-gate bias 1."""
        h = self.lstm.hidden_size
        for name, p in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(p)
            else:
                nn.init.zeros_(p)
                if name.startswith("bias_ih"):
                    with torch.no_grad():
                        p[h : 2 * h] = 1.0
        for layer in (self.per_step, self.head):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape  # (B, 3, S, S)
        s = self.image_size
        if (c, h, w) != (3, s, s):
            raise ValueError(f"SeedLSTMNet expects images of shape (B, 3, {s}, {s}), got {tuple(x.shape)}")
        seq = x.permute(0, 3, 2, 1).reshape(b, w, h * c)  # (B, S, 3S): time = the plot's x axis
        out = self.per_step(self.dropout(self.lstm(seq)))  # (B, S, hidden)
        logits = self.head(out.flatten(1))  # (B, 1) or (B, K)
        return logits.squeeze(1) if logits.shape[1] == 1 else logits

    def explain_steps(self, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """(B, S): each step's (pixel column's) contribution to the logit of ``classes`` (B,); with the head's
        bias they sum to the logit exactly (one logit, two classes: the contribution to class 1, negated for 0)."""
        b, c, h, w = x.shape
        out = self.per_step(self.dropout(self.lstm(x.permute(0, 3, 2, 1).reshape(b, w, h * c))))  # (B, S, H)
        weight = self.head.weight.view(self.head.out_features, w, -1)  # (K, S, H)
        if self.head.out_features == 1:
            return torch.einsum("bsh,sh->bs", out, weight[0]) * torch.where(classes == 1, 1.0, -1.0)[:, None]
        return torch.einsum("bsh,bsh->bs", out, weight[classes.long()])
