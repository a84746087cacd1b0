"""What kind of work a found problem is, from its tag and its words. Pure."""

from __future__ import annotations

import re
import string
from collections.abc import Collection

from .model import TaskType

# Checked in order; the first rule whose words appear decides. Each word is one regular
# expression (no "|" outside parentheses), best started with plain lowercase letters: its stem,
# which ``classify`` looks for first.
_WORDS: tuple[tuple[TaskType, tuple[str, ...]], ...] = (
    (
        TaskType.SECURITY,
        (
            "security",
            r"vulnerab\w*",
            r"cve-[\d-]+",
            "injection",
            "xss",
            "csrf",
            "ssrf",
            r"auth\w*",
            "secrets?",
            "passwords?",
            "tokens?",
            r"crypto\w*",
            "permissions?",
            r"saniti[sz]e\w*",
        ),
    ),
    (
        TaskType.PERFORMANCE,
        ("performance", "perf", r"optimi[sz]e\w*", "slow(?:er|ness)?", r"speed\s?up", "latency"),
    ),
    (
        TaskType.BUG,
        (
            "bugs?",
            "fix(?:es|ed)?",
            "broken",
            r"crash\w*",
            "errors?",
            "wrong",
            "incorrect",
            "fails?",
            "leaks?",
        ),
    ),
    (TaskType.TEST, ("tests?", "testing", "coverage", "flaky")),
    (TaskType.DOC, ("docs?", "documentation", "docstrings?", "readme", "comments?")),
    (
        TaskType.REFACTOR,
        (
            r"refactor\w*",
            r"clean\s?up",
            "cleanup",
            "simplify",
            "rename",
            r"deprecat\w*",
            r"duplicat\w*",
        ),
    ),
)
_KINDS = tuple(kind for kind, _ in _WORDS)
# A word counts only as a whole word: neither letters, digits, "_" nor "-" right before or after.
_RULES = tuple(
    re.compile(rf"(?<![\w-])(?:{'|'.join(words)})(?![\w-])", re.IGNORECASE) for _, words in _WORDS
)
_TAG_TYPES = {
    "FIXME": TaskType.BUG,
    "BUG": TaskType.BUG,
    "HACK": TaskType.REFACTOR,
    "XXX": TaskType.REFACTOR,
}


def _stem(word: str) -> str:
    """The letters every match of ``word`` starts with (lowercase, as written)."""
    letters = word[: len(word) - len(word.lstrip(string.ascii_lowercase + "-"))]
    if word[len(letters) : len(letters) + 1] in ("?", "*", "{"):
        letters = letters[:-1]  # the last letter is optional
    return letters


def _any_stem(stems: Collection[str]) -> str:
    """An expression matching any of ``stems``, grouped by first letter (quicker to search
    for than a plain alternation). Any stem will do: only where a match starts matters."""
    kept = sorted({s for s in stems if not any(o != s and s.startswith(o) for o in stems)})
    if "" in kept:
        return ""  # a word without a stem could start anywhere
    by_first: dict[str, list[str]] = {}
    for stem in kept:
        by_first.setdefault(stem[0], []).append(re.escape(stem[1:]))
    return "|".join(
        re.escape(first) + (f"(?:{'|'.join(rests)})" if len(rests) > 1 else rests[0])
        for first, rests in by_first.items()
    )


# Where a rule's match may start. Searching every rule at every position is slow; searching
# once for the stems at the starts of words, then trying the rules only where one is found,
# gives the same answers: a match starts with its word's stem, right after the start of the
# text or a character that is neither a word character nor "-" (which the search finds in the
# text with a space put in front). A stem found earlier cannot hide it, since a stem is all
# letters and "-". In ASCII text, lower case with a case-sensitive search finds the same places
# as ignoring case, and much faster.
_STEMS = tuple(_stem(word) for _, words in _WORDS for word in words)
_STARTS_ASCII = re.compile(rf"[^\w-](?:{_any_stem(_STEMS)})", re.ASCII)
_STARTS = re.compile(_STARTS_ASCII.pattern, re.IGNORECASE)


def classify(text: str, *, tag: str | None = None) -> TaskType:
    """The task type of a problem described by ``text``, found under ``tag`` if any.

    Security words win over the tag (a FIXME about a password is security work); otherwise a
    FIXME or BUG is a bug and a HACK or XXX a refactor; a TODO is judged by its words alone.
    """
    tagged = _TAG_TYPES.get(tag.upper()) if tag else None
    # The first rule found anywhere, looking only for rules before the best so far (and for
    # security words alone when the tag decides the rest).
    best = 1 if tagged is not None else len(_RULES)
    found = len(_RULES)
    if text.isascii():
        starts, padded = _STARTS_ASCII, " " + text.lower()
    else:
        starts, padded = _STARTS, " " + text
    candidate = starts.search(padded)
    while candidate is not None:
        start = candidate.start()  # where the stem starts in ``text``
        for index in range(best):
            if _RULES[index].match(text, start):
                if index == 0:
                    return _KINDS[0]
                best = found = index
                break
        candidate = starts.search(padded, candidate.end())
    if tagged is not None:
        return tagged
    return _KINDS[found] if found < len(_KINDS) else TaskType.FEATURE
