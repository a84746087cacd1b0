"""Readiness and escalation rules: what the engine may pick up, and what needs a human first. Pure.

Each rule returns a decision with the reasons behind it, so a plan or a blocked item can always
say why. The checks here use what is known before work starts (the item and the paths it names);
the diff-based checks run later, on real changes.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase

from .model import BacklogItem, TaskStatus
from .scoring import Score


@dataclass(frozen=True)
class EscalationSettings:
    """When an item needs a human's approval before the engine works on it."""

    large_effort: int = 8
    security_keywords: tuple[str, ...] = (
        "auth",
        "authentication",
        "authorization",
        "login",
        "password",
        "passwords",
        "secret",
        "secrets",
        "credential",
        "credentials",
        "token",
        "tokens",
        "crypto",
        "cryptography",
        "encryption",
        "permission",
        "permissions",
        "oauth",
        "jwt",
    )
    security_paths: tuple[str, ...] = (
        "*auth*",
        "*crypto*",
        "*secret*",
        "*password*",
        "*permission*",
        "*credential*",
    )
    migration_keywords: tuple[str, ...] = (
        "migration",
        "migrations",
        "migrate",
        "schema change",
        "data migration",
        "alembic",
    )
    migration_paths: tuple[str, ...] = ("*migrations/*", "*alembic/*", "*.sql")
    performance_paths: tuple[str, ...] = ()
    performance_keywords: tuple[str, ...] = ("performance-critical", "hot path", "latency-critical")
    public_interface: bool = True
    max_diff_lines: int = 400


class Trigger(StrEnum):
    """The seed's escalation triggers."""

    LARGE_EFFORT = "large effort"
    SECURITY = "security-sensitive"
    MIGRATION = "data migration"
    PERFORMANCE = "performance-critical path"
    PUBLIC_INTERFACE = "public interface change"


@dataclass(frozen=True, slots=True)
class Escalation:
    """One reason an item needs a human, with the evidence for it."""

    trigger: Trigger
    detail: str

    def __str__(self) -> str:
        return f"{self.trigger}: {self.detail}"


def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, words)) + r")(?![\w-])", re.I)


# A path an item's text names: a token with a folder (``src/auth/session.py``, ``migrations/``)
# or a file name with a source or data extension (``schema.sql``). URLs are not paths.
_EXTENSIONS = (
    "c|cc|cfg|conf|cpp|cs|css|go|h|hpp|html|ini|java|js|json|jsx|kt|md|php|proto|py|rb|rs|sh"
    "|sql|swift|tf|toml|ts|tsx|xml|yaml|yml"
)
_NAMED_PATH = re.compile(
    r"(?<![\w/.:-])"
    r"((?:[\w.-]+/)+[\w.-]*|[\w-][\w.-]*\.(?:" + _EXTENSIONS + r"))"
    r"(?![\w/-]|\.\w)",
    re.IGNORECASE,
)


def named_paths(text: str) -> list[str]:
    """The file and folder paths ``text`` names, in order, without repeats."""
    found = dict.fromkeys(
        m.group(1).removeprefix("./").rstrip(".") for m in _NAMED_PATH.finditer(text)
    )
    return [path for path in found if path.strip("./") and path.lower() != "and/or"]


def item_paths(item: BacklogItem) -> list[str]:
    """Where the item was found, then every path its words name: what it will touch."""
    own = [item.source.path] if item.source and item.source.path else []
    text = "\n".join((item.title, item.description, *item.acceptance_criteria))
    return list(dict.fromkeys([*own, *named_paths(text)]))


def _first_word(pattern: tuple[str, ...], text: str) -> str | None:
    if not pattern:
        return None
    match = _words(pattern).search(text)
    return match.group(0) if match else None


def _first_path(globs: tuple[str, ...], paths: list[str]) -> str | None:
    for path in paths:
        lowered = path.lower()
        if any(fnmatchcase(lowered, glob.lower()) for glob in globs):
            return path
    return None


def escalations(item: BacklogItem, score: Score, settings: EscalationSettings) -> list[Escalation]:
    """Every trigger the item sets off before any work, from its effort, words and paths."""
    text = "\n".join(
        (item.title, item.description, *item.labels, *item.acceptance_criteria, item.security_notes)
    )
    paths = item_paths(item)
    found: list[Escalation] = []
    if score.effort.value >= settings.large_effort:
        found.append(
            Escalation(
                Trigger.LARGE_EFFORT, f"effort {score.effort.value} >= {settings.large_effort}"
            )
        )
    checks = (
        (Trigger.SECURITY, settings.security_keywords, settings.security_paths),
        (Trigger.MIGRATION, settings.migration_keywords, settings.migration_paths),
        (Trigger.PERFORMANCE, settings.performance_keywords, settings.performance_paths),
    )
    for trigger, keywords, globs in checks:
        path = _first_path(globs, paths)
        word = _first_word(keywords, text)
        if path is not None:
            found.append(Escalation(trigger, f"touches {path}"))
        elif word is not None:
            found.append(Escalation(trigger, f"mentions {word!r}"))
    return found


class Action(StrEnum):
    """What the engine would do with an item in its next run."""

    REFINE = "refine"
    SLICE = "slice"
    HOLD = "hold for approval"
    EXECUTE = "execute"
    SKIP = "skip"


MICRO_CYCLE = ("red", "green", "refactor", "security", "docs", "ci", "pull request")
REVIEW = "review"  # the source kind of the end-of-pass review's meta-items
SLICED = "sliced"  # the label of an item split into child items
WORKABLE = frozenset({TaskStatus.NEW, TaskStatus.REFINED, TaskStatus.READY})


@dataclass(frozen=True)
class Decision:
    """The engine's intended action for one item, and why."""

    item: BacklogItem
    score: Score
    action: Action
    reasons: tuple[str, ...] = ()
    steps: tuple[str, ...] = field(default=())

    @property
    def actionable(self) -> bool:
        """True when a run would spend agent time on the item."""
        return self.action in (Action.REFINE, Action.SLICE, Action.EXECUTE)


def _not_here(item: BacklogItem, home: str | None, portfolio: Set[str]) -> str | None:
    """Why a run here leaves ``item`` alone, or ``None`` when it may work on it."""
    if item.status not in WORKABLE:
        return _skip_reason(item)
    elsewhere = item_repository(item)
    ours = {repo.lower() for repo in (*portfolio, home or "")}
    if elsewhere is not None and elsewhere.lower() not in ours:
        return (
            f"belongs to {elsewhere}; run the engine in a clone of it to work on it "
            "(or list it in github.reposToScan)"
        )
    if SLICED in item.labels:
        return "split into slices; done when they are"
    if item.source is not None and item.source.kind == REVIEW:
        return "a process improvement from the end-of-pass review: for a person to act on"
    return None


def _skip_reason(item: BacklogItem) -> str:
    if item.status is TaskStatus.BLOCKED:
        return f"blocked: {item.blocked_reason or 'no reason recorded'}"
    if item.status is TaskStatus.DOING:
        return "already in progress"
    if item.status is TaskStatus.PR:
        return f"waiting on its pull request{f' {item.pr_url}' if item.pr_url else ''}"
    return f"finished ({item.status})"


_WEB_URL = re.compile(r"^https?://[^/]+/(?P<repo>[\w.-]+/[\w.-]+)/(?:issues|pull)/\d+")


def item_repository(item: BacklogItem) -> str | None:
    """``owner/name`` of the GitHub repository an item was found in (an issue or a review
    comment), or ``None`` for an item of this repository."""
    match = _WEB_URL.match(item.source.url or "") if item.source else None
    return match.group("repo") if match else None


def decide(
    item: BacklogItem,
    score: Score,
    *,
    escalation: EscalationSettings,
    slice_size_threshold: int,
    home: str | None = None,
    portfolio: Set[str] = frozenset(),
) -> Decision:
    """What a run would do with ``item``: refine, slice, hold, execute, or skip it. ``home``
    is this repository's ``owner/name`` on GitHub; an item of another repository is worked on
    (in a clone of it) only when it is in ``portfolio`` (``github.reposToScan``)."""
    skip = _not_here(item, home, portfolio)
    if skip is not None:
        return Decision(item, score, Action.SKIP, (skip,))
    triggers = escalations(item, score, escalation)
    if triggers and item.approval is None:
        return Decision(item, score, Action.HOLD, tuple(f"needs approval: {t}" for t in triggers))
    approved = tuple(f"approved by {item.approval.by}: {t}" for t in triggers if item.approval)
    if not item.acceptance_criteria:
        return Decision(
            item,
            score,
            Action.REFINE,
            ("no acceptance criteria yet", *approved),
            ("criteria", *MICRO_CYCLE),
        )
    if score.effort.value > slice_size_threshold:
        return Decision(
            item,
            score,
            Action.SLICE,
            (f"effort {score.effort.value} > slice size {slice_size_threshold}", *approved),
            ("slice",),
        )
    return Decision(item, score, Action.EXECUTE, approved, MICRO_CYCLE)
