"""End-to-end tests of ``run_continuous_executor.py``, the original engine's flags, as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import MICRO_CYCLE, backlog_path, snapshot, stamp, utc_now

from conftest import Outcome

pytestmark = pytest.mark.slow

RunCli = Callable[..., Outcome]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "run_continuous_executor.py"
REFINE = f"criteria -> {MICRO_CYCLE}  (no acceptance criteria yet)"


def write_backlog(repo: Path) -> None:
    """Three open items a month old (aging capped at 2, so WSJF is exact), one held."""
    created = stamp(utc_now() - timedelta(days=30))
    entries = (
        # 2 x (5 + 5 + 5) / 3 = 10.00, has criteria: execute
        ("BL-1", "Show totals row", "READY", 5, 5, 5, 3, '["totals match the rows"]'),
        # 2 x (8 + 3 + 2) / 3 = 8.67, no criteria: refine
        ("BL-2", "Add CSV export", "NEW", 8, 3, 2, 3, "[]"),
        # 2 x (3 + 1 + 1) / 2 = 5.00, no criteria: refine
        ("BL-3", "Tidy the changelog", "NEW", 3, 1, 1, 2, "[]"),
        # 2 x (5 + 5 + 8) / 3 = 12.00, but mentions a password: held
        ("BL-4", "Rotate the password store", "READY", 5, 5, 8, 3, '["done"]'),
    )
    text = "version: 1\nitems:\n" + "".join(
        f"- id: {item_id}\n  title: {title}\n  status: {status}\n  impact: {i}\n"
        f"  time_criticality: {t}\n  risk_reduction: {r}\n  effort: {e}\n"
        f"  created_at: {created}\n  acceptance_criteria: {criteria}\n"
        for item_id, title, status, i, t, r, e, criteria in entries
    )
    path = backlog_path(repo)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")


def plan_lines(repo: Path, cycles: int | None = None) -> list[str]:
    """What the plan of ``write_backlog``'s items looks like, taking at most ``cycles``."""
    taken = 3 if cycles is None else cycles
    stop = "" if cycles is None else f" (stopping after {cycles})"
    rows = [
        "#  ID    WSJF   Action   Steps (and why)",
        f"1  BL-1  10.00  execute  {MICRO_CYCLE}",
        f"2  BL-2  8.67   refine   {REFINE}",
        f"3  BL-3  5.00   refine   {REFINE}",
    ]
    later = ["BL-1", "BL-2", "BL-3"][taken:]
    return [
        f"Plan for {backlog_path(repo)}: 4 items, 4 open. "
        f"A run would take {taken} item(s), best WSJF first{stop}.",
        *rows[: taken + 1],
        *([f"Left for later runs: {', '.join(later)}"] if later else []),
        "Held for approval (`backlog approve ID`):",
        "  BL-4  needs approval: security-sensitive: mentions 'password'",
        "Nothing was written.",
    ]


def legacy(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the script as a real process, the way its users do."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def lines(text: str) -> list[str]:
    """``text`` split into lines, checking it ends with a newline."""
    assert text.endswith("\n"), repr(text)
    return text.splitlines()


def test_status_report_writes_a_report(repo: Path) -> None:
    write_backlog(repo)

    before = utc_now()
    result = legacy("--status-report", cwd=repo)
    after = utc_now()

    assert (result.returncode, result.stderr) == (0, "")
    [report_path] = sorted((repo / "DOCS" / "status").glob("status_*.json"))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    moment = datetime.strptime(report["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= moment <= after
    assert report_path.name == f"status_{moment:%Y%m%dT%H%M%SZ}.json"
    assert report_path.with_suffix(".md").is_file()
    counts = ("items_processed", "items_completed", "items_blocked", "completed_items")
    assert [report[key] for key in counts] == [0, 0, 0, []]
    assert report["backlog_size_by_status"] == {
        "NEW": 2,
        "REFINED": 0,
        "READY": 2,
        "DOING": 0,
        "PR": 0,
        "MERGED": 0,
        "DONE": 0,
        "BLOCKED": 0,
    }
    assert lines(result.stdout) == [
        f"Status report written to {report_path} (and {report_path.with_suffix('.md').name}, "
        "latest.json, latest.md, tech_debt.md)",
        "  backlog: 4 items (NEW 2, READY 2)",
        "  this period: 0 processed, 0 completed, 0 blocked",
        "  WSJF of open items: median 9.3333, max 12.0",
    ]


@pytest.mark.parametrize(
    ("args", "cycles"),
    [
        pytest.param(("--dry-run",), None, id="dry-run"),
        pytest.param(("--dry-run", "--max-cycles", "1"), 1, id="max-cycles"),
        pytest.param(("--max-cycles", "2", "--dry-run"), 2, id="max-cycles-first"),
    ],
)
def test_dry_run_prints_the_plan_and_writes_nothing(
    repo: Path, args: Sequence[str], cycles: int | None
) -> None:
    write_backlog(repo)
    before = snapshot(repo)

    result = legacy(*args, cwd=repo)

    assert (result.returncode, result.stderr) == (0, "")
    assert lines(result.stdout) == plan_lines(repo, cycles)
    assert snapshot(repo) == before


def test_config_file_is_honoured(repo: Path, tmp_path: Path) -> None:
    write_backlog(repo)
    config = tmp_path / "config.json"
    config.write_text(
        '{"github": {"username": "someone"}, "execution": {"max_cycles": 2}}\n', encoding="utf-8"
    )

    result = legacy("--config", str(config), "--dry-run", cwd=repo)

    assert (result.returncode, result.stderr) == (0, "")
    assert lines(result.stdout) == plan_lines(repo, cycles=2)


def test_repo_option_from_another_folder(repo: Path, tmp_path: Path) -> None:
    write_backlog(repo)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = legacy("--repo", str(repo), "--dry-run", cwd=elsewhere)

    assert (result.returncode, result.stderr) == (0, "")
    assert lines(result.stdout) == plan_lines(repo)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "env", "debug"),
    [
        pytest.param((), {}, False, id="default"),
        pytest.param(("--log-level", "DEBUG"), {}, True, id="flag"),
        pytest.param(("--log-level", "debug"), {}, True, id="flag-lower-case"),
        pytest.param((), {"LOG_LEVEL": "DEBUG"}, True, id="env"),
        pytest.param(("--log-level", "INFO"), {"LOG_LEVEL": "DEBUG"}, False, id="flag-beats-env"),
    ],
)
def test_log_level_debug_shows_debug_messages(
    repo: Path,
    run_cli: RunCli,
    args: Sequence[str],
    env: Mapping[str, str],
    debug: bool,
) -> None:
    write_backlog(repo)
    assert run_cli("plan").code == 0  # fills the entry cache in the state folder
    [cache] = (repo / ".git" / "backlog-executor" / "cache").glob("backlog-entries-*.pickle")
    cache.write_bytes(b"not a pickle")  # a damaged cache is ignored, and said so at DEBUG

    result = legacy(*args, "--dry-run", cwd=repo, env=env)

    assert result.returncode == 0
    assert lines(result.stdout) == plan_lines(repo)
    logged = result.stderr.splitlines()
    if debug:
        assert logged[0] == (
            f"DEBUG: entry cache {cache} is damaged after 0 entries: invalid load key, 'n'."
        )
        assert all(line.startswith("DEBUG: ") for line in logged)
    else:
        assert logged == []


@pytest.mark.parametrize(
    ("args", "command"),
    [
        pytest.param((), "run", id="no-flags"),
        pytest.param(("--max-cycles", "3"), "run", id="max-cycles-alone"),
    ],
)
def test_a_run_without_an_agent_says_how_to_configure_one(
    repo: Path, args: Sequence[str], command: str
) -> None:
    write_backlog(repo)
    before = snapshot(repo)

    result = legacy(*args, cwd=repo)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: no agent configured: set agent.type (aider, ")
    assert f"`backlog plan` shows what a {command} would do" in result.stderr
    assert snapshot(repo) == before


def test_discover_only_discovers_and_merges(repo: Path) -> None:
    (repo / "app.py").write_text("x = 1\n# TODO: handle the empty case\n")
    subprocess.run(["git", "add", "app.py"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "todo"], cwd=repo, check=True)

    result = legacy("--discover-only", cwd=repo)

    assert (result.returncode, result.stderr) == (0, "")
    assert any(line.startswith("comments: 1 found in ") for line in result.stdout.splitlines())
    text = backlog_path(repo).read_text()
    assert "  title: handle the empty case\n" in text
    assert "    path: app.py\n    line: 2\n    tag: TODO\n" in text


def test_help_maps_the_options_onto_commands(repo: Path) -> None:
    result = legacy("--help", cwd=repo, env={"COLUMNS": "100"})

    assert (result.returncode, result.stderr) == (0, "")
    out = lines(result.stdout)
    assert out[0].startswith("usage: run_continuous_executor.py [-h] [--config PATH]")
    start = out.index(
        "Continuous Backlog Executor, with the original engine's options. Each maps onto a "
        "`backlog`"
    )
    assert out[start : start + 3] == [
        "Continuous Backlog Executor, with the original engine's options. Each maps onto a "
        "`backlog`",
        "subcommand: --status-report is `backlog status`, --dry-run is `backlog plan`. See",
        "`backlog --help` for everything else.",
    ]


SEED_EXAMPLE = """\
import json
from datetime import datetime
from src.continuous_backlog_executor import BacklogItem, TaskType, TaskStatus

item = BacklogItem(id="custom_1", title="Custom Task", description="Manually created task",
                   task_type=TaskType.FEATURE, impact=8, effort=3, status=TaskStatus.READY,
                   wsjf_score=0.0, created_at=datetime.now(), updated_at=datetime.now(),
                   links=["https://github.com/repo/issues/123"],
                   acceptance_criteria=["Implement feature X", "Add unit tests",
                                        "Update documentation"],
                   security_notes="Standard security review",
                   test_notes="Requires integration tests")
print(json.dumps({
    "id": item.id, "title": item.title, "description": item.description,
    "task_type": item.task_type.value, "impact": item.impact, "effort": item.effort,
    "status": item.status.value, "wsjf_score": item.wsjf_score,
    "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
    "links": item.links, "acceptance_criteria": item.acceptance_criteria,
    "security_notes": item.security_notes, "test_notes": item.test_notes,
    "time_criticality": item.time_criticality, "risk_reduction": item.risk_reduction,
    "is_open": item.is_open,
}))
"""


def test_the_original_python_example_works_from_the_repository_root() -> None:
    before = utc_now()
    result = subprocess.run(
        [sys.executable, "-c", SEED_EXAMPLE],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    after = utc_now()

    assert (result.returncode, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    created, updated = (datetime.fromisoformat(data[key]) for key in ("created_at", "updated_at"))
    for moment in (created, updated):  # naive local times, kept in UTC to the second
        assert moment.utcoffset() == timedelta(0)
        assert before <= moment <= after
    assert data == {
        "id": "custom_1",
        "title": "Custom Task",
        "description": "Manually created task",
        "task_type": "Feature",
        "impact": 8,
        "effort": 3,
        "status": "READY",
        "wsjf_score": 0.0,
        "created_at": created.isoformat(),
        "updated_at": updated.isoformat(),
        "links": ["https://github.com/repo/issues/123"],
        "acceptance_criteria": ["Implement feature X", "Add unit tests", "Update documentation"],
        "security_notes": "Standard security review",
        "test_notes": "Requires integration tests",
        "time_criticality": None,
        "risk_reduction": None,
        "is_open": True,
    }
