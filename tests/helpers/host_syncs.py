"""Counting, on a CPU, the tensor reads that would make the host wait for a GPU.

A CPU run cannot see a GPU stall, but it runs the same Python: every ``.item()``, ``bool(tensor)``, ``bincount``,
``nonzero`` or ``unique`` on a tensor that would live on the GPU is a synchronisation there. ``HostReads`` records
those ops with the Python stack that made them; ``StepMarks``, a callback, marks where each training step starts.
"""

from __future__ import annotations

import traceback
from typing import ClassVar

import lightning as L
from torch.utils._python_dispatch import TorchDispatchMode

# aten ops whose CUDA kernels copy a result to the host (or size their output from the data) and so wait for the GPU
SYNCING_OPS = frozenset(
    {
        "_local_scalar_dense",  # .item(), bool(), int(), float()
        "is_nonzero",
        "nonzero",
        "bincount",
        "_unique",
        "_unique2",
        "unique_dim",
        "unique_consecutive",
        "masked_select",
        "repeat_interleave",
        "equal",
    }
)
# torch.optim keeps its step counters on the CPU (unless ``capturable``): reading them costs no GPU wait.
HOST_RESIDENT = ("torch/optim/",)
# frames between the caller and the op
PASS_THROUGH = ("torch/_compile.py", "torch/_dynamo/", "torch/utils/_python_dispatch.py", "host_syncs.py")


class HostReads(TorchDispatchMode):
    """Records each syncing op as (op name, Python stack) while active."""

    active: ClassVar[HostReads | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[str, str]] = []
        # (epoch, batch index, len(reads)) at each step's start, and (None, None, ...) at the end
        self.marks: list[tuple[int | None, int | None, int]] = []

    def __enter__(self) -> HostReads:
        HostReads.active = self
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        HostReads.active = None
        super().__exit__(*exc)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split("::")[-1]
        if name in SYNCING_OPS:
            frames = traceback.extract_stack(limit=40)
            caller = next(
                f.filename for f in reversed(frames) if not any(p in f.filename for p in PASS_THROUGH)
            )
            if not any(marker in caller for marker in HOST_RESIDENT):
                self.reads.append((name, "".join(traceback.format_list(frames))))
        return func(*args, **(kwargs or {}))

    def per_step(self) -> dict[tuple[int, int], list[tuple[str, str]]]:
        """(epoch, batch index) -> the reads from that step's start to the next one's (its hooks included)."""
        return {
            (epoch, batch): self.reads[start:end]
            for (epoch, batch, start), (_, _, end) in zip(self.marks, self.marks[1:], strict=False)
        }


class StepMarks(L.Callback):
    """Marks where each training step starts in the active ``HostReads`` (a Hydra-instantiable callback)."""

    def __init__(self) -> None:
        assert HostReads.active is not None, "StepMarks needs an active HostReads"
        self.record = HostReads.active

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch, batch_idx: int
    ) -> None:
        self.record.marks.append((trainer.current_epoch, batch_idx, len(self.record.reads)))

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.record.marks.append((None, None, len(self.record.reads)))
