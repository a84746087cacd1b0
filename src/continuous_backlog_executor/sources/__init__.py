"""Discovery sources: one module each, in one sorted registry (see ``base`` for the contract)."""

from __future__ import annotations

from . import bandit, comments, deps, github, sarif, tests
from .base import DiscoverySource

SOURCES: dict[str, DiscoverySource] = {
    "bandit": bandit.SOURCE,
    "comments": comments.SOURCE,
    "deps": deps.SOURCE,
    "github_issues": github.ISSUES_SOURCE,
    "github_reviews": github.REVIEWS_SOURCE,
    "sarif": sarif.SOURCE,
    "tests": tests.SOURCE,
}
