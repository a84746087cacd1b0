"""The backlog file as read: its document, entries and items, and checking each entry.

``reading`` fills these in and ``writer`` writes them back. Every problem with an entry is
reported with the file, line, item and key.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from .cache import EntryCache
from .codec import KNOWN_KEYS, FieldError, decode
from .errors import BacklogFileError
from .model import BacklogItem
from .rows import Row
from .yamlio import (
    Indent,
    key_line,
    load_fast,
    load_round_trip,
)

FORMAT_VERSION = 1
DEFAULT_HEADER = """\
# The backlog: one entry under `items` per piece of work, ranked by WSJF when listed.
# Edit it freely. When the tool rewrites this file it changes only the items it touched and
# keeps comments, key order and keys it does not know. Run `backlog --help` for the commands.
version: 1
items:
"""
MISSING_ID = "\x00missing"


class Kind(StrEnum):
    """How the file was read, which decides how it is written back."""

    NEW = "new"
    ENTRIES = "entries"
    TREE = "tree"
    JSON = "json"


@dataclass(slots=True)
class Entry:
    """Where one item's text is in the document, and what it held when read."""

    start: int  # the entry is ``document.text[start:stop]`` (both 0 when read as a whole)
    stop: int
    line: int
    state: Row | None  # ``row_of`` the item as read; None: it must be written (id/date filled)
    key: bytes = b""  # digest of the entry's text: its name in the entry cache


@dataclass
class Document:
    """The file as read: enough to write it back changing only what changed."""

    path: Path
    kind: Kind
    text: str = ""
    header: str = DEFAULT_HEADER
    trailer: str = ""
    column: int = 0
    indent: Indent = field(default_factory=Indent)
    entries: dict[str, Entry] = field(default_factory=dict)
    stat: os.stat_result | None = None
    root: Any = None  # the whole round-trip tree, for Kind.TREE
    maps: dict[str, CommentedMap] = field(default_factory=dict)
    # After a write, the new text as the pieces it was written from; joined only when needed,
    # so a large file is not held twice (the old text and the new) at the same time.
    pieces: list[str] | None = None

    def full_text(self) -> str:
        """The whole text of the file as read or last written."""
        if self.pieces is not None:
            self.text, self.pieces = "".join(self.pieces), None
        return self.text

    def entry_text(self, entry: Entry) -> str:
        """The text of ``entry`` as read."""
        return self.full_text()[entry.start : entry.stop]


@dataclass
class Loaded:
    """What reading the file gave, and the entry cache it used (to update on the next write)."""

    document: Document
    items: list[BacklogItem]
    warnings: list[str]
    cache: EntryCache = field(default_factory=lambda: EntryCache(None))


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise BacklogFileError(
            path, "is a folder, not a file; point the backlog at a file"
        ) from None
    except OSError as error:
        raise BacklogFileError(
            path, f"cannot be read ({error.strerror}); check its permissions"
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BacklogFileError(
            path, "is not UTF-8 text; save it as UTF-8 and run again", line=line
        ) from None


def parse_entry(text: str) -> Mapping[str, Any] | None:
    """The item map one entry's text holds, or ``None`` when it is not one valid entry."""
    try:
        parsed = load_fast(text)
    except YAMLError:
        return None
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], Mapping):
        return parsed[0]
    return None


def rt_entry(text: str) -> Any:
    parsed = load_round_trip(text)
    return parsed[0] if isinstance(parsed, CommentedSeq) and parsed else None


def place(path: Path, line: int, note: tuple[int, str]) -> str:
    offset, message = note
    return f"{path}:{line + offset}: {message}"


def decode_at(
    path: Path,
    raw: Mapping[str, Any],
    *,
    base: int,
    fallback: int,
    node: Callable[[], Any],
) -> tuple[BacklogItem, list[tuple[int, str]], bool]:
    """Decode one entry, naming the file line of a bad key.

    ``node`` gives the entry's round-trip map, whose 0-based lines count from ``base``;
    warnings carry their line relative to ``base``. ``complete`` is False when the entry
    lacked an id or a creation time, which must then be written.
    """
    item_id = raw.get("id")
    label = str(item_id) if item_id is not None else None
    try:
        item = decode(raw, default_id=MISSING_ID)
    except FieldError as error:
        top_key = re.split(r"[.\[]", error.field)[0]
        where = key_line(node(), top_key, first_line=max(base, 1)) or fallback
        raise BacklogFileError(
            path, f"{error.field}: {error.detail}", line=where, item=label
        ) from None
    notes = unknown_key_notes(raw, label, node, base)
    complete = raw.get("id") is not None and raw.get("created_at") is not None
    return item, notes, complete


def unknown_key_notes(
    raw: Mapping[str, Any], label: str | None, node: Callable[[], Any], line: int
) -> list[tuple[int, str]]:
    notes = []
    for key in raw:
        if key in KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(str(key), sorted(KNOWN_KEYS), n=1, cutoff=0.75)
        if close:
            offset = (key_line(node(), str(key), first_line=max(line, 1)) or line) - line
            about = f"item {label!r}: " if label else ""
            notes.append(
                (offset, f"{about}unknown key {key!r} is kept as is; did you mean {close[0]!r}?")
            )
    return notes


def entry_notes(text: str, raw: Mapping[str, Any]) -> tuple[tuple[int, str], ...]:
    """Warnings about one entry's unknown keys, with lines counted from the entry's start."""
    item_id = raw.get("id")
    label = str(item_id) if item_id is not None else None
    return tuple(unknown_key_notes(raw, label, partial(rt_entry, text), 1))


def add_entry(document: Document, item: BacklogItem, entry: Entry) -> None:
    if item.id != MISSING_ID and item.id in document.entries:
        first = document.entries[item.id].line
        raise BacklogFileError(
            document.path,
            f"id is also used by the item at line {first}; give each item its own id",
            line=entry.line,
            item=item.id,
        )
    document.entries[item.id if item.id != MISSING_ID else f"{MISSING_ID}{entry.line}"] = entry


def fill_missing_ids(document: Document, items: list[BacklogItem], missing: list[int]) -> None:
    """Give items a human added without an id the next free ``BL-<n>`` ids, in file order."""
    if not missing:
        return
    taken = {item.id for item in items}
    renamed: dict[str, Entry] = {}
    for key, entry in document.entries.items():
        if key.startswith(MISSING_ID):
            index = missing.pop(0)
            items[index].id = next_id(taken)
            taken.add(items[index].id)
            renamed[items[index].id] = entry
        else:
            renamed[key] = entry
    document.entries = renamed


_BL_NUMBER = re.compile(r"^BL-(\d+)$")


def next_id(taken: set[str] | Sequence[str]) -> str:
    """The next ``BL-<n>`` id after every numbered one in ``taken``."""
    numbers = [int(m.group(1)) for t in taken if (m := _BL_NUMBER.match(t))]
    return f"BL-{max(numbers, default=0) + 1}"


def check_version(
    path: Path, top: Mapping[str, Any] | None, line: Callable[[], int | None]
) -> None:
    version = (top or {}).get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise BacklogFileError(
            path,
            f"version: {version!r} is not a backlog format this tool reads "
            f"(it reads version {FORMAT_VERSION}); upgrade the tool or fix the value",
            line=line(),
        )
