"""The Quick start's demo: the whole loop on a copy of the shipped example, end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import Outcome, git

RunCli = Callable[..., Outcome]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inventory"


def test_the_demo_drives_the_example_to_pull_requests(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKLOG_REPORTS__HTML", "true")  # as a user gets it
    before = {p: p.read_bytes() for p in EXAMPLE.rglob("*") if p.is_file()}
    target = tmp_path / "inventory"

    result = run_cli("demo", "--into", str(target))

    assert result.code == 0, result.err
    assert "== 2. The run: discover, then each item through the micro-cycle ==" in result.out
    # The status report after the run counts the run's own events.
    assert "this period: 6 processed, 0 completed, 5 blocked" in result.out
    status = target / "DOCS" / "status"
    assert (status / "index.html").read_text().count("<svg") == 5
    assert (target / "DOCS" / "tech_debt.md").read_text().count("| TODO |") == 3
    # The run went through the whole backlog, so the pass was reviewed.
    assert "End-of-pass review written to" in result.out
    assert (status / "tuning.md").is_file()
    items = {
        i["id"]: i
        for i in YAML(typ="safe").load((target / "DOCS" / "backlog.yml").read_text())["items"]
    }
    assert {k for k, v in items.items() if v["status"] == "PR"} == {"INV-1", "INV-2", "INV-9"}
    assert items["INV-3"]["blocked_reason"].startswith(
        "gate failed at red: the new tests pass on the unchanged code"
    )
    assert items["INV-4"]["status"] == "REFINED"
    assert items["INV-4.1"]["links"] == ["parent:INV-4"]
    # The stand-in has nothing for the slices: each is blocked, none is left in DOING.
    assert (items["INV-4.1"]["status"], items["INV-4.2"]["status"]) == ("BLOCKED", "BLOCKED")
    assert items["INV-5"]["blocked_reason"].startswith("needs approval: security-sensitive")
    branches = git(target, "branch", "--list", "backlog/*", "--format=%(refname:short)")
    assert "backlog/INV-1-ledger-remove-accepts-zero-and-negative" in branches.split()
    fixed = git(
        target, "show", "backlog/INV-1-ledger-remove-accepts-zero-and-negative:inventory/stock.py"
    )
    assert "must be positive" in fixed
    assert git(target, "status", "--porcelain", "--untracked-files=no").strip() in (
        "",
        "M DOCS/backlog.yml",
    )
    assert {p: p.read_bytes() for p in EXAMPLE.rglob("*") if p.is_file()} == before
