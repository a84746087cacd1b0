"""The evidence receipt of one attempt at an item: what the engine ran and saw, phase by phase.

A receipt is written by the engine from its own observations (test reports, diffs, scanner
output), never from an agent's claims. It serialises itself to JSON for the state store and
summarises itself as Markdown for a pull request's body.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

EXCERPT_LINES = 30


class Outcome(StrEnum):
    """How an attempt ended: exactly one of these."""

    SUCCESS = "success"
    NO_CHANGE = "no change"
    GATE_FAILED = "gate failed"
    TIMED_OUT = "timed out"
    AGENT_CRASHED = "agent crashed"
    NEEDS_HUMAN = "needs human"
    INTERRUPTED = "interrupted"
    MAX_TURNS = "max turns"
    OVER_BUDGET = "over budget"
    API_ERROR = "api error"
    RATE_LIMITED = "rate limited"
    ASKED_QUESTION = "asked a question"


@dataclass
class Step:
    """One phase or gate of the attempt, as the engine observed it."""

    name: str  # criteria, slice, red, green, refactor, security, docs, ci, pull request
    try_number: int
    passed: bool
    reason: str
    duration: float = 0.0
    command: str | None = None  # the agent's or check's command line
    exit_code: int | None = None
    log_excerpt: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # JSON-ready facts: test ids, paths
    ending: str | None = None  # how the agent's run ended (agent steps only)
    # What the agent's run used: input_tokens, output_tokens, cost_usd (None: unknown), turns.
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass
class Receipt:
    """Everything one attempt at one item did and showed."""

    item_id: str
    attempt: int
    agent: str
    branch: str
    base_sha: str
    started: datetime
    wsjf: dict[str, Any] = field(default_factory=dict)
    head_sha: str | None = None
    finished: datetime | None = None
    steps: list[Step] = field(default_factory=list)
    red_tests: list[str] = field(default_factory=list)
    green_tests: list[str] = field(default_factory=list)
    security: dict[str, Any] = field(default_factory=dict)
    diffstat: str = ""
    outcome: Outcome | None = None
    reason: str = ""
    usage: dict[str, Any] = field(default_factory=dict)  # the attempt's agent runs, summed

    def add(self, step: Step) -> Step:
        """Record ``step`` and return it."""
        self.steps.append(step)
        return step

    def end(self, outcome: Outcome, reason: str, when: datetime) -> None:
        """Close the receipt with its one classification."""
        self.outcome = outcome
        self.reason = reason
        self.finished = when

    @property
    def classification(self) -> str:
        """The outcome as one phrase, e.g. ``gate failed at green: ...``."""
        if self.outcome is None:
            return "unfinished"
        return f"{self.outcome}: {self.reason}" if self.reason else str(self.outcome)

    def to_json(self) -> str:
        """The receipt as JSON text."""
        data = asdict(self)
        for key in ("started", "finished"):
            value = data[key]
            data[key] = value.isoformat() if isinstance(value, datetime) else None
        data["outcome"] = str(self.outcome) if self.outcome else None
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Receipt:
        """A receipt read back from ``to_json``'s text."""
        data = json.loads(text)
        data["started"] = datetime.fromisoformat(data["started"])
        finished = data.get("finished")
        data["finished"] = datetime.fromisoformat(finished) if finished else None
        outcome = data.get("outcome")
        data["outcome"] = Outcome(outcome) if outcome else None
        data["steps"] = [Step(**step) for step in data.get("steps", [])]
        return cls(**data)

    def markdown(self) -> str:
        """A summary for a pull request's body."""
        lines = [
            f"Backlog item **{self.item_id}**, attempt {self.attempt}, by agent `{self.agent}`.",
            "",
            f"- base `{self.base_sha[:12]}`, head `{(self.head_sha or '')[:12]}`",
            f"- outcome: {self.classification}",
        ]
        if self.wsjf:
            inputs = ", ".join(f"{k} {v}" for k, v in self.wsjf.items())
            lines.append(f"- WSJF inputs: {inputs}")
        if self.usage:
            lines.append("- agent usage: " + usage_text(self.usage))
        if self.red_tests:
            lines.append(f"- failing first (red): {', '.join(f'`{t}`' for t in self.red_tests)}")
        if self.green_tests:
            lines.append(
                f"- passing after (green): {', '.join(f'`{t}`' for t in self.green_tests)}"
            )
        lines += ["", "| step | try | result | time | why |", "| --- | --- | --- | --- | --- |"]
        for step in self.steps:
            verdict = "passed" if step.passed else "failed"
            why = step.reason.replace("|", "\\|").replace("\n", " ")
            lines.append(
                f"| {step.name} | {step.try_number} | {verdict} | {step.duration:.1f}s | {why} |"
            )
        if self.security:
            lines += ["", "Security: " + json.dumps(self.security, sort_keys=True)]
        if self.diffstat:
            lines += ["", "```", self.diffstat.rstrip(), "```"]
        return "\n".join(lines) + "\n"


def earlier_attempt(folder: Path, attempt: int) -> str:
    """How the previous attempt (its receipt in ``folder``) ended and the evidence of its last
    failed step, or ``""`` when there was none or it succeeded."""
    try:
        earlier = Receipt.from_json((folder / f"{attempt - 1}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if earlier.outcome in (None, Outcome.SUCCESS):
        return ""
    failed = [step for step in earlier.steps if not step.passed]
    lines = [f"attempt {earlier.attempt} ended: {earlier.classification}"]
    if failed:
        last = failed[-1]
        lines.append(f"last failed check: {last.name} (try {last.try_number}): {last.reason}")
        if last.log_excerpt:
            lines.append(last.log_excerpt)
    return "\n".join(lines)


def usage_text(usage: dict[str, Any]) -> str:
    """``1,200 tokens in, 300 out, $0.0123, 4 turns`` (cost left out when unknown)."""
    parts = [
        f"{usage.get('input_tokens', 0):,} tokens in",
        f"{usage.get('output_tokens', 0):,} out",
    ]
    if usage.get("cost_usd") is not None:
        parts.append(f"${usage['cost_usd']:.4f}")
    parts.append(f"{usage.get('turns', 0)} turns")
    return ", ".join(parts)


def excerpt(text: str, lines: int = EXCERPT_LINES) -> str:
    """The last ``lines`` lines of ``text``: where a failure's cause usually is."""
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join(kept)
