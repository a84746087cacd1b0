"""A forge's own record of its pull requests: one JSON file per pull request in a folder of the
state store, written atomically under a lock, so two processes never take the same number or
lose each other's updates, and ``find`` and ``list`` work offline."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from filelock import FileLock, Timeout

from ..files import atomic_write, remove_leftovers
from ..model import as_utc
from ..store import StateStore
from .base import ForgeError, PullRequest, PullState

LOCK_TIMEOUT = 30.0
T = TypeVar("T")


class Records:
    """The pull request records in ``folder``."""

    def __init__(self, state: StateStore, folder: Path) -> None:
        self.folder = folder
        self.lock_file = state.lock_path(folder)

    def find(self, key: str) -> PullRequest | None:
        """The pull request with this number (``7`` or ``#7``), or the latest of this item id."""
        number = key.strip().removeprefix("#")
        if number.isdigit():
            path = self.folder / f"{int(number)}.json"
            return _load(path) if path.exists() else None
        wanted = key.strip().lower()
        mine = [pr for pr in self.list() if pr.item_id.lower() == wanted]
        return mine[-1] if mine else None

    def list(self) -> list[PullRequest]:
        """Every pull request recorded, oldest first."""
        paths = [path for path in self.folder.glob("*.json") if path.stem.isdigit()]
        return sorted((_load(path) for path in paths), key=lambda pr: pr.number)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the records' lock: numbering, merging and recording happen one at a time."""
        lock = FileLock(self.lock_file, timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except Timeout:
            raise ForgeError(
                f"another backlog command is changing the pull requests in {self.folder} "
                f"(lock {self.lock_file}); waited {LOCK_TIMEOUT:g}s. Run again once it finishes."
            ) from None
        try:
            yield
        finally:
            lock.release()

    def save(self, pr: PullRequest) -> PullRequest:
        """Record ``pr`` (call it holding the lock) and return it."""
        path = self.folder / f"{pr.number}.json"
        remove_leftovers(path)  # from a writer killed mid-write; we hold the lock
        atomic_write(path, json.dumps(_to_json(pr), indent=2, ensure_ascii=False) + "\n")
        return pr


def _stamp(moment: datetime | None) -> str | None:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _to_json(pr: PullRequest) -> dict[str, object]:
    data = dataclasses.asdict(pr)
    data.update(
        state=pr.state.value, created_at=_stamp(pr.created_at), merged_at=_stamp(pr.merged_at)
    )
    return data


def _load(path: Path) -> PullRequest:
    try:
        return _decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ForgeError(
            f"{path}: not a readable pull request record ({error}); "
            "restore it, or delete it to forget that pull request"
        ) from error


def _decode(loaded: object) -> PullRequest:
    data: dict[str, object] = loaded if isinstance(loaded, dict) else {}
    merged_at, merge_commit = data.get("merged_at"), data.get("merge_commit")
    return PullRequest(
        number=_field(data, "number", int),
        item_id=_field(data, "item_id", str),
        branch=_field(data, "branch", str),
        base=_field(data, "base", str),
        title=_field(data, "title", str),
        body=_field(data, "body", str),
        url=_field(data, "url", str),
        state=PullState(_field(data, "state", str)),
        head=_field(data, "head", str),
        created_at=datetime.fromisoformat(_field(data, "created_at", str)),
        merged_at=None if merged_at is None else datetime.fromisoformat(str(merged_at)),
        merge_commit=None if merge_commit is None else str(merge_commit),
    )


def _field(data: dict[str, object], key: str, kind: type[T]) -> T:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        # ValueError, not TypeError: the fault is in the file's data, not in the calling code.
        raise ValueError(f"{key!r} is missing or not of type {kind.__name__}")  # noqa: TRY004
    return value
