"""Load test of the classification service on loopback, against the library's own batched predict.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/service_load.py [--ckpt PATH] [--concurrency 16]

Starts ``python -m plotlstm.serve`` in a subprocess on a free loopback port, then measures
1. latency of one 480 px PNG per request from a single sequential client (p50, p99);
2. throughput (images/s) with ``--concurrency`` clients sending one image per request, ``--requests`` in all;
3. the library on the same images in the same run, before and after the server's turn (the mean counts):
   ``classifier.predict(paths)`` at batch 32 (decode, resize and model);
and prints the figures and the ratio served / library. Without ``--ckpt`` an untrained full-size PlotLitModule
(image size 256, the real model's cost) is saved to a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path("/work/shared/reference/original-plots")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_checkpoint(folder: Path, image_size: int) -> Path:
    import lightning
    import torch

    from plotlstm.models.module import PlotLitModule

    torch.manual_seed(0)
    classes = ["biased", "ceiling", "none", "outlier"]
    model = PlotLitModule(num_classes=len(classes), class_names=classes, image_size=image_size)
    path = folder / "bench.ckpt"
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            "pytorch-lightning_version": lightning.__version__,
        },
        path,
    )
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_server(ckpt: Path, port: int, args: argparse.Namespace) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "plotlstm.serve",
        f"ckpt_path={ckpt}",
        f"port={port}",
        "device=cpu",
        "log_level=warning",
        f"max_batch_size={args.max_batch_size}",
        f"max_wait_ms={args.max_wait_ms}",
        *args.set,
    ]
    return wait_until_healthy(subprocess.Popen(cmd, cwd=ROOT), f"http://127.0.0.1:{port}")


def wait_until_healthy(proc: subprocess.Popen, url: str, seconds: float = 180) -> subprocess.Popen:
    """Return ``proc`` once ``url/healthz`` answers 200; exit with one line if it dies or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the service exited with status {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"error: the service did not come up in {seconds:.0f} s")


async def sequential(url: str, images: list[tuple[str, bytes]], n: int, warmup: int) -> list[float]:
    """Latency (ms) of ``n`` one-image requests, one after the other."""
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        for i in range(warmup + n):
            name, data = images[i % len(images)]
            start = time.perf_counter()
            response = await http.post("/v1/classify", files=[("files", (name, data, "image/png"))])
            elapsed = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            if i >= warmup:
                latencies.append(elapsed)
    return latencies


async def concurrent(
    url: str, images: list[tuple[str, bytes]], clients: int, total: int
) -> tuple[float, int]:
    """Seconds for ``total`` one-image requests from ``clients`` concurrent clients; and the failures."""
    failures = 0

    async def client(http: httpx.AsyncClient, jobs) -> None:
        nonlocal failures
        for i in jobs:
            name, data = images[i % len(images)]
            response = await http.post("/v1/classify", files=[("files", (name, data, "image/png"))])
            failures += response.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        warmup = iter(range(clients))  # one request per connection
        await asyncio.gather(*(client(http, warmup) for _ in range(clients)))
        jobs = iter(range(total))
        start = time.perf_counter()
        await asyncio.gather(*(client(http, jobs) for _ in range(clients)))
        return time.perf_counter() - start, failures


def library_throughput(ckpt: Path, paths: list[Path], total: int, batch_size: int) -> float:
    """Images/s of ``PlotClassifier.predict(paths)`` (decode, resize, model) at ``batch_size``."""
    from plotlstm.inference.classifier import PlotClassifier

    classifier = PlotClassifier.from_checkpoint(ckpt, device="cpu", batch_size=batch_size)
    items = [str(paths[i % len(paths)]) for i in range(total)]
    classifier.predict(items[:batch_size])  # warm-up
    start = time.perf_counter()
    classifier.predict(items)
    return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ckpt", type=Path, help="a checkpoint (default: an untrained full-size PlotLitModule)"
    )
    parser.add_argument("--plots", type=Path, default=REFERENCE, help="folder of PNG plots to send")
    parser.add_argument("--image-size", type=int, default=256, help="for the untrained checkpoint")
    parser.add_argument("--sequential", type=int, default=100, help="requests for the latency figures")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients for throughput")
    parser.add_argument("--requests", type=int, default=256, help="requests (one image each) for throughput")
    parser.add_argument("--library-batch", type=int, default=32)
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=20)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="more serve settings")
    args = parser.parse_args()

    paths = sorted(args.plots.glob("*.png"))
    if not paths:
        raise SystemExit(f"error: no PNG plots in {args.plots} (--plots)")
    images = [(p.name, p.read_bytes()) for p in paths]
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.ckpt or make_checkpoint(Path(tmp), args.image_size)
        library_before = library_throughput(ckpt, paths, args.requests, args.library_batch)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(ckpt, port, args)
        try:
            latencies = asyncio.run(sequential(url, images, args.sequential, warmup=5))
            before = httpx.get(url + "/healthz").json()
            seconds, failures = asyncio.run(concurrent(url, images, args.concurrency, args.requests))
            after = httpx.get(url + "/healthz").json()
        finally:
            server.terminate()
            server.wait(timeout=30)
        library_after = library_throughput(ckpt, paths, args.requests, args.library_batch)
    library = (library_before + library_after) / 2  # before and after the server's turn: load drifts

    served = args.requests / seconds
    batch = (after["images"] - before["images"]) / max(1, after["batches"] - before["batches"])
    load = os.getloadavg()
    print(
        f"checkpoint {ckpt.name if args.ckpt else f'untrained PlotLitModule, image size {args.image_size}'}"
    )
    print(f"images: {len(paths)} PNGs from {args.plots}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(
        f"one image, sequential client ({args.sequential} requests): p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, mean {statistics.fmean(latencies):.1f} ms"
    )
    print(
        f"served, {args.concurrency} concurrent clients, {args.requests} images: {served:.1f} images/s "
        f"({failures} failures; mean batch {batch:.1f} images)"
    )
    print(
        f"library, predict(paths) at batch {args.library_batch}: {library:.1f} images/s "
        f"(before the server {library_before:.1f}, after {library_after:.1f})"
    )
    print(f"ratio served / library: {served / library:.2f}")
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
