"""Finding the item entries inside the backlog file's text without parsing all of it.

The file is ``<header> items: <entry> <entry> ... <trailer>``. Each entry is the text of one
sequence element, from its ``- `` line up to the next one, so an unchanged item can be written
back byte for byte and its parse can be cached by content. Anything unusual (flow style, several
documents, CRLF line ends) returns ``None`` and the caller parses the whole file instead, which
is always correct, only slower. Patterns start with a newline so the regular-expression engine
can jump between lines instead of trying every character (it matters at 50 MB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .yamlio import Indent

_ANY_ITEMS_KEY = re.compile(r"\nitems[ \t]*:")
_ITEMS_LINE = re.compile(r"\nitems:[ \t]*(?:#[^\n]*)?(?=\n|$)")
_CONTENT_LINE = re.compile(r"\n( *)([^ \n#])")
_DIRECTIVE_OR_MARKER = re.compile(r"\n(?:%|---|\.\.\.)")
_NESTED_SEQ = re.compile(r"\n( +)[\w-]+:[ \t]*\n( *)- ")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the entries are in ``text``: entry ``i`` is ``text[starts[i]:stops[i]]``."""

    text: str
    header: str
    starts: list[int]
    stops: list[int]
    lines: list[int]  # 1-based line number of each entry's first line
    trailer: str
    column: int  # where each entry's "-" stands
    indent: Indent

    def entry(self, index: int) -> str:
        """The text of entry ``index``."""
        return self.text[self.starts[index] : self.stops[index]]


def guess_indent(text: str) -> Indent:
    """The layout of sequences nested under keys in ``text``: indented, or level with the key."""
    match = _NESTED_SEQ.search("\n" + text)
    if match is None or len(match.group(2)) <= len(match.group(1)):
        return Indent()
    offset = len(match.group(2)) - len(match.group(1))
    return Indent(mapping=2, sequence=offset + 2, offset=offset)


def _end_pattern(column: int) -> re.Pattern[str]:
    # A content line left of the entries, or at their column but not a new "- " entry.
    level = rf" {{{column}}}(?:[^- \n#]|-(?=[^ \n]))"
    if column:
        return re.compile(rf"\n(?: {{0,{column - 1}}}[^ \n#]|{level})")
    return re.compile(rf"\n{level}")


def split(text: str) -> Layout | None:
    """The entries of ``text``, or ``None`` when it needs a whole-file parse.

    Anchors and aliases need no check here: an alias whose anchor sits in another entry makes
    that entry fail to parse on its own, and the caller then falls back to the whole file.
    Offsets into the padded text (a newline in front) equal offsets into ``text`` of the
    character after that newline, which is why they are used unchanged below.
    """
    if "\r" in text:
        return None
    padded = "\n" + text
    keys = [m.start() for m in _ANY_ITEMS_KEY.finditer(padded)]
    if not keys:
        return _without_items(text)
    items_line = _ITEMS_LINE.match(padded, keys[0])
    if len(keys) != 1 or items_line is None:
        return None
    body = min(items_line.end(), len(text))
    first = _CONTENT_LINE.search(padded, body)
    if first is None or not _entry_start(padded, first.end(2) - 1):
        if first is not None and first.group(1):
            return None  # "items:" holds something other than a block sequence
        return _layout(text, padded, body, body, 0)
    column = len(first.group(1))
    end_match = _end_pattern(column).search(padded, first.start() + 1)
    end = end_match.start() if end_match else len(text)
    return _layout(text, padded, first.start(), end, column)


def _entry_start(padded: str, dash: int) -> bool:
    return padded[dash] == "-" and padded[dash + 1 : dash + 2] in ("", " ", "\n")


def _layout(text: str, padded: str, start: int, end: int, column: int) -> Layout | None:
    # Comments and blank lines between "items:" and the first entry belong to the header.
    header, trailer = text[:start], text[end:]
    if _DIRECTIVE_OR_MARKER.search("\n" + trailer) or _DIRECTIVE_OR_MARKER.search(
        "\n" + header.lstrip("-\n")
    ):
        return None
    entry = re.compile(rf"\n {{{column}}}-(?= |\n|$)")
    starts = [m.start() for m in entry.finditer(padded, start, end + 1) if m.start() < end]
    stops = [*starts[1:], end] if starts else []
    lines = []
    line = text.count("\n", 0, start) + 1
    previous = start
    for offset in starts:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    indent = guess_indent(text[starts[0] : stops[0]]) if starts else Indent()
    return Layout(text, header, starts, stops, lines, trailer, column, indent)


def _without_items(text: str) -> Layout | None:
    """A file with no ``items`` key yet: new entries go after everything already there."""
    if "\r" in text or _DIRECTIVE_OR_MARKER.search("\n" + text.lstrip("-\n")):
        return None
    content = [line for line in text.splitlines() if line.strip() and line.lstrip()[0] != "#"]
    if content and content[0].startswith((" ", "-", "[", "{")):
        return None
    header = text if not text or text.endswith("\n") else text + "\n"
    return Layout(text, header + "items:\n", [], [], [], "", 0, Indent())


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
        comment = stripped.startswith("#") and len(line) - len(stripped) <= column
        if stripped.strip() and not comment:
            break
        cut -= 1
    body = "".join(lines[:cut])
    if not body.endswith("\n"):
        body += "\n"
        return body, entry[len(body) - 1 :]
    return body, entry[len(body) :]
