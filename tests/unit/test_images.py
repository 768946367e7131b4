"""The one decoding path: the format allow-list, 16-bit and float images, metadata limits, full decoding."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, PngImagePlugin

from plotlstm.data.folder import PlotFolder
from plotlstm.data.images import (
    IMAGE_FORMATS,
    CorruptImage,
    ImageTooLarge,
    UnsupportedImage,
    image_to_uint8,
    open_rgb,
)
from plotlstm.errors import DataError

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 16 16
%%EndComments
newpath 0 0 moveto 16 16 lineto stroke
showpage
%%EOF
"""


@pytest.fixture
def eps_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every call into Pillow's EPS plugin (its header parser and its Ghostscript runner)."""
    calls: list[str] = []
    original_open = EpsImagePlugin.EpsImageFile._open

    def spy_open(self: EpsImagePlugin.EpsImageFile) -> None:
        calls.append("_open")
        original_open(self)

    def spy_gs(*args: object, **kwargs: object) -> None:
        calls.append("Ghostscript")
        raise OSError("Ghostscript must not run")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", spy_open)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", spy_gs)
    return calls


def test_eps_named_png_never_reaches_the_eps_decoder(tmp_path: Path, eps_spy: list[str]) -> None:
    fake = tmp_path / "plot.png"
    fake.write_bytes(EPS)
    with pytest.raises(UnsupportedImage, match="supported format") as info:
        open_rgb(fake)
    assert "plot.png" in str(info.value) and "PNG, JPEG" in str(info.value)
    assert eps_spy == []


def test_every_caller_refuses_eps(tmp_path: Path, eps_spy: list[str]) -> None:
    """Training (PlotFolder) and the library (PlotClassifier.prepare) decode through the same allow-list."""
    from plotlstm.inference.classifier import PlotClassifier
    from tests.helpers.service_fixtures import save_checkpoint

    folder = tmp_path / "data" / "none"
    folder.mkdir(parents=True)
    (folder / "a.png").write_bytes(EPS)
    with pytest.raises(DataError, match="supported format"):
        PlotFolder(tmp_path / "data", 32)[0]
    classifier = PlotClassifier.from_checkpoint(save_checkpoint(tmp_path / "m.ckpt", 32), device="cpu")
    with pytest.raises(DataError, match="supported format"):
        classifier.predict(str(folder / "a.png"))
    assert eps_spy == []
    assert IMAGE_FORMATS == ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


@pytest.mark.parametrize(("mode", "dtype"), [("I;16", "<u2"), ("I;16B", ">u2"), ("I;16L", "<u2")])
def test_16_bit_tiffs_of_either_byte_order_scale_by_bit_depth(tmp_path: Path, mode: str, dtype: str) -> None:
    values = np.linspace(0, 65535, 48 * 48).round().astype(np.uint16).reshape(48, 48)
    path = tmp_path / "grey16.tif"
    Image.frombytes(mode, (48, 48), values.astype(dtype).tobytes()).save(path)
    grey = np.asarray(open_rgb(path))
    assert grey.shape == (48, 48, 3) and (grey[..., 0] == grey[..., 2]).all()
    np.testing.assert_allclose(grey[..., 0], values / 257.0, atol=1)


def test_16_bit_png_and_32_bit_int(tmp_path: Path) -> None:
    values = np.linspace(0, 65535, 40 * 40).round().astype(np.uint16).reshape(40, 40)
    Image.fromarray(values).save(tmp_path / "g.png")
    np.testing.assert_allclose(np.asarray(open_rgb(tmp_path / "g.png"))[..., 1], values / 257.0, atol=1)
    small = np.arange(40 * 40, dtype=np.int32).reshape(40, 40) % 256  # "I" within 0..255: as it is
    Image.fromarray(small, "I").save(tmp_path / "i.tif")
    np.testing.assert_array_equal(np.asarray(open_rgb(tmp_path / "i.tif"))[..., 0], small)


def test_float_tiff_is_not_black(tmp_path: Path) -> None:
    unit = np.linspace(0, 1, 50 * 50, dtype=np.float32).reshape(50, 50)
    Image.fromarray(unit, "F").save(tmp_path / "unit.tif")
    grey = np.asarray(open_rgb(tmp_path / "unit.tif"))[..., 0]
    np.testing.assert_allclose(grey, unit * 255, atol=1)
    wide = unit * 1000 - 200  # any other range: stretched to 0..255
    Image.fromarray(wide, "F").save(tmp_path / "wide.tif")
    grey = np.asarray(open_rgb(tmp_path / "wide.tif"))[..., 0]
    assert grey.min() == 0 and grey.max() == 255
    np.testing.assert_allclose(grey, unit * 255, atol=1)


def test_png_with_a_large_text_chunk_is_refused_by_that_name(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "x" * (PngImagePlugin.MAX_TEXT_CHUNK + 10), zip=True)
    path = tmp_path / "meta.png"
    Image.new("RGB", (20, 20), "white").save(path, pnginfo=info)
    with pytest.raises(ImageTooLarge, match="text chunk") as err:
        open_rgb(path)
    assert "meta.png" in str(err.value)
    plain = PngImagePlugin.PngInfo()  # uncompressed text of the same size: accepted
    plain.add_text("comment", "x" * (PngImagePlugin.MAX_TEXT_CHUNK + 10))
    Image.new("RGB", (20, 20), "white").save(tmp_path / "plain.png", pnginfo=plain)
    assert image_to_uint8(open_rgb(tmp_path / "plain.png"), 8).shape == (3, 8, 8)


def corrupt_idat(png: bytes) -> bytes:
    """The PNG with its compressed pixel data garbled but every chunk's CRC recomputed (valid)."""
    out, pos = bytearray(png[:8]), 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = bytearray(png[pos + 8 : pos + 8 + length])
        if kind == b"IDAT":
            for i in range(len(data) // 3, len(data) - 8):
                data[i] ^= 0x5A
        out += struct.pack(">I", length) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        pos += 12 + length
    return bytes(out)


def test_corrupt_compressed_data_with_valid_crcs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    data = tmp_path / "data" / "none"
    data.mkdir(parents=True)
    (data / "bad.png").write_bytes(corrupt_idat(buf.getvalue()))
    (data / "good.png").write_bytes(buf.getvalue())
    with Image.open(data / "bad.png") as img:
        img.verify()  # the header check that skip_unreadable used to rely on passes
    with pytest.raises(CorruptImage, match="bad.png"):
        open_rgb(data / "bad.png")
    folder = PlotFolder(tmp_path / "data", 32, skip_unreadable=True)
    assert folder.skipped == [str(data / "bad.png")]
    assert [Path(p).name for p, _ in folder.samples] == ["good.png"]
