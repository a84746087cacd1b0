"""Which task type, impact and urgency a GitHub issue's labels stand for. Pure.

Label names are matched exactly, ignoring case and surrounding spaces. A user's configuration
(``LabelRules.from_config``) is laid over the defaults below, label by label::

    {"types": {"kind/bug": "Bug"}, "impact": {"customer": 8}, "urgency": {"p1": 8, "p3": null}}

``types`` maps a label to a task type (its value or member name, as ``TaskType.parse`` reads
it); ``impact`` and ``urgency`` (the item's time criticality) map a label to a value on the
1-13 WSJF scale; ``null`` drops a default. Several matching labels: the type first in
``TYPE_PRECEDENCE`` wins, and the highest impact and urgency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from ..errors import ConfigError, InvalidValueError
from ..model import TaskType, check_scale

T = TypeVar("T")

TYPE_PRECEDENCE = (
    TaskType.SECURITY,
    TaskType.BUG,
    TaskType.PERFORMANCE,
    TaskType.FEATURE,
    TaskType.REFACTOR,
    TaskType.TEST,
    TaskType.DOC,
)

DEFAULT_TYPES: Mapping[str, TaskType] = MappingProxyType(
    {
        "bug": TaskType.BUG,
        "regression": TaskType.BUG,
        "security": TaskType.SECURITY,
        "vulnerability": TaskType.SECURITY,
        "enhancement": TaskType.FEATURE,
        "feature": TaskType.FEATURE,
        "documentation": TaskType.DOC,
        "docs": TaskType.DOC,
        "refactor": TaskType.REFACTOR,
        "refactoring": TaskType.REFACTOR,
        "tech debt": TaskType.REFACTOR,
        "performance": TaskType.PERFORMANCE,
        "perf": TaskType.PERFORMANCE,
        "test": TaskType.TEST,
        "tests": TaskType.TEST,
        "testing": TaskType.TEST,
    }
)
DEFAULT_IMPACT: Mapping[str, int] = MappingProxyType(
    {
        "critical": 13,
        "security": 8,
        "vulnerability": 8,
        "regression": 8,
        "bug": 5,
        "performance": 5,
        "enhancement": 3,
        "feature": 3,
        "documentation": 2,
        "docs": 2,
    }
)
DEFAULT_URGENCY: Mapping[str, int] = MappingProxyType(
    {
        "priority:critical": 13,
        "p0": 13,
        "blocker": 13,
        "priority:high": 8,
        "p1": 8,
        "urgent": 8,
        "priority:medium": 5,
        "p2": 5,
        "priority:low": 2,
        "p3": 2,
    }
)
SECTIONS = ("impact", "types", "urgency")


def normal(label: str) -> str:
    """A label's name as rules compare it: trimmed and lowercase."""
    return label.strip().lower()


@dataclass(frozen=True)
class LabelRules:
    """Label name (lowercase) -> task type, impact and urgency; see the module docstring."""

    types: Mapping[str, TaskType] = field(default_factory=lambda: DEFAULT_TYPES)
    impact: Mapping[str, int] = field(default_factory=lambda: DEFAULT_IMPACT)
    urgency: Mapping[str, int] = field(default_factory=lambda: DEFAULT_URGENCY)

    def type_for(self, labels: Iterable[str]) -> TaskType | None:
        """The task type the labels name (see ``TYPE_PRECEDENCE``), or None if none does."""
        named = {self.types[n] for n in map(normal, labels) if n in self.types}
        return next((kind for kind in TYPE_PRECEDENCE if kind in named), None)

    def impact_for(self, labels: Iterable[str]) -> int | None:
        """The highest impact the labels give, or None if none gives one."""
        return max((self.impact[n] for n in map(normal, labels) if n in self.impact), default=None)

    def urgency_for(self, labels: Iterable[str]) -> int | None:
        """The highest time criticality the labels give, or None if none gives one."""
        values = (self.urgency[n] for n in map(normal, labels) if n in self.urgency)
        return max(values, default=None)

    @classmethod
    def from_config(cls, config: Mapping[str, object], *, where: str = "labels") -> LabelRules:
        """The defaults with ``config`` laid over them; errors name ``where`` and the key."""
        unknown = sorted(set(config) - set(SECTIONS))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown section; use {', '.join(SECTIONS)}")
        return cls(
            types=_overlay(DEFAULT_TYPES, config.get("types"), f"{where}.types", _task_type),
            impact=_overlay(DEFAULT_IMPACT, config.get("impact"), f"{where}.impact", _scale),
            urgency=_overlay(DEFAULT_URGENCY, config.get("urgency"), f"{where}.urgency", _scale),
        )


def _task_type(value: object) -> TaskType:
    if not isinstance(value, str):
        raise InvalidValueError("task_type", f"{value!r} is not text")
    return TaskType.parse(value)


def _scale(value: object) -> int:
    return check_scale("value", value)


def _overlay(
    defaults: Mapping[str, T], given: object, where: str, convert: Callable[[object], T]
) -> Mapping[str, T]:
    if given is None:
        return defaults
    if not isinstance(given, Mapping):
        raise ConfigError(f"{where}: must be a mapping of label names to values, not {given!r}")
    merged = dict(defaults)
    for label, value in given.items():
        key = normal(str(label))
        if value is None:
            merged.pop(key, None)
            continue
        try:
            merged[key] = convert(value)
        except InvalidValueError as error:
            raise ConfigError(f"{where}.{label}: {error.detail}") from error
    return MappingProxyType(merged)
