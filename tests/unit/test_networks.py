"""The registered networks: shapes, options, bad options, learning, and what each can see of location."""

from __future__ import annotations

import pytest
import torch

from plotlstm.models.coordconv import add_coordinates
from plotlstm.models.module import PlotLitModule
from plotlstm.models.networks import NETWORKS, build_network

SMALL = {  # small options so that every network runs in milliseconds on 64 x 64 input
    "seed_lstm": {"lstm_size": 16, "hidden_size": 8, "dropout": 0.0},
    "resnet18": {},
    "bigru": {"input_size": 16, "hidden_size": 16},
    "coordconv": {"channels": [8, 16], "grid": 2},
}


def test_every_registered_network_is_covered() -> None:
    assert sorted(SMALL) == sorted(NETWORKS)


@pytest.mark.parametrize("arch", sorted(NETWORKS))
@pytest.mark.parametrize("classes", [2, 4])
def test_output_shape(arch: str, classes: int) -> None:
    net = build_network(arch, num_classes=classes, image_size=64, **SMALL[arch]).eval()
    out = net(torch.rand(3, 3, 64, 64))
    assert out.shape == ((3,) if classes == 2 else (3, classes))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    "arch",
    [
        pytest.param(a, marks=pytest.mark.slow) if a == "resnet18" else a for a in sorted(NETWORKS)
    ],  # 11 M weights
)
def test_learns_one_small_batch(arch: str) -> None:
    """Each network, trained by PlotLitModule's own loss and optimiser, fits 8 random 16 x 16 images (it learns)."""
    torch.manual_seed(0)
    model = PlotLitModule(num_classes=4, image_size=16, lr=1e-2, net={"arch": arch, **SMALL[arch]})
    x = torch.rand(8, 3, 16, 16)
    y = torch.arange(8) % 4
    optimizer = model.configure_optimizers()
    first = model.loss(model(x), y).item()
    for _ in range(30):
        loss = model.loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.25 * first


def test_bigru_takes_an_lstm_cell() -> None:
    net = build_network("bigru", num_classes=4, image_size=32, cell="lstm", input_size=8, hidden_size=8)
    assert isinstance(net.rnn, torch.nn.LSTM) and net.rnn.bidirectional
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 4)


@pytest.mark.parametrize(
    ("arch", "options", "field"),
    [
        ("bigru", {"cell": "rnn"}, "model.net.cell"),
        ("coordconv", {"channels": [8] * 5}, "model.net.channels"),
        ("resnet18", {"depth": 34}, "model.net"),
        ("vit", {}, "model.net.arch"),
    ],
)
def test_bad_options_name_the_field(arch: str, options: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}"):
        build_network(arch, num_classes=4, image_size=64, **options)


@pytest.mark.parametrize("arch", ["seed_lstm", "bigru"])
def test_recurrent_networks_refuse_another_image_size(arch: str) -> None:
    net = build_network(arch, num_classes=4, image_size=32, **SMALL[arch])
    with pytest.raises(ValueError, match=r"\(B, 3, 32, 32\)"):
        net(torch.rand(1, 3, 64, 64))


def test_coordinate_channels() -> None:
    out = add_coordinates(torch.zeros(2, 3, 4, 5))
    assert out.shape == (2, 5, 4, 5)
    torch.testing.assert_close(out[0, 3, 0], torch.linspace(-1, 1, 5))  # x varies along the width
    torch.testing.assert_close(out[1, 4, :, 2], torch.linspace(-1, 1, 4))  # y varies along the height


def test_coordconv_sees_where_a_feature_lies() -> None:
    """The same blob in two places gives two answers: the network is not translation invariant."""
    torch.manual_seed(0)
    net = build_network("coordconv", num_classes=4, image_size=32, channels=[8, 8], grid=2).eval()
    left, right = torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32)
    left[..., 10:14, 2:6] = 1.0
    right[..., 10:14, 26:30] = 1.0
    assert not torch.allclose(net(left), net(right), atol=1e-4)


def test_coordconv_is_channels_last_and_answers_as_nchw() -> None:
    """Weights and maps are channels-last (the faster CPU path); the same weights in NCHW give the same logits."""
    torch.manual_seed(0)
    net = build_network("coordconv", num_classes=4, image_size=32, channels=[8, 8], grid=2).eval()
    conv = net.features[0][0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    x = torch.rand(3, 3, 32, 32)
    with torch.inference_mode():
        fast = net(x)
        net.memory_format = torch.contiguous_format
        slow = net.to(memory_format=torch.contiguous_format)(x)
    assert net.features[0][0].weight.is_contiguous()
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
