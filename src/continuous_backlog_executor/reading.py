"""Reading the backlog file: entry by entry when it has the usual layout, else whole.

Three shapes are read: the usual YAML file (``items:`` with one block entry per item, each
entry's parse cached by its text), any other valid YAML holding the same data (parsed whole,
comments still kept for writing back), and the original engine's JSON array (rewritten as YAML
on the first save). Nothing is ever written to the backlog while reading.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from . import layout as layout_mod
from .cache import EntryCache, digest
from .document import (
    MISSING_ID,
    Document,
    Entry,
    Kind,
    Loaded,
    add_entry,
    check_version,
    decode_at,
    fill_missing_ids,
    next_id,
    parse_entry,
    place,
    read_text,
    rt_entry,
)
from .errors import BacklogFileError
from .files import stat_or_none
from .model import BacklogItem
from .perf import paused_gc, running_gc
from .rows import Row, from_row, row_of
from .yamlio import error_line, error_text, item_line, key_line, load_fast, load_round_trip

_LOOKS_LIKE_JSON = re.compile(r"\s*[\[{]")


def read(path: Path, cache: EntryCache) -> Loaded:
    """Read the backlog at ``path``; a missing file is an empty backlog."""
    stat = stat_or_none(path)
    if stat is None:
        return Loaded(Document(path, Kind.NEW), [], [])
    text = read_text(path)
    if _LOOKS_LIKE_JSON.match(text):
        return _read_json(path, text, stat)
    split = layout_mod.split(text)
    if split is not None:
        with paused_gc():
            loaded = _read_entries(path, split, cache, stat)
        if loaded is not None:
            return loaded
    return _read_tree(path, text, stat)


# -- the usual layout, entry by entry -------------------------------------------------------------


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
    check_version(
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
                item, found, complete = decode_at(
                    path, raw, base=line, fallback=line, node=partial(rt_entry, text)
                )
            notes = tuple(found)
            state = row_of(item) if complete else None
            if state is not None:
                cache.put(key, (state, notes))
        if notes:
            warnings.extend(place(path, line, note) for note in notes)
        if item.id == MISSING_ID:
            missing.append(len(items))
        entry = Entry(split.starts[index], split.stops[index], line, state, key)
        add_entry(document, item, entry)
        items.append(item)
    fill_missing_ids(document, items, missing)
    cache.flush(live=[entry.key for entry in document.entries.values()])
    return Loaded(document, items, warnings, cache)


# -- anything else: the whole file at once ------------------------------------------------------


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
        item, notes, complete = decode_at(
            path, node, base=0, fallback=line, node=partial(_same, node)
        )
        warnings.extend(place(path, 0, note) for note in notes)
        if item.id == MISSING_ID:
            missing.append(len(items))
        add_entry(document, item, Entry(0, 0, line, row_of(item) if complete else None))
        items.append(item)
        document.maps[item.id if item.id != MISSING_ID else f"{MISSING_ID}{line}"] = node
    maps_by_line = {entry.line: key for key, entry in document.entries.items()}
    fill_missing_ids(document, items, missing)
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
    check_version(path, root, lambda: key_line(root, "version"))
    items = root.get("items")
    if items is None:
        return CommentedSeq()
    if not isinstance(items, CommentedSeq):
        raise BacklogFileError(path, "items: must be a list of items", line=key_line(root, "items"))
    return items


# -- the original engine's JSON -----------------------------------------------------------------


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
        item, _notes, _complete = decode_at(path, row, base=line, fallback=line, node=lambda: None)
        if item.id == MISSING_ID:
            item.id = next_id({i.id for i in items})
        add_entry(document, item, Entry(0, 0, line, None))
        items.append(item)
    return Loaded(document, items, [])


def _json_line(text: str, row: object, index: int) -> int:
    if isinstance(row, dict) and isinstance(row.get("id"), str):
        found = text.find(json.dumps(row["id"]))
        if found >= 0:
            return text.count("\n", 0, found) + 1
    return 1
