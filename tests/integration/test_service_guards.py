"""The service on a shared network: token, slow clients, the memory budget, fair decoding, offline docs, and
the serve command's option checks."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from hydra import compose, initialize_config_dir
from PIL import Image

from plotlstm.errors import PlotLSTMError, one_line_errors
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service import BackgroundServer, ServiceSettings, create_app
from plotlstm.service.decoding import FairDecoder
from tests.helpers.service_fixtures import save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests-0123"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> PlotClassifier:
    ckpt = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "small.ckpt", 32)
    return PlotClassifier.from_checkpoint(ckpt, device="cpu")


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def files(*names: str) -> list:
    return [("files", (name, png(), "image/png")) for name in names]


# --- the shared token ------------------------------------------------------------------------------------------


def test_token_guards_every_route_but_the_open_ones(small: PlotClassifier) -> None:
    with TestClient(create_app(small, ServiceSettings(api_token=TOKEN))) as client:
        refused = client.post("/v1/classify", files=files("a.png"))
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in refused.json()["error"]
        wrong = {"Authorization": "Bearer not-the-token-at-all"}
        assert client.post("/v1/classify", files=files("a.png"), headers=wrong).status_code == 401
        assert client.get("/v1/model").status_code == 401
        good = {"Authorization": f"Bearer {TOKEN}"}
        answer = client.post("/v1/classify", files=files("a.png"), headers=good)
        assert answer.status_code == 200 and answer.json()["results"][0]["filename"] == "a.png"
        assert client.get("/v1/model", headers=good).json()["limits"]["authentication"] is True
        assert TOKEN not in client.get("/v1/model", headers=good).text
        assert client.get("/healthz").json()["status"] == "ok"  # open: liveness probes carry no token
        spec = client.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLOTLSTM_API_TOKEN", TOKEN)
    assert ServiceSettings.from_mapping({}).api_token == TOKEN
    assert (
        ServiceSettings.from_mapping({"api_token": "another-token-of-16+"}).api_token
        == "another-token-of-16+"
    )
    with pytest.raises(PlotLSTMError, match="api_token"):
        ServiceSettings(api_token="short")


def compose_serve(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("serve", overrides=list(overrides))


def test_network_host_needs_a_token_or_allow_anonymous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plotlstm.serve import check_options

    monkeypatch.delenv("PLOTLSTM_API_TOKEN", raising=False)
    ckpt = f"ckpt_path={tmp_path / 'x.ckpt'}"
    with pytest.raises(PlotLSTMError, match="host: 0.0.0.0 .* api_token"):
        check_options(compose_serve(ckpt, "host=0.0.0.0", "port=0"))
    assert (
        check_options(compose_serve(ckpt, "host=0.0.0.0", "port=0", "allow_anonymous=true")).api_token is None
    )
    assert (
        check_options(compose_serve(ckpt, "host=0.0.0.0", "port=0", f"api_token={TOKEN}")).api_token == TOKEN
    )
    assert check_options(compose_serve(ckpt, "host=127.0.0.1", "port=0")).api_token is None


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("torch_threads=abc", ["torch_threads", "'abc'"]),
        ("max_upload_mb=abc", ["max_upload_mb", "number"]),
        ("log_level=loud", ["log_level", "loud"]),
        ("memory_budget_mb=10", ["memory_budget_mb"]),
        ("body_timeout_s=0", ["body_timeout_s"]),
        pytest.param(
            "device=cuda",
            ["device", "no usable CUDA GPU"],
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU"),
        ),
    ],
)
def test_serve_options_checked_before_any_work(
    override: str, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import plotlstm.serve as serve_module

    def no_work(cfg: object) -> None:
        raise AssertionError("the checkpoint was loaded before the options were checked")

    monkeypatch.setattr(serve_module, "build_app", no_work)
    cfg = compose_serve(f"ckpt_path={tmp_path / 'x.ckpt'}", "port=0", override)
    with pytest.raises(SystemExit) as exit_info, one_line_errors():
        serve_module.serve(cfg)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], lines[0]


# --- slow clients ----------------------------------------------------------------------------------------------


def read_all(sock: socket.socket, deadline_s: float) -> bytes:
    """What the server sends until it closes the connection (or the deadline passes)."""
    sock.settimeout(deadline_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        data += b"<still open>"
    return data


def test_trickled_headers_are_cut_off(small: PlotClassifier) -> None:
    app = create_app(small, ServiceSettings(header_timeout_s=0.5))
    with BackgroundServer(app) as server, socket.create_connection((server.host, server.port)) as sock:
        start = time.monotonic()
        sock.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n")  # and never the end of the headers
        assert read_all(sock, 5) == b""
        assert time.monotonic() - start < 3
        assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_stalled_body_gets_408_and_is_closed(small: PlotClassifier) -> None:
    app = create_app(small, ServiceSettings(body_timeout_s=0.5))
    with BackgroundServer(app) as server, socket.create_connection((server.host, server.port)) as sock:
        sock.sendall(
            b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000\r\n\r\n--b\r\n"
        )
        answer = read_all(sock, 5)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"body_timeout_s" in answer and not answer.endswith(b"<still open>")


# --- one memory budget -----------------------------------------------------------------------------------------


def test_uploads_in_flight_share_one_budget(small: PlotClassifier) -> None:
    """A stalled upload holds its bytes; the next upload that does not fit gets 503 + Retry-After; once the
    stalled one is gone the same request goes through."""
    settings = ServiceSettings(max_upload_mb=1, memory_budget_mb=1.5, max_pixels=10_000, decode_threads=1)
    upload_share = settings.memory_budget_bytes - settings.decode_reserve_bytes
    held, size = 900_000, 700_000  # each below max_upload_mb, together above the budget's share for uploads
    assert held < settings.max_upload_bytes and held + size > upload_share
    other = [("files", ("b.png", png() + b"\0" * size, "image/png"))]
    with BackgroundServer(create_app(small, settings)) as server:
        with socket.create_connection((server.host, server.port)) as slow:
            slow.sendall(
                b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                + f"Content-Length: {held + 1000}\r\n\r\n".encode()
                + b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
                + b"\0" * held
            )
            deadline = time.monotonic() + 10
            while httpx.get(f"{server.url}/healthz").json()["memory"]["uploads_mb"] * 2**20 < held * 0.9:
                assert time.monotonic() < deadline, "the stalled upload never arrived"
                time.sleep(0.05)
            busy = httpx.post(f"{server.url}/v1/classify", files=other)
            assert busy.status_code == 503, busy.text
            assert busy.headers["retry-after"] == "2" and "memory_budget_mb" in busy.json()["error"]
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/healthz").json()["memory"]["uploads_mb"] > 0:
            assert time.monotonic() < deadline, "the closed upload's bytes were never released"
            time.sleep(0.05)
        answer = httpx.post(f"{server.url}/v1/classify", files=other)
        assert answer.status_code == 200, answer.text  # it fits now (a PNG with trailing bytes)


# --- fair decoding ---------------------------------------------------------------------------------------------


def test_small_request_does_not_wait_behind_large_ones() -> None:
    decoder = FairDecoder(threads=2, large_pixels=1000)
    try:

        def slow() -> str:
            time.sleep(0.4)
            return "large"

        large = [decoder.submit(key, slow, pixels=10**6) for key in ("a", "b") for _ in range(4)]
        time.sleep(0.05)  # the large requests hold what they may
        start = time.monotonic()
        small = decoder.submit("c", lambda: "small", pixels=100)
        assert small.result(timeout=5) == "small"
        assert time.monotonic() - start < 0.2  # not behind 8 x 0.4 s of large decodes
        assert [f.result(timeout=10) for f in large] == ["large"] * 8
    finally:
        decoder.shutdown()


def test_requests_take_turns() -> None:
    decoder = FairDecoder(threads=1, large_pixels=10**9)
    order: list[str] = []
    gate = threading.Event()
    try:
        decoder.submit("first", gate.wait)
        time.sleep(0.05)
        jobs = [decoder.submit("a", lambda i=i: order.append(f"a{i}")) for i in range(3)]
        jobs += [decoder.submit("b", lambda i=i: order.append(f"b{i}")) for i in range(2)]
        gate.set()
        for job in jobs:
            job.result(timeout=5)
        assert order == ["a0", "b0", "a1", "b1", "a2"]
    finally:
        decoder.shutdown()


# --- the docs work without internet ----------------------------------------------------------------------------


def test_swagger_ui_is_served_from_the_package(small: PlotClassifier) -> None:
    with TestClient(create_app(small, ServiceSettings(api_token=TOKEN))) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower()
        assets = re.findall(r"""(?:src|href)=["']([^"']+\.(?:js|css))["']""", page.text)
        assert len(assets) >= 2 and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            served = client.get(asset)
            assert served.status_code == 200 and len(served.content) > 10_000, asset


# --- /v1/check reads its body as /v1/classify does ----------------------------------------------------------------


def test_check_route_has_the_upload_guards(small: PlotClassifier) -> None:
    """A trickled JSON body gets 408 within body_timeout_s and is closed; a declared length above the limit gets
    413 at once, closed; a held JSON body counts against the memory budget (503 for the next); healthz stays up."""
    settings = ServiceSettings(
        body_timeout_s=0.5, max_upload_mb=1, memory_budget_mb=1.5, max_pixels=10_000, decode_threads=1
    )
    with BackgroundServer(create_app(small, settings)) as server:
        with socket.create_connection((server.host, server.port)) as sock:
            start = time.monotonic()
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n{\"fitted\": [1,")  # fmt: skip
            answer = read_all(sock, 5)
            assert answer.startswith(b"HTTP/1.1 408") and not answer.endswith(b"<still open>"), answer[:200]
            assert time.monotonic() - start < 3
        with socket.create_connection((server.host, server.port)) as sock:
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 200000000\r\n\r\n")  # fmt: skip
            answer = read_all(sock, 5)
            assert answer.startswith(b"HTTP/1.1 413") and not answer.endswith(b"<still open>"), answer[:200]
        upload_share = settings.memory_budget_bytes - settings.decode_reserve_bytes
        held = 900_000
        with socket.create_connection((server.host, server.port)) as slow:
            slow.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {held + 1000}\r\n\r\n".encode() + b'{"fitted": [' + b"1," * (held // 2))  # fmt: skip
            deadline = time.monotonic() + 10
            while httpx.get(f"{server.url}/healthz").json()["memory"]["uploads_mb"] * 2**20 < held * 0.9:
                assert time.monotonic() < deadline, "the held body never counted"
                time.sleep(0.05)
            body = b'{"fitted": [' + b"1," * 350_000 + b'1], "residuals": [1]}'
            assert held + len(body) > upload_share
            busy = httpx.post(
                f"{server.url}/v1/check", content=body, headers={"content-type": "application/json"}
            )
            assert busy.status_code == 503, busy.text
        assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_unauthorised_body_is_not_read_and_the_connection_closes(small: PlotClassifier) -> None:
    app = create_app(small, ServiceSettings(api_token=TOKEN, body_timeout_s=30))
    with BackgroundServer(app) as server:
        for route in (b"/v1/check", b"/v1/classify"):
            with socket.create_connection((server.host, server.port)) as sock:
                start = time.monotonic()
                sock.sendall(b"POST " + route + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n{")  # fmt: skip
                answer = read_all(sock, 5)
                assert answer.startswith(b"HTTP/1.1 401") and not answer.endswith(b"<still open>"), answer[
                    :200
                ]
                assert time.monotonic() - start < 3


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"[" * 10_000 + b"]" * 10_000, 422, "nested too deeply"),
        (b'{"fitted": [1e308, -1e308, 1, 2, 3, 4, 5, 6, 7, 8], "residuals": [1,2,3,4,5,6,7,8,9,10]}', 422,
         "fitted: values from -1e+308 to 1e+308 cannot be drawn"),
        (b'{"fitted": [5e-324, 0, 0, 0, 0, 0, 0, 0, 0, 0], "residuals": [1,2,3,4,5,6,7,8,9,10]}', 422,
         "fitted: values from 0 to 4.94e-324 cannot be drawn"),
        (b'{"fitted": [' + b"9" * 400 + b', 1,2,3,4,5,6,7,8,9], "residuals": [1,2,3,4,5,6,7,8,9,10]}', 422,
         "fitted: expected numbers"),
    ],
)  # fmt: skip
def test_edge_bodies_are_one_line_and_batches_answer_per_fit(
    small: PlotClassifier, body: bytes, status: int, message: str
) -> None:
    with TestClient(create_app(small, ServiceSettings())) as client:
        answer = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == status and message in answer.json()["error"], answer.text
        if body.startswith(b"{"):
            fit = body.decode()
            good = '{"fitted": [1,2,3,4,5,6,7,8,9,10], "residuals": [1,-2,3,-4,5,-6,7,-8,9,-1]}'
            batch = client.post("/v1/check", content=f'{{"fits": [{fit}, {good}], "null_plots": 0}}',
                                headers={"content-type": "application/json"})  # fmt: skip
            assert batch.status_code == 200, batch.text
            first, second = batch.json()["results"]
            assert message in first["error"] and second["class"]
        assert client.get("/healthz").status_code == 200


def test_check_counts_the_parsed_fit_against_the_budget(small: PlotClassifier) -> None:
    """A body within max_upload_mb whose parsed columns and drawing could never fit the memory budget gets 413
    (waiting would not help); a small fit goes through, gets 503 while the budget is held by others, and nothing
    stays reserved after any of them."""
    settings = ServiceSettings(max_upload_mb=1, memory_budget_mb=6, max_pixels=10_000, decode_threads=1)
    rng = np.random.default_rng(0)
    with TestClient(create_app(small, settings)) as client:
        big = {  # 0.6 MB of JSON; 40,000 points at 200 B pass the 6 MB budget
            "fitted": rng.normal(size=40_000).round(3).tolist(),
            "residuals": rng.normal(size=40_000).round(3).tolist(),
        }
        answer = client.post("/v1/check", json=big)
        assert answer.status_code == 413 and "memory_budget_mb" in answer.json()["error"], answer.text
        small_fit = {"fitted": big["fitted"][:200], "residuals": big["residuals"][:200], "null_plots": 0}
        assert client.post("/v1/check", json=small_fit).status_code == 200
        budget = client.app.state.budget
        held = budget.upload_limit - 1000
        assert budget.reserve(held)  # another request holds nearly all of it
        answer = client.post("/v1/check", json=small_fit)
        assert answer.status_code == 503 and answer.headers["Retry-After"], answer.text
        budget.release(held)
        assert client.get("/healthz").json()["memory"]["uploads_mb"] == 0


def test_large_requests_leave_the_headroom_to_small_ones() -> None:
    """A request past SMALL_REQUEST may not take the last eighth of the uploads' budget; a small one may, so a
    large fit (or a slow upload) never starves the well-behaved clients."""
    from plotlstm.service.budget import SMALL_REQUEST, MemoryBudget, Ticket

    budget = MemoryBudget(64 << 20, 0)
    large, small = Ticket(budget), Ticket(budget)
    assert large.take(budget.upload_limit - budget.headroom)  # up to the headroom: fine
    assert not large.take(1)  # into it: refused
    assert small.take(SMALL_REQUEST) and budget.uploads > budget.upload_limit - budget.headroom
    large.close(), small.close()
    assert budget.uploads == 0


def test_memory_budget_must_hold_the_largest_upload_beside_the_headroom() -> None:
    with pytest.raises(PlotLSTMError, match=r"memory_budget_mb: .* give at least \d+"):
        ServiceSettings(
            max_upload_mb=100, memory_budget_mb=100 + ServiceSettings().decode_reserve_bytes / 2**20
        )
