"""Finding TODO-style tags in comments and reading what they say. Pure.

A tag counts only when it opens the comment's text (``# TODO: ...``, ``// FIXME(ann) ...``,
``* HACK[PROJ-12] ...`` inside a block comment): a tag in the middle of a sentence, or in a
string, is prose, not a work item. Lines that continue the comment below a tag join its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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


def tag_pattern(tags: Sequence[str]) -> re.Pattern[str]:
    """Matches a tag and its optional ``(who)``, ``[ref]`` or ``#123`` (the text follows)."""
    names = "|".join(sorted(map(re.escape, tags), key=len, reverse=True))
    return re.compile(
        rf"(?P<tag>{names})(?![\w-])"
        r"(?:\((?P<who>[^)\n]{0,60})\)|\[(?P<ref>[^\]\n]{1,60})\])?"
        r"(?:\s*#(?P<issue>\d{1,9})\b)?"
        r"[ \t]*[:\-\u2013\u2014]?[ \t]*"
    )


def find(text: str, syntax: Syntax, pattern: re.Pattern[str]) -> list[Todo]:
    """Every tag that opens a comment's text in ``text``."""
    reader: _Reader | None = None
    found = []
    for match in pattern.finditer(text):
        if match.start() and _WORD_CHAR.match(text, match.start() - 1):
            continue  # part of a longer word: MYTODO
        line_start = text.rfind("\n", 0, match.start()) + 1
        if not (
            _MARKERS.fullmatch(text, line_start, match.start())
            or _AFTER_OPENER.search(text, line_start, match.start())
        ):
            continue
        reader = reader or _Reader(text, syntax, pattern)
        span = reader.comments.around(match.start())
        if span is not None and _opens_comment(text, span[0], match.start()):
            found.append(reader.read(match, span))
    return found


def _opens_comment(text: str, comment_start: int, tag_start: int) -> bool:
    line_start = text.rfind("\n", 0, tag_start) + 1
    lead = text[max(comment_start, line_start) : tag_start]
    return _MARKERS.fullmatch(lead) is not None


def _clean(piece: str) -> str:
    return _CLOSERS.sub("", piece).strip()


class _Reader:
    """One file's text with its comments, made only when the file holds a tag."""

    def __init__(self, text: str, syntax: Syntax, pattern: re.Pattern[str]) -> None:
        self.text = text
        self.pattern = pattern
        self.comments = Comments(text, syntax)

    def line_start(self, position: int) -> int:
        """Where the line holding ``position`` starts."""
        return self.text.rfind("\n", 0, position) + 1

    def line_end(self, start: int) -> int:
        """Where the line starting at ``start`` ends (its newline, or the end of the text)."""
        end = self.text.find("\n", start)
        return end if end != -1 else len(self.text)

    def read(self, match: re.Match[str], span: tuple[int, int]) -> Todo:
        """The tag at ``match`` inside the comment ``span``, with its continuation lines."""
        line = self.text.count("\n", 0, match.start()) + 1
        start = self.line_start(match.start())
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
        return Todo(line, end, match.group("tag"), joined, who, ref)

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
