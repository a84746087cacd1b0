"""Tests for ``executor.closes``: the line that makes merging a pull request close its issue."""

from __future__ import annotations

import pytest

from continuous_backlog_executor.executor import closes
from continuous_backlog_executor.model import BacklogItem, Source


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (Source(kind="github_issues", url="https://github.com/acme/widgets/issues/12"),
         "\nFixes acme/widgets#12\n"),
        (Source(kind="github_issues", url="https://ghe.example.com/team/app/issues/3"),
         "\nFixes team/app#3\n"),
        (Source(kind="github_reviews", url="https://github.com/acme/widgets/pull/4"), ""),
        (Source(kind="comments", path="a.py", line=3), ""),
        (None, ""),
    ],
)  # fmt: skip
def test_only_an_item_from_an_issue_closes_it(source: Source | None, line: str) -> None:
    assert closes(BacklogItem(id="X-1", title="t", source=source)) == line
