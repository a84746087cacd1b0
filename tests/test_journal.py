"""Tests for the append-only journal of status changes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from continuous_backlog_executor.journal import Journal
from continuous_backlog_executor.lifecycle import Event
from continuous_backlog_executor.model import TaskStatus

LOGGER = "continuous_backlog_executor.journal"
T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def event(minutes: int, item: str, to_status: TaskStatus, reason: str = "") -> Event:
    """A READY -> ``to_status`` change of ``item``, ``minutes`` after T0, by ana."""
    return Event(T0 + timedelta(minutes=minutes), item, TaskStatus.READY, to_status, reason, "ana")


EVENTS = [
    event(0, "cbe-1", TaskStatus.DOING),
    event(5, "cbe-2", TaskStatus.BLOCKED, "waits for the API clé ✓ 鍵"),
    Event(T0 + timedelta(hours=1), "cbe-1", TaskStatus.DOING, TaskStatus.PR, "", "bot"),
    event(90, "cbe-3", TaskStatus.DONE, "done by hand"),
]


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    """A journal in a folder that does not exist yet."""
    return Journal(tmp_path / "DOCS" / "status" / "events.jsonl")


def test_a_missing_journal_reads_as_empty(journal: Journal) -> None:
    assert journal.read() == []
    assert not journal.path.exists()


def test_append_then_read_round_trip(journal: Journal) -> None:
    journal.append(EVENTS)

    assert journal.read() == EVENTS


def test_each_event_is_one_json_line(journal: Journal) -> None:
    journal.append(EVENTS[:2])

    assert journal.path.read_text(encoding="utf-8") == (
        '{"time": "2026-01-31T09:00:00Z", "item": "cbe-1", "from": "READY", "to": "DOING", '
        '"reason": "", "actor": "ana"}\n'
        '{"time": "2026-01-31T09:05:00Z", "item": "cbe-2", "from": "READY", "to": "BLOCKED", '
        '"reason": "waits for the API clé ✓ 鍵", "actor": "ana"}\n'
    )


def test_several_appends_keep_their_order(journal: Journal) -> None:
    journal.append(EVENTS[:1])
    journal.append(EVENTS[1:3])
    journal.append(EVENTS[3:])

    assert journal.read() == EVENTS
    assert len(journal.path.read_text(encoding="utf-8").splitlines()) == 4


def test_appending_nothing_writes_nothing(journal: Journal) -> None:
    journal.append([])

    assert not journal.path.exists()


def test_times_in_other_zones_keep_their_instant(journal: Journal) -> None:
    # The journal writes UTC ("...Z"); an aware time from another zone is the same instant.
    local = Event(
        datetime(2026, 1, 31, 11, 0, tzinfo=timezone(timedelta(hours=2))),
        "cbe-1",
        TaskStatus.READY,
        TaskStatus.DOING,
        "",
        "ana",
    )

    journal.append([local])

    assert [e.time for e in journal.read()] == [T0]


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param('{"time": "2026-01-31T09:02:00Z", "item": "cb', id="truncated-json"),
        pytest.param(
            '{"time": "2026-01-31T09:02:00Z", "item": "x", "from": "READY", "to": "WIP"}',
            id="unknown-status",
        ),
        pytest.param(
            '{"time": "2026-01-31T09:02:00Z", "item": "x", "from": "READY"}', id="missing-key"
        ),
        pytest.param(
            '{"time": "noon", "item": "x", "from": "READY", "to": "DOING"}', id="bad-time"
        ),
        pytest.param("[1, 2, 3]", id="json-list"),
        pytest.param("null", id="json-null"),
        pytest.param("\x00\x00\x00", id="binary-garbage"),
    ],
)
def test_a_damaged_line_is_skipped_with_a_warning(
    journal: Journal, caplog: pytest.LogCaptureFixture, damaged: str
) -> None:
    journal.append(EVENTS[:1])
    with journal.path.open("a", encoding="utf-8") as stream:
        stream.write(damaged + "\n\n")
    journal.append(EVENTS[1:])

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        events = journal.read()

    assert events == EVENTS
    assert caplog.record_tuples == [
        (LOGGER, logging.WARNING, f"{journal.path}:2: skipping a damaged journal line")
    ]


def test_an_append_after_a_torn_last_line_is_kept(
    journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    # A crash mid-write leaves a last line without its newline; the next append must not be
    # glued onto it and lost with it.
    journal.append(EVENTS[:1])
    with journal.path.open("a", encoding="utf-8") as stream:
        stream.write('{"time": "2026-01-31T09:02:00Z", "it')
    journal.append(EVENTS[1:])

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        events = journal.read()

    assert events == EVENTS
    assert caplog.record_tuples == [
        (LOGGER, logging.WARNING, f"{journal.path}:2: skipping a damaged journal line")
    ]
