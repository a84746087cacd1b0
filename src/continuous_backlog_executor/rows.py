"""Items as flat rows of plain values: cheap to compare and quick to cache.

A row holds every stored field of an item, in ``codec.FIELD_ORDER``, as plain values (enums as
their text, lists as tuples, sources as tuples), so comparing two rows tells whether an item
changed, and a row pickles in C without any class of ours.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from .codec import APPROVAL_KEYS, FIELD_ORDER, SOURCE_KEYS
from .model import Approval, BacklogItem, Source, TaskStatus, TaskType

Row = tuple[Any, ...]
_row_getter = attrgetter(*FIELD_ORDER)
_source_getter = attrgetter(*SOURCE_KEYS)
_approval_getter = attrgetter(*APPROVAL_KEYS)
_TYPES = {member.value: member for member in TaskType}
_STATUSES = {member.value: member for member in TaskStatus}
# Enum members to their plain text; ``member.value`` is a slow descriptor on large loops.
_TEXT: dict[TaskType | TaskStatus, str] = {
    **{member: member.value for member in TaskType},
    **{member: member.value for member in TaskStatus},
}


def row_of(item: BacklogItem) -> Row:
    """Every stored field as a flat tuple of plain values, in ``FIELD_ORDER``.

    Rows are cheap to compare (to tell whether an item changed since it was read) and cheap
    to cache (plain values pickle in C); ``from_row`` turns one back into an item.
    """
    (
        id_,
        title,
        task_type,
        status,
        description,
        impact,
        effort,
        time_criticality,
        risk_reduction,
        due_date,
        created_at,
        updated_at,
        acceptance_criteria,
        links,
        labels,
        security_notes,
        test_notes,
        blocked_reason,
        pr_url,
        source,
        also_found_by,
        approval,
        attempts,
        evidence,
        resolution,
    ) = _row_getter(item)
    return (
        id_,
        title,
        _TEXT[task_type],
        _TEXT[status],
        description,
        impact,
        effort,
        time_criticality,
        risk_reduction,
        due_date,
        created_at,
        updated_at,
        tuple(acceptance_criteria),
        tuple(links),
        tuple(labels),
        security_notes,
        test_notes,
        blocked_reason,
        pr_url,
        None if source is None else _source_getter(source),
        tuple(map(_source_getter, also_found_by)) if also_found_by else (),
        None if approval is None else _approval_getter(approval),
        attempts,
        tuple(evidence),
        resolution,
    )


def from_row(row: Row) -> BacklogItem:
    """The item a row was made from. Rows come only from validated items, so this skips
    validation: it is the fast path that makes a warm load of a large backlog quick."""
    item: BacklogItem = object.__new__(BacklogItem)
    (
        item.id,
        item.title,
        task_type,
        status,
        item.description,
        item.impact,
        item.effort,
        item.time_criticality,
        item.risk_reduction,
        item.due_date,
        item.created_at,
        item.updated_at,
        acceptance_criteria,
        links,
        labels,
        item.security_notes,
        item.test_notes,
        item.blocked_reason,
        item.pr_url,
        source,
        also_found_by,
        approval,
        item.attempts,
        evidence,
        item.resolution,
    ) = row
    item.task_type = _TYPES[task_type]
    item.status = _STATUSES[status]
    item.acceptance_criteria = list(acceptance_criteria)
    item.links = list(links)
    item.labels = list(labels)
    item.evidence = list(evidence)
    item.source = None if source is None else Source(*source)
    item.also_found_by = [Source(*other) for other in also_found_by] if also_found_by else []
    item.approval = None if approval is None else Approval(*approval)
    item.wsjf_score = 0.0
    item.aging_multiplier = 1.0
    return item
