"""First-run setup for the scripts at the repository root, using only the standard library.

``python3 run_continuous_executor.py`` and ``python3 run_tests.py`` must work on a machine with
nothing but Python and git. When the packages they need are missing, this creates ``.venv``
beside them, installs the project into it, and runs the script again from there.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

_MARKER = "BACKLOG_BOOTSTRAPPED"


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a missing parent package ("ruamel" for "ruamel.yaml")
        return False


def _missing(modules: Sequence[str]) -> list[str]:
    return [name for name in modules if not _importable(name)]


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure(root: Path, *, modules: Sequence[str], extras: str = "") -> None:
    """Return if ``modules`` import here; otherwise set up ``root/.venv`` and re-run in it."""
    missing = _missing(modules)
    if not missing:
        return
    if os.environ.get(_MARKER):
        sys.exit(
            f"error: still missing {', '.join(missing)} after installing into {root / '.venv'}"
        )
    venv = root / ".venv"
    python = _venv_python(venv)
    print(
        f"First run: installing the project into {venv} (missing: {', '.join(missing)})",
        file=sys.stderr,
    )
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    spec = f"{root}[{extras}]" if extras else str(root)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", spec],
        check=True,
    )
    os.environ[_MARKER] = "1"
    os.execv(str(python), [str(python), *sys.argv])  # noqa: S606 -- re-run this same script
