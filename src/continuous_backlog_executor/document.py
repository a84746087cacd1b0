"""The backlog file read into items and written back changing only what changed.

Three shapes are read: the usual YAML file (``items:`` with one block entry per item), any other
valid YAML holding the same data (parsed whole, comments still kept), and the original engine's
JSON array (rewritten as YAML on the first save). Every problem is reported with the file, line,
item and key, and nothing is ever written while reading.
"""

from __future__ import annotations

import difflib
import json
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

from . import layout as layout_mod
from .cache import EntryCache, digest
from .codec import KNOWN_KEYS, FieldError, Row, decode, from_row, row_of
from .errors import BacklogFileError
from .files import stat_or_none
from .model import BacklogItem
from .perf import paused_gc, running_gc
from .yamlio import (
    Indent,
    error_line,
    error_text,
    item_line,
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
_MISSING_ID = "\x00missing"
_LOOKS_LIKE_JSON = re.compile(r"\s*[\[{]")


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


def read(path: Path, cache: EntryCache) -> Loaded:
    """Read the backlog at ``path``; a missing file is an empty backlog."""
    stat = stat_or_none(path)
    if stat is None:
        return Loaded(Document(path, Kind.NEW), [], [])
    text = _read_text(path)
    if _LOOKS_LIKE_JSON.match(text):
        return _read_json(path, text, stat)
    split = layout_mod.split(text)
    if split is not None:
        with paused_gc():
            loaded = _read_entries(path, split, cache, stat)
        if loaded is not None:
            return loaded
    return _read_tree(path, text, stat)


def _read_text(path: Path) -> str:
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


# -- reading the usual layout, entry by entry ---------------------------------------------------


def _read_entries(
    path: Path, split: layout_mod.Layout, cache: EntryCache, stat: os.stat_result
) -> Loaded | None:
    """Items from a split file; ``None`` when some part needs the whole-file parser."""
    try:
        top = load_fast(split.header + split.trailer)
    except YAMLError:
        return None
    if top is not None and not isinstance(top, Mapping):
        return None
    _check_version(
        path, top, lambda: key_line(load_round_trip(split.header + split.trailer), "version")
    )
    document = Document(
        path,
        Kind.ENTRIES,
        split.text,
        split.header,
        split.trailer,
        split.column,
        split.indent,
        stat=stat,
    )
    items: list[BacklogItem] = []
    warnings: list[str] = []
    missing: list[int] = []
    for index, line in enumerate(split.lines):
        text = split.entry(index)
        key = digest(text)
        state: Row | None
        hit = cache.get(key)
        if hit is not None:
            state, notes = hit
            item = from_row(state)
        else:
            with running_gc():  # parsing makes reference cycles; rebuilding from rows does not
                raw = parse_entry(text)
                if raw is None:
                    return None
                item, found, complete = _decode_at(
                    path, raw, base=line, fallback=line, node=partial(_rt_entry, text)
                )
            notes = tuple(found)
            state = row_of(item) if complete else None
            if state is not None:
                cache.put(key, (state, notes))
        if notes:
            warnings.extend(_place(path, line, note) for note in notes)
        if item.id == _MISSING_ID:
            missing.append(len(items))
        entry = Entry(split.starts[index], split.stops[index], line, state, key)
        _add_entry(document, item, entry)
        items.append(item)
    _fill_missing_ids(document, items, missing)
    cache.flush(live=[entry.key for entry in document.entries.values()])
    return Loaded(document, items, warnings, cache)


def parse_entry(text: str) -> Mapping[str, Any] | None:
    """The item map one entry's text holds, or ``None`` when it is not one valid entry."""
    try:
        parsed = load_fast(text)
    except YAMLError:
        return None
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], Mapping):
        return parsed[0]
    return None


def _rt_entry(text: str) -> Any:
    parsed = load_round_trip(text)
    return parsed[0] if isinstance(parsed, CommentedSeq) and parsed else None


def _place(path: Path, line: int, note: tuple[int, str]) -> str:
    offset, message = note
    return f"{path}:{line + offset}: {message}"


def _decode_at(
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
        item = decode(raw, default_id=_MISSING_ID)
    except FieldError as error:
        top_key = re.split(r"[.\[]", error.field)[0]
        where = key_line(node(), top_key, first_line=max(base, 1)) or fallback
        raise BacklogFileError(
            path, f"{error.field}: {error.detail}", line=where, item=label
        ) from None
    notes = _unknown_key_notes(raw, label, node, base)
    complete = raw.get("id") is not None and raw.get("created_at") is not None
    return item, notes, complete


def _unknown_key_notes(
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
    return tuple(_unknown_key_notes(raw, label, partial(_rt_entry, text), 1))


def _add_entry(document: Document, item: BacklogItem, entry: Entry) -> None:
    if item.id != _MISSING_ID and item.id in document.entries:
        first = document.entries[item.id].line
        raise BacklogFileError(
            document.path,
            f"id is also used by the item at line {first}; give each item its own id",
            line=entry.line,
            item=item.id,
        )
    document.entries[item.id if item.id != _MISSING_ID else f"{_MISSING_ID}{entry.line}"] = entry


def _fill_missing_ids(document: Document, items: list[BacklogItem], missing: list[int]) -> None:
    """Give items a human added without an id the next free ``BL-<n>`` ids, in file order."""
    if not missing:
        return
    taken = {item.id for item in items}
    renamed: dict[str, Entry] = {}
    for key, entry in document.entries.items():
        if key.startswith(_MISSING_ID):
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


def _check_version(
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


# -- reading anything else: the whole file at once ----------------------------------------------


def _read_tree(path: Path, text: str, stat: os.stat_result) -> Loaded:
    try:
        root = load_round_trip(text)
    except YAMLError as error:
        raise BacklogFileError(
            path,
            f"is not valid YAML ({error_text(error)}); fix the syntax and run again",
            line=error_line(error),
        ) from None
    sequence = _items_of(path, root)
    indent = layout_mod.guess_indent(text)
    document = Document(path, Kind.TREE, indent=indent, stat=stat, root=root)
    items: list[BacklogItem] = []
    warnings: list[str] = []
    missing: list[int] = []
    for index, node in enumerate(sequence):
        line = item_line(sequence, index) or 1
        if not isinstance(node, CommentedMap):
            raise BacklogFileError(path, "this entry is not an item (a map of keys)", line=line)
        item, notes, complete = _decode_at(
            path, node, base=0, fallback=line, node=partial(_same, node)
        )
        warnings.extend(_place(path, 0, note) for note in notes)
        if item.id == _MISSING_ID:
            missing.append(len(items))
        _add_entry(document, item, Entry(0, 0, line, row_of(item) if complete else None))
        items.append(item)
        document.maps[item.id if item.id != _MISSING_ID else f"{_MISSING_ID}{line}"] = node
    maps_by_line = {entry.line: key for key, entry in document.entries.items()}
    _fill_missing_ids(document, items, missing)
    document.maps = {
        new_key: document.maps[maps_by_line[entry.line]]
        for new_key, entry in document.entries.items()
    }
    return Loaded(document, items, warnings)


def _same(node: Any) -> Any:
    return node


def _items_of(path: Path, root: Any) -> Sequence[Any]:
    if root is None:
        return CommentedSeq()
    if isinstance(root, CommentedSeq):
        return root
    if not isinstance(root, CommentedMap):
        raise BacklogFileError(
            path, "must hold a map with an `items` list (or a list of items)", line=1
        )
    _check_version(path, root, lambda: key_line(root, "version"))
    items = root.get("items")
    if items is None:
        return CommentedSeq()
    if not isinstance(items, CommentedSeq):
        raise BacklogFileError(path, "items: must be a list of items", line=key_line(root, "items"))
    return items


# -- reading the original engine's JSON -----------------------------------------------------------


def _read_json(path: Path, text: str, stat: os.stat_result) -> Loaded:
    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        raise BacklogFileError(
            path,
            f"is not valid JSON ({error.msg}); fix the syntax and run again",
            line=error.lineno,
        ) from None
    rows = root.get("items", []) if isinstance(root, dict) else root
    if not isinstance(rows, list):
        raise BacklogFileError(path, "must hold a list of items", line=1)
    document = Document(path, Kind.JSON, stat=stat)
    items: list[BacklogItem] = []
    for index, row in enumerate(rows):
        line = _json_line(text, row, index)
        if not isinstance(row, dict):
            raise BacklogFileError(path, f"entry {index + 1} is not an item (an object)", line=line)
        item, _notes, _complete = _decode_at(path, row, base=line, fallback=line, node=lambda: None)
        if item.id == _MISSING_ID:
            item.id = next_id({i.id for i in items})
        _add_entry(document, item, Entry(0, 0, line, None))
        items.append(item)
    return Loaded(document, items, [])


def _json_line(text: str, row: object, index: int) -> int:
    if isinstance(row, dict) and isinstance(row.get("id"), str):
        found = text.find(json.dumps(row["id"]))
        if found >= 0:
            return text.count("\n", 0, found) + 1
    return 1
