"""``python -m plotlstm.import_keras in=model.h5 out=model.ckpt``: the seed's Keras model as a plotlstm checkpoint."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from plotlstm.cli import command
from plotlstm.errors import CheckpointError
from plotlstm.interop.keras import import_keras

__all__ = ["import_keras", "main", "run"]


def run(cfg: DictConfig) -> Path:
    """Import ``cfg["in"]`` into ``cfg.out`` (default: ``in`` with the suffix ``.ckpt``); return the output path."""
    if not cfg.get("in"):
        raise CheckpointError("in: give the Keras model file, e.g. in=model.h5")
    src = Path(str(cfg["in"]))
    out = Path(str(cfg.out)) if cfg.get("out") else src.with_suffix(".ckpt")
    classes = cfg.get("classes")
    if classes is not None and not OmegaConf.is_list(classes):
        raise CheckpointError(f"classes: expected a list such as classes=[ceiling,none], got {classes!r}")
    activation = cfg.get("recurrent_activation")
    ckpt = import_keras(
        src,
        out,
        class_names=[str(c) for c in classes] if classes is not None else None,
        recurrent_activation=str(activation) if activation is not None else None,
    )
    hp = ckpt["hyper_parameters"]
    print(
        f"wrote {out}: {hp['num_classes']} classes {hp['class_names']}, image_size {hp['image_size']}, "
        f"lstm_size {hp['net']['lstm_size']}, hidden_size {hp['net']['hidden_size']}, "
        f"recurrent_activation {hp['net']['recurrent_activation']} (Keras {ckpt['plotlstm_import']['keras_version']})"
    )
    return out


@command("import_keras")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
