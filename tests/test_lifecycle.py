"""Tests for the status lifecycle: every transition pair, required reasons, and advance()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from continuous_backlog_executor.errors import BacklogError, TransitionError
from continuous_backlog_executor.lifecycle import Event, advance, allowed, check
from continuous_backlog_executor.model import BacklogItem, TaskStatus

S = TaskStatus
CREATED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# The expected lifecycle, written out by hand: from-status -> every status it may move to.
# Any pair not listed here must be refused.
EXPECTED_TARGETS: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.NEW: frozenset({S.REFINED, S.BLOCKED, S.DONE}),
    S.REFINED: frozenset({S.READY, S.NEW, S.BLOCKED, S.DONE}),
    S.READY: frozenset({S.DOING, S.REFINED, S.BLOCKED, S.DONE}),
    S.DOING: frozenset({S.PR, S.READY, S.BLOCKED, S.DONE}),
    S.PR: frozenset({S.MERGED, S.DONE, S.DOING, S.BLOCKED}),
    S.MERGED: frozenset({S.DONE}),
    S.DONE: frozenset({S.NEW}),
    S.BLOCKED: frozenset({S.READY, S.DONE}),
}

# What the refusal message lists as the way out of each status (alphabetical).
EXPECTED_OPTIONS: dict[TaskStatus, str] = {
    S.NEW: "BLOCKED, DONE, REFINED",
    S.REFINED: "BLOCKED, DONE, NEW, READY",
    S.READY: "BLOCKED, DOING, DONE, REFINED",
    S.DOING: "BLOCKED, DONE, PR, READY",
    S.PR: "BLOCKED, DOING, DONE, MERGED",
    S.MERGED: "DONE",
    S.DONE: "NEW",
    S.BLOCKED: "DONE, READY",
}

# Allowed moves that must give a reason; every other allowed move may go without one.
EXPECTED_NEEDS_REASON: frozenset[tuple[TaskStatus, TaskStatus]] = frozenset(
    {
        (S.NEW, S.BLOCKED),
        (S.REFINED, S.BLOCKED),
        (S.READY, S.BLOCKED),
        (S.DOING, S.BLOCKED),
        (S.PR, S.BLOCKED),
        (S.DONE, S.NEW),
        (S.DOING, S.READY),
        (S.PR, S.DOING),
    }
)

ALL_PAIRS = [(source, target) for source in TaskStatus for target in TaskStatus]
ALLOWED_PAIRS = [
    (source, target) for source, target in ALL_PAIRS if target in EXPECTED_TARGETS[source]
]


def pair_id(pair: tuple[TaskStatus, TaskStatus]) -> str:
    return f"{pair[0]}->{pair[1]}"


def make(status: TaskStatus, *, blocked_reason: str | None = None) -> BacklogItem:
    return BacklogItem(
        id="T-7",
        title="Move me",
        status=status,
        created_at=CREATED,
        updated_at=CREATED,
        blocked_reason=blocked_reason,
    )


def test_exactly_the_23_expected_moves_are_allowed() -> None:
    permitted = {(source, target) for source, target in ALL_PAIRS if allowed(source, target)}
    assert permitted == set(ALLOWED_PAIRS)
    assert len(permitted) == 23


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=pair_id)
def test_allowed_matches_the_lifecycle_table_for_every_pair(
    pair: tuple[TaskStatus, TaskStatus],
) -> None:
    source, target = pair
    assert allowed(source, target) is (target in EXPECTED_TARGETS[source])


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=pair_id)
def test_advance_performs_allowed_moves_and_refuses_the_rest(
    pair: tuple[TaskStatus, TaskStatus],
) -> None:
    source, target = pair
    item = make(source)
    if target in EXPECTED_TARGETS[source]:
        event = advance(item, target, reason="because", actor="tester", now=NOW)
        assert event == Event(NOW, "T-7", source, target, "because", "tester")
        assert item.status is target
        assert item.updated_at == NOW
    else:
        with pytest.raises(TransitionError) as caught:
            advance(item, target, reason="because", actor="tester", now=NOW)
        assert str(caught.value) == (
            f"item 'T-7' cannot go from {source} to {target}; "
            f"from {source} it can go to: {EXPECTED_OPTIONS[source]}"
        )
        assert item.status is source
        assert item.updated_at == CREATED


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=pair_id)
@pytest.mark.parametrize("reason", ["", "   ", "\t\n"], ids=["empty", "spaces", "whitespace"])
def test_only_listed_moves_need_a_non_blank_reason(
    pair: tuple[TaskStatus, TaskStatus], reason: str
) -> None:
    source, target = pair
    item = make(source)
    if pair in EXPECTED_NEEDS_REASON:
        with pytest.raises(TransitionError) as caught:
            advance(item, target, reason=reason, actor="tester", now=NOW)
        assert str(caught.value) == (f"item 'T-7': moving from {source} to {target} needs a reason")
        assert item.status is source
    else:
        event = advance(item, target, reason=reason, actor="tester", now=NOW)
        assert event.reason == reason
        assert item.status is target


def test_check_raises_for_a_forbidden_move_and_accepts_an_allowed_one() -> None:
    check("T-9", S.READY, S.DOING, "")
    with pytest.raises(TransitionError) as caught:
        check("T-9", S.MERGED, S.NEW, "reopen it")
    assert str(caught.value) == (
        "item 'T-9' cannot go from MERGED to NEW; from MERGED it can go to: DONE"
    )
    assert isinstance(caught.value, BacklogError)


def test_a_forbidden_move_is_reported_before_a_missing_reason() -> None:
    with pytest.raises(TransitionError) as caught:
        check("T-9", S.BLOCKED, S.BLOCKED, "")
    assert str(caught.value) == (
        "item 'T-9' cannot go from BLOCKED to BLOCKED; from BLOCKED it can go to: DONE, READY"
    )


def test_advance_returns_the_journal_event_with_every_field() -> None:
    item = make(S.READY)
    event = advance(item, S.DOING, reason="picked by the engine", actor="executor", now=NOW)
    assert event.time == NOW
    assert event.item == "T-7"
    assert event.from_status is S.READY
    assert event.to_status is S.DOING
    assert event.reason == "picked by the engine"
    assert event.actor == "executor"
    assert item.status is S.DOING
    assert item.updated_at == NOW
    assert item.created_at == CREATED


@pytest.mark.parametrize(
    "source", [S.NEW, S.REFINED, S.READY, S.DOING, S.PR], ids=lambda status: f"from-{status}"
)
def test_entering_blocked_records_the_reason_on_the_item(source: TaskStatus) -> None:
    item = make(source)
    advance(item, S.BLOCKED, reason="waiting on the vendor", actor="alice", now=NOW)
    assert item.status is S.BLOCKED
    assert item.blocked_reason == "waiting on the vendor"


@pytest.mark.parametrize("target", [S.READY, S.DONE], ids=lambda status: f"to-{status}")
def test_leaving_blocked_clears_the_reason(target: TaskStatus) -> None:
    item = make(S.BLOCKED, blocked_reason="waiting on the vendor")
    event = advance(item, target, reason="vendor replied", actor="alice", now=NOW)
    assert event.from_status is S.BLOCKED
    assert item.status is target
    assert item.blocked_reason is None


def test_a_refused_move_leaves_the_blocked_reason_in_place() -> None:
    item = make(S.BLOCKED, blocked_reason="waiting on the vendor")
    with pytest.raises(TransitionError):
        advance(item, S.DOING, reason="try anyway", actor="alice", now=NOW)
    assert item.status is S.BLOCKED
    assert item.blocked_reason == "waiting on the vendor"


def test_a_full_round_trip_through_the_main_flow() -> None:
    item = make(S.NEW)
    steps = [
        (S.REFINED, ""),
        (S.READY, ""),
        (S.DOING, ""),
        (S.PR, ""),
        (S.DOING, "review asked for changes"),
        (S.PR, ""),
        (S.MERGED, ""),
        (S.DONE, ""),
        (S.NEW, "the bug came back"),
    ]
    events = [advance(item, target, reason=why, actor="bot", now=NOW) for target, why in steps]
    assert [(event.from_status, event.to_status) for event in events] == [
        (S.NEW, S.REFINED),
        (S.REFINED, S.READY),
        (S.READY, S.DOING),
        (S.DOING, S.PR),
        (S.PR, S.DOING),
        (S.DOING, S.PR),
        (S.PR, S.MERGED),
        (S.MERGED, S.DONE),
        (S.DONE, S.NEW),
    ]
    assert item.status is S.NEW
