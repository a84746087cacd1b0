"""``backlog prs`` and ``backlog merge`` end to end on real repositories and the local forge."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ruamel.yaml import YAML
from support import backlog_path, parse_stamp, snapshot, utc_now

from conftest import Outcome
from continuous_backlog_executor.forges.base import PullRequest
from continuous_backlog_executor.forges.local import LocalForge
from continuous_backlog_executor.store import StateStore

RunCli = Callable[..., Outcome]

ACTOR = "Test User"  # the git user.name the isolated home configures
OPENED = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)
MERGED = datetime(2026, 1, 31, 17, 30, tzinfo=UTC)
FOOTER = "`backlog merge NUMBER` merges an open one."


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output."""
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout


def branch_with(repo: Path, branch: str, name: str, text: str) -> None:
    """Commit ``name`` on a new ``branch`` from main, leaving main checked out."""
    git(repo, "checkout", "-q", "-b", branch, "main")
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    git(repo, "checkout", "-q", "main")


def forge(repo: Path, clock: datetime = OPENED) -> LocalForge:
    """The forge the commands use, its clock fixed at ``clock``."""
    return LocalForge(repo, StateStore.locate(repo), clock=lambda: clock)


def open_pr(repo: Path, item_id: str, title: str) -> PullRequest:
    """Open a pull request for ``item_id``'s branch, with a file of its own."""
    branch = f"backlog/{item_id}"
    branch_with(repo, branch, f"{item_id}.txt", f"{title}\n")
    return forge(repo).open(item_id=item_id, branch=branch, base="main", title=title, body="")


def write_backlog(repo: Path, *items: tuple[str, str, str]) -> Path:
    """A backlog of ``(id, title, status)`` items, written as a person would."""
    text = ["version: 1", "items:"]
    for item_id, title, status in items:
        text += [f"- id: {item_id}", f"  title: {title}", f"  status: {status}"]
        text.append('  created_at: "2026-01-01T00:00:00Z"')
    path = backlog_path(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def read_items(repo: Path) -> dict[str, dict[str, object]]:
    """The backlog's items by id."""
    data = YAML(typ="safe").load(backlog_path(repo).read_text(encoding="utf-8"))
    return {item["id"]: item for item in data["items"]}


def read_journal(repo: Path) -> list[dict[str, object]]:
    """Every status change journalled, parsed."""
    text = (repo / "DOCS" / "status" / "events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


# --- prs -------------------------------------------------------------------------------------


def test_prs_with_no_pull_requests_says_so(repo: Path, run_cli: RunCli) -> None:
    assert run_cli("prs") == Outcome(0, "no pull requests yet\n", "")
    assert run_cli("prs", "--format", "json") == Outcome(0, "[]\n", "")


def test_prs_shows_a_table_filtered_by_state(repo: Path, run_cli: RunCli) -> None:
    open_pr(repo, "BL-1", "Fix the [login] crash")
    open_pr(repo, "BL-2", "Upgrade parser")
    forge(repo, MERGED).merge("BL-1")

    everything = run_cli("prs")
    merged = run_cli("prs", "--state", "merged")
    closed = run_cli("prs", "--state", "closed")

    header = "#  Item  State   Branch        Title                  Created               Merged"
    first = (
        "1  BL-1  merged  backlog/BL-1  Fix the [login] crash  "
        "2026-01-30T09:00:00Z  2026-01-31T17:30:00Z"
    )
    second = "2  BL-2  open    backlog/BL-2  Upgrade parser         2026-01-30T09:00:00Z  -"
    assert everything == Outcome(
        0, f"{header}\n{first}\n{second}\n2 shown of 2 pull requests (1 open). {FOOTER}\n", ""
    )
    assert merged.out.splitlines()[1:] == [first, f"1 shown of 2 pull requests (1 open). {FOOTER}"]
    assert closed == Outcome(0, "no closed pull requests (2 in all)\n", "")


def test_prs_as_json_gives_every_field(repo: Path, run_cli: RunCli) -> None:
    pr = open_pr(repo, "BL-1", "Fix crash")

    result = run_cli("prs", "--format", "json", "--state", "open")

    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out) == [
        {
            "number": 1,
            "item_id": "BL-1",
            "state": "open",
            "branch": "backlog/BL-1",
            "base": "main",
            "title": "Fix crash",
            "body": "",
            "url": "local://pr/1",
            "head": pr.head,
            "created_at": "2026-01-30T09:00:00Z",
            "merged_at": None,
            "merge_commit": None,
        }
    ]


# --- merge -----------------------------------------------------------------------------------


def test_merge_merges_the_branch_and_finishes_the_item(repo: Path, run_cli: RunCli) -> None:
    write_backlog(repo, ("BL-1", "Fix crash", "PR"), ("BL-2", "Other", "READY"))
    pr = open_pr(repo, "BL-1", "Fix crash")
    old_main = git(repo, "rev-parse", "main").strip()

    t0 = utc_now()
    result = run_cli("merge", "#1")
    t1 = utc_now()

    sha = git(repo, "rev-parse", "main").strip()
    assert result == Outcome(
        0, f"pull request #1 (backlog/BL-1) merged into main as {sha[:12]}\nBL-1 is DONE\n", ""
    )
    assert git(repo, "rev-parse", "HEAD^1", "HEAD^2").split() == [old_main, pr.head]
    assert (repo / "BL-1.txt").read_text() == "Fix crash\n"
    items = read_items(repo)
    assert (items["BL-1"]["status"], items["BL-1"]["pr_url"]) == ("DONE", "local://pr/1")
    assert items["BL-2"]["status"] == "READY"
    events = read_journal(repo)
    for event in events:
        assert t0 <= parse_stamp(str(event.pop("time"))) <= t1
    assert events == [
        {
            "item": "BL-1",
            "from": "PR",
            "to": "MERGED",
            "reason": f"merged as {sha[:12]} (local://pr/1)",
            "actor": ACTOR,
        },
        {
            "item": "BL-1",
            "from": "MERGED",
            "to": "DONE",
            "reason": "pull request #1 merged into main",
            "actor": ACTOR,
        },
    ]
    listed = run_cli("prs", "--format", "json")
    assert json.loads(listed.out)[0]["merge_commit"] == sha


def test_a_refused_merge_exits_1_and_changes_nothing(repo: Path, run_cli: RunCli) -> None:
    write_backlog(repo, ("BL-1", "Fix crash", "PR"))
    open_pr(repo, "BL-1", "Fix crash")
    (repo / "BL-1.txt").write_text("mine\n")  # untracked, where the merge would add a file
    before, old_main = snapshot(repo), git(repo, "rev-parse", "main")

    result = run_cli("merge", "BL-1")

    assert result == Outcome(
        1,
        "",
        f"error: cannot merge pull request #1 into main, which is checked out in {repo}: "
        "the merge would change paths with uncommitted work: BL-1.txt. Commit or stash them, "
        "then run `backlog merge 1` again; nothing was changed\n",
    )
    assert (snapshot(repo), git(repo, "rev-parse", "main")) == (before, old_main)
    assert not (repo / "DOCS" / "status").exists()


def test_merge_refuses_an_item_that_is_not_in_review(repo: Path, run_cli: RunCli) -> None:
    write_backlog(repo, ("BL-1", "Fix crash", "DOING"))
    open_pr(repo, "BL-1", "Fix crash")
    old_main = git(repo, "rev-parse", "main")

    result = run_cli("merge", "1")

    assert result == Outcome(
        1,
        "",
        "error: not merging pull request #1: item BL-1 is DOING, and only an item in PR can "
        "become MERGED. `backlog show BL-1` shows where it stands\n",
    )
    assert git(repo, "rev-parse", "main") == old_main
    assert read_items(repo)["BL-1"]["status"] == "DOING"


def test_merge_of_an_item_missing_from_the_backlog_warns(repo: Path, run_cli: RunCli) -> None:
    path = write_backlog(repo, ("BL-2", "Other", "READY"))
    open_pr(repo, "BL-9", "Gone")
    before = path.read_bytes()

    result = run_cli("merge", "BL-9")

    sha = git(repo, "rev-parse", "main").strip()
    assert result == Outcome(
        0,
        f"pull request #1 (backlog/BL-9) merged into main as {sha[:12]}\n",
        f"WARNING: item BL-9 is not in {path}, so no item was updated\n",
    )
    assert path.read_bytes() == before


def test_merge_again_finishes_an_item_whose_update_was_lost(repo: Path, run_cli: RunCli) -> None:
    write_backlog(repo, ("BL-1", "Fix crash", "PR"))
    open_pr(repo, "BL-1", "Fix crash")
    merged = forge(repo).merge("1")  # as if the backlog could not be written afterwards
    assert merged.merge_commit is not None

    result = run_cli("merge", "BL-1")

    sha = merged.merge_commit[:12]
    assert result == Outcome(
        0,
        f"pull request #1 (backlog/BL-1) was already merged into main as {sha}\nBL-1 is DONE\n",
        "",
    )
    assert git(repo, "rev-parse", "main").strip() == merged.merge_commit
    assert [event["to"] for event in read_journal(repo)] == ["MERGED", "DONE"]
    assert run_cli("merge", "BL-1").code == 1  # now everything is done
