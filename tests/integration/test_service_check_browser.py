"""The page in headless Chromium: the model line is visible, the examples show, pasted columns get a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from plotlstm.inference.check import check
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service import BackgroundServer, ServiceSettings, create_app
from tests.helpers.service_fixtures import CLASSES, save_checkpoint
from tests.integration.test_service_browser import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.browser


def test_model_line_examples_and_pasted_columns(tmp_path: Path) -> None:
    executable = chromium_path()
    classifier = PlotClassifier.from_checkpoint(
        save_checkpoint(tmp_path / "page.ckpt", 32, seed=3), device="cpu"
    )
    rng = np.random.default_rng(0)
    fitted, residuals = rng.normal(size=60), rng.gamma(1.0, size=60)
    expected = check(fitted=fitted, residuals=residuals, classifier=classifier)
    pasted = "fitted,residuals\n" + "".join(
        f"{f!r},{r!r}\n" for f, r in zip(fitted.tolist(), residuals.tolist(), strict=True)
    )
    with BackgroundServer(create_app(classifier, ServiceSettings())) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(server.url + "/")
            expect(page.locator("#model")).to_contain_text("page.ckpt")
            model, drop = page.locator("#model").bounding_box(), page.locator("#drop").bounding_box()
            assert model and drop and model["y"] + model["height"] <= drop["y"]  # not under the drop zone

            # a first visit: the examples are open, one loaded picture and one sentence per class
            examples = page.locator("#example-grid .example")
            expect(examples).to_have_count(len(CLASSES))
            page.wait_for_function(
                "[...document.querySelectorAll('#example-grid img')].every(i => i.complete && i.naturalWidth == 480)"
            )

            page.locator("#fit summary").click()
            page.fill("#columns", pasted)
            page.click("#check")
            card = page.locator(".result").first
            expect(card.locator(".predicted")).to_have_text(expected.label, timeout=30_000)
            expect(card.locator(".row")).to_have_count(len(CLASSES))
            expect(card.locator(".filename")).to_contain_text("60 observations")
            page.wait_for_function("document.querySelector('.result img').naturalWidth == 480")

            page.fill("#columns", "1,2\n3,oops\n")
            page.click("#check")
            expect(page.locator("#status")).to_contain_text('line 2: not two numbers: "3,oops"')

            # where the evidence lies: a strip under the plot, its segment under those fitted values
            def with_where(route: Any) -> None:
                response = route.fetch()
                body = response.json()
                body["results"][0] |= {
                    "where": [{"low": 5.0, "high": 7.5, "share": 1.0}],
                    "x_axis": {"left": 0.25, "right": 0.75, "low": 0.0, "high": 10.0},
                }
                route.fulfill(response=response, json=body)

            page.route("**/v1/check", with_where)
            page.fill("#columns", pasted)
            page.click("#check")
            segment = page.locator(".result").first.locator("[data-testid=where-strip] .seg")
            expect(segment).to_have_count(1, timeout=30_000)
            image = page.locator(".result img").first.bounding_box()
            box = segment.bounding_box()
            assert image and box and box["y"] >= image["y"] + image["height"]  # under the plot
            inner = image["width"] - 2  # the image inside its 1-px border
            assert box["x"] == pytest.approx(
                image["x"] + 1 + 0.5 * inner, abs=2
            )  # fitted 5 of 0..10 at 25-75 %
            assert box["width"] == pytest.approx(0.125 * inner, abs=2)
            page.unroute("**/v1/check")

            page.reload()  # classified once: no longer a first-time visitor
            expect(page.locator("#examples")).not_to_have_attribute("open", "")
            assert errors == []
        finally:
            browser.close()
