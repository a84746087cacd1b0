"""End-to-end tests of the ``backlog`` command on real temporary git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support import MICRO_CYCLE, backlog_path, parse_stamp, snapshot, stamp, utc_now

from conftest import Outcome
from continuous_backlog_executor.sources import SOURCES

RunCli = Callable[..., Outcome]

ACTOR = "Test User"  # the git user.name the isolated home configures
HEADER = """\
# The backlog: one entry under `items` per piece of work, ranked by WSJF when listed.
# Edit it freely. When the tool rewrites this file it changes only the items it touched and
# keeps comments, key order and keys it does not know. Run `backlog --help` for the commands.
version: 1
items:
"""
LIST_FOOTER = "~ marks an estimate; `backlog explain ID` shows the working."


# --- helpers ---------------------------------------------------------------------------------


def within(text: str, before: datetime, after: datetime) -> str:
    """``text`` after checking it names a time between ``before`` and ``after``."""
    assert before <= parse_stamp(text) <= after, (text, before, after)
    return text


def stored_stamp(value: object) -> str:
    """A time read back from the backlog file, as the tool wrote it."""
    assert isinstance(value, datetime), repr(value)
    return stamp(value.astimezone(UTC))


def journal_path(repo: Path) -> Path:
    """Where status changes are journalled by default."""
    return repo / "DOCS" / "status" / "events.jsonl"


INPUT_KEYS = {"I": "impact", "T": "time_criticality", "R": "risk_reduction", "E": "effort"}


def entry(
    item_id: str, title: str, created: datetime, inputs: str = "", **fields: object
) -> dict[str, object]:
    """One backlog entry as stored; ``inputs`` sets WSJF inputs as ``list`` shows them
    (``"I8 T5 R2 E3"``)."""
    values = {INPUT_KEYS[token[0]]: int(token[1:]) for token in inputs.split()}
    return {"id": item_id, "title": title, "created_at": stamp(created), **values, **fields}


def write_backlog(repo: Path, *items: Mapping[str, object]) -> Path:
    """Write ``items`` into the repository's backlog file by hand, as a person would."""
    text = ["version: 1", "items:"]
    for item in items:
        for index, (key, value) in enumerate(item.items()):
            text.append(f"{'- ' if index == 0 else '  '}{key}: {json.dumps(value)}")
    path = backlog_path(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def read_items(repo: Path) -> list[dict[str, object]]:
    """The items in the backlog file, read back with ruamel.yaml."""
    data = YAML(typ="safe").load(backlog_path(repo).read_text(encoding="utf-8"))
    items: list[dict[str, object]] = data["items"]
    return items


def read_journal(repo: Path) -> list[dict[str, object]]:
    """Every line of the journal, parsed."""
    text = journal_path(repo).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def lines(text: str) -> list[str]:
    """``text`` split into lines, checking it ends with a newline."""
    assert text.endswith("\n"), repr(text)
    return text.splitlines()


# --- shared backlogs -------------------------------------------------------------------------

# Older than ten days, an item's aging multiplier is capped at exactly 2, so its WSJF is exact.
OLD_DAYS = 30


def ranked_backlog(repo: Path) -> datetime:
    """Items whose WSJF order is known; returns their creation time."""
    old = utc_now() - timedelta(days=OLD_DAYS)
    write_backlog(
        repo,
        # WSJF = 2 x cost of delay / effort, with estimates for the inputs left out.
        entry("BL-1", "Add export button", old, "I8 E3", task_type="Feature"),  # 7.33
        entry(  # 34.00
            "BL-2", "Hotfix checkout outage", old, "I13 T13 R8 E2", task_type="Bug", status="READY"
        ),
        entry("BL-3", "Write docs", old, task_type="Doc"),  # 5.00, all estimated
        entry(  # 0.46
            "BL-4", "Tidy old module", old, "I1 T1 R1 E13", task_type="Refactor", status="DONE"
        ),
        entry(  # 18.00
            "BL-5",
            "Upgrade parser",
            old,
            "I5 T3 R1 E1",
            task_type="Bug",
            status="BLOCKED",
            blocked_reason="waiting for vendor",
        ),
        entry("BL-6", "Shipped widget", old, "I3 T3 R3 E3", status="MERGED"),  # 6.00
    )
    return old


LIST_COLUMNS = ("#", "ID", "Status", "Type", "WSJF", "Inputs", "Age", "Title")
# Each item's cells after the rank; open items are numbered by rank, finished ones get "-".
LIST_CELLS = {
    "BL-2": ("BL-2", "READY", "Bug", "34.00", "I13 T13 R8 E2", "30d", "Hotfix checkout outage"),
    "BL-5": ("BL-5", "BLOCKED", "Bug", "18.00", "I5 T3 R1 E1", "30d", "Upgrade parser"),
    "BL-1": ("BL-1", "NEW", "Feature", "7.33", "I8 T~2 R~1 E3", "30d", "Add export button"),
    "BL-3": ("BL-3", "NEW", "Doc", "5.00", "I~3 T~1 R~1 E~2", "30d", "Write docs"),
    "BL-6": ("BL-6", "MERGED", "Feature", "6.00", "I3 T3 R3 E3", "30d", "Shipped widget"),
    "BL-4": ("BL-4", "DONE", "Refactor", "0.46", "I1 T1 R1 E13", "30d", "Tidy old module"),
}
OPEN_RANK = {"BL-2": "1", "BL-5": "2", "BL-1": "3", "BL-3": "4"}


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]) -> list[str]:
    """A plain table as the tool prints it into a pipe: columns two spaces apart, each as wide
    as its widest cell, the ``right`` columns right-aligned, no trailing spaces."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return [line(header), *(line(row) for row in rows)]


def list_table(ids: Sequence[str]) -> list[str]:
    """What ``backlog list`` prints above its footer when it shows ``ids`` of ``ranked_backlog``."""
    rows = [(OPEN_RANK.get(item_id, "-"), *LIST_CELLS[item_id]) for item_id in ids]
    return table(LIST_COLUMNS, rows, right=(0, 4, 6))


def plan_backlog(repo: Path) -> None:
    """One item for every decision ``plan`` can make, with known WSJF."""
    old = utc_now() - timedelta(days=OLD_DAYS)
    write_backlog(
        repo,
        entry(  # 12.00, held: mentions a security keyword
            "BL-1",
            "Rotate the password store",
            old,
            "I5 T5 R8 E3",
            status="READY",
            acceptance_criteria=["old ones are rejected"],
        ),
        entry(  # 6.44, held: effort 9 >= large_effort 8
            "BL-2",
            "Rewrite the report engine",
            old,
            "I13 T8 R8 E9",
            acceptance_criteria=["same numbers as before"],
        ),
        entry("BL-3", "Add CSV export", old, "I8 T3 R2 E3"),  # 8.67, refine: no criteria
        entry(  # 10.00, execute
            "BL-4",
            "Show totals row",
            old,
            "I5 T5 R5 E3",
            status="READY",
            acceptance_criteria=["totals match the rows"],
        ),
        entry(  # 6.00, slice: effort 6 > slice_size_threshold 5
            "BL-5",
            "Split the settings page",
            old,
            "I8 T5 R5 E6",
            status="REFINED",
            acceptance_criteria=["each tab loads on its own"],
        ),
        entry(  # 78.00, skipped
            "BL-6",
            "Upgrade parser",
            old,
            "I13 T13 R13 E1",
            status="BLOCKED",
            blocked_reason="waiting for vendor",
        ),
        entry("BL-7", "Old task", old, "I1 T1 R1 E1", status="DONE"),  # not open
        entry("BL-8", "Half done", old, "I3 T3 R3 E3", status="DOING"),  # 6.00, skipped
        entry(  # 4.00, skipped
            "BL-9", "In review", old, "I2 T2 R2 E3", status="PR", pr_url="https://example.com/pr/9"
        ),
    )


PLAN_HELD = [
    "Held for approval (`backlog approve ID`):",
    "  BL-1  needs approval: security-sensitive: mentions 'password'",
    "  BL-2  needs approval: large effort: effort 9 >= 8",
]
PLAN_SKIPPED = [
    "Skipped:",
    "  BL-6  blocked: waiting for vendor",
    "  BL-8  already in progress",
    "  BL-9  waiting on its pull request https://example.com/pr/9",
]


def plan_row(item_id: str, title: str, status: str, wsjf: float, action: str) -> dict[str, object]:
    """One decision as ``plan --format json`` gives it."""
    criteria_first = ["criteria", *MICRO_CYCLE.split(" -> ")]
    steps, reasons = {
        "execute": (MICRO_CYCLE.split(" -> "), []),
        "refine": (criteria_first, ["no acceptance criteria yet"]),
        "slice": (["slice"], ["effort 6 > slice size 5"]),
    }[action]
    return {
        "id": item_id,
        "title": title,
        "status": status,
        "wsjf": wsjf,
        "action": action,
        "steps": steps,
        "reasons": reasons,
    }


# --- help and version ------------------------------------------------------------------------

SUBCOMMANDS = {
    "add": "add an item to the backlog",
    "approve": "approve an item that needs a human's go-ahead",
    "block": "block an item, with a reason",
    "demo": "run the whole loop on a copy of the example project, with a stand-in agent",
    "discover": "find items in the code and merge them into the backlog",
    "explain": "show how an item's WSJF score is worked out",
    "list": "show the backlog ranked by WSJF",
    "merge": "merge an item's pull request and mark the item DONE",
    "plan": "show what a run would do, in order, writing nothing",
    "prs": "show the pull requests opened for items",
    "report": "print this period's figures against the previous period's",
    "review": "review the last pass: compare it, add meta-items, propose tuning",
    "run": "work through the backlog: each actionable item to a pull request",
    "show": "show one item in full",
    "status": "write a status report and print its summary",
    "tune": "show the proposed tuning; --apply writes it to the configuration",
    "unblock": "release a blocked item back to READY",
}

DESCRIPTIONS = {
    "add": [
        "Add an item. WSJF inputs you leave out are estimated from the title, description and type",
        "whenever the backlog is ranked; values you give are kept and never replaced by estimates.",
    ],
    "approve": [
        'Record your approval on the item. An item blocked with "needs approval: ..." goes back to',
        "READY and the next run continues it from where it stopped; an item not yet blocked is",
        "approved in advance, so the escalation rules will not hold it.",
    ],
    "block": [
        "Mark an item BLOCKED so no run takes it; the reason shows in lists and reports.",
    ],
    "demo": [
        "Copy examples/inventory (a small Python project with TODO/FIXME "
        "comments, a failing test and",
        "a hand-written backlog) into a new git repository, then discover, "
        "rank and run it with the",
        "scripted stand-in agent (examples/inventory-agent/script.yml: "
        "prepared changes per item and",
        "phase, applied as written; it is not an AI). Shows each gate's evidence, the pull-request",
        "branches and the status report. Your own repository is not touched.",
    ],
    "discover": [
        "Run every enabled discovery source over the repository and merge what they find into the",
        "backlog: new problems become items, duplicates found by several sources become one "
        "item, items",
        "whose problem is gone are closed as DONE (never deleted) and reopened if it comes "
        "back. Items",
        "in DOING or PR and everything a person edited are left alone. Exit code 1 when a source",
        "failed (the others' findings are still merged).",
        f"Sources: {', '.join(SOURCES)}.",
    ],
    "explain": [
        "Show each WSJF input and the rule that set it (the item's own value, a keyword "
        "set, the due",
        "date, or the default for its type), the cost of delay, the aging multiplier "
        "from the item's",
        "age in fractional days, the effort, the result, and the item's rank.",
    ],
    "list": [
        "Show items ranked by WSJF = (impact + time criticality + risk reduction) x aging "
        "/ effort,",
        "best first. Open items only unless --all or --status is given. In the Inputs "
        "column, I, T, R",
        "and E are impact, time criticality, risk reduction and effort; a ~ marks a value "
        "estimated",
        "from the item's words or type rather than set on it (`backlog explain ID` shows why).",
    ],
    "merge": [
        "Merge pull request KEY (its number, or an item id for that item's latest one) into",
        "its base branch with a merge commit, then move the item to MERGED and DONE. Nothing",
        "changes when the merge would conflict or would touch uncommitted work in the base",
        "branch's checkout.",
    ],
    "plan": [
        "Rank the backlog and show, for each item in turn, what a run would do with it: refine it",
        "(write acceptance criteria), slice it (split a large item), execute the TDD "
        "micro-cycle up to a",
        "pull request, hold it for a human's approval (with the escalation trigger), or "
        "skip it (with",
        "the reason). Nothing is written.",
    ],
    "prs": [
        "Show every pull request with its number, item, state, branch, title and when it was",
        "opened and merged. `backlog merge NUMBER` merges an open one.",
    ],
    "run": [
        "Sync the backlog (discover, unless --no-discover), rank it by WSJF, then take the",
        "highest-ranked actionable item, refine it, and drive it through the "
        "TDD micro-cycle in its own",
        "git worktree (red, green, refactor, security, docs, CI) to a pull "
        "request; record the evidence;",
        "and go on until nothing actionable is left, --max-cycles items were "
        "processed, or the time",
        "limit is up. The engine checks every step itself; an item whose checks keep failing is",
        "BLOCKED with the reason. Needs an agent (agent.type in the configuration). Ctrl-C stops",
        "cleanly: the current item goes back to READY.",
    ],
    "show": [
        "Show every field of one item, its WSJF inputs and where it came from.",
    ],
    "status": [
        "Compute the metrics for the period since the previous report from the backlog, the "
        "journal",
        "and the evidence receipts (items processed, completed and blocked, cycle times by type "
        "and",
        "source, throughput, agent success, gate failures, escalations, cost, ages, risks, "
        "coverage),",
        "write them to DOCS/status/status_<UTC time>.json with a Markdown twin, copy both to",
        "latest.json and latest.md, draw DOCS/status/index.html, regenerate DOCS/tech_debt.md, "
        "prune",
        "old reports, and print a summary.",
    ],
    "unblock": [
        "Move a BLOCKED item back to READY and clear its blocked reason.",
    ],
}


@pytest.fixture
def wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help text wrapped at 100 columns whatever the terminal."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.mark.usefixtures("wide_help", "repo")
def test_help_lists_every_subcommand_with_its_one_line_help(run_cli: RunCli) -> None:
    result = run_cli("--help")

    assert (result.code, result.err) == (0, "")
    out = lines(result.out)
    assert out[0] == "usage: backlog [-h] [--version] [--repo PATH] [--config PATH]"
    assert "Discover, rank by WSJF and work through a repository's backlog." in out
    start = out.index("  COMMAND")
    listed = out[start + 1 : start + 1 + len(SUBCOMMANDS)]
    assert listed == [f"    {name:<20}{text}" for name, text in SUBCOMMANDS.items()]
    assert out[start + 1 + len(SUBCOMMANDS)] == ""


@pytest.mark.usefixtures("wide_help", "repo")
@pytest.mark.parametrize("command", sorted(DESCRIPTIONS))
def test_every_subcommand_help_shows_its_description(run_cli: RunCli, command: str) -> None:
    result = run_cli(command, "--help")

    assert (result.code, result.err) == (0, "")
    out = lines(result.out)
    assert out[0].startswith(f"usage: backlog {command} [-h]")
    description = DESCRIPTIONS[command]
    start = out.index(description[0])
    assert out[start - 1 : start + len(description) + 1] == ["", *description, ""]
    assert "  -h, --help            show this help message and exit" in out


@pytest.mark.usefixtures("repo")
def test_version_prints_the_installed_version(run_cli: RunCli) -> None:
    result = run_cli("--version")

    assert result == Outcome(0, f"backlog {version('continuous-backlog-executor')}\n", "")


# --- add -------------------------------------------------------------------------------------

EVERY_OPTION_PAIRS = [
    ("--title", "Fix login crash"),
    ("--description", "Users see a crash after signing in"),
    ("--type", "bug"),
    ("--status", "ready"),
    ("--impact", "8"),
    ("--effort", "3"),
    ("--time-criticality", "5"),
    ("--risk-reduction", "2"),
    ("--criteria", "no crash after login"),
    ("--criteria", "a regression test covers it"),
    ("--link", "https://example.com/issues/1"),
    ("--link", "https://example.com/issues/2"),
    ("--label", "auth"),
    ("--label", "ui"),
    ("--due", "2030-01-31"),
    ("--security-notes", "session tokens must not leak"),
    ("--test-notes", "needs an integration test"),
    ("--id", "CUSTOM-7"),
]
EVERY_OPTION = [word for pair in EVERY_OPTION_PAIRS for word in pair]


def test_add_with_every_option_stores_every_field(repo: Path, run_cli: RunCli) -> None:
    before = utc_now()
    result = run_cli("add", *EVERY_OPTION)
    after = utc_now()

    path = backlog_path(repo)
    assert result == Outcome(0, f"added CUSTOM-7 to {path} (WSJF 5.00): Fix login crash\n", "")
    [item] = read_items(repo)
    created = item["created_at"]
    assert isinstance(created, datetime)
    assert before <= created <= after
    assert item == {
        "id": "CUSTOM-7",
        "title": "Fix login crash",
        "task_type": "Bug",
        "status": "READY",
        "description": "Users see a crash after signing in",
        "impact": 8,
        "effort": 3,
        "time_criticality": 5,
        "risk_reduction": 2,
        "due_date": date(2030, 1, 31),
        "created_at": created,
        "updated_at": created,
        "acceptance_criteria": ["no crash after login", "a regression test covers it"],
        "links": ["https://example.com/issues/1", "https://example.com/issues/2"],
        "labels": ["auth", "ui"],
        "security_notes": "session tokens must not leak",
        "test_notes": "needs an integration test",
        "source": {"kind": "manual", "author": ACTOR},
    }
    assert " ".join(item) == (
        "id title task_type status description impact effort time_criticality risk_reduction "
        "due_date created_at updated_at acceptance_criteria links labels security_notes "
        "test_notes source"
    )


TITLES = ("First", "Second", "Third")


def test_add_numbers_items_bl_1_bl_2_and_writes_this_exact_text(
    repo: Path, run_cli: RunCli
) -> None:
    path = backlog_path(repo)
    stamps = []
    for title, expected_id in zip(TITLES, ("BL-1", "BL-2", "BL-3"), strict=True):
        before = utc_now()
        result = run_cli("add", "--title", title, "--format", "json")
        after = utc_now()
        assert (result.code, result.err) == (0, "")
        data = json.loads(result.out)
        assert data["id"] == expected_id
        stamps.append(within(data["created_at"], before, after))

    expected = HEADER + "".join(
        f"- id: BL-{n}\n"
        f"  title: {title}\n"
        "  task_type: Feature\n"
        "  status: NEW\n"
        f"  created_at: {moment}\n"
        f"  updated_at: {moment}\n"
        "  source:\n"
        "    kind: manual\n"
        f"    author: {ACTOR}\n"
        for n, (title, moment) in enumerate(zip(TITLES, stamps, strict=True), start=1)
    )
    assert path.read_text(encoding="utf-8") == expected


def test_add_continues_numbering_after_the_highest_bl_id(repo: Path, run_cli: RunCli) -> None:
    path = backlog_path(repo)
    assert run_cli("add", "--title", "Mine", "--id", "BL-7").code == 0
    assert run_cli("add", "--title", "Custom", "--id", "TEAM-99").code == 0

    result = run_cli("add", "--title", "Next")

    assert result == Outcome(0, f"added BL-8 to {path} (WSJF 1.60): Next\n", "")
    assert [item["id"] for item in read_items(repo)] == ["BL-7", "TEAM-99", "BL-8"]


def test_add_format_json_gives_every_field_and_the_score(repo: Path, run_cli: RunCli) -> None:
    before = utc_now()
    result = run_cli("add", "--title", "Export to CSV", "--label", "reports", "--format", "json")
    after = utc_now()

    assert (result.code, result.err) == (0, "")
    data = json.loads(result.out)
    created = within(data["created_at"], before, after)
    default = "no keyword matched; default for type Feature"
    data.pop("wsjf_score")  # checked on its own below
    data.pop("aging_multiplier")
    assert data == {
        "id": "BL-1",
        "title": "Export to CSV",
        "description": "",
        "task_type": "Feature",
        "status": "NEW",
        "impact": None,
        "effort": None,
        "time_criticality": None,
        "risk_reduction": None,
        "due_date": None,
        "created_at": created,
        "updated_at": created,
        "acceptance_criteria": [],
        "links": [],
        "labels": ["reports"],
        "security_notes": "",
        "test_notes": "",
        "blocked_reason": None,
        "pr_url": None,
        "source": {
            "kind": "manual",
            "path": None,
            "line": None,
            "url": None,
            "tag": None,
            "author": ACTOR,
            "rule": None,
            "fingerprint": None,
            "severity": None,
        },
        "also_found_by": [],
        "approval": None,
        "attempts": 0,
        "evidence": [],
        "resolution": None,
        "score": {
            "impact": {"value": 5, "rule": default, "estimated": True},
            "time_criticality": {"value": 2, "rule": default, "estimated": True},
            "risk_reduction": {"value": 1, "rule": default, "estimated": True},
            "effort": {"value": 5, "rule": default, "estimated": True},
            "days_old": 0.0,
            "aging_multiplier": 1.0,
            "aging_capped": False,
            "cost_of_delay": 8.0,
            "wsjf": 1.6,
        },
    }
    assert [item["id"] for item in read_items(repo)] == ["BL-1"]


@pytest.mark.usefixtures("repo")
def test_add_format_json_reports_the_wsjf_it_just_computed(run_cli: RunCli) -> None:
    # ``list --format json`` and ``show --format json`` fill wsjf_score from the score; so must add.
    result = run_cli("add", "--title", "Export to CSV", "--format", "json")

    data = json.loads(result.out)
    assert data["score"]["wsjf"] == 1.6
    assert (data["wsjf_score"], data["aging_multiplier"]) == (1.6, 1.0)


# --- list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "ids", "footer"),
    [
        pytest.param((), ["BL-2", "BL-5", "BL-1", "BL-3"], "4 shown of 6 items", id="open"),
        pytest.param(
            ("--all",),
            ["BL-2", "BL-5", "BL-1", "BL-3", "BL-6", "BL-4"],
            "6 shown of 6 items",
            id="all",
        ),
        pytest.param(
            ("--status", "done", "--status", "BLOCKED"),
            ["BL-5", "BL-4"],
            "2 shown of 6 items",
            id="status-repeated",
        ),
        pytest.param(("--status", "MERGED"), ["BL-6"], "1 shown of 6 items", id="status-finished"),
        pytest.param(("--type", "bug"), ["BL-2", "BL-5"], "2 shown of 6 items", id="type"),
        pytest.param(
            ("--type", "Doc", "--type", "Feature"),
            ["BL-1", "BL-3"],
            "2 shown of 6 items",
            id="type-repeated",
        ),
        pytest.param(("--limit", "2"), ["BL-2", "BL-5"], "2 shown of 6 items", id="limit"),
        pytest.param(
            ("--all", "--limit", "5", "--type", "Feature"),
            ["BL-1", "BL-6"],
            "2 shown of 6 items",
            id="combined",
        ),
    ],
)
def test_list_shows_items_in_wsjf_order(
    repo: Path, run_cli: RunCli, args: Sequence[str], ids: list[str], footer: str
) -> None:
    ranked_backlog(repo)

    result = run_cli("list", *args)

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == [
        *list_table(ids),
        f"{footer} (2 finished). {LIST_FOOTER}",
    ]


def test_list_format_json_gives_every_field_with_score_breakdown(
    repo: Path, run_cli: RunCli
) -> None:
    old = ranked_backlog(repo)

    result = run_cli("list", "--format", "json")

    assert (result.code, result.err) == (0, "")
    data = json.loads(result.out)
    assert [item["id"] for item in data] == ["BL-2", "BL-5", "BL-1", "BL-3"]
    assert [item["wsjf_score"] for item in data] == [34.0, 18.0, 7.3333, 5.0]
    assert data[2] == {
        "id": "BL-1",
        "title": "Add export button",
        "description": "",
        "task_type": "Feature",
        "status": "NEW",
        "impact": 8,
        "effort": 3,
        "time_criticality": None,
        "risk_reduction": None,
        "due_date": None,
        "created_at": stamp(old),
        "updated_at": stamp(old),
        "acceptance_criteria": [],
        "links": [],
        "labels": [],
        "security_notes": "",
        "test_notes": "",
        "blocked_reason": None,
        "pr_url": None,
        "source": None,
        "also_found_by": [],
        "approval": None,
        "attempts": 0,
        "evidence": [],
        "resolution": None,
        "wsjf_score": 7.3333,
        "aging_multiplier": 2.0,
        "score": {
            "impact": {"value": 8, "rule": "set on the item", "estimated": False},
            "time_criticality": {
                "value": 2,
                "rule": "no keyword matched; default for type Feature",
                "estimated": True,
            },
            "risk_reduction": {
                "value": 1,
                "rule": "no keyword matched; default for type Feature",
                "estimated": True,
            },
            "effort": {"value": 3, "rule": "set on the item", "estimated": False},
            "days_old": pytest.approx(OLD_DAYS, abs=0.01),
            "aging_multiplier": 2.0,
            "aging_capped": True,
            "cost_of_delay": 11.0,
            "wsjf": 7.3333,
        },
    }
    assert data[1]["blocked_reason"] == "waiting for vendor"
    assert data[3]["score"]["impact"] == {
        "value": 3,
        "rule": "keyword 'docs' (low impact)",
        "estimated": True,
    }


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_list_on_an_empty_backlog(repo: Path, run_cli: RunCli, fmt: str) -> None:
    result = run_cli("list", "--format", fmt)

    expected = {
        "table": f"The backlog {backlog_path(repo)} is empty. "
        "Add an item with `backlog add --title ...`.\n",
        "json": "[]\n",
    }[fmt]
    assert result == Outcome(0, expected, "")
    assert snapshot(repo) == {"README.md": b"# demo\n"}


# --- show ------------------------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["CUSTOM-7", "custom-7", " Custom-7 "])
def test_show_prints_every_field(repo: Path, run_cli: RunCli, asked: str) -> None:
    before = utc_now()
    assert run_cli("add", *EVERY_OPTION).code == 0
    after = utc_now()
    created = within(stored_stamp(read_items(repo)[0]["created_at"]), before, after)

    result = run_cli("show", asked)

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == [
        "CUSTOM-7  Fix login crash",
        "  status        READY",
        "  type          Bug",
        "  wsjf          5.00",
        f"  created       {created}",
        f"  updated       {created}",
        "  due           2030-01-31",
        f"  source        manual (author {ACTOR})",
        "  labels        auth, ui",
        "  inputs        I8 T5 R2 E3",
        "  description:",
        "    Users see a crash after signing in",
        "  acceptance criteria:",
        "    - no crash after login",
        "    - a regression test covers it",
        "  links:",
        "    https://example.com/issues/1",
        "    https://example.com/issues/2",
        "  security notes:",
        "    session tokens must not leak",
        "  test notes:",
        "    needs an integration test",
    ]


def test_show_a_blocked_approved_item(repo: Path, run_cli: RunCli) -> None:
    old = ranked_backlog(repo)
    before = utc_now()
    assert run_cli("approve", "BL-5", "--note", "fine by me").code == 0
    after = utc_now()
    approval = read_items(repo)[4]["approval"]
    assert isinstance(approval, dict)
    approved = within(stored_stamp(approval["at"]), before, after)

    result = run_cli("show", "bl-5")

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == [
        "BL-5  Upgrade parser",
        "  status        BLOCKED (waiting for vendor)",
        "  type          Bug",
        "  wsjf          18.00",
        f"  created       {stamp(old)}",
        f"  updated       {approved}",
        f"  approved      by {ACTOR} at {approved}",
        "  inputs        I5 T3 R1 E1",
    ]


def test_show_format_json(repo: Path, run_cli: RunCli) -> None:
    old = ranked_backlog(repo)

    result = run_cli("show", "BL-3", "--format", "json")

    assert (result.code, result.err) == (0, "")
    data = json.loads(result.out)
    assert {k: v for k, v in data.items() if k != "score"} == {
        "id": "BL-3",
        "title": "Write docs",
        "description": "",
        "task_type": "Doc",
        "status": "NEW",
        "impact": None,
        "effort": None,
        "time_criticality": None,
        "risk_reduction": None,
        "due_date": None,
        "created_at": stamp(old),
        "updated_at": stamp(old),
        "acceptance_criteria": [],
        "links": [],
        "labels": [],
        "security_notes": "",
        "test_notes": "",
        "blocked_reason": None,
        "pr_url": None,
        "source": None,
        "also_found_by": [],
        "approval": None,
        "attempts": 0,
        "evidence": [],
        "resolution": None,
        "wsjf_score": 5.0,
        "aging_multiplier": 2.0,
    }
    default = "no keyword matched; default for type Doc"
    assert data["score"] == {
        "impact": {"value": 3, "rule": "keyword 'docs' (low impact)", "estimated": True},
        "time_criticality": {"value": 1, "rule": default, "estimated": True},
        "risk_reduction": {"value": 1, "rule": default, "estimated": True},
        "effort": {"value": 2, "rule": default, "estimated": True},
        "days_old": pytest.approx(OLD_DAYS, abs=0.01),
        "aging_multiplier": 2.0,
        "aging_capped": True,
        "cost_of_delay": 5.0,
        "wsjf": 5.0,
    }


@pytest.mark.parametrize(
    ("command", "asked", "hint"),
    [
        ("show", "BL-7", "did you mean BL-6, BL-5, BL-4?"),
        ("explain", "BL-44", "did you mean BL-4, BL-6, BL-5?"),
        ("block", "NOPE", "`backlog list --all` shows them"),
        ("approve", "XL-5", "did you mean BL-5?"),
    ],
)
def test_an_unknown_id_is_an_error_with_suggestions(
    repo: Path, run_cli: RunCli, command: str, asked: str, hint: str
) -> None:
    ranked_backlog(repo)
    extra = ("--reason", "r") if command == "block" else ()
    before = snapshot(repo)

    result = run_cli(command, asked, *extra)

    message = f"error: no item {asked!r} in {backlog_path(repo)}; {hint}\n"
    assert result == Outcome(1, "", message)
    assert snapshot(repo) == before


def test_suggestions_for_an_unknown_id_ignore_case_like_the_lookup(
    repo: Path, run_cli: RunCli
) -> None:
    # ``show bl-5`` finds BL-5, so a lower-case typo deserves the same hint as an upper-case one.
    ranked_backlog(repo)
    path = backlog_path(repo)

    upper = run_cli("show", "BL-44")
    lower = run_cli("show", "bl-44")

    assert upper.err == f"error: no item 'BL-44' in {path}; did you mean BL-4, BL-6, BL-5?\n"
    assert lower == Outcome(
        1, "", f"error: no item 'bl-44' in {path}; did you mean BL-4, BL-6, BL-5?\n"
    )


# --- explain ---------------------------------------------------------------------------------


def explain_backlog(repo: Path, days: float) -> datetime:
    """An item ``days`` old with some inputs set and some estimated, and a better one."""
    created = utc_now() - timedelta(days=days)
    write_backlog(
        repo,
        entry("BL-1", "Fix crash in parser", created, "I8", task_type="Bug"),
        entry("BL-2", "Ship the thing", utc_now(), "I13 T13 R13 E1"),
        entry("BL-3", "Finished", created, "I1 E1", status="DONE"),
    )
    return created


def explain_lines(created: datetime, days: str, aging: list[str], wsjf: str) -> list[str]:
    """What ``explain BL-1`` prints for the item ``explain_backlog`` makes."""
    return [
        "BL-1  Fix crash in parser",
        "  impact                8   set on the item",
        "  time criticality      3   estimated: no keyword matched; default for type Bug",
        "  risk reduction        5   estimated: keyword 'crash' (failure risk)",
        "  cost of delay        16   = 1 x 8 + 1 x 3 + 1 x 5",
        f"  age              {days:>6}   days since created_at {stamp(created)} (fractional days)",
        *aging,
        "  effort                3   estimated: no keyword matched; default for type Bug",
        wsjf,
        "  rank             2 of 2 open items",
    ]


def test_explain_shows_each_value_and_the_rule_behind_it(repo: Path, run_cli: RunCli) -> None:
    # Five days old: the age prints as 5.00 for the first seven minutes after writing.
    created = explain_backlog(repo, days=5)

    result = run_cli("explain", "bl-1")

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == explain_lines(
        created,
        "5.00",
        ["  aging multiplier   1.50   = min(2, 1 + 5.00 x 0.1)"],
        "  WSJF               8.00   = 16 x 1.50 / 3",
    )


def test_explain_format_json(repo: Path, run_cli: RunCli) -> None:
    explain_backlog(repo, days=5)

    result = run_cli("explain", "BL-1", "--format", "json")

    assert (result.code, result.err) == (0, "")
    default = "no keyword matched; default for type Bug"
    assert json.loads(result.out) == {
        "id": "BL-1",
        "impact": {"value": 8, "rule": "set on the item", "estimated": False},
        "time_criticality": {"value": 3, "rule": default, "estimated": True},
        "risk_reduction": {
            "value": 5,
            "rule": "keyword 'crash' (failure risk)",
            "estimated": True,
        },
        "effort": {"value": 3, "rule": default, "estimated": True},
        "days_old": pytest.approx(5.0, abs=0.001),
        "aging_multiplier": pytest.approx(1.5, abs=0.0001),
        "aging_capped": False,
        "cost_of_delay": 16.0,
        "wsjf": pytest.approx(8.0, abs=0.001),
        "rank": 2,
        "open_items": 2,
    }


def test_explain_a_finished_item_is_not_ranked(repo: Path, run_cli: RunCli) -> None:
    explain_backlog(repo, days=5)

    result = run_cli("explain", "BL-3")

    assert result.code == 0
    assert lines(result.out)[-1] == "  rank             not ranked (DONE)"


def test_explain_names_an_overdue_due_date(repo: Path, run_cli: RunCli) -> None:
    write_backlog(repo, entry("BL-1", "Renew certificate", utc_now(), due_date="2020-01-01"))

    result = run_cli("explain", "BL-1")

    assert result.code == 0
    assert lines(result.out)[2] == (
        "  time criticality     13   estimated: due date 2020-01-01 (overdue)"
    )


# --- plan ------------------------------------------------------------------------------------


def test_plan_shows_what_a_run_would_do_in_order(repo: Path, run_cli: RunCli) -> None:
    plan_backlog(repo)

    result = run_cli("plan")

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == [
        f"Plan for {backlog_path(repo)}: 9 items, 8 open. "
        "A run would take 3 item(s), best WSJF first.",
        "#  ID    WSJF   Action   Steps (and why)",
        f"1  BL-4  10.00  execute  {MICRO_CYCLE}",
        f"2  BL-3  8.67   refine   criteria -> {MICRO_CYCLE}  (no acceptance criteria yet)",
        "3  BL-5  6.00   slice    slice  (effort 6 > slice size 5)",
        *PLAN_HELD,
        *PLAN_SKIPPED,
        "Nothing was written.",
    ]


def test_plan_max_cycles_leaves_the_rest_for_later(repo: Path, run_cli: RunCli) -> None:
    plan_backlog(repo)

    result = run_cli("plan", "--max-cycles", "1")

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == [
        f"Plan for {backlog_path(repo)}: 9 items, 8 open. "
        "A run would take 1 item(s), best WSJF first (stopping after 1).",
        "#  ID    WSJF   Action   Steps (and why)",
        f"1  BL-4  10.00  execute  {MICRO_CYCLE}",
        "Left for later runs: BL-3, BL-5",
        *PLAN_HELD,
        *PLAN_SKIPPED,
        "Nothing was written.",
    ]


def test_plan_format_json(repo: Path, run_cli: RunCli) -> None:
    plan_backlog(repo)

    result = run_cli("plan", "--max-cycles", "2", "--format", "json")

    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out) == {
        "backlog": str(backlog_path(repo)),
        "items": 9,
        "max_cycles": 2,
        "take": [
            plan_row("BL-4", "Show totals row", "READY", 10.0, "execute"),
            plan_row("BL-3", "Add CSV export", "NEW", 8.6667, "refine"),
        ],
        "later": [plan_row("BL-5", "Split the settings page", "REFINED", 6.0, "slice")],
        "held": [
            {
                "id": "BL-1",
                "title": "Rotate the password store",
                "status": "READY",
                "wsjf": 12.0,
                "action": "hold for approval",
                "steps": [],
                "reasons": ["needs approval: security-sensitive: mentions 'password'"],
            },
            {
                "id": "BL-2",
                "title": "Rewrite the report engine",
                "status": "NEW",
                "wsjf": 6.4444,
                "action": "hold for approval",
                "steps": [],
                "reasons": ["needs approval: large effort: effort 9 >= 8"],
            },
        ],
        "skipped": [
            {
                "id": item_id,
                "title": title,
                "status": status,
                "wsjf": wsjf,
                "action": "skip",
                "steps": [],
                "reasons": [reason],
            }
            for item_id, title, status, wsjf, reason in (
                ("BL-6", "Upgrade parser", "BLOCKED", 78.0, "blocked: waiting for vendor"),
                ("BL-8", "Half done", "DOING", 6.0, "already in progress"),
                (
                    "BL-9",
                    "In review",
                    "PR",
                    4.0,
                    "waiting on its pull request https://example.com/pr/9",
                ),
            )
        ],
    }


@pytest.mark.parametrize(
    "args", [(), ("--max-cycles", "1"), ("--format", "json")], ids=["table", "cycles", "json"]
)
def test_plan_writes_nothing(repo: Path, run_cli: RunCli, args: Sequence[str]) -> None:
    plan_backlog(repo)
    before = snapshot(repo)

    result = run_cli("plan", *args)

    assert result.code == 0
    assert snapshot(repo) == before
    assert set(before) == {"README.md", "DOCS", "DOCS/backlog.yml"}


def test_plan_with_nothing_actionable(repo: Path, run_cli: RunCli) -> None:
    write_backlog(
        repo,
        entry("BL-1", "Replace the login form", utc_now(), "I5 E2"),
        entry("BL-2", "Wait", utc_now(), status="BLOCKED", blocked_reason="on hold"),
    )

    result = run_cli("plan")

    assert (result.code, result.err) == (0, "")
    assert lines(result.out) == [
        f"Plan for {backlog_path(repo)}: 2 items, 2 open. "
        "A run would take 0 item(s), best WSJF first.",
        "Held for approval (`backlog approve ID`):",
        "  BL-1  needs approval: security-sensitive: mentions 'login'",
        "Skipped:",
        "  BL-2  blocked: on hold",
        "Nothing actionable: every open item is held, blocked or in progress.",
        "Nothing was written.",
    ]


# --- block, unblock, approve -----------------------------------------------------------------


def journal_line(
    moment: str, item_id: str, source: str, target: str, reason: str
) -> dict[str, object]:
    """One journal entry as the tool writes it."""
    return {
        "time": moment,
        "item": item_id,
        "from": source,
        "to": target,
        "reason": reason,
        "actor": ACTOR,
    }


def test_block_then_unblock_journals_each_change(repo: Path, run_cli: RunCli) -> None:
    assert run_cli("add", "--title", "Upgrade parser").code == 0
    assert not journal_path(repo).exists()

    t0 = utc_now()
    blocked = run_cli("block", "bl-1", "--reason", "waiting for vendor")
    t1 = utc_now()
    [item] = read_items(repo)

    assert blocked == Outcome(0, "blocked BL-1: waiting for vendor\n", "")
    assert (item["status"], item["blocked_reason"]) == ("BLOCKED", "waiting for vendor")
    [event] = read_journal(repo)
    when = within(str(event["time"]), t0, t1)
    assert event == journal_line(when, "BL-1", "NEW", "BLOCKED", "waiting for vendor")
    assert stored_stamp(item["updated_at"]) == when

    unblocked = run_cli("unblock", "BL-1")
    t2 = utc_now()
    [item] = read_items(repo)

    assert unblocked == Outcome(0, "unblocked BL-1 (was: waiting for vendor); it is READY\n", "")
    assert item["status"] == "READY"
    assert "blocked_reason" not in item
    first, second = read_journal(repo)
    assert first == event
    assert second == journal_line(
        within(str(second["time"]), t1, t2), "BL-1", "BLOCKED", "READY", f"unblocked by {ACTOR}"
    )


def test_unblock_records_the_reason_given(repo: Path, run_cli: RunCli) -> None:
    assert run_cli("add", "--title", "Upgrade parser").code == 0
    assert run_cli("block", "BL-1", "--reason", "waiting for vendor").code == 0

    result = run_cli("unblock", "BL-1", "--reason", "vendor shipped 2.0")

    assert result.code == 0
    assert [(e["to"], e["reason"]) for e in read_journal(repo)] == [
        ("BLOCKED", "waiting for vendor"),
        ("READY", "vendor shipped 2.0"),
    ]


def test_approve_releases_an_item_waiting_for_approval(repo: Path, run_cli: RunCli) -> None:
    assert run_cli("add", "--title", "Rotate the password store", "--criteria", "done").code == 0
    assert run_cli("block", "BL-1", "--reason", "needs approval: security-sensitive").code == 0

    t0 = utc_now()
    result = run_cli("approve", "BL-1", "--note", "reviewed with security")
    t1 = utc_now()

    assert result == Outcome(0, "approved BL-1; it is READY again\n", "")
    [item] = read_items(repo)
    assert item["status"] == "READY"
    assert "blocked_reason" not in item
    approval = item["approval"]
    assert isinstance(approval, dict)
    at = within(stored_stamp(approval["at"]), t0, t1)
    assert approval == {"by": ACTOR, "at": parse_stamp(at), "note": "reviewed with security"}
    events = read_journal(repo)
    assert len(events) == 2
    assert events[1] == journal_line(
        at, "BL-1", "BLOCKED", "READY", f"approved by {ACTOR}: reviewed with security"
    )


def test_approve_keeps_an_item_blocked_for_another_reason(repo: Path, run_cli: RunCli) -> None:
    assert run_cli("add", "--title", "Upgrade parser").code == 0
    assert run_cli("block", "BL-1", "--reason", "waiting for vendor").code == 0
    journal_before = journal_path(repo).read_bytes()

    result = run_cli("approve", "BL-1")

    assert result == Outcome(
        0,
        "approved BL-1, but it stays BLOCKED (waiting for vendor); "
        "`backlog unblock BL-1` releases it\n",
        "",
    )
    [item] = read_items(repo)
    assert (item["status"], item["blocked_reason"]) == ("BLOCKED", "waiting for vendor")
    approval = item["approval"]
    assert isinstance(approval, dict)
    assert sorted(approval) == ["at", "by"]
    assert journal_path(repo).read_bytes() == journal_before


def test_approve_in_advance_lets_plan_take_the_item(repo: Path, run_cli: RunCli) -> None:
    args = ("--impact", "5", "--effort", "3", "--time-criticality", "5", "--risk-reduction", "5")
    assert (
        run_cli("add", "--title", "Rotate the password store", "--criteria", "c", *args).code == 0
    )
    held = run_cli("plan")
    assert "  BL-1  needs approval: security-sensitive: mentions 'password'" in lines(held.out)

    result = run_cli("approve", "BL-1", "--note", "ok")

    assert result == Outcome(0, "approved BL-1 in advance (NEW)\n", "")
    assert not journal_path(repo).exists()
    plan = lines(run_cli("plan").out)
    assert plan[1:3] == [
        "#  ID    WSJF  Action   Steps (and why)",
        f"1  BL-1  5.00  execute  {MICRO_CYCLE}  "
        f"(approved by {ACTOR}: security-sensitive: mentions 'password')",
    ]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        pytest.param(
            (),
            ("unblock", "BL-1"),
            "item 'BL-1' cannot go from NEW to READY; from NEW it can go to: BLOCKED, DONE, "
            "REFINED",
            id="unblock-new",
        ),
        pytest.param(
            (("block", "BL-1", "--reason", "first"),),
            ("block", "BL-1", "--reason", "again"),
            "item 'BL-1' cannot go from BLOCKED to BLOCKED; from BLOCKED it can go to: DONE, READY",
            id="block-blocked",
        ),
        pytest.param(
            (),
            ("block", "BL-1", "--reason", "  "),
            "item 'BL-1': moving from NEW to BLOCKED needs a reason",
            id="block-without-reason",
        ),
        pytest.param(
            (("block", "BL-1", "--reason", "x"), ("unblock", "BL-1")),
            ("unblock", "BL-1"),
            "item 'BL-1' cannot go from READY to READY; from READY it can go to: BLOCKED, "
            "DOING, DONE, REFINED",
            id="unblock-twice",
        ),
    ],
)
def test_an_illegal_transition_is_refused_and_writes_nothing(
    repo: Path,
    run_cli: RunCli,
    setup: Sequence[Sequence[str]],
    args: Sequence[str],
    message: str,
) -> None:
    assert run_cli("add", "--title", "Upgrade parser").code == 0
    for step in setup:
        assert run_cli(*step).code == 0
    before = snapshot(repo)

    result = run_cli(*args)

    assert result == Outcome(1, "", f"error: {message}\n")
    assert snapshot(repo) == before


def test_a_finished_item_cannot_be_blocked(repo: Path, run_cli: RunCli) -> None:
    ranked_backlog(repo)
    before = snapshot(repo)

    result = run_cli("block", "BL-4", "--reason", "too late")

    assert result == Outcome(
        1, "", "error: item 'BL-4' cannot go from DONE to BLOCKED; from DONE it can go to: NEW\n"
    )
    assert snapshot(repo) == before


# --- status ----------------------------------------------------------------------------------

STATUSES = ("NEW", "REFINED", "READY", "DOING", "PR", "MERGED", "DONE", "BLOCKED")


def status_backlog(repo: Path) -> None:
    """Two open items, and one finished through a DOING cycle of two hours in the journal."""
    now = utc_now()
    old = now - timedelta(days=OLD_DAYS)
    write_backlog(
        repo,
        entry("BL-1", "Add CSV export", old, "I8 T3 R2 E3"),  # 8.67
        entry("BL-2", "Show totals row", old, "I5 T5 R5 E3", status="READY"),  # 10.00
        entry("BL-3", "Fix rounding", old, "I5 E3", status="DONE"),
    )
    started, finished = stamp(now - timedelta(hours=3)), stamp(now - timedelta(hours=1))
    journal_path(repo).parent.mkdir(parents=True, exist_ok=True)
    journal_path(repo).write_text(
        json.dumps(journal_line(started, "BL-3", "READY", "DOING", "picked up"))
        + "\n"
        + json.dumps(journal_line(finished, "BL-3", "DOING", "DONE", "merged"))
        + "\n",
        encoding="utf-8",
    )


def report_files(repo: Path) -> list[Path]:
    """The status reports written so far, oldest first."""
    return sorted((repo / "DOCS" / "status").glob("status_*.json"))


def expected_report(timestamp: str, since: str | None, blocked_at: str) -> dict[str, object]:
    """The report ``status_backlog`` plus blocking BL-2 gives, as the first of its period."""
    first = since is None
    return {
        "timestamp": timestamp,
        "period": {"since": since, "until": timestamp},
        "journal_events": 3,
        "completed_items": ["BL-3"] if first else [],
        "coverage_delta": None,
        "coverage_delta_note": "coverage measurement is off (reports.coverage)",
        "cycle_time_avg": 7200.0 if first else None,
        "cycle_time_note": None if first else "no item finished a DOING cycle in this period",
        "items_processed": 1 if first else 0,
        "items_completed": 1 if first else 0,
        "items_blocked": 1 if first else 0,
        "completion_rate": 1.0 if first else None,
        "backlog_size_by_status": {
            s: 1 if s in ("NEW", "DONE", "BLOCKED") else 0 for s in STATUSES
        },
        "backlog_size": 3,
        "wsjf_distribution": {
            "count": 2,
            "min": 8.6667,
            "max": 10.0,
            "mean": 9.3333,
            "median": 9.3333,
            "p25": 8.3333,
            "p75": 10.3333,
            "buckets": {"0-1": 0, "1-2": 0, "2-5": 0, "5-10": 1, "10+": 1},
        },
        "blocked_items": [
            {
                "id": "BL-2",
                "title": "Show totals row",
                "reason": "waiting for data",
                "since": blocked_at,
            }
        ],
        "next_up": [{"id": "BL-1", "title": "Add CSV export", "wsjf": 8.6667}],
    }


def expected_markdown(report: Mapping[str, object], since: str, blocked_at: str) -> list[str]:
    """Lines the Markdown twin of the first report ``expected_report`` describes must have."""
    rows = [f"| {s} | {1 if s in ('NEW', 'DONE', 'BLOCKED') else 0} |" for s in STATUSES]
    return [
        f"# Backlog status, {report['timestamp']}",
        f"Period: {since} to {report['timestamp']}.",
        "| Items processed (entered DOING) | 1 |",
        "| Items completed (merged or done) | 1 |",
        "| Items blocked | 1 |",
        "| Completion rate | 1.0 |",
        "| Average cycle time (s) | 7200.0 |",
        "| Coverage delta (points) | - |",
        "- coverage measurement is off (reports.coverage)",
        *rows,
        "2 open items; min 8.6667, median 9.3333, mean 9.3333, max 10.0.",
        "| 5-10 | 1 |",
        "| 10+ | 1 |",
        f"| BL-2 | Show totals row | waiting for data | {blocked_at} |",
        "- BL-3",
        "1. BL-1 (WSJF 8.6667): Add CSV export",
    ]


def seed_keys(report: Mapping[str, object], expected: Mapping[str, object]) -> dict[str, object]:
    """The part of ``report`` that ``expected`` describes (the report has more sections)."""
    return {key: report.get(key) for key in expected}


def test_status_writes_a_json_and_markdown_report(repo: Path, run_cli: RunCli) -> None:
    status_backlog(repo)
    assert run_cli("block", "BL-2", "--reason", "waiting for data").code == 0
    blocked_at = str(read_journal(repo)[-1]["time"])

    t0 = utc_now()
    result = run_cli("status")
    t1 = utc_now()

    [path] = report_files(repo)
    report = json.loads(path.read_text(encoding="utf-8"))
    timestamp = within(report["timestamp"], t0, t1)
    assert path.name == f"status_{parse_stamp(timestamp):%Y%m%dT%H%M%SZ}.json"
    expected = expected_report(timestamp, None, blocked_at)
    assert seed_keys(report, expected) == expected
    markdown = path.with_suffix(".md").read_text(encoding="utf-8").splitlines()
    for line in expected_markdown(report, "the start of the journal", blocked_at):
        assert line in markdown, line
    assert result == Outcome(
        0,
        f"Status report written to {path} (and {path.with_suffix('.md').name}, latest.json, "
        "latest.md, tech_debt.md)\n"
        "  backlog: 3 items (NEW 1, DONE 1, BLOCKED 1)\n"
        "  this period: 1 processed, 1 completed, 1 blocked\n"
        "  WSJF of open items: median 9.3333, max 10.0\n"
        f"  blocked BL-2 since {blocked_at}: waiting for data\n",
        "",
    )


def test_a_second_report_covers_the_time_since_the_first(repo: Path, run_cli: RunCli) -> None:
    status_backlog(repo)
    assert run_cli("block", "BL-2", "--reason", "waiting for data").code == 0
    blocked_at = str(read_journal(repo)[-1]["time"])
    assert run_cli("status").code == 0
    [first_path] = report_files(repo)
    first = json.loads(first_path.read_text(encoding="utf-8"))

    result = run_cli("status", "--format", "json")

    assert (result.code, result.err) == (0, "")
    second = json.loads(result.out)
    expected = expected_report(second["timestamp"], first["timestamp"], blocked_at)
    assert seed_keys(second, expected) == expected
    # Two reports in the same second get a numbered name instead of overwriting the first.
    same_second = second["timestamp"] == first["timestamp"]
    name = f"status_{parse_stamp(second['timestamp']):%Y%m%dT%H%M%SZ}"
    second_path = first_path.parent / (f"{name}-2.json" if same_second else f"{name}.json")
    assert sorted(report_files(repo)) == sorted([first_path, second_path])
    assert json.loads(second_path.read_text(encoding="utf-8")) == second
    assert (
        second_path.with_suffix(".md")
        .read_text(encoding="utf-8")
        .startswith(f"# Backlog status, {second['timestamp']}\n\nPeriod: {first['timestamp']} to ")
    )


def test_status_of_an_empty_backlog(repo: Path, run_cli: RunCli) -> None:
    result = run_cli("status")

    [path] = report_files(repo)
    assert result == Outcome(
        0,
        f"Status report written to {path} (and {path.with_suffix('.md').name}, latest.json, "
        "latest.md, tech_debt.md)\n"
        "  backlog: 0 items (empty)\n"
        "  this period: 0 processed, 0 completed, 0 blocked\n",
        "",
    )


# --- settings: --repo, --config, --set, environment, --log-level -------------------------------


def aging_case(
    cap: str, multiplier: str, capped: bool, wsjf: str, per_day: str = "0.1"
) -> tuple[str, str]:
    """The aging and WSJF lines of ``explain`` for a 15-day-old item with cost 10, effort 5."""
    note = f", capped at aging_cap {cap}" if capped else ""
    return (
        f"  aging multiplier   {multiplier}   = min({cap}, 1 + 15.00 x {per_day}){note}",
        f"  WSJF               {wsjf}   = 10 x {multiplier} / 5",
    )


DEFAULT_AGING = aging_case("2", "2.00", capped=True, wsjf="4.00")
CAP_3 = aging_case("3", "2.50", capped=False, wsjf="5.00")


@pytest.mark.parametrize(
    ("args", "env", "files", "expected"),
    [
        pytest.param((), {}, {}, DEFAULT_AGING, id="default"),
        pytest.param(("--set", "scoring.aging_cap=3"), {}, {}, CAP_3, id="set-before"),
        pytest.param(("@", "--set", "scoring.aging_cap=3"), {}, {}, CAP_3, id="set-after"),
        pytest.param(
            ("--config", "{cfg}"), {}, {"cfg": '{"scoring": {"aging_cap": 3}}'}, CAP_3, id="config"
        ),
        pytest.param(
            (),
            {"BACKLOG_CONFIG": "{cfg}"},
            {"cfg": '{"scoring": {"aging_cap": 3}}'},
            CAP_3,
            id="config-env",
        ),
        pytest.param(
            (), {}, {".backlog.json": '{"scoring": {"aging_cap": 3}}'}, CAP_3, id="repo-config"
        ),
        pytest.param((), {"BACKLOG_SCORING__AGING_CAP": "3"}, {}, CAP_3, id="env"),
        pytest.param(
            ("--config", "{cfg}"),
            {"BACKLOG_SCORING__AGING_CAP": "2.2"},
            {"cfg": '{"scoring": {"aging_cap": 3}}'},
            aging_case("2.2", "2.20", capped=True, wsjf="4.40"),
            id="env-beats-file",
        ),
        pytest.param(
            ("--config", "{cfg}", "--set", "scoring.aging_cap=1.2"),
            {"BACKLOG_SCORING__AGING_CAP": "2.2"},
            {"cfg": '{"scoring": {"aging_cap": 3}}'},
            aging_case("1.2", "1.20", capped=True, wsjf="2.40"),
            id="set-beats-env",
        ),
        pytest.param(
            ("--set", "scoring.aging_per_day=0.05"),
            {},
            {},
            aging_case("2", "1.75", capped=False, wsjf="3.50", per_day="0.05"),
            id="aging-per-day",
        ),
    ],
)
def test_settings_from_every_layer_change_explain(
    repo: Path,
    tmp_path: Path,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    args: Sequence[str],
    env: Mapping[str, str],
    files: Mapping[str, str],
    expected: tuple[str, str],
) -> None:
    cfg = tmp_path / "settings.json"
    for name, text in files.items():
        (cfg if name == "cfg" else repo / name).write_text(text, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{cfg}", str(cfg)))
    created = utc_now() - timedelta(days=15)
    write_backlog(
        repo,
        entry("BL-1", "Tune", created, "I5 T3 R2 E5"),
    )
    given = [arg.replace("{cfg}", str(cfg)) for arg in args]
    before, after = (
        (given[: given.index("@")], given[given.index("@") + 1 :]) if "@" in given else (given, [])
    )

    result = run_cli(*before, "explain", "BL-1", *after)

    assert (result.code, result.err) == (0, "")
    out = lines(result.out)
    assert (out[6], out[8]) == expected
    assert out[5] == (
        f"  age               15.00   days since created_at {stamp(created)} (fractional days)"
    )


def test_repo_option_works_from_another_folder(
    repo: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    added = run_cli("--repo", str(repo), "add", "--title", "From afar")
    listed = run_cli("list", "--repo", "../repo", "--format", "json")

    assert added == Outcome(0, f"added BL-1 to {backlog_path(repo)} (WSJF 1.60): From afar\n", "")
    assert [item["title"] for item in json.loads(listed.out)] == ["From afar"]
    assert list(elsewhere.iterdir()) == []


def test_a_subfolder_of_the_repository_finds_its_root(
    repo: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = repo / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)

    result = run_cli("add", "--title", "From below")

    path = backlog_path(repo.resolve())
    assert result == Outcome(0, f"added BL-1 to {path} (WSJF 1.60): From below\n", "")
    assert path.is_file()
    assert sorted(p.name for p in deep.parent.rglob("*")) == ["pkg"]


@pytest.mark.parametrize(
    ("args", "env", "warned"),
    [
        pytest.param((), {}, True, id="default-info"),
        pytest.param(("--log-level", "error"), {}, False, id="flag-error"),
        pytest.param(("--log-level", "WARNING"), {}, True, id="flag-warning"),
        pytest.param((), {"LOG_LEVEL": "ERROR"}, False, id="env-error"),
        pytest.param(("--log-level", "INFO"), {"LOG_LEVEL": "ERROR"}, True, id="flag-beats-env"),
        pytest.param((), {"BACKLOG_LOG_LEVEL": "critical"}, False, id="backlog-env"),
    ],
)
def test_log_level_decides_whether_warnings_show(
    repo: Path,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    args: Sequence[str],
    env: Mapping[str, str],
    warned: bool,
) -> None:
    journal = journal_path(repo)
    journal.parent.mkdir(parents=True)
    journal.write_text("not json\n", encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    result = run_cli(*args, "status", "--format", "json")

    assert result.code == 0
    warning = f"WARNING: {journal}:1: skipping a damaged journal line\n"
    assert result.err == (warning if warned else "")


# --- real processes --------------------------------------------------------------------------


def launcher(name: str) -> list[str]:
    """The argv start of one installed way to run the command: the module or the script."""
    if name == "module":
        return [sys.executable, "-m", "continuous_backlog_executor"]
    script = Path(sys.executable).parent / "backlog"
    found = str(script) if script.exists() else shutil.which("backlog")
    assert found is not None, "the backlog console script is not installed"
    return [found]


def run_process(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as a real process in ``cwd`` with the test's environment."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["module", "script"])
def test_the_installed_command_runs_as_a_real_process(repo: Path, name: str) -> None:
    start = launcher(name)
    ranked_backlog(repo)

    listed = run_process([*start, "list", "--limit", "2"], repo)
    missing = run_process([*start, "show", "BL-99"], repo)
    usage = run_process([*start, "frobnicate"], repo)
    shown = run_process([*start, "--version"], repo)

    assert (listed.returncode, listed.stderr) == (0, "")
    assert lines(listed.stdout) == [
        *list_table(["BL-2", "BL-5"]),
        f"2 shown of 6 items (2 finished). {LIST_FOOTER}",
    ]
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == (
        f"error: no item 'BL-99' in {backlog_path(repo)}; did you mean BL-6, BL-5, BL-4?\n"
    )
    assert (usage.returncode, usage.stdout) == (2, "")
    assert usage.stderr.splitlines()[-1] == (
        "backlog: error: argument COMMAND: invalid choice: 'frobnicate' "
        f"(choose from {', '.join(map(repr, SUBCOMMANDS))})"
    )
    installed = version("continuous-backlog-executor")
    assert (shown.returncode, shown.stdout, shown.stderr) == (0, f"backlog {installed}\n", "")


def test_every_journal_event_lands_in_exactly_one_report(repo: Path, run_cli: RunCli) -> None:
    for title in ("first", "second"):
        assert run_cli("add", "--title", title).code == 0
    assert run_cli("block", "BL-1", "--reason", "one").code == 0
    first = json.loads(run_cli("status", "--format", "json").out)
    assert run_cli("block", "BL-2", "--reason", "two").code == 0  # often in the same second

    second = json.loads(run_cli("status", "--format", "json").out)

    assert (first["items_blocked"], first["journal_events"]) == (1, 1)
    assert (second["items_blocked"], second["journal_events"]) == (1, 2)
