"""WSJF scoring: estimates for unset inputs, the aging multiplier, and a deterministic ranking.

``WSJF = (w_i*impact + w_t*time_criticality + w_r*risk_reduction) * aging / effort`` where
``aging = min(aging_cap, 1 + days_old * aging_per_day)`` and days are fractional. Every value
records the rule that produced it so ``backlog explain`` can show its working. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from .errors import InvalidValueError
from .model import SCORE_FIELDS, BacklogItem, TaskType
from .perf import paused_gc

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
    def matcher(self) -> _KeywordMatcher:
        """One compiled matcher over every keyword of every component."""
        keywords = {
            word
            for component in COMPONENTS
            for rule in self.rules_for(component)
            for word in rule.keywords
        }
        return _KeywordMatcher(keywords)


Found = tuple[str, ...]


class _KeywordMatcher:
    """Finds which configured keywords occur in a text.

    Words are looked up in the text's set of words, so the cost does not grow with the number
    of keywords; only phrases and ``prefix*`` keywords need more than a set lookup. Results
    are remembered by a digest of the text in ``memo``, which a caller may fill from, and save
    to, disk (see ``fingerprint`` and ``fresh``): scanning is the costliest part of ranking.
    """

    _WORD = re.compile(r"[\w-]+")

    def __init__(self, keywords: Iterable[str]) -> None:
        cleaned = {k.strip().lower() for k in keywords if k.strip()}
        self._words = frozenset(k for k in cleaned if not k.endswith("*") and " " not in k)
        self._prefixes = tuple(sorted(k[:-1] for k in cleaned if k.endswith("*")))
        self._phrases = tuple(
            (phrase, phrase.split()[0], re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])"))
            for phrase in sorted(k for k in cleaned if " " in k and not k.endswith("*"))
        )
        self.fingerprint = hashlib.blake2b(
            "\n".join(sorted(cleaned)).encode(), digest_size=8
        ).hexdigest()
        self.memo: dict[bytes, Found] = {}
        self.fresh: dict[bytes, Found] = {}

    def find(self, text: str) -> Found:
        """The configured keywords (as configured, ``*`` included) found in ``text``, sorted."""
        key = hashlib.blake2b(text.encode(), digest_size=12).digest()
        found = self.memo.get(key)
        if found is None:
            found = self.scan(text)
            self.memo[key] = found
            self.fresh[key] = found
        return found

    def scan(self, text: str) -> Found:
        """``find`` without the memo."""
        lowered = text.lower()
        words = set(self._WORD.findall(lowered))
        found = words & self._words
        if self._prefixes:
            for word in words:
                if word.startswith(self._prefixes):
                    found.update(p + "*" for p in self._prefixes if word.startswith(p))
        for phrase, first, pattern in self._phrases:
            if first in words and pattern.search(lowered):
                found.add(phrase)
        return tuple(sorted(found))


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


@dataclass(frozen=True, slots=True)
class _Finding:
    """A value a discovered item's finding implies (its severity, or what kind it is)."""

    detail: str


Why = str | KeywordRule | date | _Finding

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
            return graded, _Finding(f"severity {source.severity!r} from {source.kind}")
    value: int = settings.type_values[component][item.task_type]
    why: Why = _TYPE
    if component == "effort" and source is not None and source.kind in FINDING_EFFORT:
        value, why = FINDING_EFFORT[source.kind], _Finding(f"a {source.kind} finding")
        if source.kind == "tests" and _WIDE_TEST.search(source.path or ""):
            value, why = 5, _Finding("a failing integration or end-to-end test")
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
    if isinstance(why, _Finding):
        return Estimate(value, f"from the finding: {why.detail}", estimated=True)
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
