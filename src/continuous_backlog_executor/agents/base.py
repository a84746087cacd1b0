"""The agent contract: the engine asks for one phase of work in a worktree and gets back how
the agent's run ended. Nothing an agent says is trusted: the gates look at the worktree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from ..errors import BacklogError

_N = TypeVar("_N", int, float)


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
    """How the agent's run ended, as the engine saw it (never what the agent claimed)."""

    EXITED = "exited"  # it ran to the end; its exit code is recorded, not trusted
    TIMED_OUT = "timed out"  # the time limit stopped its whole process group
    CRASHED = "crashed"  # it could not start, or was killed by a signal
    FINISHED = "finished"  # a model called the finish tool (its summary is not trusted either)
    NO_FINISH = "no finish"  # a model stopped answering with tool calls without finishing
    MAX_TURNS = "max turns"  # the turn cap was reached
    OVER_BUDGET = "over budget"  # tokens or cost ran out (``AgentRun.reason`` says which)
    API_ERROR = "api error"  # the API refused (wrong key, model or URL): the run stops
    RATE_LIMITED = "rate limited"  # still rate limited after every retry
    ASKED_QUESTION = "asked a question"  # it asked a person instead of doing the work


@dataclass(frozen=True, slots=True)
class Usage:
    """What an agent run used, as far as the agent's backend could tell."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None: not known (no price table, no report from the tool)
    turns: int = 0  # model requests (HTTP backends) or the tool's own count (CLIs)

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None and other.cost_usd is None
            else (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        )
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            cost,
            self.turns + other.turns,
        )


@dataclass(frozen=True, slots=True)
class Budget:
    """What one agent run may still spend; ``None`` is no limit. The engine passes what is
    left of the item's and the run's budgets, whichever is smaller."""

    turns: int | None = None
    tokens: int | None = None  # input and output together
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    def exceeded(self, used: Usage) -> str | None:
        """Which limit ``used`` reached, as a phrase, or ``None``."""
        tokens = used.input_tokens + used.output_tokens
        checks = (
            (self.turns, used.turns, "turns used"),
            (self.tokens, tokens, "tokens used"),
            (self.input_tokens, used.input_tokens, "input tokens used"),
            (self.output_tokens, used.output_tokens, "output tokens used"),
        )
        for limit, count, what in checks:
            if limit is not None and count >= limit:
                return f"{count:,} of {limit:,} {what}"
        if self.cost_usd is not None and (used.cost_usd or 0.0) >= self.cost_usd:
            return f"${used.cost_usd or 0.0:.4f} of ${self.cost_usd:.4f} spent"
        return None

    def less(self, used: Usage) -> Budget:
        """What is left of this budget after ``used`` (never below zero)."""
        tokens = used.input_tokens + used.output_tokens
        return Budget(
            _left(self.turns, used.turns),
            _left(self.tokens, tokens),
            None if self.cost_usd is None else max(0.0, self.cost_usd - (used.cost_usd or 0.0)),
            _left(self.input_tokens, used.input_tokens),
            _left(self.output_tokens, used.output_tokens),
        )

    def tighter(self, other: Budget) -> Budget:
        """Each limit the smaller of the two."""
        return Budget(
            _smaller(self.turns, other.turns),
            _smaller(self.tokens, other.tokens),
            _smaller(self.cost_usd, other.cost_usd),
            _smaller(self.input_tokens, other.input_tokens),
            _smaller(self.output_tokens, other.output_tokens),
        )


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


def _smaller(a: _N | None, b: _N | None) -> _N | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


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
    budget: Budget = Budget()  # what this run may spend (turns, tokens, cost)
    test_command: tuple[str, ...] = ()  # what a model's run_tests tool runs, in ``workdir``
    test_timeout: float = 900.0  # seconds one such test run may take


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
    usage: Usage = Usage()
    reason: str = ""  # why it ended so, in words (over budget: which budget; api error: what)


class Agent(Protocol):
    """A coding agent the engine can run, one phase at a time."""

    @property
    def name(self) -> str:
        """The backend's name, as in the configuration's ``agent.type``."""

    def run(self, request: AgentRequest) -> AgentRun:
        """Do ``request.phase`` in ``request.workdir``; never raise for a misbehaving agent."""
