"""Tests for converting backlog items to and from the plain mappings of the backlog file."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from continuous_backlog_executor import codec, rows
from continuous_backlog_executor.errors import InvalidValueError
from continuous_backlog_executor.model import (
    Approval,
    BacklogItem,
    Source,
    TaskStatus,
    TaskType,
)

SOURCE_KEYS_TEXT = "kind, path, line, url, tag, author, rule, fingerprint, severity"
CREATED = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
UPDATED = datetime(2026, 2, 2, 10, 30, tzinfo=UTC)


@pytest.fixture
def local_time_is_utc_plus_3() -> Iterator[None]:
    """Make the machine's local time zone UTC+3, so local and UTC readings differ."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "XYZ-3"
    time.tzset()
    try:
        assert datetime(2026, 1, 31, 9).astimezone().utcoffset() == timedelta(hours=3)
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


def full_item() -> BacklogItem:
    """An item with every stored field set to a non-default value."""
    return BacklogItem(
        "cbe-7",
        "Fix the login crash",
        "Crashes on an empty password.\nSeen in production.",
        TaskType.BUG,
        8,
        3,
        TaskStatus.BLOCKED,
        0.0,
        CREATED,
        UPDATED,
        ["https://example.com/issues/7"],
        ["an empty password shows an error", "no crash"],
        "touches authentication",
        "unit test for the empty password",
        time_criticality=5,
        risk_reduction=13,
        due_date=date(2026, 3, 1),
        labels=["auth", "crash"],
        blocked_reason="waiting on a security review",
        pr_url="https://example.com/pull/9",
        source=Source(
            kind="todo",
            path="src/login.py",
            line=42,
            url="https://example.com/blob/src/login.py#L42",
            tag="FIXME",
            author="dev",
            rule="todo-comment",
            fingerprint="abc123",
            severity="high",
        ),
        also_found_by=[Source(kind="bandit", path="src/login.py", line=42, rule="B105")],
        approval=Approval("lead", datetime(2026, 2, 1, 12, 0, tzinfo=UTC), "go ahead"),
        attempts=2,
        evidence=["pytest -q: 12 passed"],
        resolution="reopened by hand",
    )


FULL_RECORD: dict[str, object] = {
    "id": "cbe-7",
    "title": "Fix the login crash",
    "task_type": "Bug",
    "status": "BLOCKED",
    "description": "Crashes on an empty password.\nSeen in production.",
    "impact": 8,
    "effort": 3,
    "time_criticality": 5,
    "risk_reduction": 13,
    "due_date": "2026-03-01",
    "created_at": "2026-01-31T09:00:00Z",
    "updated_at": "2026-02-02T10:30:00Z",
    "acceptance_criteria": ["an empty password shows an error", "no crash"],
    "links": ["https://example.com/issues/7"],
    "labels": ["auth", "crash"],
    "security_notes": "touches authentication",
    "test_notes": "unit test for the empty password",
    "blocked_reason": "waiting on a security review",
    "pr_url": "https://example.com/pull/9",
    "source": {
        "kind": "todo",
        "path": "src/login.py",
        "line": 42,
        "url": "https://example.com/blob/src/login.py#L42",
        "tag": "FIXME",
        "author": "dev",
        "rule": "todo-comment",
        "fingerprint": "abc123",
        "severity": "high",
    },
    "also_found_by": [{"kind": "bandit", "path": "src/login.py", "line": 42, "rule": "B105"}],
    "approval": {"by": "lead", "at": "2026-02-01T12:00:00Z", "note": "go ahead"},
    "attempts": 2,
    "evidence": ["pytest -q: 12 passed"],
    "resolution": "reopened by hand",
}


# --- decode ------------------------------------------------------------------------------------


def test_decode_builds_the_item_from_a_plain_mapping() -> None:
    item = codec.decode(
        {
            "id": "cbe-7",
            "title": "Fix the login crash",
            "task_type": "Bug",
            "status": "BLOCKED",
            "description": "Crashes on an empty password.\nSeen in production.",
            "impact": 8,
            "effort": 3,
            "time_criticality": 5,
            "risk_reduction": 13,
            "due_date": date(2026, 3, 1),
            "created_at": CREATED,
            "updated_at": UPDATED,
            "acceptance_criteria": ["an empty password shows an error", "no crash"],
            "links": ["https://example.com/issues/7"],
            "labels": ["auth", "crash"],
            "security_notes": "touches authentication",
            "test_notes": "unit test for the empty password",
            "blocked_reason": "waiting on a security review",
            "pr_url": "https://example.com/pull/9",
            "source": {
                "kind": "todo",
                "path": "src/login.py",
                "line": 42,
                "url": "https://example.com/blob/src/login.py#L42",
                "tag": "FIXME",
                "author": "dev",
                "rule": "todo-comment",
                "fingerprint": "abc123",
                "severity": "high",
            },
            "also_found_by": [
                {"kind": "bandit", "path": "src/login.py", "line": 42, "rule": "B105"}
            ],
            "approval": {"by": "lead", "at": "2026-02-01T12:00:00Z", "note": "go ahead"},
            "attempts": 2,
            "evidence": ["pytest -q: 12 passed"],
            "resolution": "reopened by hand",
        }
    )

    assert item == full_item()


def test_decode_fills_defaults_for_a_minimal_mapping() -> None:
    item = codec.decode({"id": "a", "title": "Write docs", "created_at": CREATED})

    assert item == BacklogItem("a", "Write docs", created_at=CREATED, updated_at=CREATED)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            {"title": 5}, "title", "must be text, not a number (5) (put it in quotes)", id="title"
        ),
        pytest.param(
            {"description": ["a"]},
            "description",
            "must be text, not a list (put it in quotes)",
            id="description-list",
        ),
        pytest.param(
            {"pr_url": True},
            "pr_url",
            "must be text, not true/false (True) (put it in quotes)",
            id="pr_url-flag",
        ),
        pytest.param(
            {"impact": 20}, "impact", "20 is outside the scale; use 1 to 13", id="impact-20"
        ),
        pytest.param(
            {"time_criticality": 0},
            "time_criticality",
            "0 is outside the scale; use 1 to 13",
            id="time_criticality-0",
        ),
        pytest.param(
            {"effort": "big"},
            "effort",
            "'big' is not a whole number; use 1 to 13",
            id="effort-text",
        ),
        pytest.param(
            {"risk_reduction": True},
            "risk_reduction",
            "True is not a whole number; use 1 to 13",
            id="risk_reduction-flag",
        ),
        pytest.param(
            {"status": "WIP"},
            "status",
            "'WIP' is not a status; use one of NEW, REFINED, READY, DOING, PR, MERGED, DONE, "
            "BLOCKED",
            id="status-WIP",
        ),
        pytest.param({"status": 3}, "status", "must be text, not a number (3)", id="status-number"),
        pytest.param(
            {"task_type": "Chore"},
            "task_type",
            "'Chore' is not a task type; use one of Feature, Bug, Refactor, Security, Doc, "
            "Test, Performance",
            id="task_type-Chore",
        ),
        pytest.param(
            {"created_at": "yesterday"},
            "created_at",
            "'yesterday' is not a date and time; write e.g. 2026-01-31T09:00:00Z",
            id="created_at-text",
        ),
        pytest.param(
            {"updated_at": 5},
            "updated_at",
            "5 is not a date and time; write e.g. 2026-01-31T09:00:00Z",
            id="updated_at-number",
        ),
        pytest.param(
            {"due_date": "31/01/2026"},
            "due_date",
            "'31/01/2026' is not a date; write e.g. 2026-01-31",
            id="due_date-text",
        ),
        pytest.param(
            {"source": "TODO.md"},
            "source",
            f"must be a map with keys {SOURCE_KEYS_TEXT}, not str",
            id="source-text",
        ),
        pytest.param(
            {"source": ["todo"]},
            "source",
            f"must be a map with keys {SOURCE_KEYS_TEXT}, not a list",
            id="source-list",
        ),
        pytest.param(
            {"source": {"kind": "todo", "file": "a.py"}},
            "source.file",
            f"is not a known key; use {SOURCE_KEYS_TEXT}",
            id="source-unknown-key",
        ),
        pytest.param(
            {"source": {"kind": "todo", "line": 0}},
            "source.line",
            "0 is not a line number (1 or more)",
            id="source-line-0",
        ),
        pytest.param(
            {"source": {"kind": "todo", "line": "12"}},
            "source.line",
            "'12' is not a line number (1 or more)",
            id="source-line-text",
        ),
        pytest.param(
            {"source": {"path": "a.py"}},
            "source.kind",
            "must be text, not empty (put it in quotes)",
            id="source-without-kind",
        ),
        pytest.param(
            {"approval": {"at": "2026-02-01T12:00:00Z"}},
            "approval.by",
            "must be text, not empty (put it in quotes)",
            id="approval-without-by",
        ),
        pytest.param(
            {"approval": {"by": "lead", "at": "soon"}},
            "approval.at",
            "'soon' is not a date and time; write e.g. 2026-01-31T09:00:00Z",
            id="approval-bad-at",
        ),
        pytest.param(
            {"approval": {"by": "lead", "at": CREATED, "when": "now"}},
            "approval.when",
            "is not a known key; use by, at, note",
            id="approval-unknown-key",
        ),
        pytest.param(
            {"attempts": -1}, "attempts", "-1 is not a count (0 or more)", id="attempts-negative"
        ),
        pytest.param(
            {"attempts": "2"}, "attempts", "'2' is not a count (0 or more)", id="attempts-text"
        ),
        pytest.param(
            {"acceptance_criteria": {"works": True}},
            "acceptance_criteria",
            "must be a list of text, not a map",
            id="acceptance_criteria-map",
        ),
        pytest.param(
            {"labels": ["ok", {"x": 1}]},
            "labels[1]",
            "must be text, not a map",
            id="labels-entry-map",
        ),
        pytest.param(
            {"evidence": ["ok", None]},
            "evidence[1]",
            "must be text, not empty",
            id="evidence-entry-empty",
        ),
        pytest.param({"id": "  "}, "id", "must not be empty", id="id-blank"),
        pytest.param(
            {"id": True},
            "id",
            "must be text, not true/false (True) (put it in quotes)",
            id="id-flag",
        ),
        pytest.param({"title": ""}, "title", "must not be empty", id="title-empty"),
    ],
)
def test_decode_field_errors(changes: dict[str, object], field: str, message: str) -> None:
    raw: dict[str, object] = {"id": "a", "title": "t", **changes}

    with pytest.raises(codec.FieldError) as caught:
        codec.decode(raw)

    assert caught.value.field == field
    assert caught.value.detail == message
    assert str(caught.value) == f"{field}: {message}"
    assert isinstance(caught.value, InvalidValueError)


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        pytest.param(
            {"title": "t"}, "id", "is missing; give the item a unique id", id="id-missing"
        ),
        pytest.param(
            {"id": None, "title": "t"},
            "id",
            "is missing; give the item a unique id",
            id="id-null",
        ),
        pytest.param(
            {"id": "a"}, "title", "is missing; every item needs a title", id="title-missing"
        ),
    ],
)
def test_decode_missing_keys(raw: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(codec.FieldError) as caught:
        codec.decode(raw)

    assert (caught.value.field, caught.value.detail) == (field, message)


def test_default_id_stands_in_for_a_missing_id() -> None:
    assert codec.decode({"title": "t"}, default_id="auto-1").id == "auto-1"
    assert codec.decode({"id": "own", "title": "t"}, default_id="auto-1").id == "own"


def test_a_numeric_id_becomes_text() -> None:
    assert codec.decode({"id": 42, "title": "t"}).id == "42"


def test_numbers_in_text_lists_become_text() -> None:
    item = codec.decode({"id": "a", "title": "t", "labels": [1, 2.5, "x"]})

    assert item.labels == ["1", "2.5", "x"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("urgent", ["urgent"], id="single-text"),
        pytest.param("  ", [], id="blank-text"),
        pytest.param([], [], id="empty-list"),
    ],
)
def test_text_list_forms(value: object, expected: list[str]) -> None:
    assert codec.decode({"id": "a", "title": "t", "labels": value}).labels == expected


def test_a_yaml_date_for_created_at_is_midnight_utc() -> None:
    item = codec.decode({"id": "a", "title": "t", "created_at": date(2026, 1, 31)})

    assert item.created_at == datetime(2026, 1, 31, 0, 0, tzinfo=UTC)
    assert item.updated_at == item.created_at


@pytest.mark.usefixtures("local_time_is_utc_plus_3")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(datetime(2026, 1, 31, 9, 0), datetime(2026, 1, 31, 9, 0), id="naive-is-utc"),
        pytest.param(
            datetime(2026, 1, 31, 9, 0, 30, 999_999),
            datetime(2026, 1, 31, 9, 0, 30),
            id="microseconds-dropped",
        ),
        pytest.param(
            datetime(2026, 1, 31, 9, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 1, 31, 7, 0),
            id="aware-converted",
        ),
        pytest.param("2026-01-31T09:00:00Z", datetime(2026, 1, 31, 9, 0), id="text-Z"),
        pytest.param("2026-01-31T09:00:00+02:00", datetime(2026, 1, 31, 7, 0), id="text-offset"),
        # The original engine wrote naive local times as text; they are read as local time.
        pytest.param("2026-01-31T09:00:00", datetime(2026, 1, 31, 6, 0), id="naive-text-local"),
    ],
)
def test_timestamps_are_stored_in_utc(value: object, expected: datetime) -> None:
    item = codec.decode({"id": "a", "title": "t", "created_at": value, "updated_at": value})

    assert item.created_at == expected.replace(tzinfo=UTC)
    assert item.created_at.tzinfo is UTC
    assert item.updated_at == item.created_at


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(date(2026, 3, 1), id="date"),
        pytest.param(datetime(2026, 3, 1, 17, 45), id="datetime"),
        pytest.param("2026-03-01", id="text"),
    ],
)
def test_due_date_forms(value: object) -> None:
    assert codec.decode({"id": "a", "title": "t", "due_date": value}).due_date == date(2026, 3, 1)


ENUM_CASES: list[tuple[str, str, object]] = [
    ("status", "doing", TaskStatus.DOING),
    ("status", "Doing", TaskStatus.DOING),
    ("status", " DOING ", TaskStatus.DOING),
    ("status", "pr", TaskStatus.PR),
    ("task_type", "bug", TaskType.BUG),
    ("task_type", "BUG", TaskType.BUG),
    ("task_type", "security", TaskType.SECURITY),
    ("task_type", "perf", TaskType.PERFORMANCE),
    ("task_type", "PERFORMANCE", TaskType.PERFORMANCE),
]


@pytest.mark.parametrize(
    ("key", "text", "expected"), ENUM_CASES, ids=[f"{k}={t!r}" for k, t, _ in ENUM_CASES]
)
def test_enum_values_in_any_case(key: str, text: str, expected: object) -> None:
    item = codec.decode({"id": "a", "title": "t", key: text})

    assert getattr(item, key) is expected


def test_derived_and_unknown_keys_are_ignored() -> None:
    item = codec.decode(
        {
            "id": "a",
            "title": "t",
            "wsjf_score": 99.5,
            "aging_multiplier": 1.7,
            "owner": "someone",
            "impact": None,
        }
    )

    assert item.wsjf_score == 0.0
    assert item.aging_multiplier == 1.0
    assert item.impact is None


# --- encode ------------------------------------------------------------------------------------


def test_encode_writes_only_the_always_written_fields_of_a_minimal_item() -> None:
    item = BacklogItem("a", "Write docs", created_at=CREATED, updated_at=UPDATED)

    record = codec.encode(item)

    assert record == {
        "id": "a",
        "title": "Write docs",
        "task_type": "Feature",
        "status": "NEW",
        "created_at": "2026-01-31T09:00:00Z",
        "updated_at": "2026-02-02T10:30:00Z",
    }
    assert list(record) == ["id", "title", "task_type", "status", "created_at", "updated_at"]
    assert set(record) == codec.ALWAYS_WRITTEN
    assert type(record["created_at"]) is codec.Timestamp
    assert type(record["updated_at"]) is codec.Timestamp


def test_encode_writes_every_set_field_in_field_order() -> None:
    record = codec.encode(full_item())

    assert record == FULL_RECORD
    assert list(record) == list(codec.FIELD_ORDER)
    assert list(record["source"]) == list(codec.SOURCE_KEYS)
    assert type(record["due_date"]) is codec.DateText
    assert type(record["approval"]["at"]) is codec.Timestamp


def test_encode_never_writes_derived_values() -> None:
    item = full_item()
    item.wsjf_score = 4.5
    item.aging_multiplier = 1.3

    record = codec.encode(item)

    assert codec.DERIVED.isdisjoint(record)


def test_encode_writes_timestamps_as_utc_text() -> None:
    plus_two = timezone(timedelta(hours=2))
    item = BacklogItem(
        "a",
        "t",
        created_at=datetime(2026, 1, 31, 11, 0, 59, tzinfo=plus_two),
        updated_at=datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-3))),
        approval=Approval("lead", datetime(2026, 2, 1, 1, 0, tzinfo=plus_two)),
    )

    record = codec.encode(item)

    assert record["created_at"] == "2026-01-31T09:00:59Z"
    assert record["updated_at"] == "2026-02-01T02:30:00Z"
    assert record["approval"] == {"by": "lead", "at": "2026-01-31T23:00:00Z"}


def test_encoded_lists_are_copies() -> None:
    item = full_item()
    record = codec.encode(item)

    record["labels"].append("extra")

    assert item.labels == ["auth", "crash"]


def test_encode_decode_encode_is_stable() -> None:
    first = codec.encode(full_item())

    assert codec.encode(codec.decode(first)) == first


def test_decode_of_encode_rebuilds_the_item() -> None:
    item = full_item()

    assert codec.decode(codec.encode(item)) == item


# --- rows: the cached form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(full_item(), id="full"),
        pytest.param(BacklogItem("a", "t", created_at=CREATED), id="minimal"),
    ],
)
def test_from_row_of_a_pickled_row_rebuilds_the_item(item: BacklogItem) -> None:
    stored = pickle.loads(pickle.dumps(rows.row_of(item)))  # noqa: S301 -- bytes made here

    rebuilt = rows.from_row(stored)

    assert codec.encode(rebuilt) == codec.encode(item)
    assert rebuilt == item
    assert rows.row_of(rebuilt) == rows.row_of(item)


def test_rebuilt_items_do_not_share_lists_with_their_row() -> None:
    row = rows.row_of(full_item())
    rebuilt = rows.from_row(row)

    rebuilt.labels.append("extra")

    assert rows.from_row(row).labels == ["auth", "crash"]


def test_rows_hold_only_plain_values() -> None:
    row = rows.row_of(full_item())

    assert all(type(v) in (str, int, type(None), tuple, datetime, date) for v in row)
    assert type(row[2]) is str
    assert type(row[3]) is str


# --- row_of -------------------------------------------------------------------------------------


def test_state_of_equal_items_is_equal_and_hashable() -> None:
    assert rows.row_of(full_item()) == rows.row_of(full_item())
    assert hash(rows.row_of(full_item())) == hash(rows.row_of(full_item()))


@pytest.mark.parametrize("name", ["acceptance_criteria", "links", "labels", "evidence"])
def test_state_of_changes_when_a_list_is_mutated_in_place(name: str) -> None:
    item = full_item()
    before = rows.row_of(item)

    getattr(item, name).append("one more")

    assert rows.row_of(item) != before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", TaskStatus.READY),
        ("blocked_reason", None),
        ("attempts", 3),
        ("approval", None),
        ("updated_at", UPDATED + timedelta(seconds=1)),
    ],
    ids=["status", "blocked_reason", "attempts", "approval", "updated_at"],
)
def test_state_of_changes_when_a_field_is_set(name: str, value: object) -> None:
    item = full_item()
    before = rows.row_of(item)

    setattr(item, name, value)

    assert rows.row_of(item) != before


def test_state_of_ignores_derived_values() -> None:
    item = full_item()
    before = rows.row_of(item)

    item.wsjf_score = 7.0
    item.aging_multiplier = 1.5

    assert rows.row_of(item) == before
