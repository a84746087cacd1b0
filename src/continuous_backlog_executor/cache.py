"""A content-addressed cache of parsed backlog entries, so only changed entries are parsed.

Keyed by a digest of each entry's exact text, it can never serve a stale parse: an edited entry
has a new digest. Values are rows of plain values (see ``rows.row_of``), stored as a stream of
pickled batches that each write appends to; a damaged or foreign file is ignored and rebuilt.
Unpickling is restricted to plain data and date/time types, so even a planted cache file cannot
run code.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from filelock import FileLock

from .files import atomic_write
from .rows import Row

log = logging.getLogger(__name__)

# Bump when decoding or the row layout changes what a given entry text means.
CACHE_FORMAT = 3
Notes = tuple[tuple[int, str], ...]  # warnings: (line offset within the entry, message)
Value = tuple[Row, Notes]
V = TypeVar("V")


def digest(text: str) -> bytes:
    """A short, collision-resistant name for an entry's exact text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class _DataOnly(pickle.Unpickler):
    """Refuses every class but the date and time types rows contain."""

    ALLOWED = frozenset(
        {
            ("datetime", "datetime"),
            ("datetime", "date"),
            ("datetime", "timezone"),
            ("datetime", "timedelta"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the entry cache")
        return super().find_class(module, name)


class FrameCache(Generic[V]):
    """Values by 16-byte digest, kept on disk as a header and appended pickled batches."""

    def __init__(self, path: Path | None, header: object = CACHE_FORMAT) -> None:
        self.path = path
        self.header = header
        self.entries: dict[bytes, V] = {}
        self._stored = 0
        self._healthy = False  # the file on disk is ours and whole, so appending is safe
        self._pending: dict[bytes, V] = {}

    def _lock(self) -> FileLock:
        return FileLock(f"{self.path}.lock", timeout=10)

    def load(self) -> None:
        """Read the cache; any damage discards the rest of it (it only ever saves time)."""
        if self.path is None:
            return
        try:
            data = self.path.read_bytes()
        except OSError:
            return
        stream = io.BytesIO(data)
        try:
            if _DataOnly(stream).load() != self.header:
                return
            while stream.tell() < len(data):
                batch = _DataOnly(stream).load()
                self.entries.update(batch)
                self._stored += len(batch)
            self._healthy = True
        except Exception as error:  # a truncated or foreign file: use what was read before it
            log.debug(
                "entry cache %s is damaged after %d entries: %s", self.path, self._stored, error
            )

    def get(self, key: bytes) -> V | None:
        """The value stored under ``key``."""
        return self.entries.get(key)

    def put(self, key: bytes, value: V) -> None:
        """Remember a value; written out by ``flush``."""
        if key not in self.entries:
            self.entries[key] = value
            self._pending[key] = value

    def flush(self, live: Iterable[bytes] | None = None) -> None:
        """Append new values. When ``live`` names the keys still in use, rewrite the file
        without the others once they are most of it; without ``live``, keep everything."""
        if self.path is None or (not self._pending and self._stored):
            return
        keys = None if live is None else set(live)
        try:
            with self._lock():
                stale = keys is not None and self._stored + len(self._pending) > 2 * max(
                    len(keys), 500
                )
                if not self._healthy or stale or not self.path.exists():
                    kept = (
                        self.entries
                        if keys is None
                        else {k: self.entries[k] for k in keys if k in self.entries}
                    )
                    self._rewrite(self.path, kept)
                else:
                    self._append(self.path, self._pending)
        except OSError as error:
            log.debug("could not write entry cache %s: %s", self.path, error)
        self._pending = {}

    def _append(self, path: Path, batch: dict[bytes, V]) -> None:
        with path.open("ab") as stream:
            stream.write(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        self._stored += len(batch)

    def _rewrite(self, path: Path, entries: dict[bytes, V]) -> None:
        atomic_write(
            path,
            pickle.dumps(self.header, protocol=pickle.HIGHEST_PROTOCOL)
            + pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL),
        )
        self._stored = len(entries)
        self._healthy = True


class EntryCache(FrameCache[Value]):
    """Parsed entries of one backlog file (row and warnings), by digest of the entry's text."""
