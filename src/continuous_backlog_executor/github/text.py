"""Text from GitHub issues and comments made safe to keep as data, and the criteria it states.

Issue text is written by strangers, so it is only ever stripped and cut here, never interpreted:
terminal escape sequences, control characters (NUL included) and bidirectional overrides go, so
the text cannot repaint a terminal or hide what it says; everything else stays as written. Pure.
"""

from __future__ import annotations

import re

BODY_LIMIT = 8_000
CRITERION_LIMIT = 300
CRITERIA_LIMIT = 20
SCAN_LIMIT = 65_536  # GitHub's own cap on an issue or comment body

# ESC and what follows it: a CSI sequence, an OSC string (ended by BEL or ESC backslash), a
# character set designation (ESC ( B) or a single-character escape.
_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]+[0-~]|[@-_])?"
)
_BREAKS = re.compile(r"\r\n?|[\u2028\u2029]")
# C0 and C1 controls but tab and newline; zero-width and bidirectional formatting characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

_LIST_ITEM = r"^\s*(?:[-*+]|\d{1,3}[.)])\s+"
_CHECKBOX = re.compile(_LIST_ITEM + r"\[[ xX]\]\s+(?P<text>\S.*)$")
_BULLET = re.compile(_LIST_ITEM + r"(?:\[[ xX]\]\s+)?(?P<text>\S.*)$")
_CRITERIA_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*acceptance\s+criteria\s*:?\s*(?:\*\*|__)?\s*:?\s*$",
    re.IGNORECASE,
)
_ANY_HEADING = re.compile(r"^\s*(?:#{1,6}\s|(?:\*\*|__)[^*_]+(?:\*\*|__)\s*:?\s*$)")


def clean(text: str) -> str:
    """``text`` without escape sequences and control characters; line breaks become ``\\n``."""
    text = _ESCAPE.sub("", text)
    text = _BREAKS.sub("\n", text)
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int) -> str:
    """``text`` cleaned, on one line with single spaces, cut to ``limit`` characters with ``…``."""
    flat = " ".join(clean(text[: limit * 8]).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def body(text: str, limit: int = BODY_LIMIT) -> str:
    """``text`` cleaned and cut to ``limit`` characters, with a note of how much was cut."""
    cleaned = clean(text).strip()
    if len(cleaned) <= limit:
        return cleaned
    cut = len(cleaned) - limit
    return f"{cleaned[:limit]}\n\n[{cut:,} more characters cut from a text of {len(cleaned):,}]"


def criteria(text: str) -> tuple[str, ...]:
    """The acceptance criteria ``text`` states: its task-list items (``- [ ] ...``) and the
    list items under an "Acceptance criteria" heading, each on one line, without duplicates.
    """
    found: list[str] = []
    in_section = False
    for line in clean(text[:SCAN_LIMIT]).splitlines():
        if _CRITERIA_HEADING.match(line):
            in_section = True
            continue
        if in_section and _ANY_HEADING.match(line):
            in_section = False
        match = (_BULLET if in_section else _CHECKBOX).match(line)
        if match:
            found.append(one_line(match["text"], CRITERION_LIMIT))
    return tuple(dict.fromkeys(found))[:CRITERIA_LIMIT]
