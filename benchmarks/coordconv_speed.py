"""CoordConv's memory format: channels-last weights and maps (the network's default) against contiguous NCHW.

    OMP_NUM_THREADS=2 python benchmarks/coordconv_speed.py [--image-size 64] [--batch-size 32] [--rounds 3]

The bundled model's network (``conf/model/coordconv.yaml`` at 64 px, seven classes) in both formats, measured in
the same run and interleaved round by round (the machines are shared and noisy): a training step (forward,
cross-entropy, backward, Adam) in images/s, and inference at batch 1 and at the classifier's batch size. Prints
each round and the median ratio channels-last / contiguous, and checks that both formats give the same logits.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from plotlstm.models.coordconv import CoordConvNet


def network(fmt: torch.memory_format, size: int) -> CoordConvNet:
    torch.manual_seed(0)
    net = CoordConvNet(7, size)
    net.memory_format = fmt
    return net.to(memory_format=fmt)


def train_rate(fmt: torch.memory_format, size: int, batch: int, steps: int) -> float:
    """Training images/s over ``steps`` steps after 5 of warm-up."""
    net = network(fmt, size).train()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    x, y = torch.rand(batch, 3, size, size), torch.randint(0, 7, (batch,))
    for i in range(steps + 5):
        if i == 5:
            start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return steps * batch / (time.perf_counter() - start)


@torch.inference_mode()
def infer_rate(fmt: torch.memory_format, size: int, batch: int, images: int) -> float:
    """Inference images/s over about ``images`` images after a warm-up batch."""
    net = network(fmt, size).eval()
    x = torch.rand(batch, 3, size, size)
    net(x)
    calls = max(1, images // batch)
    start = time.perf_counter()
    for _ in range(calls):
        net(x)
    return calls * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32, help="the training batch (conf/experiment)")
    parser.add_argument("--infer-batch", type=int, default=64, help="the classifier's batch")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.image_size
    formats = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}

    x = torch.rand(4, 3, size, size)
    with torch.inference_mode():
        a, b = (network(f, size).eval()(x) for f in formats.values())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; logits differ by at most "
          f"{float((a - b).abs().max()):.2g}")  # fmt: skip

    tests = {
        f"train, batch {args.batch_size}": lambda f: train_rate(f, size, args.batch_size, args.steps),
        "inference, batch 1": lambda f: infer_rate(f, size, 1, 200),
        f"inference, batch {args.infer_batch}": lambda f: infer_rate(f, size, args.infer_batch, 2000),
    }
    for name, rate in tests.items():
        ratios = []
        for r in range(args.rounds):
            got = {k: rate(f) for k, f in formats.items()}
            ratios.append(got["channels_last"] / got["contiguous"])
            print(f"{name:>20} round {r}: " + ", ".join(f"{k} {v:,.0f} images/s" for k, v in got.items()))
        print(
            f"{name:>20}: channels-last / contiguous, median of {args.rounds}: {statistics.median(ratios):.2f}x"
        )


if __name__ == "__main__":
    main()
