"""``POST /v1/check`` and the example plots: equality with the library, batches with a bad fit, bad requests."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from plotlstm.inference.check import check
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service import ServiceSettings, create_app
from tests.helpers.service_fixtures import CLASSES, save_checkpoint


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> PlotClassifier:
    return PlotClassifier.from_checkpoint(
        save_checkpoint(tmp_path_factory.mktemp("ckpt") / "small.ckpt", 32), device="cpu"
    )


@pytest.fixture(scope="module")
def client(small: PlotClassifier):
    with TestClient(create_app(small, ServiceSettings(max_files=3, max_upload_mb=1.0))) as c:
        yield c


@pytest.fixture(scope="module")
def columns() -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(0)
    return rng.normal(size=200).tolist(), rng.gamma(1.0, size=200).tolist()


def test_one_fit_answers_like_classify_and_equals_the_library(
    client: TestClient, small: PlotClassifier, columns: tuple[list[float], list[float]]
) -> None:
    fitted, residuals = columns
    answer = client.post("/v1/check", json={"fitted": fitted, "residuals": residuals, "name": "mine"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"]["classes"] == CLASSES and len(body["results"]) == 1
    result = body["results"][0]
    assert {"class", "confidence", "probabilities", "name", "n", "dropped"} <= set(
        result
    ) and "plot" not in result
    expected = check(fitted=fitted, residuals=residuals, classifier=small)
    assert result["class"] == expected.label and result["name"] == "mine" and result["n"] == 200
    assert result["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    assert result["confidence"] == pytest.approx(expected.confidence)
    # the null-plot test, as the library's (design [1, fitted]: only the two columns are sent)
    assert result["p_value"] == expected.p_value and result["null_plots"] == 19
    assert (
        result["evidence"] == pytest.approx(expected.evidence)
        and result["image_class"] == expected.image_label
    )
    assert result["summary"] == expected.summary and result["design"].startswith("approximated")
    picture = client.post(
        "/v1/check", json={"fitted": fitted, "residuals": residuals, "null_plots": 0}
    ).json()
    assert picture["results"][0]["p_value"] is None and picture["results"][0]["class"] == expected.image_label
    bad = client.post("/v1/check", json={"fitted": fitted, "residuals": residuals, "null_plots": 500})
    assert bad.status_code == 422 and "null_plots: at most 99" in bad.json()["error"]


def test_batch_with_a_bad_fit_answers_the_others(
    client: TestClient, columns: tuple[list[float], list[float]]
) -> None:
    fitted, residuals = columns
    fits = [
        {"fitted": fitted, "residuals": residuals},
        {"fitted": fitted[:5], "residuals": residuals[:5], "name": "tiny"},
        {"fitted": fitted, "residuals": residuals[::-1], "name": "b"},
    ]
    body = client.post("/v1/check", json={"fits": fits, "plot": True}).json()
    first, bad, last = body["results"]
    assert first["name"] == "fit 1" and first["class"] in CLASSES
    assert bad == {"name": "tiny", "error": "tiny: only 5 observations: a residual plot needs at least 10"}
    assert last["class"] in CLASSES
    png = last["plot"].removeprefix("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(png))).size == (480, 480)


def test_missing_values_are_counted_or_dropped(client: TestClient, columns: tuple[list, list]) -> None:
    fitted, residuals = list(columns[0]), list(columns[1])
    fitted[3] = None
    answer = client.post("/v1/check", json={"fitted": fitted, "residuals": residuals})
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("fitted has 1 NaN or infinite value (row 3)")
    body = client.post(
        "/v1/check", json={"fitted": fitted, "residuals": residuals, "drop_nonfinite": True}
    ).json()
    assert body["results"][0]["n"] == 199 and body["results"][0]["dropped"] == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "expected"),
    [
        (
            {"content": b"fitted=1", "headers": {"content-type": "text/plain"}},
            415,
            "send the fits as application/json",
        ),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "malformed JSON"),
        ({"json": [1, 2]}, 422, "expected a JSON object"),
        ({"json": {"fitted": [1.0] * 20}}, 422, "residuals: missing"),
        ({"json": {"fitted": "1,2,3", "residuals": [1]}}, 422, "fitted: expected a list of numbers"),
        ({"json": {"fitted": [1.0] * 20, "residuals": ["x"] * 20}}, 422, "residuals: expected numbers"),
        (
            {"json": {"fitted": [1.0] * 20, "residuals": [1.0] * 19}},
            422,
            "fitted has 20 values and residuals 19",
        ),
        ({"json": {"fits": []}}, 422, "fits: expected a non-empty list"),
        ({"json": {"fits": [{"fitted": [1], "residuals": [1]}] * 4}}, 413, "too many fits: at most 3"),
        ({"json": {"fitted": [1.5] * 200_000, "residuals": [1.5] * 200_000}}, 413, "request too large"),
    ],
)
def test_bad_requests_are_one_line(client: TestClient, kwargs: dict, status: int, expected: str) -> None:
    answer = client.post("/v1/check", **kwargs)
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]
    assert expected in message and "\n" not in message, message


def test_examples_one_per_class_with_a_plot(client: TestClient) -> None:
    examples = client.get("/v1/examples").json()["examples"]
    assert sorted(e["class"] for e in examples) == sorted(CLASSES)
    for e in examples:
        assert e["meaning"].endswith(".") and e["action"].endswith(".")
        image = client.get(e["image"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(image.content)).size == (480, 480)
    assert client.get("/v1/examples/nonsense.png").status_code == 404


def test_page_offers_columns_examples_and_a_visible_model_line(client: TestClient) -> None:
    page = client.get("/").text
    assert 'api("v1/check"' in page and 'fetch("v1/examples")' in page
    assert 'id="columns"' in page and 'id="columns-file"' in page
    drop_rule = page[page.index("#drop {") :].split("}")[0]
    assert "display: block" in drop_rule  # an inline label's padding covered the model line above it
    assert page.count("<textarea") == 1


def test_explain_on_classify_and_where_on_check(client: TestClient, small: PlotClassifier) -> None:
    rng = np.random.default_rng(5)
    fitted, residuals = rng.normal(size=300), rng.normal(size=300)
    residuals[[3, 30]] = [12.0, -11.0]
    image = check(fitted=fitted, residuals=residuals, classifier=small, null_plots=0).image
    buf = io.BytesIO()
    image.save(buf, "PNG")
    answer = client.post(
        "/v1/classify?explain=true", files=[("files", ("a.png", buf.getvalue(), "image/png"))]
    )
    result = answer.json()["results"][0]
    assert answer.status_code == 200 and len(result["evidence"]) == small.image_size
    expected = small.explain(image, result["class"])
    assert result["evidence"] == pytest.approx(expected.tolist(), abs=1e-4)
    # 32 model pixels: R's 1-pixel box is too faint to find, so the stretches are of the whole image
    assert result["plot_area"] is None and result["where"]
    assert all(0 <= w["low"] <= w["high"] <= 1 for w in result["where"])
    plain = client.post("/v1/classify", files=[("files", ("a.png", buf.getvalue(), "image/png"))]).json()
    assert "evidence" not in plain["results"][0]
    body = {"fitted": fitted.tolist(), "residuals": residuals.tolist(), "null_plots": 0}
    checked = client.post("/v1/check", json=body).json()["results"][0]
    library = check(fitted=fitted, residuals=residuals, classifier=small, null_plots=0)
    if library.label in ("none", "unrecognized"):
        assert "where" not in checked
    else:
        assert (
            checked["where"] == [pytest.approx(w.as_dict()) for w in library.where]
            and checked["rows"] == library.rows
            and checked["x_axis"] == pytest.approx(library.x_axis)
        )


def test_examples_cover_every_class_the_model_knows(tmp_path_factory: pytest.TempPathFactory) -> None:
    six = ["biased", "ceiling", "heteroskedastic", "none", "nonlinear", "outlier"]
    model = PlotClassifier.from_checkpoint(
        save_checkpoint(tmp_path_factory.mktemp("six") / "six.ckpt", 32, classes=six), device="cpu"
    )
    with TestClient(create_app(model, ServiceSettings())) as c:
        shown = [e["class"] for e in c.get("/v1/examples").json()["examples"]]
        assert sorted(shown) == six
        assert all(c.get(f"/v1/examples/{cls}.png").status_code == 200 for cls in six)
