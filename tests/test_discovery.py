"""Merging findings into the backlog: add, follow, merge duplicates, close, reopen, leave alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from continuous_backlog_executor.backlog import Backlog, BacklogStore
from continuous_backlog_executor.discovery import ChangeKind, merge
from continuous_backlog_executor.journal import Journal
from continuous_backlog_executor.model import BacklogItem, Source, TaskStatus, TaskType
from continuous_backlog_executor.sources.base import Finding, Scan
from continuous_backlog_executor.store import StateStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
WRITTEN = datetime(2025, 1, 1, tzinfo=UTC)


def finding(
    fingerprint: str,
    *,
    kind: str = "comments",
    path: str = "a.py",
    line: int = 3,
    tag: str = "TODO",
    title: str = "handle errors",
) -> Finding:
    return Finding(
        fingerprint=fingerprint,
        title=title,
        description=f"{tag} at {path}:{line}: {title}",
        task_type=TaskType.BUG,
        origin=Source(kind=kind, path=path, line=line, tag=tag),
        created_at=WRITTEN,
    )


@pytest.fixture
def store(tmp_path: Path) -> BacklogStore:
    return BacklogStore(
        tmp_path / "backlog.yml",
        state=StateStore(tmp_path / "state"),
        journal=Journal(tmp_path / "events.jsonl"),
    )


def run(store: BacklogStore, *scans: Scan, now: datetime = NOW) -> list[tuple[str, str, str]]:
    """Merge ``scans`` in a transaction; the changes as (kind, item, detail)."""
    with store.transaction() as backlog:
        result = merge(backlog, scans, now=now, actor="tester")
    return [(c.kind.value, c.item, c.detail) for c in result.changes]


def only(backlog: Backlog) -> BacklogItem:
    (item,) = backlog.items
    return item


def test_a_new_finding_becomes_an_item_dated_from_the_finding(store: BacklogStore) -> None:
    changes = run(store, Scan("comments", (finding("f1"),)))

    item = only(store.load())
    assert changes == [("added", item.id, "TODO at a.py:3 (comments)")]
    assert item.id.startswith("TODO-")
    assert (item.title, item.status, item.task_type) == (
        "handle errors",
        TaskStatus.NEW,
        TaskType.BUG,
    )
    assert item.created_at == WRITTEN
    assert item.source == Source(kind="comments", path="a.py", line=3, tag="TODO", fingerprint="f1")


def test_rerunning_on_the_same_findings_changes_nothing(store: BacklogStore) -> None:
    run(store, Scan("comments", (finding("f1"), finding("f2", line=9))))
    before = store.path.read_bytes()

    assert run(store, Scan("comments", (finding("f1"), finding("f2", line=9)))) == []
    assert store.path.read_bytes() == before


def test_a_moved_finding_keeps_its_item_and_people_keep_their_edits(store: BacklogStore) -> None:
    run(store, Scan("comments", (finding("f1"),)))
    with store.transaction() as backlog:
        item = only(backlog)
        item.title, item.impact, item.test_notes = "Handle errors in load()", 8, "cover empty files"
        backlog.transition(item, TaskStatus.REFINED, reason="", actor="ann", now=NOW)
    item_id = item.id

    changes = run(store, Scan("comments", (finding("f1", path="b.py", line=40, title="x"),)))

    item = only(store.load())
    assert changes == [("updated", item_id, "a.py:3 -> b.py:40")]
    assert (item.id, item.title, item.impact, item.test_notes, item.status) == (
        item_id,
        "Handle errors in load()",
        8,
        "cover empty files",
        TaskStatus.REFINED,
    )
    assert item.source is not None
    assert (item.source.path, item.source.line) == ("b.py", 40)


def test_two_sources_at_one_line_make_one_item_listing_both(store: BacklogStore) -> None:
    changes = run(
        store,
        Scan("comments", (finding("f1", tag="FIXME", line=12),)),
        Scan("bandit", (finding("b1", kind="bandit", tag="BANDIT", line=12),)),
    )

    item = only(store.load())
    assert [c[0] for c in changes] == ["added", "merged"]
    assert item.also_found_by == [
        Source(kind="bandit", path="a.py", line=12, tag="BANDIT", fingerprint="b1")
    ]


def test_a_gone_finding_closes_its_item_and_a_returning_one_reopens_it(
    store: BacklogStore,
) -> None:
    run(store, Scan("comments", (finding("f1"),)))
    item_id = only(store.load()).id

    closed = run(store, Scan("comments", ()), now=NOW)
    item = only(store.load())
    reason = "gone: TODO at a.py:3 (comments) was not found on 2026-11-25 12:00 UTC"
    assert closed == [("closed", item_id, reason)]
    assert (item.status, item.resolution) == (TaskStatus.DONE, reason)

    reopened = run(store, Scan("comments", (finding("f1", line=5),)), now=LATER)
    item = only(store.load())
    assert reopened == [
        ("updated", item_id, "a.py:3 -> a.py:5"),
        ("reopened", item_id, "found again: TODO at a.py:5 (comments)"),
    ]
    assert (item.id, item.status, item.resolution) == (item_id, TaskStatus.NEW, None)
    assert [(e.from_status, e.to_status) for e in store.journal.read()] == [
        (TaskStatus.NEW, TaskStatus.DONE),
        (TaskStatus.DONE, TaskStatus.NEW),
    ]


@pytest.mark.parametrize("status", [TaskStatus.DOING, TaskStatus.PR])
def test_items_being_worked_on_are_never_closed(store: BacklogStore, status: TaskStatus) -> None:
    run(store, Scan("comments", (finding("f1"),)))
    with store.transaction() as backlog:
        item = only(backlog)
        for step in (TaskStatus.REFINED, TaskStatus.READY, TaskStatus.DOING, TaskStatus.PR):
            backlog.transition(item, step, reason="", actor="ann", now=NOW)
            if step is status:
                break

    assert run(store, Scan("comments", ())) == []
    assert only(store.load()).status is status


@pytest.mark.parametrize(
    "scan",
    [
        pytest.param(Scan("comments", skipped="not installed"), id="skipped"),
        pytest.param(Scan("comments", failed="ripgrep failed"), id="failed"),
        pytest.param(Scan("bandit", ()), id="another-source-ran"),
    ],
)
def test_a_source_that_did_not_run_closes_nothing(store: BacklogStore, scan: Scan) -> None:
    run(store, Scan("comments", (finding("f1"),)))

    assert run(store, scan) == []
    assert only(store.load()).status is TaskStatus.NEW


def test_manual_items_are_never_touched(store: BacklogStore) -> None:
    with store.transaction() as backlog:
        backlog.add(BacklogItem(id="BL-1", title="by hand", source=Source(kind="manual")))

    assert run(store, Scan("comments", ())) == []
    assert only(store.load()).status is TaskStatus.NEW


def test_a_merged_item_whose_problem_returns_is_reopened_through_done(store: BacklogStore) -> None:
    run(store, Scan("comments", (finding("f1"),)))
    with store.transaction() as backlog:
        item = only(backlog)
        for step in (
            TaskStatus.REFINED,
            TaskStatus.READY,
            TaskStatus.DOING,
            TaskStatus.PR,
            TaskStatus.MERGED,
        ):
            backlog.transition(item, step, reason="", actor="ann", now=NOW)

    changes = run(store, Scan("comments", (finding("f1"),)))

    assert [c[0] for c in changes] == [ChangeKind.REOPENED.value]
    assert only(store.load()).status is TaskStatus.NEW


def test_discovered_ids_are_short_stable_and_unique(store: BacklogStore) -> None:
    run(store, Scan("comments", (finding("f1"), finding("f2", tag="FIXME", line=4))))
    first = [item.id for item in store.load().items]

    other = BacklogStore(store.path.parent / "again.yml", state=store.state, journal=store.journal)
    run(other, Scan("comments", (finding("f1"), finding("f2", tag="FIXME", line=4))))

    assert [item.id for item in other.load().items] == first
    assert [i.split("-")[0] for i in first] == ["TODO", "FIXME"]
    assert all(len(i.split("-")[1]) == 6 for i in first)
