"""Tests for the backlog model: statuses, task types, BacklogItem construction and validation."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from continuous_backlog_executor.errors import BacklogError, InvalidValueError
from continuous_backlog_executor.model import BacklogItem, Source, TaskStatus, TaskType

ALL_STATUSES = "NEW, REFINED, READY, DOING, PR, MERGED, DONE, BLOCKED"
ALL_TYPES = "Feature, Bug, Refactor, Security, Doc, Test, Performance"
NOON_UTC = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@contextmanager
def local_time_zone(spec: str) -> Iterator[None]:
    """Make ``spec`` (a POSIX TZ string, so no tz database is needed) the machine's local zone."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = spec
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def make(**fields: Any) -> BacklogItem:
    """An item with a valid id and title, plus ``fields`` passed through untyped on purpose."""
    values: dict[str, Any] = {"id": "T-1", "title": "Do the thing", **fields}
    return BacklogItem(**values)


# --- TaskStatus ----------------------------------------------------------------------------------


def test_task_status_has_exactly_the_eight_statuses_in_flow_order() -> None:
    assert [status.value for status in TaskStatus] == [
        "NEW",
        "REFINED",
        "READY",
        "DOING",
        "PR",
        "MERGED",
        "DONE",
        "BLOCKED",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NEW", TaskStatus.NEW),
        ("refined", TaskStatus.REFINED),
        ("Ready", TaskStatus.READY),
        ("dOiNg", TaskStatus.DOING),
        ("pr", TaskStatus.PR),
        ("merged", TaskStatus.MERGED),
        ("  done  ", TaskStatus.DONE),
        ("blocked\n", TaskStatus.BLOCKED),
    ],
    ids=["upper", "lower", "title-case", "mixed-case", "short", "merged", "padded", "newline"],
)
def test_task_status_parse_ignores_case_and_surrounding_space(
    text: str, expected: TaskStatus
) -> None:
    assert TaskStatus.parse(text) is expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [("finished", "'finished'"), ("", "''"), ("IN PROGRESS", "'IN PROGRESS'")],
    ids=["unknown-word", "empty", "two-words"],
)
def test_task_status_parse_rejects_unknown_text_listing_every_status(text: str, shown: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        TaskStatus.parse(text)
    assert str(caught.value) == f"status: {shown} is not a status; use one of {ALL_STATUSES}"
    assert caught.value.field == "status"
    assert isinstance(caught.value, BacklogError)
    assert isinstance(caught.value, ValueError)


# --- TaskType ------------------------------------------------------------------------------------


def test_task_type_has_exactly_the_seven_types() -> None:
    assert [kind.value for kind in TaskType] == [
        "Feature",
        "Bug",
        "Refactor",
        "Security",
        "Doc",
        "Test",
        "Performance",
    ]


def test_perf_is_an_alias_of_performance_not_a_member_of_its_own() -> None:
    # Typed as object: mypy treats an enum alias as a member of its own and would reject `is`.
    alias: object = TaskType.PERF
    assert alias is TaskType.PERFORMANCE
    assert TaskType.__members__["PERF"] is TaskType.PERFORMANCE
    assert alias.name == "PERFORMANCE"
    assert len(TaskType) == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feature", TaskType.FEATURE),
        ("feature", TaskType.FEATURE),
        ("BUG", TaskType.BUG),
        ("refactor", TaskType.REFACTOR),
        ("SeCuRiTy", TaskType.SECURITY),
        ("doc", TaskType.DOC),
        ("  Test  ", TaskType.TEST),
        ("Performance", TaskType.PERFORMANCE),
        ("PERFORMANCE", TaskType.PERFORMANCE),
        ("perf", TaskType.PERFORMANCE),
        ("PERF", TaskType.PERFORMANCE),
    ],
    ids=[
        "value",
        "lower-value",
        "upper-name",
        "refactor",
        "mixed-case",
        "doc",
        "padded",
        "performance-value",
        "performance-name",
        "perf-alias-lower",
        "perf-alias-name",
    ],
)
def test_task_type_parse_accepts_values_and_member_names_in_any_case(
    text: str, expected: TaskType
) -> None:
    assert TaskType.parse(text) is expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [("Chore", "'Chore'"), ("", "''"), ("documentation", "'documentation'")],
    ids=["unknown-word", "empty", "longer-spelling"],
)
def test_task_type_parse_rejects_unknown_text_listing_every_type(text: str, shown: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        TaskType.parse(text)
    assert str(caught.value) == f"task_type: {shown} is not a task type; use one of {ALL_TYPES}"
    assert caught.value.field == "task_type"


# --- BacklogItem: the original engine's constructor ----------------------------------------------


@pytest.mark.parametrize(
    "zone", ["UTC0", "ABC-3", "XYZ+5"], ids=["local-is-utc", "local-ahead", "local-behind"]
)
def test_original_engine_example_constructor_call_works_unchanged(zone: str) -> None:
    with local_time_zone(zone):
        before = datetime.now(UTC).replace(microsecond=0)
        item = BacklogItem(
            id="custom_1",
            title="Custom Task",
            description="Manually created task",
            task_type=TaskType.FEATURE,
            impact=8,
            effort=3,
            status=TaskStatus.READY,
            wsjf_score=0.0,
            created_at=datetime.now(),
            updated_at=datetime.now(),
            links=["https://github.com/repo/issues/123"],
            acceptance_criteria=["Implement feature X", "Add unit tests", "Update documentation"],
            security_notes="Standard security review",
            test_notes="Requires integration tests",
        )
        after = datetime.now(UTC)

    assert item.id == "custom_1"
    assert item.title == "Custom Task"
    assert item.description == "Manually created task"
    assert item.task_type is TaskType.FEATURE
    assert item.impact == 8
    assert item.effort == 3
    assert item.status is TaskStatus.READY
    assert item.wsjf_score == 0.0
    assert item.links == ["https://github.com/repo/issues/123"]
    assert item.acceptance_criteria == [
        "Implement feature X",
        "Add unit tests",
        "Update documentation",
    ]
    assert item.security_notes == "Standard security review"
    assert item.test_notes == "Requires integration tests"
    assert item.time_criticality is None
    assert item.risk_reduction is None
    for stamp in (item.created_at, item.updated_at):
        # Naive local time was converted, not relabelled: it lies within the real UTC window.
        assert stamp.tzinfo is UTC
        assert stamp.microsecond == 0
        assert before <= stamp <= after


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC0", datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)),
        ("ABC-3", datetime(2026, 1, 15, 9, 0, 0, tzinfo=UTC)),
        ("XYZ+5", datetime(2026, 1, 15, 17, 0, 0, tzinfo=UTC)),
    ],
    ids=["utc", "utc-plus-3", "utc-minus-5"],
)
def test_naive_datetime_is_local_time_stored_as_utc_to_the_second(
    zone: str, expected: datetime
) -> None:
    naive = datetime(2026, 1, 15, 12, 0, 0, 750_000)
    with local_time_zone(zone):
        item = BacklogItem(id="T-1", title="Stamp", created_at=naive, updated_at=naive)
    assert item.created_at == expected
    assert item.created_at.tzinfo is UTC
    assert item.created_at.microsecond == 0
    assert item.updated_at == expected


def test_aware_datetime_in_another_zone_is_stored_as_utc_to_the_second() -> None:
    paris_winter = timezone(timedelta(hours=1))
    item = make(created_at=datetime(2026, 11, 25, 13, 0, 0, 999_999, tzinfo=paris_winter))
    assert item.created_at == NOON_UTC
    assert item.created_at.tzinfo is UTC
    assert item.created_at.microsecond == 0


def test_first_fourteen_fields_can_be_passed_positionally_in_the_original_order() -> None:
    item = BacklogItem(
        "P-1",
        "Positional",
        "made positionally",
        TaskType.BUG,
        5,
        2,
        TaskStatus.REFINED,
        1.5,
        NOON_UTC,
        NOON_UTC,
        ["https://example.test/1"],
        ["works"],
        "none",
        "unit",
    )
    assert (item.id, item.title, item.description) == ("P-1", "Positional", "made positionally")
    assert (item.task_type, item.impact, item.effort) == (TaskType.BUG, 5, 2)
    assert (item.status, item.wsjf_score) == (TaskStatus.REFINED, 1.5)
    assert (item.created_at, item.updated_at) == (NOON_UTC, NOON_UTC)
    assert (item.links, item.acceptance_criteria) == (["https://example.test/1"], ["works"])
    assert (item.security_notes, item.test_notes) == ("none", "unit")


def test_defaults_leave_wsjf_inputs_unset_for_estimation() -> None:
    item = BacklogItem(id="T-1", title="Defaults", created_at=NOON_UTC, updated_at=NOON_UTC)
    assert item.description == ""
    assert item.task_type is TaskType.FEATURE
    assert item.status is TaskStatus.NEW
    assert (item.impact, item.effort, item.time_criticality, item.risk_reduction) == (
        None,
        None,
        None,
        None,
    )
    assert item.wsjf_score == 0.0
    assert item.aging_multiplier == 1.0
    assert item.attempts == 0
    assert item.links == []
    assert item.labels == []
    assert item.due_date is None
    assert item.blocked_reason is None
    assert item.approval is None


def test_list_defaults_are_not_shared_between_items() -> None:
    first = make()
    second = make()
    first.links.append("https://example.test")
    first.acceptance_criteria.append("done")
    assert second.links == []
    assert second.acceptance_criteria == []


# --- BacklogItem: validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": ""}, "id: must be non-empty text"),
        ({"id": "   "}, "id: must be non-empty text"),
        ({"id": 7}, "id: must be non-empty text"),
        ({"title": ""}, "title: must be non-empty text"),
        ({"title": "\t\n"}, "title: must be non-empty text"),
        ({"title": None}, "title: must be non-empty text"),
        ({"impact": 0}, "impact: 0 is outside the scale; use 1 to 13"),
        ({"impact": 14}, "impact: 14 is outside the scale; use 1 to 13"),
        ({"impact": -3}, "impact: -3 is outside the scale; use 1 to 13"),
        ({"impact": True}, "impact: True is not a whole number; use 1 to 13"),
        ({"impact": 5.5}, "impact: 5.5 is not a whole number; use 1 to 13"),
        ({"impact": 5.0}, "impact: 5.0 is not a whole number; use 1 to 13"),
        ({"impact": "5"}, "impact: '5' is not a whole number; use 1 to 13"),
        ({"effort": 0}, "effort: 0 is outside the scale; use 1 to 13"),
        ({"effort": 14}, "effort: 14 is outside the scale; use 1 to 13"),
        ({"time_criticality": 0}, "time_criticality: 0 is outside the scale; use 1 to 13"),
        ({"time_criticality": False}, "time_criticality: False is not a whole number; use 1 to 13"),
        ({"risk_reduction": 14}, "risk_reduction: 14 is outside the scale; use 1 to 13"),
        ({"attempts": -1}, "attempts: cannot be negative"),
        ({"status": "SHIPPED"}, f"status: 'SHIPPED' is not a status; use one of {ALL_STATUSES}"),
        ({"task_type": "Epic"}, f"task_type: 'Epic' is not a task type; use one of {ALL_TYPES}"),
    ],
    ids=[
        "empty-id",
        "blank-id",
        "non-text-id",
        "empty-title",
        "blank-title",
        "missing-title",
        "impact-0",
        "impact-14",
        "impact-negative",
        "impact-true",
        "impact-fraction",
        "impact-whole-float",
        "impact-text",
        "effort-0",
        "effort-14",
        "time-criticality-0",
        "time-criticality-false",
        "risk-reduction-14",
        "negative-attempts",
        "unknown-status",
        "unknown-task-type",
    ],
)
def test_invalid_values_raise_invalid_value_error_with_exact_message(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        make(**fields)
    assert str(caught.value) == message
    assert caught.value.field == message.split(":", 1)[0]


@pytest.mark.parametrize(
    "field", ["impact", "effort", "time_criticality", "risk_reduction"], ids=str
)
@pytest.mark.parametrize("value", [1, 13], ids=["min-1", "max-13"])
def test_scale_bounds_are_accepted_for_every_wsjf_input(field: str, value: int) -> None:
    item = make(**{field: value})
    assert getattr(item, field) == value


@pytest.mark.parametrize(
    ("fields", "status", "task_type"),
    [
        ({"status": "ready", "task_type": "bug"}, TaskStatus.READY, TaskType.BUG),
        ({"status": "Blocked", "task_type": "PERF"}, TaskStatus.BLOCKED, TaskType.PERFORMANCE),
        ({"status": " pr ", "task_type": "Security"}, TaskStatus.PR, TaskType.SECURITY),
    ],
    ids=["lower", "alias-name", "padded-status"],
)
def test_text_status_and_type_are_converted_to_their_enums(
    fields: dict[str, Any], status: TaskStatus, task_type: TaskType
) -> None:
    item = make(**fields)
    assert item.status is status
    assert item.task_type is task_type


def test_is_open_is_true_only_for_statuses_that_still_need_work() -> None:
    open_ = {status for status in TaskStatus if make(status=status).is_open}
    assert open_ == {
        TaskStatus.NEW,
        TaskStatus.REFINED,
        TaskStatus.READY,
        TaskStatus.DOING,
        TaskStatus.PR,
        TaskStatus.BLOCKED,
    }


def test_source_location_prefers_path_and_line_then_url_then_kind() -> None:
    assert Source("todo", path="src/app.py", line=12).location() == "src/app.py:12"
    assert Source("todo", path="src/app.py").location() == "src/app.py"
    assert Source("issue", url="https://example.test/i/3").location() == "https://example.test/i/3"
    assert Source("manual").location() == "manual"


# --- BacklogItem.replace -------------------------------------------------------------------------


def test_replace_returns_a_changed_copy_and_leaves_the_original_alone() -> None:
    original = make(impact=3, created_at=NOON_UTC, updated_at=NOON_UTC)
    changed = original.replace(impact=8, due_date=date(2026, 12, 1))
    assert changed is not original
    assert changed.impact == 8
    assert changed.due_date == date(2026, 12, 1)
    assert changed.id == "T-1"
    assert changed.created_at == NOON_UTC
    assert original.impact == 3
    assert original.due_date is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"impact": 14}, "impact: 14 is outside the scale; use 1 to 13"),
        ({"effort": 0}, "effort: 0 is outside the scale; use 1 to 13"),
        ({"title": " "}, "title: must be non-empty text"),
        ({"attempts": -2}, "attempts: cannot be negative"),
        ({"status": "LATER"}, f"status: 'LATER' is not a status; use one of {ALL_STATUSES}"),
    ],
    ids=["impact-14", "effort-0", "blank-title", "negative-attempts", "unknown-status"],
)
def test_replace_validates_the_changes(changes: dict[str, Any], message: str) -> None:
    original = make()
    with pytest.raises(InvalidValueError) as caught:
        original.replace(**changes)
    assert str(caught.value) == message


def test_replace_converts_text_status_and_naive_times() -> None:
    with local_time_zone("ABC-3"):
        changed = make().replace(
            status="doing",
            updated_at=datetime(2026, 11, 25, 15, 0, 0, 123),
        )
    assert changed.status is TaskStatus.DOING
    assert changed.updated_at == NOON_UTC
