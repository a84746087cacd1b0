"""The journal: every status change, one JSON line each, appended and never rewritten.

Reports compute cycle times and throughput from it. A damaged line (a crash mid-write on a
filesystem without atomic appends) is skipped with a warning rather than failing the read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from .files import append_line
from .lifecycle import Event
from .model import TaskStatus, as_utc

log = logging.getLogger(__name__)


def _to_json(event: Event) -> str:
    return json.dumps(
        {
            "time": as_utc(event.time).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "item": event.item,
            "from": event.from_status.value,
            "to": event.to_status.value,
            "reason": event.reason,
            "actor": event.actor,
        },
        ensure_ascii=False,
    )


def _from_json(line: str) -> Event:
    data = json.loads(line)
    return Event(
        time=datetime.fromisoformat(data["time"]),
        item=str(data["item"]),
        from_status=TaskStatus(data["from"]),
        to_status=TaskStatus(data["to"]),
        reason=str(data.get("reason", "")),
        actor=str(data.get("actor", "")),
    )


class Journal:
    """The append-only list of status changes at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, events: Iterable[Event]) -> None:
        """Add ``events`` at the end, in one write."""
        lines = [_to_json(event) for event in events]
        if lines:
            append_line(self.path, "\n".join(lines))

    def read(self) -> list[Event]:
        """Every readable event, oldest first; a missing journal is an empty one."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        events = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                events.append(_from_json(line))
            except (ValueError, KeyError, TypeError):
                log.warning("%s:%d: skipping a damaged journal line", self.path, number)
        return events
