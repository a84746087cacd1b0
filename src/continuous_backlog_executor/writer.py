"""Writing the backlog back: unchanged items keep their exact text, changed items are rewritten
keeping a human's comments and formatting, and every rewritten entry is read back before the
file is replaced, so a formatting slip can never change or lose data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import layout as layout_mod
from .cache import CachedEntry, digest
from .codec import FIELD_ORDER, Record, decode, encode, restore, state_of
from .document import DEFAULT_HEADER, Document, Entry, Kind, parse_entry
from .errors import InvalidValueError
from .model import BacklogItem
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
    """The new file text, the document describing it, and parses worth caching."""

    text: str
    document: Document
    cache: dict[str, CachedEntry] = field(default_factory=dict)
    changed: int = 0


def render(document: Document, items: Sequence[BacklogItem]) -> Written:
    """The text of the backlog holding ``items``, written over ``document``."""
    by_id: dict[str, BacklogItem] = {}
    for item in items:
        if item.id in by_id:
            raise InvalidValueError("id", f"two items share the id {item.id!r}")
        by_id[item.id] = item
    if document.kind is Kind.TREE and document.root is not None:
        return _render_tree(document, by_id)
    return _render_entries(document, by_id)


# -- the usual layout ---------------------------------------------------------------------------


def _render_entries(document: Document, by_id: dict[str, BacklogItem]) -> Written:
    reuse = document.kind is Kind.ENTRIES
    header = document.header if reuse else DEFAULT_HEADER
    column = document.column if reuse else 0
    indent = document.indent if reuse else Indent()
    written = Written("", Document(document.path, Kind.ENTRIES, header, document.trailer))
    kept: list[_Kept] = []
    gap = ""
    for key, entry in document.entries.items():
        item = by_id.pop(key, None)
        if item is None:
            continue
        text, record, changed = _rewrite(entry, item, column, indent, reuse=reuse)
        tail = layout_mod.split_tail(text, column)[1]
        gap = tail[: len(tail) - len(tail.lstrip("\n"))]  # blank lines between entries
        if changed:
            _verify(text, record, column, item.id)
            written.changed += 1
        cacheable = changed and _is_canonical_cacheable(text, record, column, indent)
        kept.append(_Kept(item, text, record, entry.key if not changed else "", cacheable))
    new_items = list(by_id.values())
    for item, text in zip(
        new_items, _fresh([encode(i) for i in new_items], column, indent), strict=True
    ):
        record = encode(item)
        _verify(text, record, column, item.id)
        kept.append(_Kept(item, text + gap, record, "", cacheable=True))
        written.changed += 1
    _assemble(written, header, document.trailer, kept, column=column, indent=indent)
    return written


def _rewrite(
    entry: Entry, item: BacklogItem, column: int, indent: Indent, *, reuse: bool
) -> tuple[str, Record, bool]:
    """The entry's new text, the record it holds, and whether the text changed."""
    if reuse and entry.state is not None and entry.record is not None:
        if state_of(item) == entry.state:
            return entry.text, entry.record, False
        record = encode(item)
        if record == entry.record:
            return entry.text, record, False
    record = encode(item)
    if not reuse or not entry.text:
        return _fresh([record], column, indent)[0], record, True
    body, tail = layout_mod.split_tail(entry.text, column)
    old = restore(entry.record) if entry.record is not None else None
    if old is not None and indent.is_default and _fresh([old], column, indent)[0] == body:
        return _fresh([record], column, indent)[0] + tail, record, True
    return _edit(body, old, record, column, indent) + tail, record, True


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
        old = encode(decode(node))
    apply_changes(node, old, record, FIELD_ORDER, fill=FILLED_IN)
    return layout_mod.indent(_flush_left(dump_round_trip(tree, indent)), column)


def _flush_left(text: str) -> str:
    # ruamel.yaml indents a top-level sequence by its offset; entries are placed by us.
    first = len(text) - len(text.lstrip(" "))
    return layout_mod.dedent(text, first) if first else text


def _is_canonical_cacheable(text: str, record: Record, column: int, indent: Indent) -> bool:
    # Entries with a human's comments may carry warnings worth repeating; parse those again.
    return (
        "#" not in text
        or _fresh([record], column, indent)[0] == layout_mod.split_tail(text, column)[0]
    )


def _verify(text: str, record: Record, column: int, item_id: str) -> None:
    raw = parse_entry(layout_mod.dedent(text, column))
    if raw is None or encode(decode(raw)) != record:
        raise RenderError(f"item {item_id!r} would not read back as written; nothing was saved")


@dataclass(slots=True)
class _Kept:
    item: BacklogItem
    text: str
    record: Record
    key: str  # the digest, when the text is unchanged and it is already known
    cacheable: bool = False


def _assemble(
    written: Written,
    header: str,
    trailer: str,
    kept: list[_Kept],
    *,
    column: int,
    indent: Indent,
) -> None:
    if not header.endswith("\n"):
        header += "\n"
    parts = [header]
    line = header.count("\n") + 1
    entries: dict[str, Entry] = {}
    for index, entry in enumerate(kept):
        text, key = entry.text, entry.key
        if not text.endswith("\n") and (index + 1 < len(kept) or trailer):
            text, key = text + "\n", ""
        key = key or digest(text)
        if entry.cacheable:
            written.cache[key] = CachedEntry(entry.record)
        entries[entry.item.id] = Entry(text, line, entry.record, state_of(entry.item), key)
        line += text.count("\n")
        parts.append(text)
    parts.append(trailer)
    written.text = "".join(parts)
    document = written.document
    document.header, document.trailer = header, trailer
    document.column, document.indent, document.entries = column, indent, entries


# -- files read as a whole -----------------------------------------------------------------------


def _render_tree(document: Document, by_id: dict[str, BacklogItem]) -> Written:
    root = document.root
    if isinstance(root, CommentedSeq):
        sequence = root
    else:
        if root.get("items") is None:
            root["items"] = CommentedSeq()
        sequence = root["items"]
    written = Written("", Document(document.path, Kind.TREE, root=root, indent=document.indent))
    kept: list[tuple[BacklogItem, CommentedMap]] = []
    for key, entry in document.entries.items():
        item = by_id.pop(key, None)
        node = document.maps[key]
        if item is None:
            sequence.remove(node)
            continue
        if entry.state is None or state_of(item) != entry.state:
            record = encode(item)
            if entry.state is None or record != entry.record:
                old = restore(entry.record) if entry.record else {}
                apply_changes(node, old, record, FIELD_ORDER, fill=FILLED_IN)
                written.changed += 1
        kept.append((item, node))
    for item in by_id.values():
        node = CommentedMap(encode(item))
        sequence.append(node)
        kept.append((item, node))
        written.changed += 1
    written.text = dump_round_trip(root, document.indent)
    reread = load_round_trip(written.text)
    reread_items = reread if isinstance(reread, CommentedSeq) else reread["items"]
    for index, (item, node) in enumerate(kept):
        record = encode(item)
        if encode(decode(reread_items[index])) != record:
            raise RenderError(f"item {item.id!r} would not read back as written; nothing was saved")
        line = item_line(reread_items, index) or 1
        written.document.entries[item.id] = Entry("", line, record, state_of(item))
        written.document.maps[item.id] = node
    return written
