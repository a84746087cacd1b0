"""The agent contract: the engine asks for one phase of work in a worktree and gets back how
the agent's run ended. Nothing an agent says is trusted: the gates look at the worktree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..errors import BacklogError


class AgentError(BacklogError):
    """An agent is misconfigured or cannot be started (not: it did poor work)."""


class Phase(StrEnum):
    """The phases an agent is asked to do, in the order the micro-cycle uses them."""

    CRITERIA = "criteria"
    SLICE = "slice"
    RED = "red"
    GREEN = "green"
    REFACTOR = "refactor"
    DOCS = "docs"


class Ending(StrEnum):
    """How the agent's process ended, as the engine saw it (never what the agent claimed)."""

    EXITED = "exited"  # it ran to the end; its exit code is recorded, not trusted
    TIMED_OUT = "timed out"  # the time limit stopped its whole process group
    CRASHED = "crashed"  # it could not start, or was killed by a signal


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """One phase of work for one item."""

    item_id: str
    phase: Phase
    workdir: Path  # the item's worktree; the agent runs here
    prompt: str  # the full prompt text
    prompt_file: Path  # the same text, written by the engine before the run
    transcript: Path  # where the agent's output is kept
    timeout: float  # seconds for the whole run, enforced on the process group
    env: Mapping[str, str]  # the complete environment the agent gets (secrets removed)
    try_number: int = 1  # 1 for the first try of this phase, 2 after a failed gate, ...
    # criteria and slice phases answer in this file (YAML), outside the worktree
    answer_file: Path | None = None


@dataclass(frozen=True, slots=True)
class AgentRun:
    """What happened when the agent ran."""

    agent: str  # the backend's name
    command: tuple[str, ...]  # what was run (placeholders filled in)
    ending: Ending
    exit_code: int | None
    duration: float
    output_tail: str  # the last lines of what it printed (stdout and stderr), for evidence
    transcript: Path | None


class Agent(Protocol):
    """A coding agent the engine can run, one phase at a time."""

    @property
    def name(self) -> str:
        """The backend's name, as in the configuration's ``agent.type``."""

    def run(self, request: AgentRequest) -> AgentRun:
        """Do ``request.phase`` in ``request.workdir``; never raise for a misbehaving agent."""
