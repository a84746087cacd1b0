"""``backlog run`` with a coding-CLI preset: a fake ``claude`` on PATH that checks how it was
called, does the phase's work and reports its cost the way ``claude -p --output-format json``
does. The engine's gates, budget and environment rules apply as for any agent."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_run import processed

from conftest import Outcome, git

RunCli = Callable[..., Outcome]
CANARY = "canary-3b6f0e1d8c2a"
KEY = "sk-ant-test-4c5d6e7f8a9b"

FAKE_CLAUDE = """\
#!{python}
import json, os, pathlib, sys

args = sys.argv[1:]
assert args[0] == "-p", args
for flag in ("--output-format", "--permission-mode", "--max-turns", "--max-budget-usd"):
    assert flag in args, flag
assert args[args.index("--permission-mode") + 1] == "acceptEdits"
assert os.environ.get("ANTHROPIC_API_KEY") == "{key}", "the preset's key is missing"
assert "DEPLOY_TOKEN" not in os.environ, "a secret reached the agent"
phase = os.environ["BACKLOG_PHASE"]
budget = float(args[args.index("--max-budget-usd") + 1])
if phase == "red":
    pathlib.Path("tests/test_add.py").write_text(
        "from calc import add\\n\\n\\ndef test_add():\\n    assert add(2, 3) == 5\\n"
    )
elif phase == "green":
    path = pathlib.Path("calc/__init__.py")
    path.write_text(path.read_text().replace("a - b", "a + b"))
print(json.dumps({{
    "type": "result", "subtype": "success", "is_error": False, "num_turns": 3,
    "total_cost_usd": min(0.02, budget), "result": "done " + phase,
    "usage": {{"input_tokens": 1000, "output_tokens": 200}},
}}))
"""


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "claude"
    program.write_text(FAKE_CLAUDE.format(python=sys.executable, key=KEY))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("DEPLOY_TOKEN", CANARY)
    return program


def run_claude(run_cli: RunCli, *extra: str) -> Outcome:
    return run_cli(
        "run",
        "--no-discover",
        "--format",
        "json",
        "--set",
        "agent.type=claude",
        "--set",
        "execution.max_tries=1",
        *extra,
    )


def test_the_claude_preset_drives_an_item_to_a_pull_request(
    project: Path, run_cli: RunCli, fake_claude: Path
) -> None:
    outcome = run_claude(run_cli, "--set", "budget.item_cost=1")
    row = processed(outcome)

    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    usage = row["usage"]
    assert isinstance(usage, dict)
    assert usage["cost_usd"] == pytest.approx(0.06)  # red, green, refactor at $0.02 each
    assert (usage["input_tokens"], usage["turns"]) == (3000, 9)
    kept = outcome.out + outcome.err + git(project, "log", "-p", "--all")
    assert CANARY not in kept
    assert KEY not in kept


def test_a_cost_budget_spent_by_a_cli_blocks_the_item(
    project: Path, run_cli: RunCli, fake_claude: Path
) -> None:
    row = processed(run_claude(run_cli, "--set", "budget.item_cost=0.03"))

    assert (row["outcome"], row["status"]) == ("over budget", "BLOCKED")
    assert str(row["reason"]).startswith("budget exhausted: $0.0")
    receipt_dir = project / ".git" / "backlog-executor" / "receipts" / "CALC-1"
    receipt = json.loads(next(receipt_dir.glob("*.json")).read_text())
    assert [s["name"] for s in receipt["steps"]] == ["base tests", "red", "partial work"]
    # The green work the budget cut short is kept under its own ref.
    partial = git(project, "show", "refs/backlog/partial/CALC-1/1:calc/__init__.py")
    assert partial.endswith("return a + b\n")
