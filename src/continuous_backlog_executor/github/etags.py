"""The conditional-request cache: the ETag and body of each GET answer, by URL, so a repeated
request can send ``If-None-Match`` and take a 304 (which GitHub does not count against the rate
limit) instead of the whole answer again.

Entries live in memory and, given a folder, one small JSON file per URL there, so they outlast
the run; a file that cannot be read is treated as absent, never as an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import atomic_write

TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# continuous-backlog-executor GitHub cache\n"


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached GET answer."""

    etag: str
    body: Any
    next_url: str | None  # the page after it, since a 304 need not repeat the Link header


class ETagCache:
    """ETags and bodies by URL, in memory and optionally under ``folder``."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._entries: dict[str, Entry] = {}

    def get(self, url: str) -> Entry | None:
        """The entry for ``url``, if one is kept."""
        if url not in self._entries and self._folder is not None:
            loaded = self._load(self._file(self._folder, url))
            if loaded is not None:
                self._entries[url] = loaded
        return self._entries.get(url)

    def put(self, url: str, entry: Entry) -> None:
        """Keep ``entry`` for ``url`` (and write it out when there is a folder)."""
        self._entries[url] = entry
        if self._folder is None:
            return
        tag = self._folder / "CACHEDIR.TAG"
        if not tag.exists():  # backup tools skip folders marked so
            atomic_write(tag, TAG)
        record = {"url": url, "etag": entry.etag, "body": entry.body, "next": entry.next_url}
        atomic_write(self._file(self._folder, url), json.dumps(record))

    @staticmethod
    def _file(folder: Path, url: str) -> Path:
        # A hash, not the URL: URLs hold characters no file name may, and can be long.
        return folder / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.json"

    @staticmethod
    def _load(path: Path) -> Entry | None:
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict):
                return None
            etag, following = record.get("etag"), record.get("next")
            if isinstance(etag, str) and (following is None or isinstance(following, str)):
                return Entry(etag, record.get("body"), following)
        return None
