"""PlotLitModule: shapes, parameter counts, the time axis, Keras initialisation, learning."""

from __future__ import annotations

import pytest
import torch

from plotlstm.models import lstm as lstm_module
from plotlstm.models.module import PlotLitModule

KERAS_PARAMS = {2: 772_701, 4: 849_504}  # printed by Keras for the seed's models (reference README)
EXTRA_BIAS = 2 * 4 * 150  # nn.LSTM keeps a second bias vector per gate set in each of its 2 layers


@pytest.mark.parametrize("classes", [2, 4])
def test_output_shape_and_parameter_count(classes: int) -> None:
    model = PlotLitModule(num_classes=classes)
    out = model(torch.rand(3, 3, 256, 256))
    assert out.shape == ((3,) if classes == 2 else (3, classes))
    assert sum(p.numel() for p in model.parameters()) == KERAS_PARAMS[classes] + EXTRA_BIAS
    probs = model.probabilities(out)
    assert probs.shape == (3, classes)
    torch.testing.assert_close(probs.sum(1), torch.ones(3))


def test_time_axis_is_the_image_x_axis() -> None:
    """A single bright column reaches exactly one time step, in Keras's (row, channel) feature order."""
    model = PlotLitModule(num_classes=4, image_size=16, net=dict(lstm_size=8, hidden_size=4)).eval()
    seen = {}
    model.net.lstm.register_forward_pre_hook(lambda _m, args: seen.setdefault("seq", args[0]))
    x = torch.zeros(1, 3, 16, 16)
    x[0, 1, 5, 11] = 1.0  # channel 1, row (y) 5, column (x) 11
    model(x)
    seq = seen["seq"]
    assert seq.shape == (1, 16, 48)
    nonzero = seq[0].nonzero().tolist()
    assert nonzero == [[11, 5 * 3 + 1]]


def test_uint8_input_is_scaled() -> None:
    model = PlotLitModule(num_classes=4, image_size=16, net=dict(lstm_size=8, hidden_size=4)).eval()
    x = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    torch.testing.assert_close(model(x), model(x.float() / 255))


def test_wrong_image_shape_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 3, 256, 256\)"):
        PlotLitModule(num_classes=4)(torch.rand(1, 3, 128, 128))


def test_keras_initialisation() -> None:
    model = PlotLitModule(num_classes=4, net=dict(lstm_size=20))
    lstm = model.net.lstm
    for layer in range(2):
        w_hh = getattr(lstm, f"weight_hh_l{layer}")
        torch.testing.assert_close(w_hh.T @ w_hh, torch.eye(20), atol=1e-5, rtol=0)  # orthogonal
        b_ih, b_hh = getattr(lstm, f"bias_ih_l{layer}"), getattr(lstm, f"bias_hh_l{layer}")
        assert torch.all(b_ih[20:40] == 1) and torch.all(b_ih[:20] == 0) and torch.all(b_ih[40:] == 0)
        assert torch.all(b_hh == 0)
    limit = (6 / (768 + 80)) ** 0.5  # Glorot uniform bound of the (4H, 768) input kernel
    assert lstm.weight_ih_l0.abs().max() <= limit
    assert lstm.weight_ih_l0.abs().max() > 0.9 * limit


def test_loop_path_matches_cudnn_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step-by-step path used for hard sigmoids computes what nn.LSTM computes, given the same gates."""
    model = PlotLitModule(num_classes=4, image_size=16, net=dict(lstm_size=8, hidden_size=4)).eval()
    x = torch.rand(2, 3, 16, 16)
    reference = model(x)
    monkeypatch.setitem(lstm_module._GATE_FUNCTIONS, "hard_sigmoid", torch.sigmoid)
    model.net.lstm.recurrent_activation = "hard_sigmoid"
    torch.testing.assert_close(model(x), reference, atol=1e-5, rtol=1e-5)


def test_hard_sigmoid_changes_the_answer() -> None:
    model = PlotLitModule(num_classes=4, image_size=16, net=dict(lstm_size=8, hidden_size=4)).eval()
    x = torch.rand(2, 3, 16, 16)
    sigmoid = model(x)
    model.net.lstm.recurrent_activation = "hard_sigmoid"
    assert not torch.allclose(model(x), sigmoid, atol=1e-4)
    with pytest.raises(ValueError, match="recurrent_activation"):
        PlotLitModule(num_classes=4, net=dict(recurrent_activation="relu"))


@pytest.mark.parametrize("classes", [2, 4])
def test_overfits_one_small_batch(classes: int) -> None:
    torch.manual_seed(0)
    model = PlotLitModule(num_classes=classes, image_size=32, lr=3e-3, net=dict(dropout=0.0))
    x = torch.rand(8, 3, 32, 32)
    y = torch.arange(8) % classes
    optimizer = model.configure_optimizers()
    for _ in range(60):
        loss = model.loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    logits = model.eval()(x)
    preds = (logits > 0).long() if classes == 2 else logits.argmax(1)
    assert loss.item() < 0.05
    assert torch.equal(preds, y)


def test_onecycle_schedule_equals_torch_onecycle() -> None:
    """The resumable one-cycle schedule gives torch's OneCycleLR learning rates step for step."""
    model = PlotLitModule(
        num_classes=4, image_size=8, scheduler="onecycle", lr=2e-3, net=dict(lstm_size=4, hidden_size=2)
    )
    object.__setattr__(model, "_trainer", type("T", (), {"estimated_stepping_batches": 190})())
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=2e-3)
    reference = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=2e-3, total_steps=190, pct_start=0.15, cycle_momentum=False
    )
    for step in range(190):
        assert abs(optimizer.param_groups[0]["lr"] - 2e-3 * model._lr_factor(step)) < 1e-12
        optimizer.step()
        reference.step()
    with pytest.raises(ValueError, match="model.scheduler"):
        PlotLitModule(num_classes=4, scheduler="steps")
