"""``python -m plotlstm.generate [synth=PRESET] [synth.KEY=VALUE] [workers=N] [overwrite=true]``: draw a data set.

The library call is :func:`plotlstm.synth.generator.generate`, also importable from here.
"""

from __future__ import annotations

from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf

from plotlstm.cli import command
from plotlstm.synth.generator import generate

__all__ = ["generate", "main"]


@command("generate")
def main(cfg: DictConfig) -> None:
    synth = OmegaConf.to_container(cfg.synth, resolve=True)
    synth["root"] = to_absolute_path(str(synth["root"]))
    print(generate(**synth, workers=cfg.workers, overwrite=cfg.overwrite, progress=cfg.progress))


if __name__ == "__main__":
    main()
