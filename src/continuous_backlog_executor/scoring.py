"""WSJF scoring: estimates for unset inputs, the aging multiplier, and a deterministic ranking.

``WSJF = (w_i*impact + w_t*time_criticality + w_r*risk_reduction) * aging / effort`` where
``aging = min(aging_cap, 1 + days_old * aging_per_day)`` and days are fractional. Every value
records the rule that produced it so ``backlog explain`` can show its working. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from .errors import InvalidValueError
from .keywords import (
    DEFAULT_EFFORT_RULES,
    DEFAULT_IMPACT_RULES,
    DEFAULT_RISK_REDUCTION_RULES,
    DEFAULT_TIME_CRITICALITY_RULES,
    Found,
    KeywordMatcher,
    KeywordRule,
)
from .model import SCORE_FIELDS, BacklogItem, TaskType
from .perf import paused_gc

SECONDS_PER_DAY = 86_400.0
COMPONENTS = SCORE_FIELDS


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
    def rule_sets(self) -> dict[str, tuple[tuple[KeywordRule, frozenset[str]], ...]]:
        """Each component's rules with their keywords lowered, for set lookups."""
        return {
            component: tuple(
                (rule, frozenset(word.strip().lower() for word in rule.keywords))
                for rule in self.rules_for(component)
            )
            for component in COMPONENTS
        }

    @cached_property
    def matcher(self) -> KeywordMatcher:
        """One compiled matcher over every keyword of every component."""
        keywords = {
            word
            for component in COMPONENTS
            for rule in self.rules_for(component)
            for word in rule.keywords
        }
        return KeywordMatcher(keywords)


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


# How an input got its value: the item's own, its type's default, a keyword rule or a due
# date. Cheap to record while ranking thousands of items; put into words only when asked.
_OWN = "own"
_TYPE = "type"


# A value a discovered item's finding implies: ("severity", level, source), ("kind", source)
# or ("wide test",). Kept as a cheap tuple while ranking; put into words by _finding_words.
FindingWhy = tuple[str, ...]
Why = str | KeywordRule | date | FindingWhy


def _finding_words(why: FindingWhy) -> str:
    if why[0] == "severity":
        return f"severity {why[1]!r} from {why[2]}"
    if why[0] == "kind":
        return f"a {why[1]} finding"
    return "a failing integration or end-to-end test"


# A finding's own severity (scanners grade theirs) sets impact and risk reduction.
SEVERITY_VALUES = {"critical": 13, "high": 8, "error": 8, "medium": 5, "warning": 5, "low": 3}
SEVERITY_COMPONENTS = frozenset({"impact", "risk_reduction"})
# What a discovered item usually takes, when its words do not say otherwise.
FINDING_EFFORT = {"comments": 2, "bandit": 2, "sarif": 2, "deps": 2, "tests": 3}
_WIDE_TEST = re.compile(r"integration|e2e|end.to.end|functional|acceptance", re.IGNORECASE)


def _due_value(due: date, now: datetime) -> int:
    days_left = (due - now.date()).days
    return next((value for bound, value in DUE_DATE_STEPS if days_left <= bound), 1)


def _choose(
    component: str,
    item: BacklogItem,
    settings: ScoringSettings,
    now: datetime,
    found: Found | None,
) -> tuple[int, Why]:
    own: int | None = getattr(item, component)
    if own is not None:
        return own, _OWN
    source = item.source
    if source is not None and source.severity and component in SEVERITY_COMPONENTS:
        graded = SEVERITY_VALUES.get(source.severity.lower())
        if graded is not None:
            return graded, ("severity", source.severity, source.kind)
    value: int = settings.type_values[component][item.task_type]
    why: Why = _TYPE
    if component == "effort" and source is not None and source.kind in FINDING_EFFORT:
        value, why = FINDING_EFFORT[source.kind], ("kind", source.kind)
        if source.kind == "tests" and _WIDE_TEST.search(source.path or ""):
            value, why = 5, ("wide test",)
    if found:
        for rule, words in settings.rule_sets[component]:
            if not words.isdisjoint(found):
                value, why = rule.value, rule
                break
    if component == "time_criticality" and item.due_date is not None:
        due = _due_value(item.due_date, now)
        if due >= value:
            value, why = due, item.due_date
    return value, why


def _words(value: int, why: Why, item: BacklogItem, found: Found, now: datetime) -> Estimate:
    if why == _OWN:
        return Estimate(value, "set on the item", estimated=False)
    if isinstance(why, tuple):
        return Estimate(value, f"from the finding: {_finding_words(why)}", estimated=True)
    if isinstance(why, KeywordRule):
        first = next(word for word in why.keywords if word.strip().lower() in found)
        label = f" ({why.name})" if why.name else ""
        return Estimate(value, f"keyword {first!r}{label}", estimated=True)
    if isinstance(why, date):
        days_left = (why - now.date()).days
        if days_left > DUE_DATE_STEPS[-1][0]:
            rule = f"due date {why.isoformat()} is {days_left} days away"
        else:
            when = "overdue" if days_left < 0 else f"due in {days_left} days"
            rule = f"due date {why.isoformat()} ({when})"
        return Estimate(value, rule, estimated=True)
    rule = f"no keyword matched; default for type {item.task_type.value}"
    return Estimate(value, rule, estimated=True)


def _found(item: BacklogItem, settings: ScoringSettings) -> Found | None:
    if item.impact is None or item.effort is None or item.time_criticality is None:
        return settings.matcher.find(item_text(item))
    if item.risk_reduction is None:
        return settings.matcher.find(item_text(item))
    return None


def estimate(
    component: str,
    item: BacklogItem,
    settings: ScoringSettings,
    now: datetime,
    found: Found | None = None,
) -> Estimate:
    """The value of one WSJF input: the item's own if set, else an estimate with its rule.

    ``found`` is the keywords already found in the item's text, to avoid searching it again.
    """
    if found is None and getattr(item, component) is None:
        found = settings.matcher.find(item_text(item))
    value, why = _choose(component, item, settings, now, found)
    return _words(value, why, item, found or (), now)


def aging(created_at: datetime, now: datetime, settings: ScoringSettings) -> tuple[float, float]:
    """``(days_old, multiplier)``; a creation time in the future counts as zero days."""
    days_old = max(0.0, (now - created_at).total_seconds() / SECONDS_PER_DAY)
    return days_old, min(settings.aging_cap, 1.0 + days_old * settings.aging_per_day)


def _numbers(
    item: BacklogItem, settings: ScoringSettings, now: datetime, found: Found | None
) -> tuple[float, float, float, int]:
    """``(wsjf, cost_of_delay, aging_multiplier, effort)`` without any explanation."""
    weights = settings.weights
    cost_of_delay = (
        weights.impact * _choose("impact", item, settings, now, found)[0]
        + weights.time_criticality * _choose("time_criticality", item, settings, now, found)[0]
        + weights.risk_reduction * _choose("risk_reduction", item, settings, now, found)[0]
    )
    effort = _choose("effort", item, settings, now, found)[0]
    multiplier = aging(item.created_at, now, settings)[1]
    return cost_of_delay * multiplier / effort, cost_of_delay, multiplier, effort


def score(item: BacklogItem, settings: ScoringSettings, now: datetime) -> Score:
    """The WSJF breakdown of ``item`` at ``now``, every value with the rule that set it."""
    found = _found(item, settings)
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


class RankedItem:
    """An item with its WSJF; the full breakdown (``score``) is worked out when first asked."""

    __slots__ = ("_score", "cost_of_delay", "item", "now", "settings", "wsjf")

    def __init__(
        self,
        item: BacklogItem,
        settings: ScoringSettings,
        now: datetime,
        *,
        wsjf: float,
        cost_of_delay: float,
    ) -> None:
        self.item = item
        self.settings = settings
        self.now = now
        self.wsjf = wsjf
        self.cost_of_delay = cost_of_delay
        self._score: Score | None = None

    @property
    def score(self) -> Score:
        """Every input with the rule that set it, the aging, and the result."""
        if self._score is None:
            self._score = score(self.item, self.settings, self.now)
        return self._score

    def __repr__(self) -> str:
        return f"RankedItem({self.item.id!r}, wsjf={self.wsjf:.4f})"


def _rank_key(entry: RankedItem) -> tuple[float, float, datetime, str]:
    # Rounding keeps equal scores equal when they were reached through different float paths.
    return (
        -round(entry.wsjf, 9),
        -round(entry.cost_of_delay, 9),
        entry.item.created_at,
        entry.item.id,
    )


def score_all(
    items: Iterable[BacklogItem], settings: ScoringSettings, now: datetime
) -> list[RankedItem]:
    """Score every item at ``now``, in the given order, updating each item's ``wsjf_score``
    and ``aging_multiplier`` attributes to match."""
    scored = []
    with paused_gc():
        for item in items:
            found = _found(item, settings)
            wsjf, cost_of_delay, multiplier, _effort = _numbers(item, settings, now, found)
            item.wsjf_score = wsjf
            item.aging_multiplier = multiplier
            scored.append(RankedItem(item, settings, now, wsjf=wsjf, cost_of_delay=cost_of_delay))
    return scored


def order(scored: Iterable[RankedItem]) -> list[RankedItem]:
    """Best first: higher WSJF, then higher cost of delay, then older, then id."""
    with paused_gc():
        return sorted(scored, key=_rank_key)


def rank(
    items: Iterable[BacklogItem], settings: ScoringSettings, now: datetime
) -> list[RankedItem]:
    """Score ``items`` and order them best first (see ``score_all`` and ``order``)."""
    return order(score_all(items, settings, now))
