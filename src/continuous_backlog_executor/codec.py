"""Conversion between ``BacklogItem`` and the plain mappings stored in the backlog file.

Decoding validates every field once, at the boundary, and names the offending key; encoding
writes only what the tool owns (derived values such as ``wsjf_score`` are never stored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from .errors import InvalidValueError
from .model import (
    Approval,
    BacklogItem,
    Source,
    TaskStatus,
    TaskType,
    as_utc,
    check_scale,
)

# The order new items are written in; existing items keep the order a human gave them.
FIELD_ORDER = (
    "id",
    "title",
    "task_type",
    "status",
    "description",
    "impact",
    "effort",
    "time_criticality",
    "risk_reduction",
    "due_date",
    "created_at",
    "updated_at",
    "acceptance_criteria",
    "links",
    "labels",
    "security_notes",
    "test_notes",
    "blocked_reason",
    "pr_url",
    "source",
    "also_found_by",
    "approval",
    "attempts",
    "evidence",
    "resolution",
)
ALWAYS_WRITTEN = frozenset({"id", "title", "task_type", "status", "created_at", "updated_at"})
# Computed on every load; a stored copy would go stale by the next day, so it is ignored.
DERIVED = frozenset({"wsjf_score", "aging_multiplier"})
SOURCE_KEYS = ("kind", "path", "line", "url", "tag", "author", "rule", "fingerprint", "severity")
APPROVAL_KEYS = ("by", "at", "note")

Record = dict[str, Any]


class Timestamp(str):
    """An ISO-8601 UTC time kept as text, written to YAML as a plain timestamp."""

    __slots__ = ()


class DateText(str):
    """An ISO-8601 date kept as text, written to YAML as a plain date."""

    __slots__ = ()


class FieldError(InvalidValueError):
    """A stored value that cannot become an item field; ``field`` is its dotted key."""


def _text(key: str, value: object, *, required: bool = False) -> str:
    if isinstance(value, str):
        if required and not value.strip():
            raise FieldError(key, "must not be empty")
        return value
    if value is None and not required:
        return ""
    raise FieldError(key, f"must be text, not {_kind(value)} (put it in quotes)")


def _optional_text(key: str, value: object) -> str | None:
    return _text(key, value) or None


def _kind(value: object) -> str:
    kinds = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a map"}
    for cls, name in kinds.items():
        if isinstance(value, cls):
            return f"{name} ({value!r})" if cls is not list and cls is not dict else name
    if value is None:
        return "empty"
    return type(value).__name__


def _scale(key: str, value: object) -> int | None:
    if value is None:
        return None
    try:
        return check_scale(key, value)
    except InvalidValueError as error:
        raise FieldError(key, error.detail) from None


def _moment(key: str, value: object) -> datetime:
    if isinstance(value, datetime):
        # YAML timestamps without a zone are UTC by the YAML spec.
        return as_utc(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            # The original engine wrote local naive times; read them as local.
            return as_utc(parsed)
    raise FieldError(key, f"{value!r} is not a date and time; write e.g. 2026-01-31T09:00:00Z")


def _day(key: str, value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FieldError(key, f"{value!r} is not a date; write e.g. 2026-01-31")


def _text_list(key: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if not isinstance(value, list):
        raise FieldError(key, f"must be a list of text, not {_kind(value)}")
    result = []
    for index, entry in enumerate(value):
        if isinstance(entry, bool) or not isinstance(entry, (str, int, float)):
            raise FieldError(f"{key}[{index}]", f"must be text, not {_kind(entry)}")
        result.append(str(entry))
    return result


def _mapping(key: str, value: object, allowed: tuple[str, ...]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise FieldError(key, f"must be a map with keys {', '.join(allowed)}, not {_kind(value)}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise FieldError(f"{key}.{unknown[0]}", f"is not a known key; use {', '.join(allowed)}")
    return value


def _source(key: str, value: object) -> Source | None:
    if value is None:
        return None
    data = _mapping(key, value, SOURCE_KEYS)
    line = data.get("line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 1):
        raise FieldError(f"{key}.line", f"{line!r} is not a line number (1 or more)")
    return Source(
        kind=_text(f"{key}.kind", data.get("kind"), required=True),
        line=line,
        **{
            k: _optional_text(f"{key}.{k}", data.get(k))
            for k in SOURCE_KEYS
            if k not in ("kind", "line")
        },
    )


def _sources(key: str, value: object) -> list[Source]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(key, f"must be a list of sources, not {_kind(value)}")
    found = [_source(f"{key}[{index}]", entry) for index, entry in enumerate(value)]
    return [source for source in found if source is not None]


def _approval(key: str, value: object) -> Approval | None:
    if value is None:
        return None
    data = _mapping(key, value, APPROVAL_KEYS)
    return Approval(
        by=_text(f"{key}.by", data.get("by"), required=True),
        at=_moment(f"{key}.at", data.get("at")),
        note=_text(f"{key}.note", data.get("note")),
    )


E = TypeVar("E", TaskStatus, TaskType)


def _enum_parser(parse: Callable[[str], E]) -> Callable[[str, object], E]:
    def convert(key: str, value: object) -> E:
        if not isinstance(value, str):
            raise FieldError(key, f"must be text, not {_kind(value)}")
        try:
            return parse(value)
        except InvalidValueError as error:
            raise FieldError(key, error.detail) from None

    return convert


def _number_as_text(value: object) -> object:
    # ``id: 42`` is a number to YAML but a perfectly good id to a human.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _attempts(key: str, value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FieldError(key, f"{value!r} is not a count (0 or more)")
    return value


PARSERS: dict[str, Callable[[str, object], object]] = {
    "id": lambda k, v: _text(k, _number_as_text(v), required=True),
    "title": lambda k, v: _text(k, v, required=True),
    "task_type": _enum_parser(TaskType.parse),
    "status": _enum_parser(TaskStatus.parse),
    "description": _text,
    "impact": _scale,
    "effort": _scale,
    "time_criticality": _scale,
    "risk_reduction": _scale,
    "due_date": _day,
    "created_at": _moment,
    "updated_at": _moment,
    "acceptance_criteria": _text_list,
    "links": _text_list,
    "labels": _text_list,
    "security_notes": _text,
    "test_notes": _text,
    "blocked_reason": _optional_text,
    "pr_url": _optional_text,
    "source": _source,
    "also_found_by": _sources,
    "approval": _approval,
    "attempts": _attempts,
    "evidence": _text_list,
    "resolution": _optional_text,
}
KNOWN_KEYS = frozenset(PARSERS) | DERIVED


def decode(raw: Mapping[str, object], *, default_id: str | None = None) -> BacklogItem:
    """Build an item from a stored mapping; unknown keys are ignored here and kept by the file.

    ``default_id`` stands in for a missing ``id`` (an item a human added without one).
    """
    values: dict[str, object] = {}
    for key, parse in PARSERS.items():
        if key in raw and raw[key] is not None:
            values[key] = parse(key, raw[key])
    if "id" not in values:
        if default_id is None:
            raise FieldError("id", "is missing; give the item a unique id")
        values["id"] = default_id
    if "title" not in values:
        raise FieldError("title", "is missing; every item needs a title")
    values.setdefault("updated_at", values.get("created_at"))
    if values["updated_at"] is None:
        del values["updated_at"]
    try:
        return BacklogItem(**values)  # type: ignore[arg-type]
    except InvalidValueError as error:
        raise FieldError(error.field, error.detail) from None


def _stamp(moment: datetime) -> Timestamp:
    return Timestamp(as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _encode_source(source: Source) -> Record:
    return {k: getattr(source, k) for k in SOURCE_KEYS if getattr(source, k) is not None}


def _encode_approval(approval: Approval) -> Record:
    record: Record = {"by": approval.by, "at": _stamp(approval.at)}
    if approval.note:
        record["note"] = approval.note
    return record


ENCODERS: dict[str, Callable[[Any], object]] = {
    "task_type": lambda v: v.value,
    "status": lambda v: v.value,
    "created_at": _stamp,
    "updated_at": _stamp,
    "due_date": lambda v: DateText(v.isoformat()),
    "source": _encode_source,
    "also_found_by": lambda sources: [_encode_source(s) for s in sources],
    "approval": _encode_approval,
    "acceptance_criteria": list,
    "links": list,
    "labels": list,
    "evidence": list,
}


def encode(item: BacklogItem) -> Record:
    """The stored form of ``item``: every field in ``FIELD_ORDER`` that is not empty."""
    record: Record = {}
    for key in FIELD_ORDER:
        value = getattr(item, key)
        if key not in ALWAYS_WRITTEN and value in (None, "", [], 0):
            continue
        convert = ENCODERS.get(key)
        record[key] = convert(value) if convert else value
    return record
