"""What kind of work a found problem is, from its tag and its words. Pure."""

from __future__ import annotations

import re

from .model import TaskType

# Checked in order; the first rule whose words appear decides.
_RULES: tuple[tuple[TaskType, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE))
    for kind, words in (
        (
            TaskType.SECURITY,
            r"security|vulnerab\w*|cve-[\d-]+|injection|xss|csrf|ssrf|auth\w*|secrets?|passwords?"
            r"|tokens?|crypto\w*|permissions?|saniti[sz]e\w*",
        ),
        (
            TaskType.PERFORMANCE,
            r"performance|perf|optimi[sz]e\w*|slow(?:er|ness)?|speed\s?up|latency",
        ),
        (
            TaskType.BUG,
            r"bugs?|fix(?:es|ed)?|broken|crash\w*|errors?|wrong|incorrect|fails?|leaks?",
        ),
        (TaskType.TEST, r"tests?|testing|coverage|flaky"),
        (TaskType.DOC, r"docs?|documentation|docstrings?|readme|comments?"),
        (
            TaskType.REFACTOR,
            r"refactor\w*|clean\s?up|cleanup|simplify|rename|deprecat\w*|duplicat\w*",
        ),
    )
)
_TAG_TYPES = {
    "FIXME": TaskType.BUG,
    "BUG": TaskType.BUG,
    "HACK": TaskType.REFACTOR,
    "XXX": TaskType.REFACTOR,
}


def classify(text: str, *, tag: str | None = None) -> TaskType:
    """The task type of a problem described by ``text``, found under ``tag`` if any.

    Security words win over the tag (a FIXME about a password is security work); otherwise a
    FIXME or BUG is a bug and a HACK or XXX a refactor; a TODO is judged by its words alone.
    """
    kind, security = _RULES[0]
    if security.search(text):
        return kind
    if tag and tag.upper() in _TAG_TYPES:
        return _TAG_TYPES[tag.upper()]
    for kind, words in _RULES[1:]:
        if words.search(text):
            return kind
    return TaskType.FEATURE
