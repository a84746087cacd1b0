"""Settings and shared records of item execution, read once from the configuration.

``ExecutionSettings`` gathers every knob the micro-cycle uses; ``Progress`` remembers how far
an item's branch got (red and green commits), so an item held for approval or interrupted
continues from where it stopped instead of starting over. ``Tools`` are an attempt's
collaborators, ``Spend`` the run budget's account, and ``Stop`` ends an attempt.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from .agents.base import Agent, Budget, Usage
from .backlog import BacklogStore
from .config import Config
from .evidence import Outcome
from .files import atomic_write
from .forges.base import Forge
from .policy import EscalationSettings
from .store import StateStore
from .testrun import detected_command

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ExecutionSettings:
    """Every setting the micro-cycle reads."""

    test_command: tuple[str, ...]
    test_timeout: float = 900.0
    test_patterns: tuple[str, ...] = ()
    docs_patterns: tuple[str, ...] = ()
    docs: str = "auto"
    max_tries: int = 3
    refactor: bool = True
    check_command: tuple[str, ...] = ()
    check_timeout: float = 1800.0
    max_cycle_time: float = 3600.0
    agent_timeout: float = 900.0
    slice_size_threshold: int = 5
    keep_worktrees: bool = False
    auto_merge: bool = False
    max_review_rounds: int = 3  # changes requested or failing checks on a pull request
    env_allow: tuple[str, ...] = ()
    base_branch: str | None = None
    escalation: EscalationSettings = field(default_factory=EscalationSettings)
    item_budget: Budget = field(default_factory=Budget)  # per attempt at one item
    run_budget: Budget = field(default_factory=Budget)  # for a whole run

    @classmethod
    def from_config(cls, cfg: Config) -> ExecutionSettings:
        """The settings of ``cfg``; the test command falls back to discovery's, then pytest."""
        command = (
            tuple(cfg.value("execution.test_command"))
            or tuple(cfg.value("sources.tests.command"))
            or detected_command(cfg.repo)
            or ()
        )
        return cls(
            test_command=command,
            test_timeout=float(cfg.value("execution.test_timeout")),
            test_patterns=tuple(cfg.value("execution.test_patterns")),
            docs_patterns=tuple(cfg.value("execution.docs_patterns")),
            docs=str(cfg.value("execution.docs")),
            max_tries=int(cfg.value("execution.max_tries")),
            refactor=bool(cfg.value("execution.refactor")),
            check_command=tuple(cfg.value("execution.check_command")),
            check_timeout=float(cfg.value("execution.check_timeout")),
            max_cycle_time=float(cfg.value("execution.max_cycle_time")),
            agent_timeout=float(cfg.value("agent.timeout")),
            slice_size_threshold=int(cfg.value("execution.slice_size_threshold")),
            keep_worktrees=bool(cfg.value("execution.keep_worktrees")),
            auto_merge=bool(cfg.value("execution.auto_merge")),
            max_review_rounds=int(cfg.value("execution.max_review_rounds")),
            env_allow=tuple(cfg.value("execution.env_allow")),
            base_branch=cfg.value("execution.base_branch"),
            escalation=cfg.escalation,
            item_budget=_budget(cfg, "item"),
            run_budget=_budget(cfg, "run"),
        )


def _budget(cfg: Config, scope: str) -> Budget:
    return Budget(
        turns=cfg.value(f"budget.{scope}_turns"),
        tokens=cfg.value(f"budget.{scope}_tokens"),
        cost_usd=cfg.value(f"budget.{scope}_cost"),
        input_tokens=cfg.value(f"budget.{scope}_input_tokens"),
        output_tokens=cfg.value(f"budget.{scope}_output_tokens"),
    )


@dataclass
class Progress:
    """How far an item's branch got; kept in the state store between runs."""

    branch: str
    base_sha: str
    red_commit: str | None = None
    green_commit: str | None = None
    red_tests: list[str] = field(default_factory=list)
    verified: bool = False  # refactor, security, docs and CI passed on the green commit
    partial: str | None = None  # a budget-stopped attempt's work, committed on top of the branch
    checked: bool = False  # the pre-PR escalation checks were approved or found nothing
    # What the pull request's reviewers or failing checks asked for, to address before it is
    # updated; the review rounds so far; the reviews and checks already handled.
    feedback: str | None = None
    rounds: int = 0
    handled: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Progress | None:
        """The progress saved at ``path``, or ``None`` (missing or unreadable: start over)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        """Save atomically."""
        atomic_write(path, json.dumps(asdict(self), indent=2) + "\n")


def slug_list(values: Sequence[str]) -> str:
    """``a, b and c`` for messages."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class Stop(Exception):  # noqa: N818 -- a control-flow signal inside this module, not an error
    """Ends the attempt with one outcome."""

    def __init__(self, outcome: Outcome, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        # The whole run must stop (the API refused, or stays rate limited); the item is not to
        # blame and goes back to READY.
        self.fatal = fatal


@dataclass
class Spend:
    """What the run's agents used so far: the account of the run's budget, shared by its
    workers."""

    usage: Usage = field(default_factory=Usage)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, used: Usage) -> None:
        """Count ``used`` in (workers add at the same time)."""
        with self.lock:
            self.usage += used


@dataclass
class Tools:
    """The collaborators of an attempt."""

    repo: Path
    state: StateStore
    store: BacklogStore
    agent: Agent
    forge: Forge
    settings: ExecutionSettings
    actor: str
    clock: Clock
    observer: Callable[[str, str], None] = lambda item, phase: None
    spent: Spend = field(default_factory=Spend)
    cancel: threading.Event = field(default_factory=threading.Event)  # Ctrl-C with workers
