"""Abuse test of the classification service on loopback: do well-behaved clients still get served?

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/service_abuse.py [--clients 64] [--seconds 20]

``--route check`` abuses ``/v1/check`` the same way (JSON bodies: the clients send a 200-point fit, the slow
uploads trickle a JSON list, the large requests send a 200,000-point fit of about 5 MB: about 145 MB of the budget parsed and drawn) and then sends the
hostile bodies of :data:`PROBES` (deep nesting, +-1e308, 5e-324, a 400-digit integer, a batch with one such fit).

Starts ``python -m plotlstm.serve`` (a tiny untrained checkpoint, a token, 127.0.0.1 only) and runs, in one run:
1. quiet: one well-behaved client alone for ``--single-seconds``, then ``--clients`` well-behaved clients (one
   480 px PNG per request, one request after the other) for ``--quiet-seconds``: their p50/p99 latency;
2. abuse: the one client alone, then the same clients for ``--seconds``, while ``--slow`` slow uploads (each declares a 19 MB body, sends
   2 MB, then trickles 32 kB every 0.5 s) and ``--large`` large-but-allowed requests (32 PNGs of 2000 x 2000
   each, sent again as soon as answered) are in flight;
and prints the well-behaved clients' errors (goal 0), their p99 against the quiet p99 (goal within 3x), the
server's peak RSS above its idle RSS against ``memory_budget_mb``, what the slow and large clients got, and
``/healthz`` afterwards. Every connection is to 127.0.0.1; everything stops after the given seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from service_load import REFERENCE, wait_until_healthy  # the sibling benchmark (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TOKEN = "benchmark-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tiny_checkpoint(folder: Path) -> Path:
    """An untrained PlotLitModule of image size 32 and a small LSTM: the model's cost is not what is measured."""
    import torch

    from plotlstm.models.checkpoint import Checkpoint
    from plotlstm.models.module import PlotLitModule

    torch.manual_seed(0)
    classes = ["biased", "ceiling", "none", "outlier"]
    model = PlotLitModule(len(classes), classes, image_size=32, net=dict(lstm_size=8, hidden_size=4))
    return Checkpoint.save(model, folder / "tiny.ckpt")


def plot_pngs(folder: Path) -> list[tuple[str, bytes]]:
    found = sorted(folder.glob("*.png"))
    if found:
        return [(p.name, p.read_bytes()) for p in found]
    sys.path.insert(0, str(ROOT))
    from tests.helpers.service_fixtures import draw_plots

    tmp = Path(tempfile.mkdtemp())
    return [(p.name, p.read_bytes()) for p in draw_plots(tmp)]


def large_png(seed: int, side: int = 2000) -> bytes:
    """A plot-like large PNG (white, a few thousand dots): small on the wire, 4 Mpx to decode."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(img)
    for x, y in rng.uniform(50, side - 50, (3000, 2)):
        draw.ellipse((x - 6, y - 6, x + 6, y + 6), outline="black", width=2)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    """The server's RSS every 50 ms; ``peak`` since the last ``reset``."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0.0, threading.Event()

    def reset(self) -> float:
        self.peak = rss_mb(self.pid)
        return self.peak

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return


def start_server(ckpt: Path, port: int, extra: list[str]) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "plotlstm.serve",
        f"ckpt_path={ckpt}",
        f"host={HOST}",
        f"port={port}",
        "device=cpu",
        "log_level=warning",
        *extra,
    ]
    env = {**os.environ, "PLOTLSTM_API_TOKEN": TOKEN}
    return wait_until_healthy(subprocess.Popen(cmd, cwd=ROOT, env=env), f"http://{HOST}:{port}")


async def good_clients(
    url: str, images: list[tuple[str, bytes]], clients: int, seconds: float
) -> tuple[list[float], Counter[str]]:
    """``clients`` clients, each sending one image per request, one after the other, for ``seconds``."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    stop = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient, k: int) -> None:
        i = k
        while time.monotonic() < stop:
            name, data = images[i % len(images)]
            i += 1
            start = time.perf_counter()
            try:
                if ROUTE == "check":
                    response = await http.post("/v1/check", content=FIT_JSON, headers=JSON)
                else:
                    response = await http.post("/v1/classify", files=[("files", (name, data, "image/png"))])
            except httpx.HTTPError as err:
                errors[type(err).__name__] += 1
                continue
            if response.status_code == 200:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                errors[str(response.status_code)] += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=AUTH) as http:
        await asyncio.gather(*(client(http, k) for k in range(clients)))
    return latencies, errors


async def slow_upload(port: int, seconds: float, outcomes: Counter[str]) -> None:
    """Declare a 19 MB body, send 2 MB, then 32 kB every 0.5 s until answered or ``seconds`` pass."""
    declared, burst, trickle = 19 * 2**20, 2 * 2**20, 32 * 2**10
    stop = time.monotonic() + seconds
    reader, writer = await asyncio.open_connection(HOST, port)
    if ROUTE == "check":
        head = (
            f"POST /v1/check HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n" + '{"fitted": ['
        ).encode()
        filler = b"1,"
    else:
        head = (
            f"POST /v1/classify HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: multipart/form-data; boundary=slowslowslow\r\n"
            f"Content-Length: {declared}\r\n\r\n"
            '--slowslowslow\r\nContent-Disposition: form-data; name="files"; filename="slow.png"\r\n\r\n'
        ).encode()
        filler = b"\0"
    try:
        writer.write(head + filler * (burst // len(filler)))
        await writer.drain()
        answer = asyncio.ensure_future(reader.read(200))
        while time.monotonic() < stop and not answer.done():
            writer.write(filler * (trickle // len(filler)))
            await writer.drain()
            await asyncio.wait([answer], timeout=0.5)
        if answer.done():
            first = answer.result().split(b"\r\n", 1)[0].decode("latin-1", "replace")
            outcomes[first or "closed by the server"] += 1
        else:
            answer.cancel()
            outcomes["still sending when the run ended"] += 1
    except (ConnectionError, OSError) as err:
        outcomes[f"connection {type(err).__name__}"] += 1
    finally:
        writer.close()


async def large_requests(url: str, bodies: list[bytes], seconds: float, outcomes: Counter[str]) -> None:
    """One client that sends the 32 large PNGs as one request, again as soon as it is answered."""
    stop = time.monotonic() + seconds
    files = [("files", (f"large{i}.png", data, "image/png")) for i, data in enumerate(bodies)]
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=AUTH) as http:
        while time.monotonic() < stop:
            try:
                if ROUTE == "check":
                    response = await http.post("/v1/check", content=LARGE_JSON, headers=JSON)
                else:
                    response = await http.post("/v1/classify", files=files)
                outcomes[str(response.status_code)] += 1
            except httpx.HTTPError as err:
                outcomes[type(err).__name__] += 1


async def abuse(
    url: str, port: int, images: list[tuple[str, bytes]], large: list[bytes], args: argparse.Namespace
) -> tuple[list[float], Counter[str], list[float], Counter[str], Counter[str]]:
    """The attackers start; after 2 s one client alone for ``--single-seconds``, then the ``--clients``."""
    slow: Counter[str] = Counter()
    big: Counter[str] = Counter()
    total = 2 + args.single_seconds + args.seconds + 2
    attackers = [asyncio.ensure_future(slow_upload(port, total, slow)) for _ in range(args.slow)]
    attackers += [asyncio.ensure_future(large_requests(url, large, total, big)) for _ in range(args.large)]
    await asyncio.sleep(2)  # the slow uploads and the large requests are in flight before the clients start
    single, single_errors = await good_clients(url, images, 1, args.single_seconds)
    latencies, errors = await good_clients(url, images, args.clients, args.seconds)
    await asyncio.gather(*attackers)
    return latencies, errors + single_errors, single, slow, big


ROUTE = "classify"
JSON = {"content-type": "application/json"}
FIT_JSON = b""
LARGE_JSON = b""


def fit_json(n: int, seed: int) -> bytes:
    """A fit's two columns as /v1/check's JSON body (a correct fit, 19 null plots by default)."""
    import json

    import numpy as np

    rng = np.random.default_rng(seed)
    return json.dumps(
        {"fitted": rng.normal(size=n).round(6).tolist(), "residuals": rng.normal(size=n).round(6).tolist()}
    ).encode()


PROBES = {
    "deep nesting": b"[" * 10_000 + b"]" * 10_000,
    "+-1e308": b'{"fitted": [1e308, -1e308, 1, 2, 3, 4, 5, 6, 7, 8], "residuals": [1,2,3,4,5,6,7,8,9,10]}',
    "5e-324": b'{"fitted": [5e-324, 0, 0, 0, 0, 0, 0, 0, 0, 0], "residuals": [1,2,3,4,5,6,7,8,9,10]}',
    "400 digits": b'{"fitted": ['
    + b"9" * 400
    + b', 1,2,3,4,5,6,7,8,9], "residuals": [1,2,3,4,5,6,7,8,9,10]}',
    "batch with 1e308": b'{"fits": [{"fitted": [1e308, -1e308, 1, 2, 3, 4, 5, 6, 7, 8], "residuals": [1,2,3,4,5,6,'
    b'7,8,9,10]}, {"fitted": [1,2,3,4,5,6,7,8,9,10], "residuals": [1,-2,3,-4,5,-6,7,-8,9,-1]}]}',
    "NaN only": b'{"fitted": [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN], "residuals": [1,2,3,4,5,6,7,8,9,10]}',
}
"""Hostile /v1/check bodies: each must be answered without a 500, and /healthz stay 200."""


def probe(url: str) -> dict[str, str]:
    """Each probe's status, then /healthz's."""
    out = {}
    for name, body in PROBES.items():
        answer = httpx.post(url + "/v1/check", content=body, headers={**JSON, **AUTH}, timeout=60)
        health = httpx.get(url + "/healthz", timeout=10).status_code
        out[name] = f"{answer.status_code} (healthz {health})"
    return out


def main() -> None:
    global ROUTE, FIT_JSON, LARGE_JSON
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plots", type=Path, default=REFERENCE, help="folder of PNG plots the clients send")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--quiet-seconds", type=float, default=10)
    parser.add_argument("--single-seconds", type=float, default=5, help="one client alone, quiet and abused")
    parser.add_argument("--slow", type=int, default=30)
    parser.add_argument("--large", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="more serve settings")
    parser.add_argument("--route", choices=("classify", "check"), default="classify", help="the route abused")
    args = parser.parse_args()
    ROUTE = args.route
    FIT_JSON, LARGE_JSON = fit_json(200, 0), fit_json(200_000, 1)  # a large fit one request may check: 5 MB
    print(f"route /v1/{ROUTE}; large check body {len(LARGE_JSON) / 2**20:.1f} MB")

    images = plot_pngs(args.plots)
    large = [large_png(i) for i in range(32)]
    print(f"large request: 32 PNGs of 2000 x 2000, {sum(map(len, large)) / 2**20:.1f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://{HOST}:{port}"
        server = start_server(tiny_checkpoint(Path(tmp)), port, args.set)
        sampler = RssSampler(server.pid)
        sampler.start()
        try:
            limits = httpx.get(url + "/v1/model", headers=AUTH).json()["limits"]
            asyncio.run(good_clients(url, images, args.clients, 2))  # warm-up
            idle = sampler.reset()
            alone, alone_errors = asyncio.run(good_clients(url, images, 1, args.single_seconds))
            quiet, quiet_errors = asyncio.run(good_clients(url, images, args.clients, args.quiet_seconds))
            quiet_peak = sampler.peak
            sampler.reset()
            loaded, errors, single, slow, big = asyncio.run(abuse(url, port, images, large, args))
            abuse_peak = sampler.peak
            start = time.perf_counter()
            health = httpx.get(url + "/healthz", timeout=10)
            health_ms = (time.perf_counter() - start) * 1000
            unauthorised = httpx.post(url + "/v1/classify", files=[("files", images[0])]).status_code
            probes = probe(url) if ROUTE == "check" else {}
        finally:
            sampler.stopped.set()
            server.terminate()
            server.wait(timeout=30)

    budget = limits["memory_budget_mb"]
    q99, a99 = percentile(quiet, 99), percentile(loaded, 99)
    print(
        f"server: tiny checkpoint, {HOST}:{port}, token on, memory_budget_mb {budget:g}, "
        f"decode_threads {limits['decode_threads']}, body_timeout_s {limits['body_timeout_s']:g}"
    )
    print(
        f"quiet, {args.clients} clients, {args.quiet_seconds:g} s: {len(quiet)} answers, "
        f"p50 {statistics.median(quiet):.1f} ms, p99 {q99:.1f} ms, errors {sum(quiet_errors.values())}"
    )
    print(
        f"abuse, {args.clients} clients, {args.seconds:g} s, beside {args.slow} slow uploads and {args.large} "
        f"large requests: {len(loaded)} answers, p50 {statistics.median(loaded):.1f} ms, p99 {a99:.1f} ms"
    )
    print(
        f"one client alone, {args.single_seconds:g} s: quiet p50 {statistics.median(alone):.1f} ms, p99 "
        f"{percentile(alone, 99):.1f} ms; beside the slow uploads and large requests p50 "
        f"{statistics.median(single):.1f} ms, p99 {percentile(single, 99):.1f} ms "
        f"(ratio p99 {percentile(single, 99) / percentile(alone, 99):.2f})"
    )
    print(
        f"well-behaved clients' errors: {sum(errors.values())} {dict(errors) or ''} (goal 0; quiet: "
        f"{sum(quiet_errors.values()) + sum(alone_errors.values())})"
    )
    print(f"p99 abuse / quiet ({args.clients} clients): {a99 / q99:.2f} (goal <= 3)")
    print(
        f"server RSS: idle {idle:.0f} MB, peak quiet {quiet_peak:.0f} MB, peak under abuse {abuse_peak:.0f} MB "
        f"(+{abuse_peak - idle:.0f} MB over idle; budget {budget:g} MB)"
    )
    print(f"budget accounting (/healthz memory): {health.json().get('memory')}")
    print(f"slow uploads: {dict(slow)}")
    print(f"large requests: {dict(big)}")
    print(
        f"/healthz after: {health.status_code} {health.json().get('status')} in {health_ms:.1f} ms; "
        f"classify without the token: {unauthorised}"
    )
    if probes:
        print(f"hostile /v1/check bodies (goal: no 500, healthz 200 after each): {probes}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
