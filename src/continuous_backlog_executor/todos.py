"""Finding TODO-style tags in comments and reading what they say. Pure.

A tag counts only when it opens the comment's text (``# TODO: ...``, ``// FIXME(ann) ...``,
``* HACK[PROJ-12] ...`` inside a block comment): a tag in the middle of a sentence, or in a
string, is prose, not a work item. Lines that continue the comment below a tag join its text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .comment_syntax import Comments, Syntax

DEFAULT_TAGS = ("TODO", "FIXME", "HACK", "XXX", "BUG")
MAX_CONTINUATION = 12
# What may stand between a comment's start (or its line's start) and the tag.
_MARKERS = re.compile(r"[\s/*#!;%<>{}\-|]*")
_CLOSERS = re.compile(r"\s*(?:\*+/|-->|-\}|\]\]|^=end)\s*$")
_LINE_OPENERS = re.compile(r"^\s*(?://+!?|#+:?|--+|;+|%+|/\*+|\*+(?!/)|<!--|\{-)?\s?")


@dataclass(frozen=True, slots=True)
class Todo:
    """One tag in a comment, with its text joined across continuation lines."""

    line: int  # 1-based
    end_line: int
    tag: str
    text: str
    who: str | None  # TODO(ann)
    ref: str | None  # TODO[PROJ-12] or FIXME #123


def tag_pattern(tags: Sequence[str]) -> re.Pattern[str]:
    """Matches a tag and its optional ``(who)``, ``[ref]`` or ``#123`` (the text follows)."""
    names = "|".join(sorted(map(re.escape, tags), key=len, reverse=True))
    return re.compile(
        rf"(?<![\w-])(?P<tag>{names})(?![\w-])"
        r"(?:\((?P<who>[^)\n]{0,60})\)|\[(?P<ref>[^\]\n]{1,60})\])?"
        r"(?:\s*#(?P<issue>\d{1,9})\b)?"
        r"[ \t]*[:\-\u2013]?[ \t]*"
    )


def find(text: str, syntax: Syntax, pattern: re.Pattern[str]) -> list[Todo]:
    """Every tag that opens a comment's text in ``text``."""
    reader: _Reader | None = None
    found = []
    for match in pattern.finditer(text):
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
    """One file's text with its comments and line starts, built only if it has a tag."""

    def __init__(self, text: str, syntax: Syntax, pattern: re.Pattern[str]) -> None:
        self.text = text
        self.pattern = pattern
        self.comments = Comments(text, syntax)
        starts = [0]
        position = text.find("\n")
        while position != -1:
            starts.append(position + 1)
            position = text.find("\n", position + 1)
        self.line_starts = starts

    def line_of(self, position: int) -> int:
        """The 0-based line holding ``position``."""
        return bisect.bisect_right(self.line_starts, position) - 1

    def line_end(self, line: int) -> int:
        """Where 0-based ``line`` ends (its newline, or the end of the text)."""
        starts = self.line_starts
        return starts[line + 1] - 1 if line + 1 < len(starts) else len(self.text)

    def read(self, match: re.Match[str], span: tuple[int, int]) -> Todo:
        """The tag at ``match`` inside the comment ``span``, with its continuation lines."""
        line = self.line_of(match.start())
        parts = [_clean(self.text[match.end() : min(span[1], self.line_end(line))])]
        issue = match.group("issue")
        ref = match.group("ref") or (f"#{issue}" if issue else None)
        # Line comments continue only with comments that start in the same column as this one.
        start = self.line_starts[line]
        column = span[0] - start if span[0] >= start else -1
        end = line
        last = min(line + MAX_CONTINUATION, len(self.line_starts) - 1)
        for following in range(line + 1, last + 1):
            piece = self.continuation(following, span, column)
            if piece is None:
                break
            parts.append(piece)
            end = following
        who = (match.group("who") or "").strip() or None
        joined = " ".join(p for p in parts if p)
        return Todo(line + 1, end + 1, match.group("tag"), joined, who, ref)

    def continuation(self, line: int, span: tuple[int, int], column: int) -> str | None:
        """The text ``line`` adds to the tag's comment, or ``None`` if the comment ends."""
        start, stop = self.line_starts[line], self.line_end(line)
        raw = self.text[start:stop]
        first = len(raw) - len(raw.lstrip())
        inside = span[0] <= start < span[1] or span[0] <= start + first < span[1]
        if not inside:
            own = self.comments.around(start + first)
            if own is None or own[0] != start + first or first != column or own[1] > stop:
                return None  # code, a blank line, a block comment, or another column
        piece = _clean(_LINE_OPENERS.sub("", raw, count=1))
        if not piece or self.pattern.match(piece):
            return None
        return piece
