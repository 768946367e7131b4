"""The service's page in headless Chromium: pick a plot, see its class and a bar per class."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service import BackgroundServer, ServiceSettings, create_app
from tests.helpers.service_fixtures import CLASSES, reference_plots, save_checkpoint

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's chromium; fail (not skip) when it is missing, saying how to install it."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("headless Chromium is missing: run `make browser` (apt-get install chromium) and test again")


def test_page_shows_the_class_of_a_picked_plot(tmp_path: Path) -> None:
    executable = chromium_path()
    plots = reference_plots(tmp_path)
    classifier = PlotClassifier.from_checkpoint(
        save_checkpoint(tmp_path / "page.ckpt", 32, seed=3), device="cpu"
    )
    expected = classifier.predict([str(p) for p in plots[:2]])
    app = create_app(classifier, ServiceSettings())
    with BackgroundServer(app) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(server.url + "/")
            expect(page.locator("#model")).to_contain_text("page.ckpt")
            expect(page.locator("#model")).to_contain_text(", ".join(CLASSES))

            page.set_input_files("#files", str(plots[0]))
            card = page.locator(f'.result[data-filename="{plots[0].name}"]')
            expect(card.locator(".predicted")).to_have_text(expected[0].label, timeout=30_000)
            expect(card.locator(".row")).to_have_count(len(CLASSES))
            expect(card.locator(".row.best .name")).to_have_text(expected[0].label)
            shown = f"{100 * expected[0].confidence:.1f}%"
            expect(card.locator(".row.best .pct")).to_have_text(shown)

            # a second plot, and the page lists both
            page.set_input_files("#files", str(plots[1]))
            second = page.locator(f'.result[data-filename="{plots[1].name}"]')
            expect(second.locator(".predicted")).to_have_text(expected[1].label, timeout=30_000)
            expect(page.locator(".result")).to_have_count(2)

            # the page asks for the evidence; a violation's stretches (shares of the axes box found in the image)
            # are drawn under the picture
            asked: list[str] = []

            def as_outlier(route: Any) -> None:  # an answer of the service's shape (multipart bodies can't be
                asked.append(route.request.url)  # passed on by route.fetch)
                probabilities = dict.fromkeys(CLASSES, 0.0) | {"outlier": 1.0}
                answer = {"filename": plots[0].name, "class": "outlier", "confidence": 1.0}
                answer |= {
                    "probabilities": probabilities,
                    "where": [{"low": 0.5, "high": 0.75, "share": 1.0}],
                }
                answer |= {"plot_area": {"left": 0.2, "right": 0.8}}
                route.fulfill(json={"model": {}, "results": [answer]})

            page.route("**/v1/classify*", as_outlier)
            page.set_input_files("#files", str(plots[0]))
            expect(page.locator(".result")).to_have_count(3, timeout=30_000)
            third = page.locator(".result").first  # the newest card comes first
            segment = third.locator("[data-testid=where-strip] .seg")
            expect(segment).to_have_count(1, timeout=30_000)
            assert asked and "explain=true" in asked[0]
            page.wait_for_function("[...document.querySelectorAll('.result img')].every(i => i.complete)")
            image, box = third.locator("img").bounding_box(), segment.bounding_box()
            assert image and box and box["y"] >= image["y"] + image["height"]
            inner = image["width"] - 2
            assert box["x"] == pytest.approx(
                image["x"] + 1 + 0.5 * inner, abs=2
            )  # 0.2 + 0.5 x 0.6 of the width
            assert box["width"] == pytest.approx(0.15 * inner, abs=2)
            expect(second.locator("[data-testid=where-strip]")).to_have_count(
                0 if expected[1].label in ("none", "unrecognized") else 1
            )
            page.unroute("**/v1/classify*")

            # a file that is not an image: the error shows, and the page goes on
            bad = tmp_path / "notes.txt"
            bad.write_text("not a plot")
            page.set_input_files("#files", str(bad))
            expect(page.locator("#status")).to_contain_text("415", timeout=30_000)
            expect(page.locator("#status")).to_contain_text("notes.txt")
            assert errors == []
        finally:
            browser.close()


def test_page_asks_for_the_token_and_then_classifies(tmp_path: Path) -> None:
    """With an api_token, the page shows a token field after the first 401, and works once it is given."""
    executable = chromium_path()
    plots = reference_plots(tmp_path)
    classifier = PlotClassifier.from_checkpoint(
        save_checkpoint(tmp_path / "guarded.ckpt", 32, seed=3), device="cpu"
    )
    expected = classifier.predict(str(plots[0]))
    app = create_app(classifier, ServiceSettings(api_token="s3cret-token-for-the-page"))
    with BackgroundServer(app) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/")
            expect(page.locator("#auth")).to_be_visible()
            expect(page.locator("#model")).to_contain_text("access token")
            page.set_input_files("#files", str(plots[0]))
            expect(page.locator("#status")).to_contain_text("401", timeout=30_000)

            page.fill("#token", "s3cret-token-for-the-page")
            page.click("#auth button")
            expect(page.locator("#model")).to_contain_text("guarded.ckpt")
            expect(page.locator("#auth")).to_be_hidden()
            page.set_input_files("#files", str(plots[0]))
            card = page.locator(f'.result[data-filename="{plots[0].name}"]')
            expect(card.locator(".predicted")).to_have_text(expected.label, timeout=30_000)
        finally:
            browser.close()
