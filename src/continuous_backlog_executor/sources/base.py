"""The contract every discovery source meets, and what a source hands back.

A source looks at a repository and returns ``Finding``s: problems it can see now, each with a
fingerprint that stays the same while the problem does. It never touches the backlog; the
discovery engine turns findings into items, merges duplicates and closes what went away.
A source that cannot run (a tool not installed, no network) returns a ``Scan`` that says it was
skipped and why, rather than failing the whole discovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import BacklogError
from ..model import Source, TaskType
from ..settings import Setting
from ..store import StateStore


class SourceError(BacklogError):
    """A source failed in a way the user can act on (its message says how)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a source sees now: the raw material of a backlog item."""

    fingerprint: str  # stable identity within the source: same problem, same fingerprint
    title: str
    description: str
    task_type: TaskType
    origin: Source  # where it is: kind (the source's name), path, line, tag, rule, severity...
    created_at: datetime | None = None  # when the problem appeared, if known (e.g. git blame)
    labels: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    # What the finding itself says, given to a new item only (people's later edits win):
    # criteria from an issue's task list, impact and urgency from its labels.
    acceptance_criteria: tuple[str, ...] = ()
    impact: int | None = None
    time_criticality: int | None = None


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything one source found in one run.

    ``findings`` is complete: a problem the source used to report and no longer does is gone.
    A skipped scan (``skipped`` says why: a tool not installed, no network) or a failed one
    (``failed``: the source raised ``SourceError``) says nothing about its problems either way.
    """

    source: str
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    skipped: str | None = None
    seconds: float = 0.0
    failed: str | None = None

    @property
    def ran(self) -> bool:
        """True when the findings are complete (the source neither skipped nor failed)."""
        return self.skipped is None and self.failed is None


class Observer(Protocol):
    """Told about progress, so a terminal can show it; tests and pipes ignore it."""

    def progress(self, source: str, done: int, total: int | None, what: str) -> None:
        """``source`` has done ``done`` of ``total`` steps; ``what`` names the current one."""


class Quiet:
    """An observer that shows nothing."""

    def progress(self, source: str, done: int, total: int | None, what: str) -> None:
        """Ignore progress."""


@dataclass(frozen=True)
class DiscoveryContext:
    """What a source may use: the repository, its own options, a state folder, the clock."""

    repo: Path
    options: Mapping[str, Any]  # this source's ``sources.<name>.*`` settings, by short name
    state: StateStore
    now: datetime
    observer: Observer = field(default_factory=Quiet)
    # Where this source's findings already in the backlog are now (with their fingerprints),
    # so a source can keep a finding's identity when it moves, e.g. to a renamed file.
    known: tuple[Source, ...] = ()
    # Files the tool itself writes (the backlog, reports): never scanned for findings.
    own_files: frozenset[str] = frozenset()


class DiscoverySource(Protocol):
    """A plugin that finds backlog items in a repository."""

    @property
    def name(self) -> str:
        """Short and lowercase: the ``--source`` name and the findings' ``origin.kind``."""

    @property
    def description(self) -> str:
        """One line for ``backlog discover --help`` and the README."""

    @property
    def options(self) -> Mapping[str, Setting]:
        """Settings besides ``enabled``, configured under ``sources.<name>.``."""

    def discover(self, context: DiscoveryContext) -> Scan:
        """Look at ``context.repo`` and report every problem seen now."""
