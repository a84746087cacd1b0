#!/usr/bin/env python3
"""Run the whole test suite: ``python run_tests.py [pytest options]``.

On a machine without the project's dependencies, the first run installs them (with the
development extras) into ./.venv and runs the tests from there.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))

from continuous_backlog_executor import bootstrap  # noqa: E402

if __name__ == "__main__":
    bootstrap.ensure(
        ROOT,
        modules=(
            "ruamel.yaml",
            "filelock",
            "rich",
            "pytest",
            "hypothesis",
            "httpx",
            "coverage",
            "matplotlib",
        ),
        extras="dev",
    )
    import pytest

    sys.exit(pytest.main(["--rootdir", str(ROOT), str(ROOT / "tests"), *sys.argv[1:]]))
