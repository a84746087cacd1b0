"""Tests for telling what kind of work a found problem is, from its tag and its words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuous_backlog_executor.classify import _KINDS, _RULES, _TAG_TYPES, _stem, classify
from continuous_backlog_executor.model import TaskType


def read_rule_by_rule(text: str, tag: str | None) -> TaskType:
    """The answer ``classify`` must give, got the plain way: each rule searched for in turn."""
    if _RULES[0].search(text):
        return _KINDS[0]
    if tag and tag.upper() in _TAG_TYPES:
        return _TAG_TYPES[tag.upper()]
    for kind, rule in zip(_KINDS[1:], _RULES[1:], strict=True):
        if rule.search(text):
            return kind
    return TaskType.FEATURE


@pytest.mark.parametrize(
    ("text", "tag", "kind"),
    [
        ("check the password before saving", "FIXME", TaskType.SECURITY),
        ("CVE-2024-1234 applies here", None, TaskType.SECURITY),
        ("make the Authentication optional", "TODO", TaskType.SECURITY),
        ("this is slow", "HACK", TaskType.REFACTOR),
        ("this is slow", "TODO", TaskType.PERFORMANCE),
        ("speed up the loop", None, TaskType.PERFORMANCE),
        ("Speed\tUp the loop", None, TaskType.PERFORMANCE),
        ("speed  up: two spaces are not one", None, TaskType.FEATURE),
        ("fixes the docs", None, TaskType.BUG),
        ("the docs, then the tests", None, TaskType.TEST),
        ("auth-token is one word with a hyphen", None, TaskType.FEATURE),
        ("re-test is one word too", None, TaskType.FEATURE),
        ("pre_fix and fix_ are other words", None, TaskType.FEATURE),
        ("clean up later", "bug", TaskType.BUG),
        ("clean up later", "todo", TaskType.REFACTOR),
        ("add a flag", None, TaskType.FEATURE),
        ("", "XXX", TaskType.REFACTOR),
        # Letters that ignoring case takes for ASCII ones: the long s, the Kelvin sign.
        ("\u017fecurity first", None, TaskType.SECURITY),
        ("lea\u212a in the pool", None, TaskType.BUG),
        ("é then fix", None, TaskType.BUG),
        ("éfix is another word", None, TaskType.FEATURE),
    ],
)
def test_the_first_rule_whose_words_appear_decides(
    text: str, tag: str | None, kind: TaskType
) -> None:
    assert classify(text, tag=tag) == kind
    assert read_rule_by_rule(text, tag) == kind


PIECES = [
    "security",
    "Vulnerable",
    "cve-2021-1",
    "CVE-12-a",
    "tokens",
    "sanitising",
    "perf",
    "optimize",
    "slowness",
    "speed",
    "up",
    "cleanup",
    "clean",
    "bugs",
    "fixed",
    "fixing",
    "errors",
    "fail",
    "tests",
    "testing",
    "docstring",
    "readme",
    "comment",
    "refactored",
    "deprecate",
    "duplicated",
    "\u017flow",
    "\u212aey",
    "f\u0130x",
    "x",
    "the",
    "é",
    "٣",
    "_",
    "-",
    "1",
]
SEPARATORS = ["", " ", "  ", "\t", "\n", "-", "_", ".", "(", "é", "\u00a0", "\x1c", "\u2028", "#"]


@given(
    st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=8),
    st.sampled_from([str.lower, str.upper, str.swapcase, str.title]),
    st.sampled_from([None, "", "TODO", "FIXME", "fixme", "HACK", "XXX", "BUG", "NOTE"]),
)
def test_classify_answers_as_each_rule_searched_for_in_turn(
    parts: list[tuple[str, str]], case: object, tag: str | None
) -> None:
    assert callable(case)
    text = case("".join(piece + separator for piece, separator in parts))
    assert classify(text, tag=tag) == read_rule_by_rule(text, tag)


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("security", "security"),
        ("bugs?", "bug"),
        ("fix(?:es|ed)?", "fix"),
        (r"vulnerab\w*", "vulnerab"),
        (r"cve-[\d-]+", "cve-"),
        (r"speed\s?up", "speed"),
        ("x{0,2}y", ""),
        (r"\.net", ""),
    ],
)
def test_a_words_stem_is_the_letters_all_its_matches_start_with(word: str, stem: str) -> None:
    assert _stem(word) == stem
