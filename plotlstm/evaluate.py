"""``python -m plotlstm.evaluate ckpt_path=RUN data.root=ROOT [split=test] [out_dir=DIR]``: metrics, confusion
matrix, curves and a gallery of mistakes.

The library call is :func:`plotlstm.inference.evaluation.evaluate`, also importable from here.
"""

from __future__ import annotations

from omegaconf import DictConfig

from plotlstm.cli import check_batch_size, check_writable_dir, command
from plotlstm.inference.classifier import pick_device
from plotlstm.inference.evaluation import evaluate, print_report

__all__ = ["evaluate", "main"]


@command("evaluate")
def main(cfg: DictConfig) -> float:
    """Exit status: 0 when the metrics were written, 2 on an error (one line)."""
    check_batch_size(cfg.data.batch_size, "data.batch_size")
    pick_device(cfg.device)
    if cfg.out_dir:
        check_writable_dir(cfg.out_dir, "out_dir")
    result = evaluate(
        cfg.get("ckpt_path"),  # None: the bundled model
        cfg.data.root,
        split=cfg.get("split"),
        out_dir=cfg.out_dir,
        batch_size=cfg.data.batch_size,
        device=cfg.device,
        num_workers=cfg.data.num_workers,
        skip_unreadable=cfg.data.skip_unreadable,
        gallery_size=cfg.gallery.max_images,
        thumb_size=cfg.gallery.thumb_size,
        progress=cfg.progress,
    )
    print_report(result)
    return result["accuracy"]


if __name__ == "__main__":
    main()
