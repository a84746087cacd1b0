"""A content-addressed cache of parsed backlog entries, so only changed entries are parsed.

Keyed by a digest of each entry's exact text, it can never serve a stale parse: an edited entry
has a new digest. It lives in the machine-owned state folder as append-only JSON lines; a
damaged or foreign cache file is ignored and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .codec import Record
from .files import append_line, atomic_write

log = logging.getLogger(__name__)

# Bump when decoding or encoding changes what a given entry text means.
CACHE_FORMAT = 1


def digest(text: str) -> str:
    """A short, collision-resistant name for an entry's exact text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class CachedEntry:
    """What an entry's text decodes to, and the warnings decoding it gave."""

    record: Record
    warnings: tuple[tuple[int, str], ...] = ()  # (line offset within the entry, message)


class EntryCache:
    """Parsed entries of one backlog file, by digest."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = FileLock(f"{path}.lock", timeout=10) if path is not None else None
        self.entries: dict[str, CachedEntry] = {}
        self._lines = 0
        self._pending: dict[str, CachedEntry] = {}

    def load(self) -> None:
        """Read the cache; any damage discards it (it only ever saves time)."""
        if self.path is None:
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError, OSError):
            return
        body = text.rstrip("\n")
        if not body:
            return
        try:
            # One parse for the whole file: each line is a JSON array with no raw newline.
            rows = json.loads("[" + body.replace("\n", ",") + "]")
            entries = {
                row[0]: CachedEntry(row[1], tuple((int(n[0]), str(n[1])) for n in row[2]))
                for row in rows
            }
        except (ValueError, IndexError, TypeError, KeyError):
            log.debug("ignoring damaged entry cache %s", self.path)
            return
        self.entries = entries
        self._lines = len(rows)

    def get(self, key: str) -> CachedEntry | None:
        """The cached decode of the entry with digest ``key``."""
        return self.entries.get(key)

    def put(self, key: str, entry: CachedEntry) -> None:
        """Remember a decode; written out by ``flush``."""
        if key not in self.entries:
            self.entries[key] = entry
            self._pending[key] = entry

    def flush(self, live: Iterable[str] = ()) -> None:
        """Write new entries; rewrite the file when most of it is about entries now gone."""
        if self.path is None or self._lock is None:
            return
        live_keys = set(live)
        stale = self._lines + len(self._pending) - len(live_keys)
        try:
            with self._lock:
                if live_keys and stale > max(1000, len(live_keys)):
                    self._rewrite(
                        self.path, {k: self.entries[k] for k in live_keys if k in self.entries}
                    )
                elif self._pending:
                    self._append(self.path, self._pending)
        except OSError as error:
            log.debug("could not write entry cache %s: %s", self.path, error)
        self._pending = {}

    def _append(self, path: Path, entries: Mapping[str, CachedEntry]) -> None:
        append_line(path, "\n".join(_row(k, v) for k, v in entries.items()))
        self._lines += len(entries)

    def _rewrite(self, path: Path, entries: Mapping[str, CachedEntry]) -> None:
        atomic_write(path, "".join(_row(k, v) + "\n" for k, v in entries.items()))
        self._lines = len(entries)

    def clear(self) -> None:
        """Forget everything, on disk too."""
        self.entries = {}
        self._pending = {}
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _row(key: str, entry: CachedEntry) -> str:
    return json.dumps([key, entry.record, list(entry.warnings)], ensure_ascii=False)
