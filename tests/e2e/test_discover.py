"""``backlog discover`` end to end on real repositories."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from support import backlog_path, snapshot

from conftest import Outcome
from continuous_backlog_executor.sources import SOURCES

RunCli = Callable[..., Outcome]


def commit_file(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    subprocess.run(["git", "add", name], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", f"edit {name}"], cwd=repo, check=True)


def discover(run_cli: RunCli, *args: str) -> Outcome:
    return run_cli("discover", "--source", "comments", *args)


def test_discover_adds_then_follows_then_closes(repo: Path, run_cli: RunCli) -> None:
    commit_file(repo, "app.py", "x = 1\n# TODO: handle the empty case\n")

    first = discover(run_cli)

    assert (first.code, first.err) == (0, "")
    lines = first.out.splitlines()
    assert lines[0].startswith("comments: 1 found in ")
    assert lines[1] == "Backlog: 1 added, 0 updated, 0 merged, 0 closed, 0 reopened."
    item_id = lines[2].split()[1]
    assert lines[2] == f"  added    {item_id}  handle the empty case  (TODO at app.py:2 (comments))"

    commit_file(repo, "app.py", "import os\n\nx = 1\n# TODO: handle the empty case\n")
    moved = discover(run_cli).out.splitlines()
    assert moved[1:] == [
        "Backlog: 0 added, 1 updated, 0 merged, 0 closed, 0 reopened.",
        f"  updated  {item_id}  handle the empty case  (app.py:2 -> app.py:4)",
    ]

    commit_file(repo, "app.py", "x = 1\n")
    closed = discover(run_cli).out.splitlines()
    assert closed[1] == "Backlog: 0 added, 0 updated, 0 merged, 1 closed, 0 reopened."
    assert closed[2].startswith(f"  closed   {item_id}  handle the empty case  (gone: TODO at")
    text = backlog_path(repo).read_text()
    assert "  status: DONE\n" in text
    assert "  resolution: 'gone: TODO at app.py:4 (comments) was not found on " in text


def test_rediscovery_of_an_unchanged_repository_writes_nothing(repo: Path, run_cli: RunCli) -> None:
    commit_file(repo, "app.py", "# FIXME: crashes on empty input\n")
    discover(run_cli)
    before = backlog_path(repo).read_bytes()

    again = discover(run_cli)

    assert (
        again.out.splitlines()[1] == "Backlog: 0 added, 0 updated, 0 merged, 0 closed, 0 reopened."
    )
    assert backlog_path(repo).read_bytes() == before


def test_a_dry_run_writes_nothing(repo: Path, run_cli: RunCli) -> None:
    commit_file(repo, "app.py", "# TODO: one\n# HACK: two\n")
    before = snapshot(repo)

    result = discover(run_cli, "--dry-run")

    assert result.code == 0
    assert result.out.splitlines()[1] == (
        "Backlog: 2 would be added, 0 would be updated, 0 would be merged, 0 would be closed, "
        "0 would be reopened."
    )
    assert result.out.splitlines()[-1] == "Nothing was written (--dry-run)."
    assert snapshot(repo) == before


def test_json_lists_findings_and_changes(repo: Path, run_cli: RunCli) -> None:
    commit_file(repo, "app.py", "# TODO(ann): one\n")

    data = json.loads(discover(run_cli, "--format", "json").out)

    (source,) = data["sources"]
    assert (source["name"], source["skipped"], source["failed"], source["warnings"]) == (
        "comments",
        None,
        None,
        [],
    )
    (found,) = source["findings"]
    assert found["title"] == "one"
    assert found["source"] == {
        "kind": "comments",
        "path": "app.py",
        "line": 1,
        "tag": "TODO",
        "author": "ann",
    }
    (change,) = data["changes"]
    assert (change["kind"], change["title"]) == ("added", "one")
    assert data["dry_run"] is False


def test_an_unknown_source_is_an_error_listing_the_valid_ones(repo: Path, run_cli: RunCli) -> None:
    result = run_cli("discover", "--source", "todos")

    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: --source 'todos' is not a discovery source; use one of {', '.join(SOURCES)}\n"
    )


def test_the_backlog_and_reports_are_never_scanned(repo: Path, run_cli: RunCli) -> None:
    backlog_path(repo).parent.mkdir()
    backlog_path(repo).write_text("# TODO: a note in the backlog file itself\nitems: []\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "backlog"], cwd=repo, check=True)

    result = discover(run_cli)

    assert result.out.splitlines()[0].startswith("comments: 0 found in ")
