"""Where the Hydra configs live: ``conf/`` beside the package (a checkout or an editable install), else the
copy a regular install puts under ``<prefix>/share/plotlstm/conf``."""

import sys
from pathlib import Path


def conf_dir() -> str:
    beside = Path(__file__).resolve().parents[1] / "conf"
    return str(beside if beside.is_dir() else Path(sys.prefix) / "share" / "plotlstm" / "conf")


CONF_DIR = conf_dir()
