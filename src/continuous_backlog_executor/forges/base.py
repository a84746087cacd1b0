"""The forge contract: where an item's branch becomes a pull request, and how it is merged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ..errors import BacklogError


class ForgeError(BacklogError):
    """A forge refused or failed an operation (the message says what to do)."""


class PullState(StrEnum):
    """Where a pull request stands."""

    OPEN = "open"
    MERGED = "merged"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PullRequest:
    """One pull request: an item's branch proposed for the base branch."""

    number: int
    item_id: str
    branch: str
    base: str
    title: str
    body: str
    url: str
    state: PullState
    head: str  # the branch's commit when the request was opened or last updated
    created_at: datetime
    merged_at: datetime | None = None
    merge_commit: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """One review of a pull request."""

    author: str
    state: str  # approved, changes_requested, commented, dismissed
    body: str
    submitted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One check run on a pull request's head commit."""

    name: str
    status: str  # queued, in_progress, completed
    conclusion: str | None  # success, failure, neutral, cancelled, timed_out, ... once completed
    summary: str = ""

    @property
    def failed(self) -> bool:
        """True for a completed check that did not pass."""
        return self.status == "completed" and self.conclusion in (
            "failure",
            "timed_out",
            "cancelled",
            "action_required",
        )


@dataclass(frozen=True, slots=True)
class PullStatus:
    """A pull request as the forge sees it now: its state, reviews and checks."""

    pull: PullRequest
    reviews: tuple[Review, ...] = ()
    checks: tuple[Check, ...] = ()

    @property
    def changes_requested(self) -> tuple[Review, ...]:
        """The reviews asking for changes that still stand: each reviewer's latest one."""
        latest: dict[str, Review] = {}
        for review in self.reviews:
            if review.state in ("approved", "changes_requested", "dismissed"):
                latest[review.author] = review
        return tuple(r for r in latest.values() if r.state == "changes_requested")

    @property
    def failing_checks(self) -> tuple[Check, ...]:
        """The checks that completed without passing."""
        return tuple(check for check in self.checks if check.failed)


class Forge(Protocol):
    """Opens, lists and merges pull requests."""

    @property
    def name(self) -> str:
        """The forge's name, as in the configuration."""

    def open(self, *, item_id: str, branch: str, base: str, title: str, body: str) -> PullRequest:
        """Open a pull request for ``branch``, or update the open one it already has."""

    def find(self, key: str) -> PullRequest | None:
        """The pull request with this number, or the latest one for this item id."""

    def list(self) -> list[PullRequest]:
        """Every pull request, oldest first."""

    def merge(self, key: str) -> PullRequest:
        """Merge the open pull request ``key`` (number or item id) into its base branch."""

    def status(self, key: str) -> PullStatus:
        """The pull request ``key`` as it is now, with its reviews and checks."""
