#!/usr/bin/env python3
"""Run the Continuous Backlog Executor with the original engine's options.

    python run_continuous_executor.py [--config PATH] [--repo PATH] [--dry-run]
        [--discover-only] [--status-report] [--log-level LEVEL] [--max-cycles N]

Each option maps onto a ``backlog`` subcommand (``backlog --help`` lists them all). On a
machine without the project's dependencies, the first run installs them into ./.venv.
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
            "detect_secrets",
            "pytest",
            "httpx",
            "coverage",
            "matplotlib",
        ),
    )
    from continuous_backlog_executor.cli import legacy_main

    sys.exit(legacy_main())
