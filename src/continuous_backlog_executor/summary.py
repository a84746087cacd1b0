"""What a run did: each item it processed, what it recovered and followed, and why it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field

from .agents.base import Usage
from .evidence import Outcome
from .follow import Followed
from .model import TaskStatus


@dataclass(frozen=True)
class Processed:
    """What one cycle did with one item."""

    item_id: str
    title: str
    outcome: Outcome
    reason: str
    status: TaskStatus
    pr_url: str | None = None
    receipt: str | None = None
    usage: Usage = field(default_factory=Usage)  # what the attempt's agent runs used


@dataclass
class RunSummary:
    """Everything a run did, in order."""

    processed: list[Processed] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    followed: list[Followed] = field(default_factory=list)  # pull requests that moved on
    stopped_because: str = ""
    error: str | None = None  # the run stopped on an error (the model API refused): exit 1
