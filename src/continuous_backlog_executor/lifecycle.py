"""The status lifecycle as data: which changes are allowed, checked in one place. Pure.

The main flow is NEW -> REFINED -> READY -> DOING -> PR -> MERGED -> DONE. BLOCKED is reachable
from every working status and leads back to READY (unblock or approve). A finished item can be
reopened when the problem it was about comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import TransitionError
from .model import BacklogItem, TaskStatus

S = TaskStatus

TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.NEW: frozenset({S.REFINED, S.BLOCKED, S.DONE}),
    S.REFINED: frozenset({S.READY, S.NEW, S.BLOCKED, S.DONE}),
    S.READY: frozenset({S.DOING, S.REFINED, S.BLOCKED, S.DONE}),
    # DOING -> READY: the run was interrupted and the item goes back in line.
    S.DOING: frozenset({S.PR, S.READY, S.BLOCKED, S.DONE}),
    # PR -> DOING: review asked for changes, so the item re-enters the micro-cycle.
    S.PR: frozenset({S.MERGED, S.DONE, S.DOING, S.BLOCKED}),
    S.MERGED: frozenset({S.DONE}),
    S.DONE: frozenset({S.NEW}),
    S.BLOCKED: frozenset({S.READY, S.DONE}),
}

# Transitions that must say why, because a human reading the journal will ask.
NEEDS_REASON = frozenset(
    {(status, S.BLOCKED) for status in TaskStatus if S.BLOCKED in TRANSITIONS[status]}
    | {(S.DONE, S.NEW), (S.DOING, S.READY), (S.PR, S.DOING)}
)


@dataclass(frozen=True, slots=True)
class Event:
    """One status change, as written to the journal."""

    time: datetime
    item: str
    from_status: TaskStatus
    to_status: TaskStatus
    reason: str
    actor: str


def allowed(current: TaskStatus, target: TaskStatus) -> bool:
    """True when the lifecycle lets an item move from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


def check(item_id: str, current: TaskStatus, target: TaskStatus, reason: str) -> None:
    """Raise ``TransitionError`` unless ``current -> target`` is allowed with this reason."""
    if not allowed(current, target):
        options = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise TransitionError(
            f"item {item_id!r} cannot go from {current} to {target}; "
            f"from {current} it can go to: {options}"
        )
    if (current, target) in NEEDS_REASON and not reason.strip():
        raise TransitionError(f"item {item_id!r}: moving from {current} to {target} needs a reason")


def advance(
    item: BacklogItem,
    target: TaskStatus,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Event:
    """Move ``item`` to ``target`` in place and return the journal event describing it.

    Entering BLOCKED records the reason on the item; leaving it clears the reason.
    """
    check(item.id, item.status, target, reason)
    event = Event(now, item.id, item.status, target, reason, actor)
    item.status = target
    item.updated_at = now
    item.blocked_reason = reason if target is S.BLOCKED else None
    return event
