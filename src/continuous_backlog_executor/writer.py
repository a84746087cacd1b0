"""Writing the backlog back: unchanged items keep their exact text, changed items are rewritten
keeping a human's comments and formatting, and every rewritten entry is read back before the
file is replaced, so a formatting slip can never change or lose data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import layout as layout_mod
from .cache import Notes, Value, digest
from .codec import FIELD_ORDER, Record, decode, encode
from .document import DEFAULT_HEADER, Document, Entry, Kind, entry_notes, parse_entry
from .errors import InvalidValueError
from .model import BacklogItem
from .perf import paused_gc
from .rows import Row, from_row, row_of
from .yamlio import (
    Indent,
    apply_changes,
    dump_fast,
    dump_round_trip,
    item_line,
    load_round_trip,
)

# Values the reader filled in for a hand-written item; written out so they stay put.
FILLED_IN = ("id", "created_at")
_ENTRY_START = re.compile(r"^-(?: |$)", re.MULTILINE)


class RenderError(RuntimeError):
    """A rewritten entry would not read back as the item it was written from (a bug)."""


@dataclass
class Written:
    """The new file text (as pieces), the document describing it, and parses worth caching."""

    pieces: list[str]
    document: Document
    cache: dict[bytes, Value] = field(default_factory=dict)
    changed: int = 0


def render(document: Document, items: Sequence[BacklogItem]) -> Written:
    """The text of the backlog holding ``items``, written over ``document``.

    ``document`` is used up: its entries move into the returned one (updating them in place
    is what keeps a save of 100,000 items quick), so it must not be rendered again.
    """
    by_id: dict[str, BacklogItem] = {}
    for item in items:
        if item.id in by_id:
            raise InvalidValueError("id", f"two items share the id {item.id!r}")
        by_id[item.id] = item
    with paused_gc():
        if document.kind is Kind.TREE and document.root is not None:
            return _render_tree(document, by_id)
        return _render_entries(document, by_id)


# -- the usual layout ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Slot:
    """One entry on its way into the new text."""

    entry: Entry
    row: Row
    text: str | None = None  # None: the entry's text stays as it is
    notes: Notes = ()


def _render_entries(document: Document, by_id: dict[str, BacklogItem]) -> Written:
    reuse = document.kind is Kind.ENTRIES
    header = document.header if reuse else DEFAULT_HEADER
    header += "" if header.endswith("\n") else "\n"
    column = document.column if reuse else 0
    indent = document.indent if reuse else Indent()
    trailer = document.trailer if reuse else ""
    # Entries are updated in place: at 100,000 items, making new ones costs real time.
    entries = document.entries if reuse else {}
    out = Document(document.path, Kind.ENTRIES, "", header, trailer, column, indent, entries)
    written = Written([], out)
    # An unchanged entry is placed as itself; a changed or new one as a slot with its text.
    placed: list[Entry | _Slot] = []
    changed: list[tuple[_Slot, BacklogItem]] = []
    for key, entry in list(document.entries.items()):
        item = by_id.pop(key, None)
        if item is None:
            entries.pop(key, None)
            continue
        row = row_of(item)
        if reuse and entry.state is not None and row == entry.state:
            placed.append(entry)
            continue
        slot = _Slot(entry, row)
        placed.append(slot)
        changed.append((slot, item))
    _rewrite_changed(document, changed, column, indent, reuse=reuse)
    for slot, item in changed:
        entries[item.id] = slot.entry
    fresh = list(by_id.values())
    records = [encode(item) for item in fresh]
    for item, record, text in zip(fresh, records, _fresh(records, column, indent), strict=True):
        _verify(text, record, column, item.id)
        entry = Entry(0, 0, 0, None)
        entries[item.id] = entry
        placed.append(_Slot(entry, row_of(item), text))
    written.changed = sum(1 for slot in placed if isinstance(slot, _Slot) and slot.text is not None)
    _assemble(written, document.full_text() if reuse else "", placed)
    return written


def _rewrite_changed(
    document: Document,
    changed: list[tuple[_Slot, BacklogItem]],
    column: int,
    indent: Indent,
    *,
    reuse: bool,
) -> None:
    """Fill in the new text and warnings of each changed entry's slot (None: the text still
    holds the item, as after a change that does not reach the file, such as sub-second time)."""
    olds: list[Record | None] = [
        encode(from_row(slot.entry.state)) if reuse and slot.entry.state is not None else None
        for slot, _ in changed
    ]
    records = [encode(item) for _, item in changed]
    # One dump each for all: the old texts as the tool would write them (an entry that still
    # reads exactly so has no human formatting to keep), and the new ones.
    canonical = [i for i, old in enumerate(olds) if old is not None and indent.is_default]
    known = [old for old in olds if old is not None and indent.is_default]
    as_written = dict(zip(canonical, _fresh(known, column, indent), strict=True))
    as_new = _fresh(records, column, indent) if indent.is_default else [None] * len(records)
    for index, (slot, item) in enumerate(changed):
        record, old = records[index], olds[index]
        text = document.entry_text(slot.entry) if reuse else ""
        if old is not None and old == record and text:
            continue
        body, tail = layout_mod.split_tail(text, column) if text else ("", "")
        if not body:
            new = as_new[index] or _fresh([record], column, indent)[0]
        elif as_written.get(index) == body:
            new = (as_new[index] or _fresh([record], column, indent)[0]) + tail
        else:
            new = _edit(body, old, record, column, indent) + tail
        raw = _verify(new, record, column, item.id)
        slot.text, slot.notes = new, entry_notes(layout_mod.dedent(new, column), raw)


def _fresh(records: list[Record], column: int, indent: Indent) -> list[str]:
    """New entry texts for ``records`` in the document's layout (no comments to keep)."""
    if not records:
        return []
    if indent.is_default:
        text = dump_fast(records)
        starts = [m.start() for m in _ENTRY_START.finditer(text)] + [len(text)]
        pieces = [text[a:b] for a, b in pairwise(starts)]
    else:
        pieces = [_flush_left(dump_round_trip([r], indent)) for r in records]
    return [layout_mod.indent(piece, column) for piece in pieces]


def _edit(body: str, old: Record | None, record: Record, column: int, indent: Indent) -> str:
    """``body`` with only the changed keys rewritten, comments and unknown keys kept."""
    tree = load_round_trip(layout_mod.dedent(body, column))
    node = tree[0]
    if old is None:
        old = encode(decode(node, default_id=record["id"]))
    apply_changes(node, old, record, FIELD_ORDER, fill=FILLED_IN)
    return layout_mod.indent(_flush_left(dump_round_trip(tree, indent)), column)


def _flush_left(text: str) -> str:
    # ruamel.yaml indents a top-level sequence by its offset; entries are placed by us.
    first = len(text) - len(text.lstrip(" "))
    return layout_mod.dedent(text, first) if first else text


def _verify(text: str, record: Record, column: int, item_id: str) -> Mapping[str, Any]:
    """The map ``text`` holds, after checking it reads back as ``record``."""
    raw = parse_entry(layout_mod.dedent(text, column))
    if raw is None or encode(decode(raw)) != record:
        raise RenderError(f"item {item_id!r} would not read back as written; nothing was saved")
    return raw


def _assemble(written: Written, old_text: str, placed: list[Entry | _Slot]) -> None:
    """Join header, entries and trailer; move each entry's offsets and line to the new text.

    Runs of unchanged entries are copied as one slice of the old text, and keep their state:
    a new equal row per item would only give the garbage collector 100,000 objects to walk.
    """
    document = written.document
    parts = [document.header]
    offset = len(document.header)
    line = document.header.count("\n") + 1
    run_start = run_stop = 0
    last = len(placed) - 1
    for index, placing in enumerate(placed):
        if isinstance(placing, _Slot):
            slot, entry, text = placing, placing.entry, placing.text
        else:
            slot, entry, text = None, placing, None
        if text is None and (old_text[entry.stop - 1 : entry.stop] == "\n" or index == last):
            if entry.start != run_stop:
                parts.append(old_text[run_start:run_stop])
                run_start = entry.start
            run_stop = entry.stop
            length = entry.stop - entry.start
            lines = old_text.count("\n", entry.start, entry.stop)
        else:
            if text is None:  # the file's last entry had no newline; more follows it now
                text = old_text[entry.start : entry.stop]
            if not text.endswith("\n") and (index < last or document.trailer):
                text += "\n"
            parts.append(old_text[run_start:run_stop])
            run_start = run_stop = 0
            parts.append(text)
            length, lines = len(text), text.count("\n")
            entry.key = digest(text)
            if slot is not None:
                entry.state = slot.row
                written.cache[entry.key] = (slot.row, slot.notes)
            elif entry.state is not None:
                written.cache[entry.key] = (entry.state, ())
        entry.start, entry.stop, entry.line = offset, offset + length, line
        offset += length
        line += lines
    parts.append(old_text[run_start:run_stop])
    parts.append(document.trailer)
    written.pieces = document.pieces = [part for part in parts if part]


# -- files read as a whole -----------------------------------------------------------------------


def _render_tree(document: Document, by_id: dict[str, BacklogItem]) -> Written:
    root = document.root
    if isinstance(root, CommentedSeq):
        sequence = root
    else:
        if root.get("items") is None:
            root["items"] = CommentedSeq()
        sequence = root["items"]
    written = Written([], Document(document.path, Kind.TREE, root=root, indent=document.indent))
    kept: list[tuple[BacklogItem, CommentedMap]] = []
    for key, entry in document.entries.items():
        item = by_id.pop(key, None)
        node = document.maps[key]
        if item is None:
            sequence.remove(node)
            continue
        if entry.state is None or row_of(item) != entry.state:
            old = encode(from_row(entry.state)) if entry.state is not None else {}
            record = encode(item)
            if entry.state is None or record != old:
                apply_changes(node, old, record, FIELD_ORDER, fill=FILLED_IN)
                written.changed += 1
        kept.append((item, node))
    for item in by_id.values():
        node = CommentedMap(encode(item))
        sequence.append(node)
        kept.append((item, node))
        written.changed += 1
    text = dump_round_trip(root, document.indent)
    written.pieces = [text]
    reread = load_round_trip(text)
    reread_items = reread if isinstance(reread, CommentedSeq) else reread["items"]
    for index, (item, node) in enumerate(kept):
        record = encode(item)
        if encode(decode(reread_items[index])) != record:
            raise RenderError(f"item {item.id!r} would not read back as written; nothing was saved")
        line = item_line(reread_items, index) or 1
        written.document.entries[item.id] = Entry(0, 0, line, row_of(item))
        written.document.maps[item.id] = node
    return written
