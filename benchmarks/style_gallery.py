"""The pictures of ``docs/generator.md``: each generator style beside the real renderer's plot of the same data.

One simulated data set (seed 10,000, the renderers benchmark's: no training set uses it) drawn by plotlstm in
each style and by the library the style imitates (``benchmarks/real_renderers.py``), side by side, scaled to
``--width`` px a panel and stored as small palette PNGs under ``docs/img/styles/``.

Run: ``python benchmarks/style_gallery.py [--cls ceiling] [--index 0]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_renderers as rr  # noqa: E402

from plotlstm.synth.render import render  # noqa: E402
from plotlstm.synth.simulate import plot_rng, simulate  # noqa: E402
from plotlstm.synth.style import resolve_style  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "styles"
# style -> the real renderer it imitates (None: no such drawing in that library)
PAIRS = {
    "r": "r_base",
    "ggplot2": "ggplot2",
    "seaborn": "seaborn",
    "matplotlib": "matplotlib",
    "statsmodels": None,
    "varied": "plotnine",
    "general": "plotnine",
}


def real_image(
    renderer: str, y: np.ndarray, fitted: np.ndarray, residuals: np.ndarray, seed: int
) -> Image.Image:
    rng = np.random.default_rng([seed, 7])
    if renderer == "r_base":
        return rr.r_plots("base", [(y, fitted, rng)])[0] if rr.r_available() else _missing("R not installed")
    if renderer == "ggplot2":
        return (
            rr.r_plots("ggplot2", [(y, fitted, rng)])[0] if rr.r_has_ggplot2() else _missing("no R ggplot2")
        )
    return rr.PYTHON_RENDERERS[renderer](fitted, residuals, rng)


def _missing(text: str) -> Image.Image:
    img = Image.new("RGB", (480, 480), "white")
    ImageDraw.Draw(img).text((20, 230), text, fill="black")
    return img


def panel(images: list[tuple[str, Image.Image]], width: int) -> Image.Image:
    tiles = []
    for caption, img in images:
        img = img.copy()
        img.thumbnail((width, width), Image.Resampling.LANCZOS)
        tile = Image.new("RGB", (width, width + 18), "white")
        tile.paste(img, ((width - img.width) // 2, 18 + (width - img.height) // 2))
        ImageDraw.Draw(tile).text((4, 3), caption, fill="black")
        tiles.append(tile)
    sheet = Image.new("RGB", (width * len(tiles), width + 18), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (i * width, 0))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cls", default="ceiling")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sim = simulate(args.cls, plot_rng(args.seed, args.cls, args.index))
    args.out.mkdir(parents=True, exist_ok=True)
    for style, renderer in PAIRS.items():
        ours = render(sim.fitted, sim.residuals, resolve_style(style, np.random.default_rng([args.seed, 3])))
        images = [(f"plotlstm style={style}", ours)]
        if renderer:
            images.append(
                (f"real: {renderer}", real_image(renderer, sim.y, sim.fitted, sim.residuals, args.seed))
            )
        sheet = panel(images, args.width).quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        path = args.out / f"{style}.png"
        sheet.save(path, optimize=True)
        print(path, f"{path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
