"""Reports computed from what the real engine did: two runs of ``backlog run`` with the scripted
stand-in agent over a small project whose items end done (auto-merged), blocked by a failing
gate, and held for approval. Every figure is checked against that known outcome."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from conftest import CALC_BACKLOG, Outcome, git
from continuous_backlog_executor import context
from continuous_backlog_executor.reports import publish
from continuous_backlog_executor.reports.markdown import cell

RunCli = Callable[..., Outcome]

BACKLOG = (
    CALC_BACKLOG
    + """\
  - id: CALC-2
    title: multiply two numbers
    task_type: Bug
    status: READY
    impact: 5
    effort: 2
    acceptance_criteria: [mul(2, 3) is 6]
  - id: CALC-3
    title: keep the password of the calculator's admin screen
    task_type: Feature
    status: READY
    impact: 3
    effort: 1
    acceptance_criteria: [the admin screen asks for it]
"""
)
HUMAN = "# Our debt\n\nWe pay down one item a sprint. Ask Ada before touching calc/.\n"
SCRIPT = {
    "CALC-1": {
        "red": [
            [
                {
                    "write": {
                        "path": "tests/test_add.py",
                        "content": "from calc import add\n\n\ndef test_add():\n"
                        "    assert add(2, 3) == 5\n",
                    }
                }
            ]
        ],
        "green": [[{"replace": {"path": "calc/__init__.py", "old": "a - b", "new": "a + b"}}]],
    },
    "CALC-2": {
        "red": [
            [
                {
                    "write": {
                        "path": "tests/test_mul.py",
                        "content": "from calc import mul\n\n\ndef test_mul():\n"
                        "    assert mul(2, 3) == 6\n",
                    }
                }
            ]
        ],
        # Wrong on every try: the green gate fails three times.
        "green": [
            [
                {
                    "append": {
                        "path": "calc/__init__.py",
                        "content": "\n\ndef mul(a, b):\n    return a + b\n",
                    }
                }
            ]
        ],
    },
}


def _run(run_cli: RunCli, script: Path, *extra: str) -> dict[str, Any]:
    settings = {
        "agent.type": "scripted",
        "agent.script": str(script),
        "execution.max_tries": "3",
        "execution.auto_merge": "true",
        "reports.coverage": "true",
        "reports.html": "true",
    }
    options = [part for key, value in settings.items() for part in ("--set", f"{key}={value}")]
    outcome = run_cli("run", "--no-discover", "--format", "json", *options, *extra)
    assert outcome.code == 0, outcome.err
    return dict(json.loads(outcome.out))


def _status(repo: Path) -> Path:
    return repo / "DOCS" / "status"


def _cycle_seconds(repo: Path, item: str) -> float:
    """DOING to the first of PR, MERGED or DONE, read straight from the journal."""
    events = [
        json.loads(line)
        for line in (_status(repo) / "events.jsonl").read_text().split("\n")
        if line
    ]
    start = next(e["time"] for e in events if e["item"] == item and e["to"] == "DOING")
    end = next(
        e["time"] for e in events if e["item"] == item and e["to"] in ("PR", "MERGED", "DONE")
    )
    parse = datetime.fromisoformat
    return (parse(end) - parse(start)).total_seconds()


class _Checker(HTMLParser):
    """Fails on tags closed out of order; collects ids and links."""

    VOID = frozenset({"meta", "br", "img", "hr", "link", "input", "col", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for key in ("href", "src"):
            if found.get(key):
                self.links.append(str(found[key]))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))

    def handle_endtag(self, tag: str) -> None:
        assert self.open, tag
        assert self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()


@pytest.fixture
def reported(project: Path, tmp_path: Path, run_cli: RunCli) -> dict[str, Any]:
    """The project after one run; returns the run's JSON and the first report."""
    (project / "DOCS" / "backlog.yml").write_text(BACKLOG)
    (project / "DOCS" / "tech_debt.md").write_text(HUMAN)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "three items")
    script = tmp_path / "script.yml"
    with script.open("w") as stream:
        YAML().dump(SCRIPT, stream)
    ran = _run(run_cli, script)
    report = json.loads((_status(project) / "latest.json").read_text())
    return {"run": ran, "report": report, "script": script}


def test_every_figure_of_the_report_matches_what_the_run_did(
    project: Path, reported: dict[str, Any]
) -> None:
    ran, report = reported["run"], reported["report"]
    assert [(p["id"], p["outcome"], p["status"]) for p in ran["processed"]] == [
        ("CALC-1", "success", "DONE"),
        ("CALC-2", "gate failed", "BLOCKED"),
    ]
    assert ran["stopped"] == "nothing actionable is left"

    assert report["items_processed"] == 2
    assert report["completed_items"] == ["CALC-1"]
    assert report["items_delivered"] == ["CALC-1"]
    assert report["items_blocked"] == 2  # CALC-2 by its gate, CALC-3 held for approval
    assert report["completion_rate"] == 0.5
    assert report["cycle_time_avg"] == _cycle_seconds(project, "CALC-1")
    counts = dict.fromkeys(("NEW", "REFINED", "READY", "DOING", "PR", "MERGED"), 0)
    assert report["backlog_size_by_status"] == counts | {"DONE": 1, "BLOCKED": 2}
    assert report["escalations"] == {"count": 1, "by_trigger": {"security-sensitive": 1}}
    assert report["gate_failures"] == {"green": 3}
    assert report["gate_failures_by_type"] == {"Bug": {"green": 3}}
    assert report["agent_success"]["overall"] == {"attempts": 2, "succeeded": 1, "rate": 0.5}
    assert report["agent_success"]["by_agent"] == {
        "scripted": {"attempts": 2, "succeeded": 1, "rate": 0.5}
    }
    assert report["agent_success"]["by_source"] == {
        "manual": {"attempts": 2, "succeeded": 1, "rate": 0.5}
    }
    assert report["cycle_time"]["by_type"]["Bug"]["count"] == 1
    assert report["throughput"]["items"] == 1
    assert report["spend"]["by_item"] == [
        {"id": "CALC-1", "attempts": 1, "tokens": 0, "cost_usd": None}
    ]
    blocked = {b["id"]: b["reason"] for b in report["blocked_items"]}
    assert blocked["CALC-3"] == "needs approval: security-sensitive: mentions 'password'"
    assert blocked["CALC-2"].startswith("gate failed at green")
    risks = {r["id"]: r["why"] for r in report["risks"]}
    assert risks["CALC-3"] == "awaiting approval"
    # CALC-1 was merged, so the delta is main's line coverage before the run against after
    # it: 4 of 5 statements (add's body never ran), then all 8 (its new test and the fixed
    # body run).
    base, after = report["coverage"]["base"], report["coverage"]["after"]
    assert (base["covered"], base["statements"]) == (4, 5)
    assert (after["covered"], after["statements"], after["percent"]) == (8, 8, 100.0)
    assert after["sha"] == git(project, "rev-parse", "main").strip()
    assert report["coverage_delta"] == 20.0
    assert report["coverage_delta_note"] is None


def _markdown_matches(project: Path, report: dict[str, Any]) -> None:
    page = (_status(project) / "latest.md").read_text()
    figures = {
        "Items processed (entered DOING)": report["items_processed"],
        "Items completed (merged or done)": report["items_completed"],
        "Items delivered (pull request or done)": len(report["items_delivered"]),
        "Items blocked": report["items_blocked"],
        "Completion rate": report["completion_rate"],
        "Average cycle time (s)": report["cycle_time_avg"],
        "Coverage delta (points)": report["coverage_delta"],
        "Agent success rate": report["agent_success"]["overall"]["rate"],
        "Escalations": report["escalations"]["count"],
        "green": report["gate_failures"]["green"],
        "security-sensitive": report["escalations"]["by_trigger"]["security-sensitive"],
    }
    for label, value in figures.items():
        assert f"| {label} | {cell(value)} |" in page.splitlines(), label
    for status, count in report["backlog_size_by_status"].items():
        assert f"| {status} | {count} |" in page.splitlines()
    stamped = sorted(_status(project).glob("status_*.json"))
    assert stamped[-1].read_text() == (_status(project) / "latest.json").read_text()
    assert stamped[-1].with_suffix(".md").read_text() == page


def _html_is_valid_and_self_contained(project: Path) -> None:
    page = (_status(project) / "index.html").read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(page)
    checker.close()

    assert checker.open == []
    for chart in (
        "chart-status-over-time",
        "chart-wsjf-distribution",
        "chart-cycle-time",
        "chart-throughput",
        "chart-cost-per-item",
    ):
        assert chart in checker.ids
        figure = page[page.index(f'id="{chart}"') :]
        assert "<svg" in figure[: figure.index("</figure>")]
    assert not [link for link in checker.links if re.match(r"(?i)^\s*(https?:)?//", link)]
    assert "@import" not in page
    assert not re.search(r"(?i)url\(\s*['\"]?(https?:)?//", page)
    assert "CALC-2" in page
    assert "needs approval: security-sensitive" in page
    # Each ranked item's receipt is linked, relative to the status folder.
    receipt = next(link for link in checker.links if "receipts/CALC-2/" in link)
    assert (_status(project) / receipt).resolve().is_file()


def _tech_debt_keeps_the_human_section(project: Path) -> None:
    text = (project / "DOCS" / "tech_debt.md").read_text()

    assert text.startswith(HUMAN)
    assert "<!-- backlog:generated:start -->" in text


def test_the_pages_agree_with_the_json_and_the_terminal_report_compares_periods(
    project: Path, reported: dict[str, Any], run_cli: RunCli
) -> None:
    # One run feeds all four readers; each check is a function above.
    _markdown_matches(project, reported["report"])
    _html_is_valid_and_self_contained(project)
    _tech_debt_keeps_the_human_section(project)
    _report_compares_periods(run_cli)


def test_a_second_pass_prunes_old_reports_and_meets_its_regression_again(
    project: Path, reported: dict[str, Any], run_cli: RunCli
) -> None:
    backlog = YAML(typ="safe").load((project / "DOCS" / "backlog.yml").read_text())
    meta = [i for i in backlog["items"] if (i.get("source") or {}).get("kind") == "review"]
    assert [m["title"] for m in meta] == ["The green gate keeps failing for Bug items"]
    assert meta[0]["status"] == "NEW"
    first_reports = sorted(_status(project).glob("status_*.json"))

    assert run_cli("unblock", "CALC-2").code == 0
    again = _run(run_cli, reported["script"], "--set", "reports.keep=1")

    assert [(p["id"], p["status"]) for p in again["processed"]] == [("CALC-2", "BLOCKED")]
    backlog = YAML(typ="safe").load((project / "DOCS" / "backlog.yml").read_text())
    meta_again = [i for i in backlog["items"] if (i.get("source") or {}).get("kind") == "review"]
    assert [m["id"] for m in meta_again] == [meta[0]["id"]]  # one item, not one per pass
    assert any(line.startswith("seen again") for line in meta_again[0]["evidence"])
    # The meta-item is for a person: the run did not pick it.
    assert meta[0]["id"] not in [p["id"] for p in again["processed"]]
    reports = sorted(_status(project).glob("status_*.json"))
    assert len(reports) == 1
    assert reports[0] not in first_reports
    assert reports[0].read_text() == (_status(project) / "latest.json").read_text()
    rows = (_status(project) / "history.jsonl").read_text().splitlines()
    assert len(rows) == 2  # the pruned report's figures live on in the history
    passes = (_status(project) / "passes.jsonl").read_text().splitlines()
    assert len(passes) == 2
    second = json.loads(passes[1])
    assert second["compared"]["delivery.items_delivered"] == {"now": 0, "before": 1, "change": -1}
    assert second["meta_items"] == {"added": [], "seen_again": [meta[0]["id"]]}


def _report_compares_periods(run_cli: RunCli) -> None:
    outcome = run_cli("report", "--since", "1d", "--format", "json")

    assert outcome.code == 0, outcome.err
    rows = {row["metric"]: row for row in json.loads(outcome.out)["rows"]}
    assert (rows["Items processed"]["now"], rows["Items processed"]["before"]) == (2, 0)
    assert rows["Items processed"]["trend"] == "▲ +2 better"
    assert rows["Gate failures"]["now"] == 3
    assert rows["Agent success rate"]["now"] == 0.5


def test_review_proposes_tuning_that_applies_only_when_asked(
    project: Path, run_cli: RunCli
) -> None:
    backlog = project / "DOCS" / "backlog.yml"
    backlog.write_text(
        backlog.read_text().replace("status: READY", "status: READY\n    created_at: 2026-01-01")
    )

    reviewed = run_cli("review", "--format", "json")

    assert reviewed.code == 0, reviewed.err
    data = json.loads(reviewed.out)
    assert data["starving_count"] == 1
    # Its aging multiplier is at the cap already: both the rate and the cap are proposed.
    changes = [(c["key"], c["proposed"]) for c in data["proposal"]["changes"]]
    assert changes == [("scoring.aging_per_day", 0.15), ("scoring.aging_cap", 3.0)]
    assert not (project / ".backlog.json").exists()  # proposed, not applied
    shown = run_cli("tune")
    assert "scoring.aging_per_day: 0.1 -> 0.15" in shown.out
    assert not (project / ".backlog.json").exists()

    applied = run_cli("tune", "--apply")

    assert applied.code == 0, applied.err
    assert json.loads((project / ".backlog.json").read_text()) == {
        "scoring": {"aging_per_day": 0.15, "aging_cap": 3.0}
    }
    assert "applied already" in run_cli("tune", "--apply").out
    titles = [
        i["title"]
        for i in YAML(typ="safe").load(backlog.read_text())["items"]
        if (i.get("source") or {}).get("kind") == "review"
    ]
    assert titles == ["1 item(s) waited over 30 days despite aging"]


def test_the_refresh_after_each_item_updates_latest_without_a_dated_report(
    project: Path, run_cli: RunCli
) -> None:
    assert run_cli("status").code == 0
    folder = _status(project)
    dated = sorted(folder.glob("status_*.json"))
    rows = (folder / "history.jsonl").read_text()
    assert run_cli("block", "CALC-1", "--reason", "waiting for the spec").code == 0
    ctx = context.build(repo=project, config_file=None, overrides={})

    publish.write(ctx, final=False)

    latest = json.loads((folder / "latest.json").read_text())
    assert [b["id"] for b in latest["blocked_items"]] == ["CALC-1"]
    assert latest["coverage_delta_note"] == "measured when the run ends"
    assert sorted(folder.glob("status_*.json")) == dated
    assert (folder / "history.jsonl").read_text() == rows


def test_unmerged_pull_requests_count_their_own_coverage_change(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    script = tmp_path / "script.yml"
    with script.open("w") as stream:
        YAML().dump({"CALC-1": SCRIPT["CALC-1"]}, stream)

    ran = _run(run_cli, script, "--set", "execution.auto_merge=false")

    assert [(p["id"], p["status"]) for p in ran["processed"]] == [("CALC-1", "PR")]
    report = json.loads((_status(project) / "latest.json").read_text())
    item = report["coverage"]["by_item"]["CALC-1"]
    assert (item["base"]["covered"], item["base"]["statements"]) == (4, 5)
    assert (item["head"]["covered"], item["head"]["statements"]) == (8, 8)
    assert item["delta"] == report["coverage_delta"] == 20.0
    assert report["coverage_delta_note"].startswith("nothing was merged in this period")
    assert report["coverage"]["after"]["percent"] == 80.0  # main itself did not change


def test_a_status_file_that_cannot_be_written_is_a_clear_error(
    project: Path, run_cli: RunCli
) -> None:
    blocker = _status(project) / "index.html"
    blocker.mkdir(parents=True)
    backlog = (project / "DOCS" / "backlog.yml").read_bytes()

    outcome = run_cli("status", "--set", "reports.html=true")

    assert outcome.code == 1
    assert outcome.err.strip() == (
        f"error: {blocker}: cannot write the status report (Is a directory); "
        "make DOCS/status (paths.status_dir) a writable folder"
    )
    assert (project / "DOCS" / "backlog.yml").read_bytes() == backlog
    assert not [p for p in _status(project).iterdir() if p.name.startswith(".")]
