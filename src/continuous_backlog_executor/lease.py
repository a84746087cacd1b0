"""Leases on items: one small file per item being worked on, so two engines on one repository
never take the same item, and the items of an engine that died are found and taken over.

A lease names its holder by host and process id (and, where ``/proc`` exists, the process's
start time, so a reused pid is not mistaken for the holder). A lease from another host cannot be
checked that way: it counts as dead only once older than ``stale_after`` seconds (24 h by default).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import BacklogBusyError
from .files import atomic_write
from .store import StateStore
from .worktree import safe_id

STALE_AFTER = 24 * 3600.0  # seconds after which another host's lease is presumed abandoned
LOCK_TIMEOUT = 30.0  # the lock is held only to read and write one small file


@dataclass(frozen=True, slots=True)
class Lease:
    """Who works on an item: the holder's process and host, since when, and a secret token."""

    item_id: str
    pid: int
    host: str
    started: datetime
    token: str
    # The holder's start time from /proc (clock ticks after boot), None where there is no /proc.
    process_start: int | None = None

    @classmethod
    def mine(cls, item_id: str) -> Lease:
        """A new lease on ``item_id`` held by this process."""
        pid = os.getpid()
        now = datetime.now(UTC)
        return cls(item_id, pid, socket.gethostname(), now, secrets.token_hex(16), _started(pid))

    def to_json(self) -> str:
        """The lease as its file holds it."""
        data = {
            "item_id": self.item_id,
            "pid": self.pid,
            "host": self.host,
            "started": self.started.isoformat(),
            "token": self.token,
            "process_start": self.process_start,
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def parse(cls, text: str) -> Lease | None:
        """The lease ``text`` holds, or ``None`` when it holds none (damaged or hand-edited)."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not _well_formed(data):
            return None
        started = _timestamp(data["started"])
        if started is None:
            return None
        pid, process_start = data["pid"], data["process_start"]
        return cls(data["item_id"], pid, data["host"], started, data["token"], process_start)


# What each key of a lease file must hold (``type`` is exact, so ``true`` is not a pid).
_FIELDS: dict[str, tuple[type, ...]] = {
    "item_id": (str,),
    "pid": (int,),
    "host": (str,),
    "started": (str,),
    "token": (str,),
    "process_start": (int, type(None)),
}


def _well_formed(data: dict[str, object]) -> bool:
    return all(key in data and type(data[key]) in types for key, types in _FIELDS.items())


def _timestamp(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


class Leases:
    """The leases of one repository, as files in the state folder's ``leases``."""

    def __init__(
        self,
        state: StateStore,
        *,
        stale_after: float = STALE_AFTER,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        self.state = state
        self.stale_after = stale_after
        self.lock_timeout = lock_timeout

    @property
    def folder(self) -> Path:
        """Where the lease files are."""
        return self.state.folder("leases")

    def path(self, item_id: str) -> Path:
        """The lease file of ``item_id``."""
        return self.folder / f"{safe_id(item_id)}.json"

    def acquire(self, item_id: str) -> Lease | None:
        """A new lease on ``item_id``, or ``None`` while a living holder has one; a dead
        holder's lease is taken over."""
        path = self.path(item_id)
        with self._locked():
            current = _read(path)
            if current is not None and self.is_alive(current):
                return None
            lease = Lease.mine(item_id)
            atomic_write(path, lease.to_json())
            return lease

    def release(self, lease: Lease) -> bool:
        """Give ``lease`` up; does nothing (and says so) if it is no longer the item's lease."""
        path = self.path(lease.item_id)
        with self._locked():
            current = _read(path)
            if current is None or current.token != lease.token:
                return False
            path.unlink()
            return True

    def held(self) -> list[Lease]:
        """Every lease on file, alive or not, by item id."""
        found = (_read(path) for path in self.folder.glob("*.json"))
        return sorted((lease for lease in found if lease), key=lambda lease: lease.item_id)

    def dead(self) -> list[Lease]:
        """The leases whose holder is gone: the items an interrupted run left behind."""
        return [lease for lease in self.held() if not self.is_alive(lease)]

    def is_alive(self, lease: Lease) -> bool:
        """Whether the lease's holder may still be working (always, for a recent other host's)."""
        if lease.host != socket.gethostname():
            return datetime.now(UTC) - lease.started < timedelta(seconds=self.stale_after)
        if not _running(lease.pid):
            return False
        return lease.process_start is None or _started(lease.pid) == lease.process_start

    @contextlib.contextmanager
    def frozen(self) -> Iterator[list[Lease]]:
        """Every lease on file, with no lease taken or given up until the block ends: what a
        recovery needs, so an item another engine takes meanwhile is not mistaken for stale."""
        with self._locked():
            yield self.held()

    def drop(self, lease: Lease) -> None:
        """Delete ``lease``'s file inside ``frozen`` (where ``release`` would wait for the lock)."""
        path = self.path(lease.item_id)
        current = _read(path)
        if current is not None and current.token == lease.token:
            path.unlink()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_file = self.state.lock_path(self.folder)
        try:
            with FileLock(lock_file, timeout=self.lock_timeout):
                yield
        except Timeout:
            raise BacklogBusyError(
                f"the item leases are locked by another process (lock {lock_file}) for over "
                f"{self.lock_timeout:g}s; if no other backlog run is active, delete that file"
            ) from None


def _read(path: Path) -> Lease | None:
    try:
        return Lease.parse(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _running(pid: int) -> bool:
    # Signal 0 checks existence only; a process of another user exists too (PermissionError).
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _stat(pid)
    return stat is None or stat[0] != "Z"  # a zombie has exited, only not been reaped


def _started(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[19]) if stat else None


def _stat(pid: int) -> list[str] | None:
    # /proc/<pid>/stat fields after the command name (which may hold spaces and parentheses):
    # [0] is the state (field 3 in proc(5)), [19] the start time (field 22).
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return fields if len(fields) > 19 else None
