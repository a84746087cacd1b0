"""The README documents every setting and keeps its Quick start to two commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from continuous_backlog_executor.config import SETTINGS, env_name

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", sorted(SETTINGS))
def test_every_setting_is_in_the_configuration_reference(key: str) -> None:
    assert re.search(rf"^\| `{re.escape(key)}` \|.*`{env_name(key)}`", README, re.MULTILINE)


def test_the_quick_start_is_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]

    commands = [line for line in block.splitlines() if line.strip()]

    assert [c.split("#")[0].split() for c in commands] == [
        ["python3", "run_continuous_executor.py", "--demo"],
        ["python3", "run_tests.py"],
    ]
