"""Turning what the sources found into one backlog: add, update, merge, close, reopen.

A finding matches an item by its source and fingerprint, whichever of the item's sources it
is. A new finding at the same file and line as an open item from another source joins that
item instead of making a second one. An item whose every finding is gone (from sources that
ran) is closed as DONE with the reason; it is never deleted, and it is reopened, with the same
id, when a finding comes back. Items in DOING or PR are left alone, and so is everything a
person may have edited: titles, descriptions, values, notes. Only where a finding now is
(its file and line) is kept up to date.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from .backlog import Backlog
from .model import FINISHED_STATUSES, BacklogItem, Source, TaskStatus
from .sources.base import DiscoveryContext, DiscoverySource, Finding, Observer, Scan, SourceError
from .store import StateStore

Key = tuple[str, str]  # (source name, fingerprint)
LEFT_ALONE = frozenset({TaskStatus.DOING, TaskStatus.PR})


class ChangeKind(StrEnum):
    """What discovery did to an item."""

    ADDED = "added"
    UPDATED = "updated"
    MERGED = "merged"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class Change:
    """One thing discovery did, for the summary and ``--format json``."""

    kind: ChangeKind
    item: str
    title: str
    detail: str


@dataclass
class Merge:
    """The changes one discovery made, in the order made."""

    changes: list[Change] = field(default_factory=list)

    def count(self, kind: ChangeKind) -> int:
        """How many changes of ``kind``."""
        return sum(1 for change in self.changes if change.kind is kind)


def keys_of(item: BacklogItem) -> list[Key]:
    """Every (source, fingerprint) that points at ``item``."""
    found = [item.source, *item.also_found_by]
    return [(s.kind, s.fingerprint) for s in found if s is not None and s.fingerprint]


def _describe(origin: Source) -> str:
    what = origin.tag or origin.rule or origin.kind
    return f"{what} at {origin.location()} ({origin.kind})"


_ID_PREFIX = re.compile(r"[^A-Z0-9]+")


def discovered_id(finding: Finding, taken: set[str]) -> str:
    """A short id from the finding's tag (or source) and fingerprint, unique in ``taken``."""
    prefix = _ID_PREFIX.sub("", (finding.origin.tag or finding.origin.kind).upper())[:8] or "ITEM"
    digest = hashlib.sha1(  # a name, not a security measure
        f"{finding.origin.kind}\0{finding.fingerprint}".encode(), usedforsecurity=False
    ).hexdigest()
    for length in range(6, len(digest) + 1, 2):
        candidate = f"{prefix}-{digest[:length]}"
        if candidate.lower() not in taken:
            return candidate
    raise AssertionError("sha1 digests do not run out")  # pragma: no cover


class _Index:
    """The backlog's items by finding key and by open location."""

    def __init__(self, items: Iterable[BacklogItem]) -> None:
        self.by_key: dict[Key, BacklogItem] = {}
        self.by_place: dict[tuple[str, int], BacklogItem] = {}
        self.ids: set[str] = set()
        for item in items:
            self.add(item)

    def add(self, item: BacklogItem) -> None:
        self.ids.add(item.id.lower())
        for key in keys_of(item):
            self.by_key[key] = item
        for origin in (item.source, *item.also_found_by):
            if origin is not None and origin.path and origin.line and item.is_open:
                self.by_place.setdefault((origin.path, origin.line), item)


def merge(backlog: Backlog, scans: Sequence[Scan], *, now: datetime, actor: str) -> Merge:
    """Apply ``scans`` to ``backlog`` in place and say what changed."""
    result = Merge()
    index = _Index(backlog.items)
    seen: set[Key] = set()
    for scan in scans:
        if not scan.ran:
            continue
        for finding in scan.findings:
            key = (finding.origin.kind, finding.fingerprint)
            if key in seen:
                continue
            seen.add(key)
            _take(backlog, index, finding, key, result, now=now, actor=actor)
    ran = {scan.source for scan in scans if scan.ran}
    for item in backlog.items:
        _close_if_gone(backlog, item, seen, ran, result, now=now, actor=actor)
    return result


def _take(
    backlog: Backlog,
    index: _Index,
    finding: Finding,
    key: Key,
    result: Merge,
    *,
    now: datetime,
    actor: str,
) -> None:
    item = index.by_key.get(key)
    if item is not None:
        _follow(item, finding, result, now=now)
        if item.status in FINISHED_STATUSES:
            _reopen(backlog, item, finding, result, now=now, actor=actor)
        return
    place = (finding.origin.path, finding.origin.line)
    other = index.by_place.get(place) if place[0] and place[1] else None  # type: ignore[arg-type]
    if other is not None and finding.origin.kind not in {k for k, _ in keys_of(other)}:
        other.also_found_by.append(_pinned(finding))
        other.updated_at = now
        index.by_key[key] = other
        result.changes.append(
            Change(ChangeKind.MERGED, other.id, other.title, _describe(finding.origin))
        )
        return
    item = backlog.add(new_item(finding, discovered_id(finding, index.ids), now))
    index.add(item)
    result.changes.append(Change(ChangeKind.ADDED, item.id, item.title, _describe(finding.origin)))


def _pinned(finding: Finding) -> Source:
    return dataclasses.replace(finding.origin, fingerprint=finding.fingerprint)


def new_item(finding: Finding, item_id: str, now: datetime) -> BacklogItem:
    return BacklogItem(
        id=item_id,
        title=finding.title,
        description=finding.description,
        task_type=finding.task_type,
        created_at=finding.created_at or now,
        updated_at=now,
        links=list(finding.links),
        labels=list(finding.labels),
        source=_pinned(finding),
        acceptance_criteria=list(finding.acceptance_criteria),
        impact=finding.impact,
        time_criticality=finding.time_criticality,
    )


def _follow(item: BacklogItem, finding: Finding, result: Merge, *, now: datetime) -> None:
    """Move the item's record of this finding to where the finding is now."""
    fresh = _pinned(finding)
    if item.source is not None and (item.source.kind, item.source.fingerprint) == (
        fresh.kind,
        fresh.fingerprint,
    ):
        before = item.source
        item.source = dataclasses.replace(before, path=fresh.path, line=fresh.line)
        after = item.source
    else:
        position = next(
            i
            for i, s in enumerate(item.also_found_by)
            if (s.kind, s.fingerprint) == (fresh.kind, fresh.fingerprint)
        )
        before = item.also_found_by[position]
        after = dataclasses.replace(before, path=fresh.path, line=fresh.line)
        item.also_found_by[position] = after
    if (before.path, before.line) != (after.path, after.line):
        item.updated_at = now
        detail = f"{before.location()} -> {after.location()}"
        result.changes.append(Change(ChangeKind.UPDATED, item.id, item.title, detail))


def _reopen(
    backlog: Backlog,
    item: BacklogItem,
    finding: Finding,
    result: Merge,
    *,
    now: datetime,
    actor: str,
) -> None:
    reason = f"found again: {_describe(finding.origin)}"
    if item.status is TaskStatus.MERGED:
        backlog.transition(item, TaskStatus.DONE, reason=reason, actor=actor, now=now)
    backlog.transition(item, TaskStatus.NEW, reason=reason, actor=actor, now=now)
    item.resolution = None
    result.changes.append(Change(ChangeKind.REOPENED, item.id, item.title, reason))


def _close_if_gone(
    backlog: Backlog,
    item: BacklogItem,
    seen: set[Key],
    ran: set[str],
    result: Merge,
    *,
    now: datetime,
    actor: str,
) -> None:
    keys = keys_of(item)
    if not keys or item.status in LEFT_ALONE or item.status in FINISHED_STATUSES:
        return
    if any(kind not in ran for kind, _ in keys) or any(key in seen for key in keys):
        return
    origin = item.source or item.also_found_by[0]
    reason = f"gone: {_describe(origin)} was not found on {now:%Y-%m-%d %H:%M} UTC"
    backlog.transition(item, TaskStatus.DONE, reason=reason, actor=actor, now=now)
    item.resolution = reason
    result.changes.append(Change(ChangeKind.CLOSED, item.id, item.title, reason))


def scan(
    sources: Sequence[DiscoverySource],
    *,
    repo: Path,
    options: Callable[[str], Mapping[str, Any]],
    state: StateStore,
    now: datetime,
    observer: Observer,
    known: Sequence[BacklogItem] = (),
    own_files: frozenset[str] = frozenset(),
) -> list[Scan]:
    """Run each source over ``repo``; one that fails is reported in its scan, not raised."""
    scans = []
    for source in sources:
        places = tuple(
            origin
            for item in known
            for origin in (item.source, *item.also_found_by)
            if origin is not None and origin.kind == source.name
        )
        context = DiscoveryContext(
            repo, options(source.name), state, now, observer, known=places, own_files=own_files
        )
        started = time.monotonic()
        try:
            result = source.discover(context)
        except SourceError as error:
            result = Scan(source.name, failed=str(error), seconds=time.monotonic() - started)
        scans.append(result)
    return scans
