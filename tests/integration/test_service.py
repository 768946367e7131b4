"""The classification service: endpoints, limits and bad input, equality with the library, batching, load."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import torch
from fastapi.testclient import TestClient
from hydra import compose, initialize_config_dir
from PIL import Image, ImageFile

from plotlstm.errors import one_line_errors
from plotlstm.inference.classifier import PlotClassifier, Prediction
from plotlstm.serve import build_app
from plotlstm.service import BackgroundServer, DynamicBatcher, ServiceSettings, create_app
from tests.helpers.service_fixtures import CLASSES, reference_plots, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SMALL = 32  # image size where the size does not matter (fast)


@pytest.fixture(scope="module")
def plots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return reference_plots(tmp_path_factory.mktemp("plots"))


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "small.ckpt", SMALL)


@pytest.fixture(scope="module")
def small(small_ckpt: Path) -> PlotClassifier:
    return PlotClassifier.from_checkpoint(small_ckpt, device="cpu")


def make_client(classifier: PlotClassifier, **limits: object) -> TestClient:
    return TestClient(create_app(classifier, ServiceSettings(**limits)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client(small: PlotClassifier):
    with make_client(small) as c:
        yield c


def files_of(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "application/octet-stream")) for name, data in items]


def png_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def assert_same(answer: dict, expected: Prediction, filename: str) -> None:
    assert answer["filename"] == filename
    assert answer["class"] == expected.label
    assert list(answer["probabilities"]) == list(expected.probabilities)
    for name, p in expected.probabilities.items():
        assert answer["probabilities"][name] == pytest.approx(p, abs=1e-6)
    assert answer["confidence"] == pytest.approx(expected.confidence, abs=1e-6)


def assert_error(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "status"} and body["status"] == status
    assert "\n" not in body["error"]
    for word in words:
        assert word in body["error"], body["error"]
    return body


# --- endpoints --------------------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checkpoint"] == "small.ckpt"


def test_model_endpoint(client: TestClient, small: PlotClassifier, small_ckpt: Path) -> None:
    body = client.get("/v1/model").json()
    assert body["classes"] == CLASSES
    assert body["checkpoint"] == "small.ckpt"
    assert body["sha256"] == hashlib.sha256(small_ckpt.read_bytes()).hexdigest()[:12]
    assert body["parameters"] == sum(p.numel() for p in small.net.parameters())
    assert body["image_size"] == SMALL
    assert body["hparams"]["image_size"] == SMALL and body["hparams"]["class_names"] == CLASSES
    assert body["limits"]["max_files"] == ServiceSettings().max_files


def test_page_and_docs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'type="file"' in page.text and "v1/classify" in page.text
    spec = client.get("/openapi.json").json()
    assert {"/v1/classify", "/v1/model", "/healthz"} <= set(spec["paths"])
    body = spec["paths"]["/v1/classify"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert body["schema"]["properties"]["files"]["type"] == "array"
    assert client.get("/docs").status_code == 200


def test_unknown_route_is_json(client: TestClient) -> None:
    assert_error(client.get("/v2/nothing"), 404)
    assert_error(client.get("/v1/classify"), 405)


# --- answers equal the library's ----------------------------------------------------------------------------


def test_classify_equals_library_full_size(plots: list[Path], tmp_path: Path) -> None:
    """Image size 256, the real model's: several files in one request, and one file per request."""
    ckpt = save_checkpoint(tmp_path / "full.ckpt", 256, seed=1)
    classifier = PlotClassifier.from_checkpoint(ckpt, device="cpu")
    expected = classifier.predict([str(p) for p in plots])
    with make_client(classifier) as client:
        answer = client.post("/v1/classify", files=files_of(*((p.name, p.read_bytes()) for p in plots)))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model"] == {
            "checkpoint": "full.ckpt",
            "sha256": hashlib.sha256(ckpt.read_bytes()).hexdigest()[:12],
            "classes": CLASSES,
        }
        assert len(body["results"]) == len(plots)
        for result, prediction, path in zip(body["results"], expected, plots, strict=True):
            assert_same(result, prediction, path.name)
        one = client.post("/v1/classify", files=files_of((plots[0].name, plots[0].read_bytes()))).json()
        assert_same(one["results"][0], expected[0], plots[0].name)


def test_formats_and_modes_equal_library(
    client: TestClient, small: PlotClassifier, plots: list[Path], tmp_path: Path
) -> None:
    """JPEG, grey, palette and RGBA uploads decode as the library decodes the same file."""
    base = Image.open(plots[0]).convert("RGB")
    variants = {
        "plot.jpg": png_bytes(base, "JPEG"),
        "grey.png": png_bytes(base.convert("L")),
        "palette.gif": png_bytes(base.convert("P"), "GIF"),
        "alpha.png": png_bytes(base.convert("RGBA")),
        "plot.webp": png_bytes(base, "WEBP"),
    }
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
    expected = small.predict([str(tmp_path / name) for name in variants])
    body = client.post("/v1/classify", files=files_of(*variants.items())).json()
    for result, prediction, name in zip(body["results"], expected, variants, strict=True):
        assert_same(result, prediction, name)


def test_filename_is_only_echoed(client: TestClient, plots: list[Path], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    name = "../../evil name ü.png"
    body = client.post("/v1/classify", files=files_of((name, plots[0].read_bytes()))).json()
    assert body["results"][0]["filename"] == name
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent.parent / "evil name ü.png").exists()


# --- limits and bad input: a clear JSON error, and the service goes on ----------------------------------------


def test_bad_inputs_then_still_serving(small: PlotClassifier, plots: list[Path]) -> None:
    good = plots[0].read_bytes()
    plot = Image.open(plots[0]).convert("RGB")
    with make_client(small, max_upload_mb=0.2, max_files=3, max_pixels=1_000_000) as client:
        post = client.post
        # upload size, declared up front (Content-Length)
        big = files_of(("a.png", good), ("b.png", os.urandom(210_000)))
        assert_error(post("/v1/classify", files=big), 413, "too large", "max_upload_mb")
        # too many files
        many = files_of(*((f"{i}.png", png_bytes(plot.resize((40, 40)))) for i in range(4)))
        assert_error(post("/v1/classify", files=many), 413, "too many files", "max_files")
        # not an image; an image format we do not decode
        body = assert_error(
            post("/v1/classify", files=files_of(("notes.txt", b"hello world"))), 415, "notes.txt"
        )
        assert body["filename"] == "notes.txt" and "supported format" in body["error"]
        assert_error(
            post("/v1/classify", files=files_of(("plot.ppm", png_bytes(plot.resize((60, 60)), "PPM")))),
            415,
            "plot.ppm",
        )
        # truncated image
        assert_error(
            post("/v1/classify", files=files_of(("cut.png", good[: len(good) // 2]))),
            422,
            "cut.png",
            "truncated",
        )
        # empty file; no files; wrong field; empty request; not multipart
        assert_error(post("/v1/classify", files=files_of(("empty.png", b""))), 422, "empty file")
        assert_error(
            post("/v1/classify", files=[("image", ("x.png", good, "image/png"))]), 422, "no images", "image"
        )
        assert_error(post("/v1/classify", data={"note": "hi"}, files=[]), 415, "multipart/form-data")
        assert_error(post("/v1/classify"), 422, "no images")
        assert_error(post("/v1/classify", json={"files": []}), 415, "multipart/form-data")
        # malformed multipart
        garbage = post(
            "/v1/classify",
            content=b"--xyz\r\nno headers here at all",
            headers={"content-type": "multipart/form-data; boundary=abc"},
        )
        assert garbage.status_code == 422
        # one bad file among good ones: the good ones are answered, the bad one gets its error and status
        mixed = files_of(
            ("ok.png", png_bytes(plot.resize((50, 50)))),
            ("bad.png", b"\x89PNG\r\n\x1a\nnope"),
            ("cut.png", good[: len(good) // 2]),
        )
        answer = post("/v1/classify", files=mixed)
        assert answer.status_code == 200, answer.text
        ok, bad, cut = answer.json()["results"]
        assert ok["filename"] == "ok.png" and ok["class"] in CLASSES
        assert bad["filename"] == "bad.png" and bad["index"] == 1 and bad["status"] == 415
        assert "bad.png" in bad["error"] and "class" not in bad
        assert cut["status"] == 422 and "truncated" in cut["error"]
        # and it still answers
        answer = post("/v1/classify", files=files_of(("ok.png", png_bytes(plot.resize((50, 50))))))
        assert answer.status_code == 200 and answer.json()["results"][0]["class"] in CLASSES
        assert client.get("/healthz").json()["status"] == "ok"


def test_upload_limit_counted_while_reading(small: PlotClassifier, plots: list[Path]) -> None:
    """A chunked body (no Content-Length) is refused once the bytes read pass the limit."""
    good = plots[0].read_bytes()
    boundary = "plotlstmboundary"
    part = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + good
        + b"\r\n"
    )
    sent = []

    def body():
        for _ in range(100):
            sent.append(1)
            yield part
        yield f"--{boundary}--\r\n".encode()

    with make_client(small, max_upload_mb=0.2, max_files=200) as client:
        answer = client.post(
            "/v1/classify",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert "content-length" not in {k.lower() for k in answer.request.headers}
        assert_error(answer, 413, "too large")


def test_decompression_bombs_refused_before_decoding(small: PlotClassifier, monkeypatch) -> None:
    # header says 3000 x 3000 (9 Mpx) > max_pixels; a 1-bit PNG of that size is a few kB
    bomb = png_bytes(Image.new("1", (3000, 3000)))
    huge = png_bytes(Image.new("1", (12000, 12000)))  # 144 Mpx: beyond PIL's own limit too
    assert len(bomb) < 10_000
    decoded = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile):
        decoded.append(self.size)
        return original(self)

    with make_client(small, max_pixels=1_000_000) as client:
        monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
        assert_error(
            client.post("/v1/classify", files=files_of(("bomb.png", bomb))), 413, "3000x3000", "max_pixels"
        )
        assert_error(client.post("/v1/classify", files=files_of(("huge.png", huge))), 413, "huge.png")
        small_png = png_bytes(Image.new("RGB", (40, 30), "white"))
        assert client.post("/v1/classify", files=files_of(("ok.png", small_png))).status_code == 200
    assert set(decoded) == {(40, 30)}  # the spy sees decoding, and the bombs were never decoded


# --- batching -------------------------------------------------------------------------------------------------


def test_batcher_batches_and_routes_results() -> None:
    sizes: list[int] = []

    def predict(images):
        sizes.append(len(images))
        time.sleep(0.02)  # a forward pass; meanwhile more images queue up
        return torch.stack([torch.tensor([float(x), -float(x)]) for x in images])

    async def main():
        batcher = DynamicBatcher(predict, max_batch_size=4, max_wait_ms=50)
        batcher.expect(10)
        rows = await asyncio.gather(*(batcher.submit(torch.tensor(i), expected=True) for i in range(10)))
        await batcher.stop()
        return rows

    rows = asyncio.run(main())
    assert [row.tolist() for row in rows] == [[float(i), -float(i)] for i in range(10)]
    assert sum(sizes) == 10 and max(sizes) == 4 and len(sizes) < 10


def test_batcher_lone_request_not_delayed_and_errors_reach_callers() -> None:
    calls = []

    def predict(images):
        calls.append(len(images))
        if len(calls) == 1:
            raise RuntimeError("model failed")
        return torch.ones(len(images), 2)

    async def main():
        batcher = DynamicBatcher(predict, max_batch_size=8, max_wait_ms=5_000)
        with pytest.raises(RuntimeError, match="model failed"):
            await batcher.submit(torch.zeros(1))
        start = time.monotonic()
        row = await batcher.submit(torch.zeros(1))  # nothing else announced: no waiting for max_wait_ms
        elapsed = time.monotonic() - start
        await batcher.stop()
        return row, elapsed

    row, elapsed = asyncio.run(main())
    assert row.tolist() == [1.0, 1.0] and elapsed < 1.0


def test_32_concurrent_clients_on_loopback(small: PlotClassifier, plots: list[Path]) -> None:
    expected = {p.name: small.predict(str(p)) for p in plots}
    app = create_app(small, ServiceSettings(max_batch_size=16, max_wait_ms=10))

    async def fire(url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            jobs = []
            for i in range(32):
                path = plots[i % len(plots)]
                jobs.append(http.post("/v1/classify", files=files_of((path.name, path.read_bytes()))))
            return await asyncio.gather(*jobs)

    with BackgroundServer(app) as server:
        responses = asyncio.run(fire(server.url))
        health = httpx.get(server.url + "/healthz").json()
    assert [r.status_code for r in responses] == [200] * 32
    for response in responses:
        result = response.json()["results"][0]
        assert_same(result, expected[result["filename"]], result["filename"])
    assert health["images"] == 32 and 1 <= health["batches"] <= 32


# --- the command ------------------------------------------------------------------------------------------------


def test_config_builds_app(small_ckpt: Path, plots: list[Path]) -> None:
    threads = torch.get_num_threads()  # build_app sets torch's threads: keep this process's as they are
    cfg = compose_serve(f"ckpt_path={small_ckpt}", "max_files=2", "device=cpu", f"torch_threads={threads}")
    assert cfg.host == "127.0.0.1"
    for key in ("port", "max_batch_size", "max_wait_ms", "max_upload_mb", "max_pixels", "device"):
        assert key in cfg
    app = build_app(cfg)
    assert app.state.settings.max_files == 2
    with TestClient(app) as client:
        answer = client.post("/v1/classify", files=files_of(*((p.name, p.read_bytes()) for p in plots[:3])))
        assert_error(answer, 413, "max_files")


def test_torch_threads_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from plotlstm.errors import PlotLSTMError
    from plotlstm.serve import torch_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert torch_threads("auto") == 1 and torch_threads(None) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert torch_threads("auto") == torch.get_num_threads()
    assert torch_threads(3) == 3
    with pytest.raises(PlotLSTMError, match="torch_threads"):
        torch_threads(0)


def compose_serve(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("serve", overrides=list(overrides))


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["ckpt_path={ckpt}", "max_files=0"], ["max_files", ">= 1"]),
        (["ckpt_path={ckpt}", "max_upload_mb=-1"], ["max_upload_mb"]),
        (["ckpt_path={ckpt}", "device=nonsense"], ["device", "nonsense"]),
    ],
)
def test_bad_config_one_line(overrides: list[str], words: list[str], small_ckpt: Path, capsys) -> None:
    cfg = compose_serve(*(o.format(ckpt=small_ckpt) for o in overrides))
    with pytest.raises(SystemExit) as exit_info, one_line_errors():
        build_app(cfg)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def test_command_bad_ckpt_path_exit_2(tmp_path: Path) -> None:
    """The console script (as installed): one line on stderr, exit status 2, nothing served."""
    script = Path(sys.executable).parent / "plotlstm-serve"
    assert script.exists(), f"{script} is missing: install the project (make setup / pip install -e .)"
    bad = tmp_path / "not-a-checkpoint.ckpt"
    bad.write_bytes(b"garbage")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [str(script), f"ckpt_path={bad}", "port=0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ckpt_path: "), result.stderr
    assert "not a readable checkpoint" in lines[0]


def test_command_serves(small_ckpt: Path, plots: list[Path], tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "plotlstm.serve", f"ckpt_path={small_ckpt}", f"port={port}", "device=cpu"]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.2)
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(
                    lambda p: httpx.post(
                        f"http://127.0.0.1:{port}/v1/classify",
                        files=files_of((p.name, p.read_bytes())),
                        timeout=30,
                    ),
                    plots,
                )
            )
        assert [a.status_code for a in answers] == [200] * len(plots)
        assert [a.json()["results"][0]["filename"] for a in answers] == [p.name for p in plots]
        assert not list(tmp_path.iterdir())  # no run folders or logs where it was started
    finally:
        proc.terminate()
        proc.wait(timeout=20)
