"""Backlog items and the values they are made of: data only, no I/O.

``BacklogItem`` keeps the constructor of the original engine (the first fourteen fields, in order)
so existing code that builds items keeps working; everything after them is keyword-only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from .errors import InvalidValueError

SCALE_MIN = 1
SCALE_MAX = 13


class TaskStatus(StrEnum):
    """Where an item stands in the flow NEW -> REFINED -> READY -> DOING -> PR -> MERGED/DONE."""

    NEW = "NEW"
    REFINED = "REFINED"
    READY = "READY"
    DOING = "DOING"
    PR = "PR"
    MERGED = "MERGED"
    DONE = "DONE"
    BLOCKED = "BLOCKED"

    @classmethod
    def parse(cls, text: str) -> TaskStatus:
        """The status named by ``text``, ignoring case."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            valid = ", ".join(member.value for member in cls)
            raise InvalidValueError(
                "status", f"{text!r} is not a status; use one of {valid}"
            ) from None


class TaskType(StrEnum):
    """What kind of work an item is."""

    FEATURE = "Feature"
    BUG = "Bug"
    REFACTOR = "Refactor"
    SECURITY = "Security"
    DOC = "Doc"
    TEST = "Test"
    PERFORMANCE = "Performance"
    PERF = "Performance"  # the original engine's spelling of the same member

    @classmethod
    def parse(cls, text: str) -> TaskType:
        """The type named by ``text`` (its value or its member name), ignoring case."""
        wanted = text.strip().lower()
        for name, member in cls.__members__.items():
            if wanted in (name.lower(), member.value.lower()):
                return member
        valid = ", ".join(member.value for member in cls)
        raise InvalidValueError("task_type", f"{text!r} is not a task type; use one of {valid}")


OPEN_STATUSES = frozenset(
    {
        TaskStatus.NEW,
        TaskStatus.REFINED,
        TaskStatus.READY,
        TaskStatus.DOING,
        TaskStatus.PR,
        TaskStatus.BLOCKED,
    }
)
FINISHED_STATUSES = frozenset({TaskStatus.MERGED, TaskStatus.DONE})


def utcnow() -> datetime:
    """The current time in UTC, to the second: the precision the backlog file keeps."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC to the second; a naive time is taken as the machine's local time."""
    aware = moment if moment.tzinfo is not None else moment.astimezone()
    return aware.astimezone(UTC).replace(microsecond=0)


def check_scale(name: str, value: object) -> int:
    """``value`` if it is a whole number on the 1-13 WSJF scale, else an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(
            name, f"{value!r} is not a whole number; use {SCALE_MIN} to {SCALE_MAX}"
        )
    if not SCALE_MIN <= value <= SCALE_MAX:
        raise InvalidValueError(
            name, f"{value} is outside the scale; use {SCALE_MIN} to {SCALE_MAX}"
        )
    return value


@dataclass(frozen=True, slots=True)
class Source:
    """Where an item came from: a file and line, a URL, or a person."""

    kind: str
    path: str | None = None
    line: int | None = None
    url: str | None = None
    tag: str | None = None
    author: str | None = None
    rule: str | None = None
    fingerprint: str | None = None
    severity: str | None = None

    def location(self) -> str:
        """A short human-readable place: ``path:line``, the URL, or the kind alone."""
        if self.path:
            return f"{self.path}:{self.line}" if self.line else self.path
        return self.url or self.kind


@dataclass(frozen=True, slots=True)
class Approval:
    """A human's go-ahead for an item that the escalation rules hold back."""

    by: str
    at: datetime
    note: str = ""


SCORE_FIELDS = ("impact", "time_criticality", "risk_reduction", "effort")


@dataclass(slots=True)
class BacklogItem:
    """One unit of work. Unset WSJF inputs (``None``) are estimated when scored, never stored."""

    id: str
    title: str
    description: str = ""
    task_type: TaskType = TaskType.FEATURE
    impact: int | None = None
    effort: int | None = None
    status: TaskStatus = TaskStatus.NEW
    wsjf_score: float = 0.0
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    links: list[str] = field(default_factory=list)
    acceptance_criteria: list[str] = field(default_factory=list)
    security_notes: str = ""
    test_notes: str = ""
    _: KW_ONLY
    time_criticality: int | None = None
    risk_reduction: int | None = None
    aging_multiplier: float = 1.0
    due_date: date | None = None
    labels: list[str] = field(default_factory=list)
    blocked_reason: str | None = None
    pr_url: str | None = None
    source: Source | None = None
    also_found_by: list[Source] = field(default_factory=list)
    approval: Approval | None = None
    attempts: int = 0
    evidence: list[str] = field(default_factory=list)
    resolution: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidValueError("id", "must be non-empty text")
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidValueError("title", "must be non-empty text")
        # Library callers may pass the enums' text; the annotations describe the stored form.
        task_type: object = self.task_type
        if not isinstance(task_type, TaskType):
            self.task_type = TaskType.parse(str(task_type))
        status: object = self.status
        if not isinstance(status, TaskStatus):
            self.status = TaskStatus.parse(str(status))
        for name in SCORE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                check_scale(name, value)
        self.created_at = as_utc(self.created_at)
        self.updated_at = as_utc(self.updated_at)
        if self.attempts < 0:
            raise InvalidValueError("attempts", "cannot be negative")

    @property
    def is_open(self) -> bool:
        """True while the item still needs work or a decision."""
        return self.status in OPEN_STATUSES

    def replace(self, **changes: object) -> BacklogItem:
        """A copy with ``changes`` applied and validated."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
