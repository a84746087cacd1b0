"""Tests for the status report computed from a synthetic backlog and journal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from continuous_backlog_executor.lifecycle import Event
from continuous_backlog_executor.model import BacklogItem, TaskStatus
from continuous_backlog_executor.reports import status
from continuous_backlog_executor.reports.markdown import markdown
from continuous_backlog_executor.scoring import RankedItem, ScoringSettings, rank

S = TaskStatus
NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
ALL_ZERO = {
    "NEW": 0,
    "REFINED": 0,
    "READY": 0,
    "DOING": 0,
    "PR": 0,
    "MERGED": 0,
    "DONE": 0,
    "BLOCKED": 0,
}


def at(day: int, hour: int, minute: int = 0, month: int = 2) -> datetime:
    """A UTC time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def item(
    item_id: str,
    item_status: TaskStatus,
    parts: tuple[int, int, int, int],
    *,
    title: str = "",
    blocked_reason: str | None = None,
    updated_at: datetime = NOW,
) -> BacklogItem:
    """An item created at NOW (aging 1.0) with every WSJF input set: (i, t, r, effort)."""
    impact, time_criticality, risk_reduction, effort = parts
    return BacklogItem(
        item_id,
        title or f"Work on {item_id}",
        impact=impact,
        effort=effort,
        status=item_status,
        created_at=NOW,
        updated_at=updated_at,
        time_criticality=time_criticality,
        risk_reduction=risk_reduction,
        blocked_reason=blocked_reason,
    )


def backlog() -> list[RankedItem]:
    """Twelve items; the open ones have WSJF 12, 9, 5, 3, 2, 1.5, 1 and 0.6."""
    items = [
        item("new-1", S.NEW, (8, 8, 8, 2)),  # 12.0
        item("refined-1", S.REFINED, (5, 3, 2, 5)),  # 2.0
        item("ready-1", S.READY, (3, 3, 3, 1)),  # 9.0
        item("back-1", S.READY, (1, 1, 1, 3)),  # 1.0
        item("doing-1", S.DOING, (1, 1, 1, 5)),  # 0.6
        item("pr-1", S.PR, (2, 2, 1, 1)),  # 5.0
        item(
            "blocked-1",
            S.BLOCKED,
            (3, 2, 1, 4),  # 1.5
            title="Call the | pricing API",
            blocked_reason="waiting on API keys",
            updated_at=at(8, 9),
        ),
        item(
            "blocked-2",
            S.BLOCKED,
            (13, 13, 13, 13),  # 3.0
            blocked_reason="needs a design review",
            updated_at=at(15, 8, month=1),
        ),
        # Finished items score high, so including them would show in the distribution.
        item("merged-1", S.MERGED, (13, 13, 13, 1)),
        item("done-1", S.DONE, (13, 13, 13, 1)),
        item("done-2", S.DONE, (13, 13, 13, 1)),
        item("old-done", S.DONE, (13, 13, 13, 1)),
    ]
    return rank(items, ScoringSettings(), NOW)


def change(
    moment: datetime, item_id: str, old: TaskStatus, new: TaskStatus, why: str = ""
) -> Event:
    """One journal event by the engine."""
    return Event(moment, item_id, old, new, why, "engine")


JOURNAL = [
    change(at(28, 9, month=1), "blocked-1", S.READY, S.BLOCKED, "first block"),
    change(at(29, 9, month=1), "blocked-1", S.BLOCKED, S.READY, "unblocked"),
    change(at(30, 9, month=1), "merged-1", S.READY, S.DOING),
    change(at(31, 9, month=1), "merged-1", S.DOING, S.PR),  # 86400 s, before the period
    change(at(31, 22, month=1), "old-done", S.READY, S.DOING),
    change(at(31, 23, month=1), "pr-1", S.READY, S.DOING),
    change(SINCE, "old-done", S.DOING, S.DONE),  # 7200 s, exactly at `since`: excluded
    change(at(1, 0, 30), "pr-1", S.DOING, S.PR),  # 5400 s, started before the period
    change(at(2, 9), "done-1", S.READY, S.DOING),
    change(at(2, 10), "done-1", S.DOING, S.PR),  # 3600 s
    change(at(3, 9), "done-1", S.PR, S.MERGED),
    change(at(4, 9), "done-1", S.MERGED, S.DONE),
    change(at(5, 8), "done-2", S.READY, S.DOING),
    change(at(5, 8, 30), "done-2", S.DOING, S.DONE),  # 1800 s
    change(at(6, 9), "back-1", S.READY, S.DOING),
    change(at(6, 10), "back-1", S.DOING, S.READY, "interrupted"),
    change(at(7, 10), "blocked-1", S.READY, S.BLOCKED, "waiting on API keys"),
    change(at(8, 9), "merged-1", S.PR, S.MERGED),
    change(at(9, 9), "doing-1", S.READY, S.DOING),
]


@pytest.fixture
def report() -> dict[str, Any]:
    """The report for the period (SINCE, NOW]."""
    return status.build(backlog(), JOURNAL, now=NOW, since=SINCE)


def test_period_and_timestamp(report: dict[str, Any]) -> None:
    assert report["timestamp"] == "2026-02-10T12:00:00Z"
    assert report["period"] == {"since": "2026-02-01T00:00:00Z", "until": "2026-02-10T12:00:00Z"}


def test_throughput_counts_only_events_in_the_period(report: dict[str, Any]) -> None:
    assert report["completed_items"] == ["done-1", "done-2", "merged-1"]
    assert report["items_completed"] == 3
    assert report["items_processed"] == 4  # done-1, done-2, back-1, doing-1
    assert report["items_blocked"] == 1  # blocked-1's second block; the first was before
    assert report["items_delivered"] == ["pr-1", "done-1", "done-2"]
    # Picked in the period and delivered: done-1 and done-2 of four.
    assert report["completion_rate"] == 0.5


def test_cycle_time_average_in_seconds(report: dict[str, Any]) -> None:
    # pr-1 5400 s, done-1 3600 s (to PR), done-2 1800 s; merged-1 and old-done end outside.
    assert report["cycle_time_avg"] == 3600.0
    assert report["cycle_time_note"] is None


def test_cycle_times_of_the_period() -> None:
    assert status.cycle_times(JOURNAL, SINCE, NOW) == [5400.0, 3600.0, 1800.0]


def test_without_since_the_whole_journal_counts() -> None:
    report = status.build(backlog(), JOURNAL, now=NOW, since=None)

    assert report["period"] == {"since": None, "until": "2026-02-10T12:00:00Z"}
    assert report["completed_items"] == ["done-1", "done-2", "merged-1", "old-done"]
    assert report["items_processed"] == 7
    assert report["items_blocked"] == 1
    # (86400 + 7200 + 5400 + 3600 + 1800) / 5
    assert report["cycle_time_avg"] == 20880.0


def test_events_after_now_are_excluded() -> None:
    later = [*JOURNAL, change(at(11, 9), "ready-1", S.READY, S.DOING)]

    report = status.build(backlog(), later, now=NOW, since=SINCE)

    assert report["items_processed"] == 4


def test_backlog_size_by_status_lists_all_eight_statuses(report: dict[str, Any]) -> None:
    assert report["backlog_size_by_status"] == {
        "NEW": 1,
        "REFINED": 1,
        "READY": 2,
        "DOING": 1,
        "PR": 1,
        "MERGED": 1,
        "DONE": 3,
        "BLOCKED": 2,
    }
    assert list(report["backlog_size_by_status"]) == [s.value for s in TaskStatus]
    assert report["backlog_size"] == 12


def test_wsjf_distribution_of_open_items(report: dict[str, Any]) -> None:
    assert report["wsjf_distribution"] == {
        "count": 8,
        "min": 0.6,
        "max": 12.0,
        "mean": 4.2625,
        "median": 2.5,
        "p25": 1.125,
        "p75": 8.0,
        "buckets": {"0-1": 1, "1-2": 2, "2-5": 2, "5-10": 2, "10+": 1},
    }


def test_blocked_items_with_reason_and_since(report: dict[str, Any]) -> None:
    assert report["blocked_items"] == [
        # No BLOCKED event in the journal: the item's last update stands in.
        {
            "id": "blocked-2",
            "title": "Work on blocked-2",
            "reason": "needs a design review",
            "since": "2026-01-15T08:00:00Z",
        },
        # The last BLOCKED event, not the earlier one that was lifted.
        {
            "id": "blocked-1",
            "title": "Call the | pricing API",
            "reason": "waiting on API keys",
            "since": "2026-02-07T10:00:00Z",
        },
    ]


def test_next_up_lists_workable_items_by_rank(report: dict[str, Any]) -> None:
    assert report["next_up"] == [
        {"id": "new-1", "title": "Work on new-1", "wsjf": 12.0},
        {"id": "ready-1", "title": "Work on ready-1", "wsjf": 9.0},
        {"id": "refined-1", "title": "Work on refined-1", "wsjf": 2.0},
        {"id": "back-1", "title": "Work on back-1", "wsjf": 1.0},
    ]


def test_next_up_keeps_the_top_five() -> None:
    items = [item(f"n-{effort}", S.NEW, (6, 6, 6, effort)) for effort in range(1, 8)]

    report = status.build(rank(items, ScoringSettings(), NOW), [], now=NOW, since=None)

    assert [entry["id"] for entry in report["next_up"]] == ["n-1", "n-2", "n-3", "n-4", "n-5"]
    assert [entry["wsjf"] for entry in report["next_up"]] == [18.0, 9.0, 6.0, 4.5, 3.6]


def test_coverage_delta_is_null_with_a_note(report: dict[str, Any]) -> None:
    assert report["coverage_delta"] is None
    assert report["coverage_delta_note"] == "no coverage measurement was recorded in this period"


def test_an_empty_backlog_and_journal() -> None:
    report = status.build([], [], now=NOW, since=SINCE)

    assert report["completed_items"] == []
    assert report["items_processed"] == 0
    assert report["items_completed"] == 0
    assert report["items_blocked"] == 0
    assert report["completion_rate"] is None
    assert report["cycle_time_avg"] is None
    assert report["cycle_time_note"] == "no item finished a DOING cycle in this period"
    assert report["backlog_size_by_status"] == ALL_ZERO
    assert report["backlog_size"] == 0
    assert report["wsjf_distribution"] == {
        "count": 0,
        "min": None,
        "max": None,
        "mean": None,
        "median": None,
        "buckets": {"0-1": 0, "1-2": 0, "2-5": 0, "5-10": 0, "10+": 0},
    }
    assert report["blocked_items"] == []
    assert report["next_up"] == []


def test_a_single_open_item_distribution() -> None:
    ranked = rank([item("only", S.NEW, (2, 2, 2, 4))], ScoringSettings(), NOW)

    distribution = status.wsjf_distribution(ranked)

    assert distribution["count"] == 1
    assert (distribution["min"], distribution["median"], distribution["max"]) == (1.5, 1.5, 1.5)
    assert (distribution["p25"], distribution["p75"]) == (1.5, 1.5)
    assert distribution["buckets"] == {"0-1": 0, "1-2": 1, "2-5": 0, "5-10": 0, "10+": 0}


# --- Markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "# Backlog status, 2026-02-10T12:00:00Z",
        "Period: 2026-02-01T00:00:00Z to 2026-02-10T12:00:00Z.",
        "| Items processed (entered DOING) | 4 |",
        "| Items completed (merged or done) | 3 |",
        "| Items blocked | 1 |",
        "| Completion rate | 0.5 |",
        "| Average cycle time (s) | 3600.0 |",
        "| Coverage delta (points) | - |",
        "- no coverage measurement was recorded in this period",
        "| NEW | 1 |",
        "| REFINED | 1 |",
        "| READY | 2 |",
        "| DOING | 1 |",
        "| PR | 1 |",
        "| MERGED | 1 |",
        "| DONE | 3 |",
        "| BLOCKED | 2 |",
        "8 open items; min 0.6, median 2.5, mean 4.2625, max 12.0.",
        "| 0-1 | 1 |",
        "| 1-2 | 2 |",
        "| 2-5 | 2 |",
        "| 5-10 | 2 |",
        "| 10+ | 1 |",
        "| blocked-2 | Work on blocked-2 | needs a design review | 2026-01-15T08:00:00Z |",
        r"| blocked-1 | Call the \| pricing API | waiting on API keys | 2026-02-07T10:00:00Z |",
        "- done-1",
        "- done-2",
        "- merged-1",
        "1. new-1 (WSJF 12.0): Work on new-1",
        "1. back-1 (WSJF 1.0): Work on back-1",
    ],
)
def test_markdown_shows_the_same_numbers(report: dict[str, Any], line: str) -> None:
    assert line in markdown(report).splitlines()


def test_markdown_leaves_out_the_cycle_time_note_when_there_is_a_time(
    report: dict[str, Any],
) -> None:
    text = markdown(report)

    assert "no item finished a DOING cycle in this period" not in text
    assert text.endswith("1. back-1 (WSJF 1.0): Work on back-1\n")


def test_markdown_of_an_empty_report_says_so_in_each_section() -> None:
    text = markdown(status.build([], [], now=NOW, since=None))

    for line in (
        "Period: the start of the journal to 2026-02-10T12:00:00Z.",
        "| Items processed (entered DOING) | 0 |",
        "| Completion rate | - |",
        "| Average cycle time (s) | - |",
        "- no item finished a DOING cycle in this period",
        "| BLOCKED | 0 |",
        "No open items.",
        "No cycle ended in this period.",
        "No gate failed in this period.",
        "Nothing was held for approval in this period.",
        "Nothing is blocked.",
        "Nothing is waiting.",
    ):
        assert line in text.splitlines(), line


def test_throughput_per_day_over_the_period(report: dict[str, Any]) -> None:
    # pr-1 (WSJF 5) reached PR on Feb 1, done-1 (39) on Feb 2, done-2 (39) on Feb 5; the
    # period is 9.5 days long.
    assert report["throughput"] == {
        "items": 3,
        "wsjf": 83.0,
        "days": 9.5,
        "items_per_day": 0.316,
        "wsjf_per_day": 8.737,
        "by_day": {
            "2026-02-01": {"items": 1, "wsjf": 5.0},
            "2026-02-02": {"items": 1, "wsjf": 39.0},
            "2026-02-05": {"items": 1, "wsjf": 39.0},
        },
    }


def test_a_period_shorter_than_a_day_counts_as_one_day() -> None:
    events = [
        change(at(10, 11), "ready-1", S.READY, S.DOING),
        change(at(10, 11, 30), "ready-1", S.DOING, S.PR),
    ]

    report = status.build(backlog(), events, now=NOW, since=at(10, 11))

    assert (report["throughput"]["items_per_day"], report["throughput"]["days"]) == (1.0, 1.0)


def test_cycle_time_by_type_and_source(report: dict[str, Any]) -> None:
    # Every item here is hand-written (source "manual") and a Feature.
    spread = {"count": 3, "avg": 3600.0, "median": 3600.0}
    assert report["cycle_time"]["by_type"] == {"Feature": spread}
    assert report["cycle_time"]["by_source"] == {"manual": spread}
    assert [c["id"] for c in report["cycle_time"]["cycles"]] == ["pr-1", "done-1", "done-2"]


def test_escalations_are_counted_by_trigger() -> None:
    events = [
        change(at(3, 9), "new-1", S.READY, S.BLOCKED, "needs approval: large effort: effort 8"),
        change(
            at(3, 10),
            "ready-1",
            S.READY,
            S.BLOCKED,
            "needs approval: security-sensitive: mentions 'token'; data migration: touches a.sql",
        ),
        change(at(4, 9), "back-1", S.READY, S.BLOCKED, "waiting on a vendor"),
    ]

    report = status.build(backlog(), events, now=NOW, since=SINCE)

    assert report["escalations"] == {
        "count": 2,
        "by_trigger": {"data migration": 1, "large effort": 1, "security-sensitive": 1},
    }
