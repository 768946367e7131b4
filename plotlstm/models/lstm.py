"""The seed's recurrent stack: ``nn.LSTM``, with a slower exact path for Keras 2's ``hard_sigmoid`` gates."""

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
