"""Configuration: defaults < config file < environment < command line, validated once.

Every setting is declared once in ``SETTINGS`` with its type, default and meaning; the file,
environment and command-line layers are all checked against that table, so an unknown key or a
bad value is reported naming the key and where it came from, with a suggestion for typos. The
file is the original engine's ``config.json`` format (``github``, ``analyzer``) plus our
sections.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .policy import EscalationSettings
from .scoring import (
    DEFAULT_EFFORT_RULES,
    DEFAULT_IMPACT_RULES,
    DEFAULT_RISK_REDUCTION_RULES,
    DEFAULT_TIME_CRITICALITY_RULES,
    KeywordRule,
    ScoringSettings,
    Weights,
)

DEFAULT_FILE = ".backlog.json"
ENV_PREFIX = "BACKLOG_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class BadValueError(ValueError):
    """A value that does not fit its setting; the message says what would."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise BadValueError(f"must be text, not {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "true",
        "1",
        "yes",
        "on",
        "false",
        "0",
        "no",
        "off",
    ):
        return value.lower() in ("true", "1", "yes", "on")
    raise BadValueError(f"must be true or false, not {value!r}")


def _number(
    low: float, high: float | None = None, *, whole: bool = False
) -> Callable[[object], Any]:
    def convert(value: object) -> float | int:
        if isinstance(value, str):
            try:
                value = int(value) if whole else float(value)
            except ValueError:
                raise BadValueError(f"must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadValueError(f"must be a number, not {value!r}")
        if not math.isfinite(value):
            raise BadValueError(f"must be a finite number, not {value!r}")
        if whole and value != int(value):
            raise BadValueError(f"must be a whole number, not {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise BadValueError(f"must be {bounds}, not {value!r}")
        return int(value) if whole else float(value)

    return convert


def _optional(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    return lambda value: None if value is None or value == "" else convert(value)


def _text_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadValueError(f"must be a list of text, not {value!r}")
    return tuple(value)


def _level(value: object) -> str:
    text = _text(value).upper()
    if text not in LOG_LEVELS:
        raise BadValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return text


def _rules(value: object) -> tuple[KeywordRule, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise BadValueError("must be a JSON list of rules") from None
    if not isinstance(value, list) or not value:
        raise BadValueError('must be a list of {"value": 1-13, "words": [...], "name": "..."}')
    rules = []
    for index, rule in enumerate(value):
        if not isinstance(rule, dict) or set(rule) - {"value", "words", "name"}:
            raise BadValueError(
                f'rule {index + 1} must be {{"value": n, "words": [...], "name": "..."}}'
            )
        score = _number(1, 13, whole=True)(rule.get("value"))
        rules.append(KeywordRule(score, _text_list(rule.get("words")), _text(rule.get("name", ""))))
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration key: how to read it, its default, and what it means."""

    convert: Callable[[object], Any]
    default: Any
    help: str


_ESC = EscalationSettings()
_SCORE = ScoringSettings()
SETTINGS: dict[str, Setting] = {
    "github.username": Setting(_text, "", "GitHub user the engine acts as."),
    "github.managerRepo": Setting(
        _text, "", "owner/name of the repository that manages the others."
    ),
    "github.reposToScan": Setting(_text_list, (), "Repositories to gather into one backlog."),
    "github.apiUrl": Setting(_text, "https://api.github.com", "GitHub API base URL (Enterprise)."),
    "github.tokenEnv": Setting(_text, "GITHUB_TOKEN", "Environment variable holding the token."),
    "analyzer.scanForTodos": Setting(_flag, True, "Discover TODO/FIXME comments."),
    "analyzer.scanOpenIssues": Setting(_flag, True, "Discover open GitHub issues."),
    "execution.slice_size_threshold": Setting(
        _number(1, 13, whole=True), 5, "Items with a larger effort are split first."
    ),
    "execution.max_cycle_time": Setting(
        _number(1, whole=True), 3600, "Seconds one item may take before it is blocked."
    ),
    "execution.max_cycles": Setting(
        _optional(_number(1, whole=True)), None, "Stop a run after this many items."
    ),
    "scoring.aging_cap": Setting(_number(1.0), 2.0, "Largest aging multiplier."),
    "scoring.aging_per_day": Setting(_number(0.0), 0.1, "Aging multiplier gained per day of age."),
    "scoring.weights.impact": Setting(_number(0.01), 1.0, "Weight of impact in cost of delay."),
    "scoring.weights.time_criticality": Setting(
        _number(0.01), 1.0, "Weight of time criticality in cost of delay."
    ),
    "scoring.weights.risk_reduction": Setting(
        _number(0.01), 1.0, "Weight of risk reduction in cost of delay."
    ),
    "scoring.keywords.impact": Setting(_rules, DEFAULT_IMPACT_RULES, "Impact keyword rules."),
    "scoring.keywords.time_criticality": Setting(
        _rules, DEFAULT_TIME_CRITICALITY_RULES, "Time-criticality keyword rules."
    ),
    "scoring.keywords.risk_reduction": Setting(
        _rules, DEFAULT_RISK_REDUCTION_RULES, "Risk-reduction keyword rules."
    ),
    "scoring.keywords.effort": Setting(_rules, DEFAULT_EFFORT_RULES, "Effort keyword rules."),
    "escalation.large_effort": Setting(
        _number(1, 13, whole=True), _ESC.large_effort, "Effort at which a human must approve."
    ),
    "escalation.security_keywords": Setting(
        _text_list, _ESC.security_keywords, "Words that mark security-sensitive work."
    ),
    "escalation.security_paths": Setting(
        _text_list, _ESC.security_paths, "Path globs of security-sensitive code."
    ),
    "escalation.migration_keywords": Setting(
        _text_list, _ESC.migration_keywords, "Words that mark data migrations."
    ),
    "escalation.migration_paths": Setting(
        _text_list, _ESC.migration_paths, "Path globs of data migrations."
    ),
    "escalation.performance_keywords": Setting(
        _text_list, _ESC.performance_keywords, "Words that mark performance-critical work."
    ),
    "escalation.performance_paths": Setting(
        _text_list, _ESC.performance_paths, "Path globs of performance-critical code."
    ),
    "paths.backlog": Setting(_text, "DOCS/backlog.yml", "The backlog file."),
    "paths.status_dir": Setting(_text, "DOCS/status", "Where status reports are written."),
    "paths.tech_debt": Setting(_text, "DOCS/tech_debt.md", "The tech-debt summary."),
    "paths.journal": Setting(_text, "DOCS/status/events.jsonl", "The status-change journal."),
    "paths.state_dir": Setting(
        _optional_text, None, "Machine state folder (default: inside the git folder)."
    ),
    "log_level": Setting(_level, "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL."),
    "lock_timeout": Setting(_number(0.0), 30.0, "Seconds to wait for another process's lock."),
    "actor": Setting(_optional_text, None, "Name recorded in the journal (default: git user)."),
}
SECTIONS = frozenset(key.rsplit(".", 1)[0] for key in SETTINGS if "." in key) | {
    key.rsplit(".", 2)[0] for key in SETTINGS if key.count(".") == 2
}


def env_name(key: str) -> str:
    """The environment variable for ``key``: ``scoring.aging_cap`` -> BACKLOG_SCORING__AGING_CAP."""
    return ENV_PREFIX + key.replace(".", "__").upper()


_ENV_NAMES = {env_name(key): key for key in SETTINGS}
_ENV_ALIASES = {"LOG_LEVEL": "log_level", "BACKLOG_STATE_DIR": "paths.state_dir"}


@dataclass(frozen=True)
class Config:
    """Validated settings; ``value(key)`` reads any of them by its dotted name."""

    values: Mapping[str, Any]
    repo: Path
    file: Path | None

    def value(self, key: str) -> Any:
        """The setting ``key`` (a name from ``SETTINGS``)."""
        return self.values[key]

    def path(self, key: str) -> Path:
        """A ``paths.*`` setting resolved against the repository."""
        return self.repo / str(self.values[f"paths.{key}"])

    @property
    def scoring(self) -> ScoringSettings:
        """Settings for WSJF scoring."""
        return ScoringSettings(
            weights=Weights(
                impact=self.values["scoring.weights.impact"],
                time_criticality=self.values["scoring.weights.time_criticality"],
                risk_reduction=self.values["scoring.weights.risk_reduction"],
            ),
            aging_cap=self.values["scoring.aging_cap"],
            aging_per_day=self.values["scoring.aging_per_day"],
            impact_rules=self.values["scoring.keywords.impact"],
            time_criticality_rules=self.values["scoring.keywords.time_criticality"],
            risk_reduction_rules=self.values["scoring.keywords.risk_reduction"],
            effort_rules=self.values["scoring.keywords.effort"],
        )

    @property
    def escalation(self) -> EscalationSettings:
        """Settings for the escalation triggers."""
        prefix = "escalation."
        return EscalationSettings(
            **{k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}
        )


def _suggest(key: str) -> str:
    candidates = [*SETTINGS, *SECTIONS]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if not close:
        leaf = key.rsplit(".", 1)[-1]
        close = [k for k in SETTINGS if k.rsplit(".", 1)[-1] == leaf][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


def _set(values: dict[str, Any], key: str, raw: object, origin: str) -> None:
    if key not in SETTINGS:
        raise ConfigError(f"{origin}: unknown setting {key!r}{_suggest(key)}")
    try:
        values[key] = SETTINGS[key].convert(raw)
    except BadValueError as error:
        raise ConfigError(f"{origin}: {key} {error}") from None


def _flatten(
    data: Mapping[str, Any], prefix: str, out: dict[str, object], origin: Callable[[str], str]
) -> None:
    for name, value in data.items():
        key = f"{prefix}{name}"
        if key in SETTINGS:
            out[key] = value
        elif key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{origin(key)}: {key} must be a section (a JSON object)")
            _flatten(value, f"{key}.", out, origin)
        else:
            raise ConfigError(f"{origin(key)}: unknown setting {key!r}{_suggest(key)}")


def read_file(path: Path) -> dict[str, object]:
    """The settings in a JSON configuration file, by dotted key (not yet converted)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found; check --config") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the configuration ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}); fix the syntax"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must hold a JSON object of settings")
    flat: dict[str, object] = {}
    _flatten(data, "", flat, lambda key: f"{path}:{_line_of(text, key)}")
    return flat


def _line_of(text: str, key: str) -> int:
    """The line of ``key`` (dotted) in JSON text: each part is looked for after the last."""
    position = 0
    for part in key.split("."):
        match = re.compile(rf'"{re.escape(part)}"\s*:').search(text, position)
        if match is None:
            break
        position = match.start()
    return text.count("\n", 0, position) + 1


def load(
    repo: Path,
    *,
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Config:
    """Settings for ``repo``: defaults, then the file, the environment, then ``overrides``.

    Without ``file``, ``$BACKLOG_CONFIG`` or ``<repo>/.backlog.json`` is read when present.
    """
    environ = os.environ if environ is None else environ
    values = {key: setting.default for key, setting in SETTINGS.items()}
    file = file or (Path(environ["BACKLOG_CONFIG"]) if environ.get("BACKLOG_CONFIG") else None)
    if file is None and (repo / DEFAULT_FILE).is_file():
        file = repo / DEFAULT_FILE
    if file is not None:
        for key, raw in read_file(file).items():
            _set(values, key, raw, str(file))
    for name, raw in sorted(environ.items()):
        setting = _ENV_NAMES.get(name) or _ENV_ALIASES.get(name)
        if setting is not None:
            _set(values, setting, raw, f"environment {name}")
        elif name.startswith(ENV_PREFIX) and "__" in name:
            guess = name[len(ENV_PREFIX) :].lower().replace("__", ".")
            raise ConfigError(f"environment {name}: unknown setting {guess!r}{_suggest(guess)}")
    for key, raw in (overrides or {}).items():
        _set(values, key, raw, "command line")
    return Config(values, repo, file)
