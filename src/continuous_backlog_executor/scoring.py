"""WSJF scoring: estimates for unset inputs, the aging multiplier, and a deterministic ranking.

``WSJF = (w_i*impact + w_t*time_criticality + w_r*risk_reduction) * aging / effort`` where
``aging = min(aging_cap, 1 + days_old * aging_per_day)`` and days are fractional. Every value
records the rule that produced it so ``backlog explain`` can show its working. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from .errors import InvalidValueError
from .model import SCORE_FIELDS, BacklogItem, TaskType

SECONDS_PER_DAY = 86_400.0
COMPONENTS = SCORE_FIELDS


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """Give ``value`` when any of ``keywords`` appears as a word (``word*`` matches a prefix)."""

    value: int
    keywords: tuple[str, ...]
    name: str = ""


def _rules(*rules: tuple[int, str, str]) -> tuple[KeywordRule, ...]:
    return tuple(KeywordRule(value, tuple(words.split(",")), name) for value, name, words in rules)


DEFAULT_IMPACT_RULES = _rules(
    (
        8,
        "high impact",
        "security,vulnerability,vulnerabilities,vulnerable,critical,crash,crashes,performance,"
        "slow,outage,data loss,corruption,exploit,cve-*,memory leak,authentication",
    ),
    (
        5,
        "medium impact",
        "bug,bugs,error,errors,fix,fixes,fixed,fixme,broken,fails,failing,improvement,improve",
    ),
    (3, "low impact", "documentation,docs,doc,docstring,cleanup,clean up,minor,typo,cosmetic"),
)
DEFAULT_TIME_CRITICALITY_RULES = _rules(
    (
        13,
        "incident",
        "production,outage,incident,hotfix,sev1,sev-1,p0,data loss,actively exploited",
    ),
    (8, "urgent", "urgent,asap,blocking,blocker,blocks,deadline,regression,release blocker"),
    (5, "soon", "soon,customer,customers,release,security,vulnerability,cve-*"),
)
DEFAULT_RISK_REDUCTION_RULES = _rules(
    (
        8,
        "security or data-loss risk",
        "security,vulnerability,vulnerabilities,vulnerable,cve-*,injection,xss,csrf,ssrf,auth,"
        "authentication,authorization,secret,secrets,password,passwords,token,tokens,crypto,"
        "data loss,corruption,corrupt,race condition,deadlock,unsafe",
    ),
    (5, "failure risk", "crash,crashes,exception,leak,leaks,flaky,fixme,bug,hack,workaround,xxx"),
    (3, "quality risk", "test,tests,coverage,refactor,cleanup,deprecated,deprecation"),
)
DEFAULT_EFFORT_RULES = _rules(
    (1, "trivial change", "typo,rename,docstring,comment,bump,one-line,one line,wording"),
    (
        8,
        "large change",
        "refactor,rewrite,redesign,architecture,migration,migrate,integration,overhaul",
    ),
    (5, "new work", "implement,create,build,develop,feature,support"),
)

DEFAULT_TYPE_VALUES: Mapping[str, Mapping[TaskType, int]] = {
    "impact": {
        TaskType.SECURITY: 8,
        TaskType.BUG: 5,
        TaskType.PERFORMANCE: 5,
        TaskType.FEATURE: 5,
        TaskType.REFACTOR: 3,
        TaskType.TEST: 3,
        TaskType.DOC: 3,
    },
    "time_criticality": {
        TaskType.SECURITY: 5,
        TaskType.BUG: 3,
        TaskType.PERFORMANCE: 2,
        TaskType.FEATURE: 2,
        TaskType.REFACTOR: 1,
        TaskType.TEST: 1,
        TaskType.DOC: 1,
    },
    "risk_reduction": {
        TaskType.SECURITY: 8,
        TaskType.BUG: 5,
        TaskType.PERFORMANCE: 3,
        TaskType.TEST: 3,
        TaskType.REFACTOR: 3,
        TaskType.FEATURE: 1,
        TaskType.DOC: 1,
    },
    "effort": {
        TaskType.DOC: 2,
        TaskType.TEST: 3,
        TaskType.BUG: 3,
        TaskType.SECURITY: 3,
        TaskType.FEATURE: 5,
        TaskType.REFACTOR: 5,
        TaskType.PERFORMANCE: 5,
    },
}

# Days left before a due date -> time criticality; the first bound that holds wins.
DUE_DATE_STEPS = ((0, 13), (3, 8), (14, 5), (30, 3))


@dataclass(frozen=True, slots=True)
class Weights:
    """Multipliers for the three parts of the cost of delay."""

    impact: float = 1.0
    time_criticality: float = 1.0
    risk_reduction: float = 1.0


@dataclass(frozen=True)
class ScoringSettings:
    """Everything scoring depends on besides the item and the clock."""

    weights: Weights = field(default_factory=Weights)
    aging_cap: float = 2.0
    aging_per_day: float = 0.1
    impact_rules: tuple[KeywordRule, ...] = DEFAULT_IMPACT_RULES
    time_criticality_rules: tuple[KeywordRule, ...] = DEFAULT_TIME_CRITICALITY_RULES
    risk_reduction_rules: tuple[KeywordRule, ...] = DEFAULT_RISK_REDUCTION_RULES
    effort_rules: tuple[KeywordRule, ...] = DEFAULT_EFFORT_RULES
    type_values: Mapping[str, Mapping[TaskType, int]] = field(
        default_factory=lambda: DEFAULT_TYPE_VALUES
    )

    def __post_init__(self) -> None:
        if self.aging_cap < 1.0:
            raise InvalidValueError("aging_cap", f"{self.aging_cap} is below 1.0")
        if self.aging_per_day < 0:
            raise InvalidValueError("aging_per_day", f"{self.aging_per_day} is negative")
        for name in ("impact", "time_criticality", "risk_reduction"):
            if getattr(self.weights, name) <= 0:
                raise InvalidValueError(f"weights.{name}", "must be greater than 0")

    def rules_for(self, component: str) -> tuple[KeywordRule, ...]:
        """The keyword rules for one WSJF component, in the order they are tried."""
        rules: tuple[KeywordRule, ...] = getattr(self, f"{component}_rules")
        return rules

    @cached_property
    def matcher(self) -> _KeywordMatcher:
        """One compiled matcher over every keyword of every component."""
        keywords = {
            word
            for component in COMPONENTS
            for rule in self.rules_for(component)
            for word in rule.keywords
        }
        return _KeywordMatcher(keywords)


class _KeywordMatcher:
    """Finds which configured keywords occur in a text with a single regular-expression pass."""

    def __init__(self, keywords: Iterable[str]) -> None:
        words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
        self._prefixes = tuple(w[:-1] for w in words if w.endswith("*"))
        parts = [re.escape(w[:-1]) + r"[\w-]*" if w.endswith("*") else re.escape(w) for w in words]
        pattern = r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])" if parts else r"(?!x)x"
        self._regex = re.compile(pattern, re.IGNORECASE)

    def find(self, text: str) -> frozenset[str]:
        """The configured keywords (as configured, ``*`` included) found in ``text``."""
        found: set[str] = set()
        for match in self._regex.finditer(text):
            word = match.group(0).lower()
            found.add(word)
            found.update(p + "*" for p in self._prefixes if word.startswith(p))
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class Estimate:
    """One WSJF input and the rule that set it."""

    value: int
    rule: str
    estimated: bool


@dataclass(frozen=True, slots=True)
class Score:
    """The full WSJF breakdown of one item at one moment."""

    impact: Estimate
    time_criticality: Estimate
    risk_reduction: Estimate
    effort: Estimate
    days_old: float
    aging_multiplier: float
    aging_capped: bool
    cost_of_delay: float
    wsjf: float

    def component(self, name: str) -> Estimate:
        """The estimate for ``name`` (impact, time_criticality, risk_reduction or effort)."""
        estimate: Estimate = getattr(self, name)
        return estimate


def item_text(item: BacklogItem) -> str:
    """The words scoring reads: title, description, labels and the source's tag."""
    tag = item.source.tag if item.source and item.source.tag else ""
    return " ".join((item.title, item.description, " ".join(item.labels), tag))


def _from_rules(
    component: str, item: BacklogItem, found: frozenset[str], settings: ScoringSettings
) -> Estimate:
    for rule in settings.rules_for(component):
        hits = [word for word in rule.keywords if word.lower() in found]
        if hits:
            label = f" ({rule.name})" if rule.name else ""
            return Estimate(rule.value, f"keyword {hits[0]!r}{label}", estimated=True)
    value = settings.type_values[component][item.task_type]
    return Estimate(
        value, f"no keyword matched; default for type {item.task_type.value}", estimated=True
    )


def _due_date_estimate(item: BacklogItem, now: datetime) -> Estimate | None:
    if item.due_date is None:
        return None
    days_left = (item.due_date - now.date()).days
    for bound, value in DUE_DATE_STEPS:
        if days_left <= bound:
            when = "overdue" if days_left < 0 else f"due in {days_left} days"
            return Estimate(value, f"due date {item.due_date.isoformat()} ({when})", True)
    return Estimate(1, f"due date {item.due_date.isoformat()} is {days_left} days away", True)


def estimate(
    component: str,
    item: BacklogItem,
    settings: ScoringSettings,
    now: datetime,
    found: frozenset[str] | None = None,
) -> Estimate:
    """The value of one WSJF input: the item's own if set, else an estimate with its rule.

    ``found`` is the keywords already found in the item's text, to avoid searching it again.
    """
    own = getattr(item, component)
    if own is not None:
        return Estimate(own, "set on the item", estimated=False)
    if found is None:
        found = settings.matcher.find(item_text(item))
    guess = _from_rules(component, item, found, settings)
    if component == "time_criticality":
        due = _due_date_estimate(item, now)
        if due is not None and due.value >= guess.value:
            return due
    return guess


def aging(created_at: datetime, now: datetime, settings: ScoringSettings) -> tuple[float, float]:
    """``(days_old, multiplier)``; a creation time in the future counts as zero days."""
    days_old = max(0.0, (now - created_at).total_seconds() / SECONDS_PER_DAY)
    return days_old, min(settings.aging_cap, 1.0 + days_old * settings.aging_per_day)


def score(item: BacklogItem, settings: ScoringSettings, now: datetime) -> Score:
    """The WSJF breakdown of ``item`` at ``now``."""
    found = None
    if any(getattr(item, name) is None for name in COMPONENTS):
        found = settings.matcher.find(item_text(item))
    parts = {name: estimate(name, item, settings, now, found) for name in COMPONENTS}
    days_old, multiplier = aging(item.created_at, now, settings)
    weights = settings.weights
    cost_of_delay = (
        weights.impact * parts["impact"].value
        + weights.time_criticality * parts["time_criticality"].value
        + weights.risk_reduction * parts["risk_reduction"].value
    )
    return Score(
        impact=parts["impact"],
        time_criticality=parts["time_criticality"],
        risk_reduction=parts["risk_reduction"],
        effort=parts["effort"],
        days_old=days_old,
        aging_multiplier=multiplier,
        aging_capped=1.0 + days_old * settings.aging_per_day > settings.aging_cap,
        cost_of_delay=cost_of_delay,
        wsjf=cost_of_delay * multiplier / parts["effort"].value,
    )


@dataclass(frozen=True, slots=True)
class RankedItem:
    """An item with its score, in ranking order."""

    item: BacklogItem
    score: Score


def _rank_key(entry: RankedItem) -> tuple[float, float, datetime, str]:
    # Rounding keeps equal scores equal when they were reached through different float paths.
    return (
        -round(entry.score.wsjf, 9),
        -round(entry.score.cost_of_delay, 9),
        entry.item.created_at,
        entry.item.id,
    )


def rank(
    items: Iterable[BacklogItem], settings: ScoringSettings, now: datetime
) -> list[RankedItem]:
    """Score ``items`` and order them: higher WSJF, then higher cost of delay, older, id.

    Each item's ``wsjf_score`` and ``aging_multiplier`` attributes are updated to match.
    """
    ranked = []
    for item in items:
        result = score(item, settings, now)
        item.wsjf_score = result.wsjf
        item.aging_multiplier = result.aging_multiplier
        ranked.append(RankedItem(item, result))
    ranked.sort(key=_rank_key)
    return ranked
