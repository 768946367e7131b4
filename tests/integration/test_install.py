"""A regular (non-editable) install: the wheel carries the configs and the page, and every console script starts.

The wheel is built from this checkout and installed without dependencies into a fresh virtual environment that
sees this environment's packages through a path file (so torch is not installed again); the checkout itself is not
on its path, so the installed copy is what runs.
"""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import tomllib

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(work),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = work.glob("plotlstm-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # this environment's packages, but not its .pth files (so not the editable plotlstm)
    Path(site, "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def test_the_installed_package_is_not_the_checkout(installed: Path) -> None:
    out = subprocess.run(
        [installed / "bin" / "python", "-c", "import plotlstm; print(plotlstm.__file__)"],
        cwd=installed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(installed) in out and str(ROOT / "plotlstm") not in out
    site = installed / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert (site / "plotlstm" / "conf" / "train.yaml").is_file()
    assert (site / "plotlstm" / "service" / "static" / "index.html").is_file()


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_console_script_composes_its_config(installed: Path, script: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [installed / "bin" / script, "--cfg", "job"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip(), f"{script} printed no config"
    assert not list(tmp_path.iterdir()), "--cfg job must not write anything"
