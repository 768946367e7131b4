"""Where the Hydra configs live: ``conf/`` beside the package (an editable install or a checkout)."""

from pathlib import Path

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")
