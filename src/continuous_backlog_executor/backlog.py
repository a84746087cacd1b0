"""The backlog file as a store: read without locking, change only inside a locked transaction.

A transaction takes an exclusive lock, reads the file, lets the caller change items, writes the
file atomically, and appends the status changes to the journal. If the file changed on disk
in between (an editor saving it), nothing is written and the caller is told to run again, so
no update is ever lost.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from . import document, perf, reading
from .cache import EntryCache, FrameCache
from .document import Kind, Loaded
from .errors import (
    BacklogBusyError,
    BacklogError,
    BacklogFileError,
    ConcurrentEditError,
    InvalidValueError,
    ItemNotFoundError,
)
from .files import atomic_write, remove_leftovers, same_file_state, stat_or_none
from .journal import Journal
from .keywords import Found
from .lifecycle import Event, advance
from .model import BacklogItem, TaskStatus, utcnow
from .scoring import RankedItem, ScoringSettings, order, score_all
from .store import StateStore
from .writer import Written, render

log = logging.getLogger(__name__)
# Threads of one process (a run's workers) take turns here first: the file lock keeps other
# processes out, and this keeps the shared entry caches consistent inside the process.
_THREADS = threading.RLock()
_MEMO_FORMAT = ("keywords", 1)


class Backlog:
    """The items of one backlog file, and the status changes made since it was read."""

    def __init__(self, loaded: Loaded, state: StateStore | None = None) -> None:
        self.items = loaded.items
        self.state = state
        self.warnings = loaded.warnings
        self.path = loaded.document.path
        self.document = loaded.document
        self.cache = loaded.cache
        self.events: list[Event] = []

    def get(self, item_id: str) -> BacklogItem:
        """The item with ``item_id`` (case-insensitive); the error suggests close ids."""
        wanted = item_id.strip().lower()
        for item in self.items:
            if item.id.lower() == wanted:
                return item
        by_lower = {item.id.lower(): item.id for item in self.items}
        close = [
            by_lower[match]
            for match in difflib.get_close_matches(wanted, list(by_lower), n=3, cutoff=0.6)
        ]
        hint = (
            f"; did you mean {', '.join(close)}?" if close else "; `backlog list --all` shows them"
        )
        raise ItemNotFoundError(f"no item {item_id!r} in {self.path}{hint}")

    def add(self, item: BacklogItem) -> BacklogItem:
        """Append ``item``; its id must be new."""
        if any(existing.id.lower() == item.id.lower() for existing in self.items):
            raise InvalidValueError("id", f"{item.id!r} is already used in {self.path}")
        self.items.append(item)
        return item

    def new_id(self) -> str:
        """The next free ``BL-<n>`` id."""
        return document.next_id({item.id for item in self.items})

    def transition(
        self, item: BacklogItem, target: TaskStatus, *, reason: str, actor: str, now: datetime
    ) -> Event:
        """Move ``item`` to ``target`` (checked by the lifecycle) and remember the event."""
        event = advance(item, target, reason=reason, actor=actor, now=now)
        self.events.append(event)
        return event

    def ranked(self, settings: ScoringSettings, now: datetime) -> list[RankedItem]:
        """Every item scored at ``now``, best first."""
        return order(self.scored(settings, now))

    def scored(self, settings: ScoringSettings, now: datetime) -> list[RankedItem]:
        """Every item scored at ``now``, in file order.

        Which keywords each item's text holds is remembered in the state folder, so scoring
        a large backlog again only scans the texts that changed.
        """
        matcher = settings.matcher
        memo = FrameCache[Found](self._memo_path(matcher.fingerprint), header=_MEMO_FORMAT)
        if memo.path is not None and not matcher.memo:
            with perf.paused_gc():
                memo.load()
                matcher.memo.update(memo.entries)
        result = score_all(self.items, settings, now)
        if memo.path is not None and matcher.fresh:
            for key, found in matcher.fresh.items():
                memo.put(key, found)
            memo.flush(live=matcher.memo)
        matcher.fresh.clear()
        return result

    def _memo_path(self, fingerprint: str) -> Path | None:
        if self.state is None:
            return None
        try:
            return self.state.cache_path(self.path, f"keywords-{fingerprint}")
        except OSError:
            return None


class BacklogStore:
    """Reads and writes one backlog file, with its lock, entry cache and journal."""

    def __init__(
        self,
        path: Path,
        *,
        state: StateStore,
        journal: Journal,
        lock_timeout: float = 30.0,
        settle: bool = False,
    ) -> None:
        self.path = path
        self.state = state
        self.journal = journal
        self.lock_timeout = lock_timeout
        self.settle = settle  # a command-line process: see perf.settle

    def _cache(self) -> EntryCache:
        try:
            cache = EntryCache(self.state.cache_path(self.path, "backlog-entries"))
        except OSError:
            cache = EntryCache(None)  # a read-only state folder only costs speed
        cache.load()
        return cache

    def load(self) -> Backlog:
        """Read the backlog (no file lock needed: writes replace the file in one step)."""
        with _THREADS, perf.paused_gc(settle_after=self.settle):
            return Backlog(reading.read(self.path, self._cache()), self.state)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Backlog]:
        """Lock, read, let the caller change the backlog, then write it if anything changed."""
        with _THREADS:
            yield from self._locked_transaction()

    def _locked_transaction(self) -> Iterator[Backlog]:
        lock_file = self.state.lock_path(self.path)
        lock = FileLock(lock_file, timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout:
            raise BacklogBusyError(
                f"another backlog command is changing {self.path} (lock {lock_file}); "
                f"waited {self.lock_timeout:g}s. Run again once it finishes, "
                "or raise lock_timeout in the configuration."
            ) from None
        try:
            backlog = self.load()
            for warning in backlog.warnings:
                log.warning("%s", warning)
            yield backlog
            self.save(backlog)
        finally:
            lock.release()

    def save(self, backlog: Backlog) -> int:
        """Write ``backlog`` if it changed; returns how many items were written. Call it only
        inside ``transaction`` (it relies on the lock for exclusion)."""
        before = backlog.document
        try:
            written = render(before, backlog.items)
            if written.changed or before.kind is Kind.JSON:
                self._replace(before, written)
                backlog.document = written.document
                for key, entry in written.cache.items():
                    backlog.cache.put(key, entry)
                backlog.cache.flush(live=[e.key for e in written.document.entries.values()])
        except BaseException:
            # Rendering reuses the old document's parts; see the file afresh before a retry.
            backlog.document = self._reread(backlog)
            raise
        self.journal.append(backlog.events)
        backlog.events.clear()
        return written.changed

    def _replace(self, before: document.Document, written: Written) -> None:
        if not same_file_state(before.stat, stat_or_none(self.path)):
            raise ConcurrentEditError(
                f"{self.path} changed on disk while this command ran (was it edited or "
                "restored?); nothing was written. Run the command again."
            )
        if before.kind is Kind.JSON:
            self._keep_original()
        remove_leftovers(self.path)  # from a writer killed mid-write; we hold the lock
        try:
            atomic_write(self.path, written.pieces)
        except OSError as error:
            raise BacklogFileError(
                self.path, f"cannot be written ({error.strerror}); nothing was changed"
            ) from None
        written.document.stat = stat_or_none(self.path)

    def _reread(self, backlog: Backlog) -> document.Document:
        try:
            return reading.read(self.path, backlog.cache).document
        except BacklogError:
            return document.Document(self.path, Kind.NEW)

    def _keep_original(self) -> None:
        """Before the first rewrite of a JSON backlog as YAML, keep the original beside state."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        backup = self.state.folder("backups") / f"{self.path.name}.{stamp}.json"
        backup.write_bytes(self.path.read_bytes())
        log.warning(
            "converting %s from JSON to YAML; the original is kept at %s", self.path, backup
        )
