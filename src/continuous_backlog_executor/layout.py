"""Finding the item entries inside the backlog file's text without parsing all of it.

The file is ``<header> items: <entry> <entry> ... <trailer>``. Each entry is the text of one
sequence element, from its ``- `` line up to the next one, so an unchanged item can be written
back byte for byte and its parse can be cached by content. Anything unusual (flow style, tabs,
anchors across items, several documents, CRLF line ends) returns ``None`` and the caller parses
the whole file instead, which is always correct, only slower.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .yamlio import Indent

_ITEMS_KEY = re.compile(r"^items:[ \t]*(?:#.*)?$", re.MULTILINE)
_ANY_ITEMS_KEY = re.compile(r"^items[ \t]*:", re.MULTILINE)
_CONTENT_LINE = re.compile(r"^( *)([^ \n#].*)$", re.MULTILINE)
_DIRECTIVE_OR_MARKER = re.compile(r"^(?:%|---|\.\.\.)", re.MULTILINE)
_NESTED_SEQ = re.compile(r"^( +)[\w-]+:[ \t]*\n( *)- ", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the entries are: ``header + "".join(entries) + trailer`` is the whole text."""

    header: str
    entries: list[str]
    lines: list[int]  # 1-based line number of each entry's first line
    trailer: str
    column: int  # where each entry's "-" stands
    indent: Indent


def _end_pattern(column: int) -> re.Pattern[str]:
    # A content line left of the entries, or at their column but not a new "- " entry.
    shallower = rf"^ {{0,{column - 1}}}[^ \n#]" if column else r"(?!x)x"
    level = rf"^ {{{column}}}(?!-(?: |$))[^ \n#]"
    return re.compile(f"{shallower}|{level}", re.MULTILINE)


def guess_indent(text: str) -> Indent:
    """The layout of sequences nested under keys in ``text``: indented, or level with the key."""
    match = _NESTED_SEQ.search(text)
    if match is None or len(match.group(2)) <= len(match.group(1)):
        return Indent()
    offset = len(match.group(2)) - len(match.group(1))
    return Indent(mapping=2, sequence=offset + 2, offset=offset)


def split(text: str) -> Layout | None:
    """The entries of ``text``, or ``None`` when it needs a whole-file parse.

    Anchors and aliases need no check here: an alias whose anchor sits in another entry makes
    that entry fail to parse on its own, and the caller then falls back to the whole file.
    """
    if "\r" in text:
        return None
    found = list(_ANY_ITEMS_KEY.finditer(text))
    match = _ITEMS_KEY.search(text)
    if not found:
        return _without_items(text)
    if len(found) != 1 or match is None:
        return None
    body_start = min(match.end() + 1, len(text))
    first = _CONTENT_LINE.search(text, body_start)
    if first is None or not _is_entry_start(first.group(2)):
        if first is not None and first.group(1):
            return None  # "items:" holds something other than a block sequence
        return _layout(text, body_start, body_start, body_start, 0)
    column = len(first.group(1))
    end_match = _end_pattern(column).search(text, first.start())
    end = end_match.start() if end_match else len(text)
    return _layout(text, body_start, first.start(), end, column)


def _is_entry_start(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _layout(text: str, header_end: int, start: int, end: int, column: int) -> Layout | None:
    header, trailer = text[:header_end], text[end:]
    # Comments and blank lines between "items:" and the first entry belong to the header.
    header += text[header_end:start]
    if _DIRECTIVE_OR_MARKER.search(trailer) or _DIRECTIVE_OR_MARKER.search(header.lstrip("-\n")):
        return None
    starts = [m.start() for m in re.finditer(rf"^ {{{column}}}-(?: |$)", text[start:end], re.M)]
    entries, lines = [], []
    line = text.count("\n", 0, start) + 1
    previous = 0
    for index, offset in enumerate(starts):
        line += text.count("\n", start + previous, start + offset)
        previous = offset
        stop = starts[index + 1] if index + 1 < len(starts) else end - start
        entries.append(text[start + offset : start + stop])
        lines.append(line)
    indent = guess_indent(entries[0]) if entries else Indent()
    return Layout(header, entries, lines, trailer, column, indent)


def _without_items(text: str) -> Layout | None:
    """A file with no ``items`` key yet: new entries go after everything already there."""
    if _DIRECTIVE_OR_MARKER.search(text.lstrip("-\n")) or "\r" in text:
        return None
    content = [line for line in text.splitlines() if line.strip() and line.lstrip()[0] != "#"]
    if content and content[0].startswith((" ", "-", "[", "{")):
        return None
    header = text if not text or text.endswith("\n") else text + "\n"
    return Layout(header + "items:\n", [], [], "", 0, Indent())


def dedent(entry: str, column: int) -> str:
    """``entry`` moved to column 0 (every non-blank line of an entry starts at ``column``+)."""
    if not column:
        return entry
    prefix = " " * column
    return "".join(
        line[column:] if line.startswith(prefix) else line.lstrip(" ")
        for line in entry.splitlines(keepends=True)
    )


def indent(entry: str, column: int) -> str:
    """``entry`` (written at column 0) moved to ``column``; blank lines stay empty."""
    if not column:
        return entry
    prefix = " " * column
    return "".join(
        prefix + line if line.strip() else line for line in entry.splitlines(keepends=True)
    )


def split_tail(entry: str, column: int) -> tuple[str, str]:
    """``(body, tail)``: the tail is the blank lines, and comments at the entries' column or
    left of it, that stand between this entry and the next; they belong to neither item."""
    lines = entry.splitlines(keepends=True)
    cut = len(lines)
    while cut > 1:
        line = lines[cut - 1]
        stripped = line.lstrip(" ")
        if stripped.strip() and not (
            stripped.startswith("#") and len(line) - len(stripped) <= column
        ):
            break
        cut -= 1
    body = "".join(lines[:cut])
    if not body.endswith("\n"):
        body += "\n"
        return body, entry[len(body) - 1 :]
    return body, entry[len(body) :]
