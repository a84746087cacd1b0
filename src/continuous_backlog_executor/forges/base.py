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
