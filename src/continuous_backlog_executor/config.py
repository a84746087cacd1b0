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
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .keywords import (
    DEFAULT_EFFORT_RULES,
    DEFAULT_IMPACT_RULES,
    DEFAULT_RISK_REDUCTION_RULES,
    DEFAULT_TIME_CRITICALITY_RULES,
    KeywordRule,
)
from .policy import EscalationSettings
from .scoring import (
    ScoringSettings,
    Weights,
)
from .settings import (
    BadValueError,
    Setting,
    choice,
    command,
    flag,
    number,
    optional,
    optional_text,
    text,
    text_list,
)
from .sources import SOURCES

DEFAULT_FILE = ".backlog.json"
TEST_PATTERNS = (
    "tests/*",
    "test/*",
    "*/tests/*",
    "*/test/*",
    "test_*.py",
    "*/test_*.py",
    "*_test.py",
    "conftest.py",
    "*/conftest.py",
)
DOCS_PATTERNS = ("*.md", "*.rst", "*.txt", "docs/*", "doc/*", "CHANGELOG*", "*/CHANGELOG*")
ENV_PREFIX = "BACKLOG_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _level(value: object) -> str:
    level = text(value).upper()
    if level not in LOG_LEVELS:
        raise BadValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


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
        score = number(1, 13, whole=True)(rule.get("value"))
        rules.append(KeywordRule(score, text_list(rule.get("words")), text(rule.get("name", ""))))
    return tuple(rules)


_ESC = EscalationSettings()
_SCORE = ScoringSettings()
SETTINGS: dict[str, Setting] = {
    "github.username": Setting(text, "", "GitHub user the engine acts as."),
    "github.managerRepo": Setting(
        text, "", "owner/name of the repository that manages the others."
    ),
    "github.reposToScan": Setting(text_list, (), "Repositories to gather into one backlog."),
    "github.apiUrl": Setting(text, "https://api.github.com", "GitHub API base URL (Enterprise)."),
    "github.tokenEnv": Setting(text, "GITHUB_TOKEN", "Environment variable holding the token."),
    "github.repo": Setting(
        optional_text, None, "owner/name pull requests go to (default: origin's repository)."
    ),
    "github.fork": Setting(
        optional_text, None, "owner/name of a fork to push branches to (default: none)."
    ),
    "github.pushUrl": Setting(
        optional_text, None, "Git URL to push branches to (default: the repository's or fork's)."
    ),
    "github.cloneUrl": Setting(
        optional_text,
        None,
        "Git URL template ({repo} is owner/name) the portfolio's repositories are cloned from.",
    ),
    "github.draft": Setting(flag, True, "Open pull requests as drafts."),
    "github.labels": Setting(text_list, ("backlog",), "Labels put on the pull requests."),
    "analyzer.scanForTodos": Setting(flag, True, "Discover TODO/FIXME comments."),
    "analyzer.scanOpenIssues": Setting(flag, True, "Discover open GitHub issues."),
    "execution.slice_size_threshold": Setting(
        number(1, 13, whole=True), 5, "Items with a larger effort are split first."
    ),
    "execution.max_cycle_time": Setting(
        number(1, whole=True), 3600, "Seconds one item may take before it is blocked."
    ),
    "execution.workers": Setting(
        number(1, whole=True), 1, "Items a run works on at once, each in its own worktree."
    ),
    "execution.max_cycles": Setting(
        optional(number(1, whole=True)), None, "Stop a run after this many items."
    ),
    "execution.base_branch": Setting(
        optional_text, None, "Branch items start from and merge into (default: checked out)."
    ),
    "execution.test_command": Setting(
        command, (), "Test command for the gates (default: sources.tests.command, or pytest)."
    ),
    "execution.test_timeout": Setting(number(1), 900.0, "Seconds one run of the tests may take."),
    "execution.test_patterns": Setting(
        text_list, TEST_PATTERNS, "Path globs of test files (the red phase may change only these)."
    ),
    "execution.max_tries": Setting(
        number(1, 10, whole=True), 3, "Tries per phase before the item is blocked."
    ),
    "execution.refactor": Setting(flag, True, "Run the refactor phase after green."),
    "execution.docs": Setting(
        choice("auto", "always", "never"),
        "auto",
        "Docs phase: always, never, or auto (features and public interface changes).",
    ),
    "execution.docs_patterns": Setting(
        text_list, DOCS_PATTERNS, "Path globs of documentation files."
    ),
    "execution.check_command": Setting(
        command, (), "The project's own CI check, run in the item's worktree (e.g. lint + tests)."
    ),
    "execution.check_timeout": Setting(number(1), 1800.0, "Seconds the check command may take."),
    "execution.time_limit": Setting(
        optional(number(1)), None, "Seconds a whole run may take before it stops taking items."
    ),
    "execution.keep_worktrees": Setting(flag, False, "Keep each item's worktree after its run."),
    "execution.auto_merge": Setting(
        flag, False, "Merge an item's pull request when no escalation rule applies to it."
    ),
    "execution.max_review_rounds": Setting(
        number(0, whole=True),
        3,
        "Times a pull request's requested changes or failing checks send its item back to work.",
    ),
    "execution.forge": Setting(text, "local", "Where pull requests are opened: local or github."),
    "execution.env_allow": Setting(
        text_list,
        (),
        "Environment variables (names or globs) agents and tests get beside the basics.",
    ),
    "agent.type": Setting(
        text,
        "",
        "The coding agent: aider, anthropic, claude, codex, command, openai, opencode or "
        "scripted (nothing set: no agent, no run).",
    ),
    "agent.command": Setting(
        command, (), "The agent's command; {prompt_file} {workdir} {phase} {item_id} are filled in."
    ),
    "agent.script": Setting(optional_text, None, "The scripted stand-in agent's script file."),
    "agent.timeout": Setting(number(1), 900.0, "Seconds one agent run may take."),
    "agent.model": Setting(
        optional_text, None, "The model to use (model APIs, and the CLI presets that take one)."
    ),
    "agent.base_url": Setting(
        optional_text, None, "The model API's base URL (default: the vendor's public API)."
    ),
    "agent.api_key_env": Setting(
        optional_text,
        None,
        "The environment variable holding the API key (default OPENAI_API_KEY or "
        "ANTHROPIC_API_KEY); the key itself is never read from a file.",
    ),
    "agent.temperature": Setting(optional(number(0.0)), None, "Sampling temperature (model APIs)."),
    "agent.max_tokens": Setting(
        number(1, whole=True), 4096, "Most tokens one model answer may have (model APIs)."
    ),
    "agent.request_timeout": Setting(number(1), 120.0, "Seconds one API request may take."),
    "agent.max_turns": Setting(
        number(1, whole=True), 40, "Most model turns in one phase (model APIs and CLI presets)."
    ),
    "agent.price_input": Setting(
        optional(number(0.0)), None, "USD per million input tokens, for cost budgets (model APIs)."
    ),
    "agent.price_output": Setting(
        optional(number(0.0)), None, "USD per million output tokens (model APIs)."
    ),
    "agent.extra_args": Setting(
        command, (), "Arguments added to a CLI preset's own (aider, claude, codex, opencode)."
    ),
    "budget.item_turns": Setting(
        optional(number(1, whole=True)), None, "Most agent turns one item may use in an attempt."
    ),
    "budget.item_tokens": Setting(
        optional(number(1, whole=True)), None, "Most tokens (in + out) one item's attempt may use."
    ),
    "budget.item_cost": Setting(
        optional(number(0.0)), None, "Most USD one item's attempt may cost."
    ),
    "budget.item_input_tokens": Setting(
        optional(number(1, whole=True)), None, "Most input tokens one item's attempt may use."
    ),
    "budget.item_output_tokens": Setting(
        optional(number(1, whole=True)), None, "Most output tokens one item's attempt may use."
    ),
    "budget.run_turns": Setting(
        optional(number(1, whole=True)), None, "Most agent turns a whole run may use."
    ),
    "budget.run_input_tokens": Setting(
        optional(number(1, whole=True)), None, "Most input tokens a whole run may use."
    ),
    "budget.run_output_tokens": Setting(
        optional(number(1, whole=True)), None, "Most output tokens a whole run may use."
    ),
    "budget.run_tokens": Setting(
        optional(number(1, whole=True)), None, "Most tokens (in + out) a whole run may use."
    ),
    "budget.run_cost": Setting(optional(number(0.0)), None, "Most USD a whole run may cost."),
    "scoring.aging_cap": Setting(number(1.0), 2.0, "Largest aging multiplier."),
    "scoring.aging_per_day": Setting(number(0.0), 0.1, "Aging multiplier gained per day of age."),
    "scoring.weights.impact": Setting(number(0.01), 1.0, "Weight of impact in cost of delay."),
    "scoring.weights.time_criticality": Setting(
        number(0.01), 1.0, "Weight of time criticality in cost of delay."
    ),
    "scoring.weights.risk_reduction": Setting(
        number(0.01), 1.0, "Weight of risk reduction in cost of delay."
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
        number(1, 13, whole=True), _ESC.large_effort, "Effort at which a human must approve."
    ),
    "escalation.security_keywords": Setting(
        text_list, _ESC.security_keywords, "Words that mark security-sensitive work."
    ),
    "escalation.security_paths": Setting(
        text_list, _ESC.security_paths, "Path globs of security-sensitive code."
    ),
    "escalation.migration_keywords": Setting(
        text_list, _ESC.migration_keywords, "Words that mark data migrations."
    ),
    "escalation.migration_paths": Setting(
        text_list, _ESC.migration_paths, "Path globs of data migrations."
    ),
    "escalation.performance_keywords": Setting(
        text_list, _ESC.performance_keywords, "Words that mark performance-critical work."
    ),
    "escalation.performance_paths": Setting(
        text_list, _ESC.performance_paths, "Path globs of performance-critical code."
    ),
    "escalation.public_interface": Setting(
        flag, True, "Hold a diff that changes or removes a public function or class."
    ),
    "escalation.max_diff_lines": Setting(
        number(1, whole=True), 400, "A diff with more changed lines than this needs approval."
    ),
    "reports.coverage": Setting(
        flag, True, "Measure line coverage with coverage.py for the status report's coverage_delta."
    ),
    "reports.coverage_timeout": Setting(
        number(1), 600.0, "Seconds one run of the tests under coverage.py may take."
    ),
    "reports.keep": Setting(
        number(1, whole=True), 30, "Status reports kept in the status folder (the newest always)."
    ),
    "reports.keep_days": Setting(
        number(0), 90, "Status reports older than this many days are pruned (the newest stays)."
    ),
    "reports.history_rows": Setting(
        number(10, whole=True), 500, "Rows of history.jsonl before old days are rolled up."
    ),
    "reports.html": Setting(flag, True, "Write the HTML report, index.html, with its charts."),
    "reports.starving_days": Setting(
        number(0), 30, "An item waiting longer than this many days counts as starving."
    ),
    "paths.backlog": Setting(text, "DOCS/backlog.yml", "The backlog file."),
    "paths.status_dir": Setting(text, "DOCS/status", "Where status reports are written."),
    "paths.tech_debt": Setting(text, "DOCS/tech_debt.md", "The tech-debt summary."),
    "paths.journal": Setting(text, "DOCS/status/events.jsonl", "The status-change journal."),
    "paths.state_dir": Setting(
        optional_text, None, "Machine state folder (default: inside the git folder)."
    ),
    "log_level": Setting(_level, "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL."),
    "lock_timeout": Setting(number(0.0), 30.0, "Seconds to wait for another process's lock."),
    "actor": Setting(optional_text, None, "Name recorded in the journal (default: git user)."),
}
for _name, _source in SOURCES.items():
    SETTINGS[f"sources.{_name}.enabled"] = Setting(flag, True, f"Run the {_name} source.")
    for _key, _setting in _source.options.items():
        SETTINGS[f"sources.{_name}.{_key}"] = _setting
SECTIONS = frozenset(
    section
    for key in SETTINGS
    for section in (key.rsplit(".", depth)[0] for depth in (1, 2) if key.count(".") >= depth)
)


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

    def source_options(self, name: str) -> dict[str, Any]:
        """The settings of discovery source ``name``, by their short names."""
        prefix = f"sources.{name}."
        options = {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}
        if name.startswith("github_"):
            # The GitHub sources use the original ``github`` section too.
            options["api_url"] = self.values["github.apiUrl"]
            options["token_env"] = self.values["github.tokenEnv"]
            options["repos"] = options.get("repos") or self.values["github.reposToScan"]
        return options

    def source_enabled(self, name: str) -> bool:
        """Whether source ``name`` runs by default (the original ``analyzer`` switches count)."""
        enabled = bool(self.values[f"sources.{name}.enabled"])
        if name == "comments":
            enabled = enabled and bool(self.values["analyzer.scanForTodos"])
        if name == "github_issues":
            enabled = enabled and bool(self.values["analyzer.scanOpenIssues"])
        return enabled

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
            if key in out:  # once in sections, once as a dotted key: which should win?
                raise ConfigError(
                    f"{origin(key)}: {key} is set twice in this file; keep one of them"
                )
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
