"""Finding TODO-style tags in comments and reading what they say. Pure.

A tag counts only when it opens the comment's text (``# TODO: ...``, ``// FIXME(ann) ...``,
``* HACK[PROJ-12] ...`` inside a block comment): a tag in the middle of a sentence, or in a
string, is prose, not a work item. Lines that continue the comment below a tag join its text.
Which lines can hold such a tag is decided by each line alone, so a search tool can pick those
lines out of many files first (``opening_lines``) and only they are searched here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from .comment_syntax import Comments, Syntax

DEFAULT_TAGS = ("TODO", "FIXME", "HACK", "XXX", "BUG")
MAX_CONTINUATION = 12
# What may stand between a comment's start (or its line's start) and the tag.
_MARKERS = re.compile(r"[\s/*#!;%<>{}\[\]\-|]*")
_CLOSERS = re.compile(r"\s*(?:\*+/|-->|-\}|\]\]|^=end)\s*$")
# Tags are found with a plain alternation (quick to search for); the character before a tag
# is checked separately, since a look-behind in front would make every position a candidate.
_WORD_CHAR = re.compile(r"[\w-]")
_BLOCK_OPENERS = ("/*", "<!--", "{-", "--[[", "=begin")
# A tag can open a comment's text only if what precedes it on its line is marker characters
# from the line's start, or from a comment opener's first character: a line-local check that
# spares lexing the file as far as a tag that is plainly prose or code.
# (Every comment opener starts with one of these characters, and is made of marker characters.)
_AFTER_OPENER = re.compile(r"[#/<;%{\-][\s/*#!;%<>{}\[\]\-|]*\Z")
# The two checks above as one expression that ripgrep's engine reads the same way as Python's:
# Python's \s (every character ``str.isspace`` accepts) spelled out, as ripgrep's \s is
# narrower, without the newline, which ripgrep never matches. (Tested against ``isspace``.)
_SPACE = r"\x09\x0b-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_OPENING = rf"(?:^|[#/<;%{{\-])[{_SPACE}/*#!;%<>{{}}\[\]\-|]*"
# What a match can take from the lines after its tag's (``\s*#123``): a tag starting with one
# of these could hide in it, so such tags need every line searched.
_SPILLS = re.compile(r"[\s#\d:\-\u2013\u2014]")
_LINE_OPENERS = re.compile(r"^\s*(?://+!?|#+:?|--+(?!>)|;+|%+|/\*+|\*+(?!/)|<!--|\{-)?\s?")


@dataclass(frozen=True, slots=True)
class Todo:
    """One tag in a comment, with its text joined across continuation lines."""

    line: int  # 1-based
    end_line: int
    tag: str
    text: str
    who: str | None  # as in: TODO(ann)
    ref: str | None  # as in: TODO[PROJ-12], FIXME #123
    # Where the tag's line starts in the text, to show the code around it; not what it says.
    offset: int = field(default=0, compare=False)


def tag_pattern(tags: Sequence[str]) -> re.Pattern[str]:
    """Matches a tag and its optional ``(who)``, ``[ref]`` or ``#123`` (the text follows)."""
    names = "|".join(sorted(map(re.escape, tags), key=len, reverse=True))
    return re.compile(
        rf"(?P<tag>{names})(?![\w-])"
        r"(?:\((?P<who>[^)\n]{0,60})\)|\[(?P<ref>[^\]\n]{1,60})\])?"
        r"(?:\s*#(?P<issue>\d{1,9})\b)?"
        r"[ \t]*[:\-\u2013\u2014]?[ \t]*"
    )


def opening_lines(tags: Sequence[str]) -> str:
    """A regular expression matching every line where one of ``tags`` may open a comment's text
    (and some other lines), written so that Python and ripgrep read it the same way."""
    return rf"{_OPENING}(?:{'|'.join(map(_portable, tags))})"


def _portable(text: str) -> str:
    """``text`` as a literal in both Python's and ripgrep's regular expressions."""
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else _code(c) for c in text)


def _code(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def lines_suffice(tags: Sequence[str]) -> bool:
    """True when searching only the lines ``opening_lines`` matches finds every tag ``find``
    finds in the whole text: no tag can hide in what a match takes from lines after its own."""
    return all(tag and not _SPILLS.match(tag) for tag in tags)


def find(
    text: str, syntax: Syntax, pattern: re.Pattern[str], lines: Mapping[int, int] | None = None
) -> list[Todo]:
    """Every tag that opens a comment's text in ``text``.

    ``lines``, when given, are the lines ``opening_lines`` matches (where each starts: its
    1-based number); only they are searched, which finds the same tags when ``lines_suffice``.
    """
    matches = pattern.finditer(text) if lines is None else _on_lines(text, pattern, lines)
    reader: _Reader | None = None
    found = []
    for match in matches:
        if match.start() and _WORD_CHAR.match(text, match.start() - 1):
            continue  # part of a longer word: MYTODO
        line_start = text.rfind("\n", 0, match.start()) + 1
        if not (
            _MARKERS.fullmatch(text, line_start, match.start())
            or _AFTER_OPENER.search(text, line_start, match.start())
        ):
            continue
        reader = reader or _Reader(text, syntax, pattern, lines or {})
        span = reader.comments.around(match.start())
        if span is not None and _opens_comment(text, span[0], match.start()):
            found.append(reader.read(match, span))
    return found


def _on_lines(text: str, pattern: re.Pattern[str], lines: Iterable[int]) -> Iterator[re.Match[str]]:
    """The matches ``pattern.finditer(text)`` gives that start on the lines starting at ``lines``.

    A match is looked for within its line (so the search never runs on into lines without a
    tag), then taken again without that limit, as its issue number may be on a later line.
    """
    position = 0
    for start in sorted(set(lines)):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        position = max(position, start)
        while (found := pattern.search(text, position, end)) is not None:
            match = pattern.match(text, found.start())
            if match is None or match.end() <= position:
                break  # cannot happen for non-empty tags; never loop on an empty match
            yield match
            position = match.end()


def _opens_comment(text: str, comment_start: int, tag_start: int) -> bool:
    line_start = text.rfind("\n", 0, tag_start) + 1
    lead = text[max(comment_start, line_start) : tag_start]
    return _MARKERS.fullmatch(lead) is not None


def _clean(piece: str) -> str:
    return _CLOSERS.sub("", piece).strip()


class _Reader:
    """One file's text with its comments, made only when the file holds a tag."""

    def __init__(
        self, text: str, syntax: Syntax, pattern: re.Pattern[str], numbers: Mapping[int, int]
    ) -> None:
        self.text = text
        self.pattern = pattern
        self.comments = Comments(text, syntax)
        self.numbers = numbers  # line numbers already known, by where their lines start
        self._counted = 0  # newlines before this position are counted in _newlines
        self._newlines = 0

    def line_number(self, position: int) -> int:
        """The 1-based number of the line holding ``position``; counting goes on from the last
        position asked about (tags come in order), so a file is counted through once."""
        known = self.numbers.get(self.line_start(position))
        if known is not None:
            return known
        if position < self._counted:
            self._counted = self._newlines = 0
        self._newlines += self.text.count("\n", self._counted, position)
        self._counted = position
        return self._newlines + 1

    def line_start(self, position: int) -> int:
        """Where the line holding ``position`` starts."""
        return self.text.rfind("\n", 0, position) + 1

    def line_end(self, start: int) -> int:
        """Where the line starting at ``start`` ends (its newline, or the end of the text)."""
        end = self.text.find("\n", start)
        return end if end != -1 else len(self.text)

    def read(self, match: re.Match[str], span: tuple[int, int]) -> Todo:
        """The tag at ``match`` inside the comment ``span``, with its continuation lines."""
        line = self.line_number(match.start())
        start = self.line_start(match.start())
        offset = start
        stop = self.line_end(start)
        parts = [_clean(self.text[match.end() : min(span[1], stop)])]
        issue = match.group("issue")
        ref = match.group("ref") or (f"#{issue}" if issue else None)
        # Line comments continue only with comments that start in the same column as this one.
        column = span[0] - start if span[0] >= start else -1
        end = line
        for _ in range(MAX_CONTINUATION):
            if stop >= len(self.text):
                break
            start = stop + 1
            stop = self.line_end(start)
            piece = self.continuation(start, stop, span, column)
            if piece is None:
                break
            parts.append(piece)
            end += 1
        who = (match.group("who") or "").strip() or None
        joined = " ".join(p for p in parts if p)
        return Todo(line, end, match.group("tag"), joined, who, ref, offset)

    def continuation(self, start: int, stop: int, span: tuple[int, int], column: int) -> str | None:
        """The text the line ``[start, stop)`` adds to the tag's comment, or ``None``."""
        raw = self.text[start:stop]
        first = len(raw) - len(raw.lstrip())
        block = self._is_block(span)
        inside = span[0] <= start + first < span[1]
        if inside:
            raw = self.text[start : min(stop, span[1])]  # a block's closing line ends there
        elif block or not self._line_comment_at(start + first, stop, first, column):
            return None  # code, a blank line, the end of a block, or another comment
        piece = _clean(_LINE_OPENERS.sub("", raw, count=1))
        if not piece or self.pattern.match(piece):
            return None
        return piece

    def _is_block(self, span: tuple[int, int]) -> bool:
        """True for a block comment (/* */, <!-- -->...), which nothing after it continues."""
        opening = self.text[span[0] : span[0] + 6]
        return "\n" in self.text[span[0] : span[1] - 1] or opening.startswith(_BLOCK_OPENERS)

    def _line_comment_at(self, position: int, stop: int, first: int, column: int) -> bool:
        own = self.comments.around(position)
        return own is not None and own[0] == position and first == column and own[1] <= stop
