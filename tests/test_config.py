"""Tests for configuration loading: layers, the original config.json format, and error messages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from continuous_backlog_executor import config
from continuous_backlog_executor.errors import ConfigError
from continuous_backlog_executor.keywords import (
    DEFAULT_EFFORT_RULES,
    DEFAULT_IMPACT_RULES,
    DEFAULT_RISK_REDUCTION_RULES,
    DEFAULT_TIME_CRITICALITY_RULES,
    KeywordRule,
)
from continuous_backlog_executor.model import BacklogItem
from continuous_backlog_executor.policy import EscalationSettings
from continuous_backlog_executor.scoring import (
    Estimate,
    ScoringSettings,
    Weights,
    score,
)

ORIGINAL_CONFIG = """\
{
  "github": {
    "username": "your-username",
    "managerRepo": "your-username/manager-repo",
    "reposToScan": ["repo1", "repo2"]
  },
  "analyzer": {
    "scanForTodos": true,
    "scanOpenIssues": true
  }
}
"""
LOG_LEVELS_TEXT = "DEBUG, INFO, WARNING, ERROR, CRITICAL"
RULE_SHAPE = '{"value": n, "words": [...], "name": "..."}'


def write_json(path: Path, data: object) -> Path:
    """Write ``data`` as indented JSON to ``path`` and return the path."""
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


# --- no configuration at all -----------------------------------------------------------------


def test_every_setting_has_its_default_without_any_configuration(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={})

    assert cfg.file is None
    assert cfg.repo == tmp_path
    assert dict(cfg.values) == {key: s.default for key, s in config.SETTINGS.items()}


def test_os_environ_is_the_default_environment(tmp_path: Path) -> None:
    # The autouse fixture removed every BACKLOG_* variable but the two it sets itself.
    cfg = config.load(tmp_path)

    expected = {key: s.default for key, s in config.SETTINGS.items()}
    assert dict(cfg.values) == expected | {"reports.coverage": False, "reports.html": False}


DEFAULTS: list[tuple[str, object]] = [
    ("github.username", ""),
    ("github.managerRepo", ""),
    ("github.reposToScan", ()),
    ("github.apiUrl", "https://api.github.com"),
    ("github.tokenEnv", "GITHUB_TOKEN"),
    ("analyzer.scanForTodos", True),
    ("analyzer.scanOpenIssues", True),
    ("execution.slice_size_threshold", 5),
    ("execution.max_cycle_time", 3600),
    ("execution.max_cycles", None),
    ("scoring.aging_cap", 2.0),
    ("scoring.aging_per_day", 0.1),
    ("scoring.weights.impact", 1.0),
    ("scoring.keywords.impact", DEFAULT_IMPACT_RULES),
    ("scoring.keywords.time_criticality", DEFAULT_TIME_CRITICALITY_RULES),
    ("scoring.keywords.risk_reduction", DEFAULT_RISK_REDUCTION_RULES),
    ("scoring.keywords.effort", DEFAULT_EFFORT_RULES),
    ("escalation.large_effort", 8),
    ("escalation.performance_paths", ()),
    ("paths.backlog", "DOCS/backlog.yml"),
    ("paths.status_dir", "DOCS/status"),
    ("paths.tech_debt", "DOCS/tech_debt.md"),
    ("paths.journal", "DOCS/status/events.jsonl"),
    ("paths.state_dir", None),
    ("log_level", "INFO"),
    ("lock_timeout", 30.0),
    ("actor", None),
]


@pytest.mark.parametrize(("key", "expected"), DEFAULTS, ids=[key for key, _ in DEFAULTS])
def test_default_values(tmp_path: Path, key: str, expected: object) -> None:
    assert config.load(tmp_path, environ={}).value(key) == expected


def test_paths_are_resolved_against_the_repository(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={}, overrides={"paths.backlog": "plans/backlog.yml"})

    assert cfg.path("backlog") == tmp_path / "plans" / "backlog.yml"
    assert cfg.path("journal") == tmp_path / "DOCS" / "status" / "events.jsonl"


# --- the file layer ----------------------------------------------------------------------------


def test_reads_the_original_engine_config_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(ORIGINAL_CONFIG, encoding="utf-8")

    cfg = config.load(tmp_path, file=path, environ={})

    assert cfg.file == path
    assert cfg.value("github.username") == "your-username"
    assert cfg.value("github.managerRepo") == "your-username/manager-repo"
    assert cfg.value("github.reposToScan") == ("repo1", "repo2")
    assert cfg.value("analyzer.scanForTodos") is True
    assert cfg.value("analyzer.scanOpenIssues") is True
    assert cfg.value("github.apiUrl") == "https://api.github.com"


def test_original_engine_flags_can_be_switched_off(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "config.json",
        {"analyzer": {"scanForTodos": False, "scanOpenIssues": False}},
    )

    cfg = config.load(tmp_path, file=path, environ={})

    assert cfg.value("analyzer.scanForTodos") is False
    assert cfg.value("analyzer.scanOpenIssues") is False


def test_execution_and_scoring_parameters(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "config.json",
        {
            "execution": {"slice_size_threshold": 3, "max_cycle_time": 600, "max_cycles": 2},
            "scoring": {"aging_cap": 3, "aging_per_day": 0.25},
        },
    )

    cfg = config.load(tmp_path, file=path, environ={})

    assert cfg.value("execution.slice_size_threshold") == 3
    assert cfg.value("execution.max_cycle_time") == 600
    assert cfg.value("execution.max_cycles") == 2
    assert cfg.value("scoring.aging_cap") == 3.0
    assert isinstance(cfg.value("scoring.aging_cap"), float)
    assert cfg.value("scoring.aging_per_day") == 0.25


@pytest.mark.parametrize(
    ("explicit", "env_file", "repo_file", "expected"),
    [
        pytest.param(False, False, False, None, id="nothing"),
        pytest.param(False, False, True, "repo-file", id="repo-default-file"),
        pytest.param(False, True, True, "env-file", id="BACKLOG_CONFIG-beats-repo-file"),
        pytest.param(True, True, True, "explicit-file", id="explicit-file-beats-both"),
    ],
)
def test_which_file_is_read(
    tmp_path: Path, explicit: bool, env_file: bool, repo_file: bool, expected: str | None
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    files = {
        "repo-file": repo / ".backlog.json",
        "env-file": tmp_path / "from-env.json",
        "explicit-file": tmp_path / "explicit.json",
    }
    for name, path in files.items():
        write_json(path, {"actor": name})
    if not repo_file:
        files["repo-file"].unlink()
    environ = {"BACKLOG_CONFIG": str(files["env-file"])} if env_file else {}

    cfg = config.load(repo, file=files["explicit-file"] if explicit else None, environ=environ)

    assert cfg.value("actor") == expected
    assert cfg.file == (files[expected] if expected else None)


def test_backlog_config_is_read_from_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_json(tmp_path / "elsewhere.json", {"log_level": "debug"})
    monkeypatch.setenv("BACKLOG_CONFIG", str(path))

    cfg = config.load(tmp_path)

    assert cfg.file == path
    assert cfg.value("log_level") == "DEBUG"


# --- precedence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_file", "in_env", "on_command_line", "expected"),
    [
        pytest.param(False, False, False, 2.0, id="default"),
        pytest.param(True, False, False, 3.0, id="file-beats-default"),
        pytest.param(True, True, False, 4.0, id="environment-beats-file"),
        pytest.param(False, True, False, 4.0, id="environment-beats-default"),
        pytest.param(True, False, True, 5.0, id="command-line-beats-file"),
        pytest.param(True, True, True, 5.0, id="command-line-beats-all"),
    ],
)
def test_layer_precedence(
    tmp_path: Path, in_file: bool, in_env: bool, on_command_line: bool, expected: float
) -> None:
    if in_file:
        write_json(tmp_path / ".backlog.json", {"scoring": {"aging_cap": 3}})
    environ = {"BACKLOG_SCORING__AGING_CAP": "4"} if in_env else {}
    overrides = {"scoring.aging_cap": 5} if on_command_line else {}

    cfg = config.load(tmp_path, environ=environ, overrides=overrides)

    assert cfg.value("scoring.aging_cap") == expected


@pytest.mark.parametrize(
    ("environ", "overrides", "expected"),
    [
        pytest.param({}, {}, "ERROR", id="file"),
        pytest.param({"LOG_LEVEL": "warning"}, {}, "WARNING", id="LOG_LEVEL-alias"),
        pytest.param({"BACKLOG_LOG_LEVEL": "debug"}, {}, "DEBUG", id="BACKLOG_LOG_LEVEL"),
        pytest.param({"LOG_LEVEL": "warning"}, {"log_level": "critical"}, "CRITICAL", id="cli"),
    ],
)
def test_log_level_layers(
    tmp_path: Path, environ: dict[str, str], overrides: dict[str, object], expected: str
) -> None:
    write_json(tmp_path / ".backlog.json", {"log_level": "ERROR"})

    cfg = config.load(tmp_path, environ=environ, overrides=overrides)

    assert cfg.value("log_level") == expected


@pytest.mark.parametrize(
    ("environ", "overrides", "expected"),
    [
        pytest.param({}, {}, "from-file", id="file"),
        pytest.param({"BACKLOG_STATE_DIR": "/var/state"}, {}, "/var/state", id="alias"),
        pytest.param(
            {"BACKLOG_PATHS__STATE_DIR": "/srv/state"}, {}, "/srv/state", id="canonical-name"
        ),
        pytest.param(
            {"BACKLOG_STATE_DIR": "/var/state"},
            {"paths.state_dir": "/cli/state"},
            "/cli/state",
            id="cli",
        ),
    ],
)
def test_state_dir_layers(
    tmp_path: Path, environ: dict[str, str], overrides: dict[str, object], expected: str
) -> None:
    write_json(tmp_path / ".backlog.json", {"paths": {"state_dir": "from-file"}})

    cfg = config.load(tmp_path, environ=environ, overrides=overrides)

    assert cfg.value("paths.state_dir") == expected


def test_environment_is_read_from_the_process_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKLOG_EXECUTION__SLICE_SIZE_THRESHOLD", "8")
    monkeypatch.setenv("BACKLOG_GITHUB__REPOSTOSCAN", "alpha, beta,,gamma")

    cfg = config.load(tmp_path)

    assert cfg.value("execution.slice_size_threshold") == 8
    assert cfg.value("github.reposToScan") == ("alpha", "beta", "gamma")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("On", True),
        ("false", False),
        ("0", False),
        ("NO", False),
        ("off", False),
    ],
)
def test_flags_from_the_environment(tmp_path: Path, text: str, expected: bool) -> None:
    cfg = config.load(tmp_path, environ={"BACKLOG_ANALYZER__SCANFORTODOS": text})

    assert cfg.value("analyzer.scanForTodos") is expected


def test_unrelated_environment_variables_are_ignored(tmp_path: Path) -> None:
    environ = {"PATH": "/usr/bin", "BACKLOG_CONFIG": "", "BACKLOG_VERBOSE": "1", "HOME": "/x"}

    cfg = config.load(tmp_path, environ=environ)

    assert cfg.file is None
    assert dict(cfg.values) == {key: s.default for key, s in config.SETTINGS.items()}


def test_env_name_maps_dots_to_double_underscores() -> None:
    assert config.env_name("scoring.aging_cap") == "BACKLOG_SCORING__AGING_CAP"
    assert config.env_name("scoring.weights.impact") == "BACKLOG_SCORING__WEIGHTS__IMPACT"
    assert config.env_name("log_level") == "BACKLOG_LOG_LEVEL"


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{\n  "aging_cap": 3\n}',
            "{path}:2: unknown setting 'aging_cap'; did you mean 'scoring.aging_cap'?",
            id="top-level-aging_cap",
        ),
        pytest.param(
            '{\n  "scoring": {\n    "aging_capp": 3\n  }\n}',
            "{path}:3: unknown setting 'scoring.aging_capp'; did you mean 'scoring.aging_cap'?",
            id="typo-in-section",
        ),
        pytest.param(
            '{\n  "github": {\n    "usrname": "me"\n  }\n}',
            "{path}:3: unknown setting 'github.usrname'; did you mean 'github.username'?",
            id="typo-in-github",
        ),
        pytest.param(
            '{"scoring": {\n"weights": {\n"impactt": 2}}}',
            "{path}:3: unknown setting 'scoring.weights.impactt'; "
            "did you mean 'scoring.weights.impact'?",
            id="typo-in-nested-section",
        ),
        pytest.param(
            '{\n  "gitub": {}\n}',
            "{path}:2: unknown setting 'gitub'; did you mean 'github'?",
            id="typo-in-section-name",
        ),
        pytest.param(
            '{\n  "scoring": {"aging_cap": 3},\n  "scoring.aging_cap": 4\n}',
            "{path}:2: scoring.aging_cap is set twice in this file; keep one of them",
            id="same-setting-in-a-section-and-as-a-dotted-key",
        ),
        pytest.param(
            '{\n  "verbose": true\n}',
            "{path}:2: unknown setting 'verbose'",
            id="unknown-without-suggestion",
        ),
        pytest.param(
            '{"scoring": {"aging_cap": "high"}}',
            "{path}: scoring.aging_cap must be a number, not 'high'",
            id="text-for-number",
        ),
        pytest.param(
            '{"lock_timeout": true}',
            "{path}: lock_timeout must be a number, not True",
            id="flag-for-number",
        ),
        pytest.param(
            '{"github": {"reposToScan": 5}}',
            "{path}: github.reposToScan must be a list of text, not 5",
            id="number-for-list",
        ),
        pytest.param(
            '{"github": {"reposToScan": ["a", 1]}}',
            "{path}: github.reposToScan must be a list of text, not ['a', 1]",
            id="number-in-list",
        ),
        pytest.param(
            '{"github": {"username": null}}',
            "{path}: github.username must be text, not None",
            id="null-for-text",
        ),
        pytest.param(
            '{"analyzer": {"scanForTodos": "maybe"}}',
            "{path}: analyzer.scanForTodos must be true or false, not 'maybe'",
            id="bad-flag",
        ),
        pytest.param(
            '{"execution": {"slice_size_threshold": 20}}',
            "{path}: execution.slice_size_threshold must be from 1 to 13, not 20",
            id="slice_size_threshold-20",
        ),
        pytest.param(
            '{"execution": {"max_cycle_time": 1.5}}',
            "{path}: execution.max_cycle_time must be a whole number, not 1.5",
            id="fraction-for-whole-number",
        ),
        pytest.param(
            '{"execution": {"max_cycles": 0}}',
            "{path}: execution.max_cycles must be at least 1, not 0",
            id="max_cycles-0",
        ),
        pytest.param(
            '{"scoring": {"aging_cap": 0.5}}',
            "{path}: scoring.aging_cap must be at least 1, not 0.5",
            id="aging_cap-0.5",
        ),
        pytest.param(
            '{"scoring": {"weights": {"impact": 0}}}',
            "{path}: scoring.weights.impact must be at least 0.01, not 0",
            id="weight-0",
        ),
        pytest.param(
            '{"log_level": "LOUD"}',
            f"{{path}}: log_level must be one of {LOG_LEVELS_TEXT}, not 'LOUD'",
            id="log_level-LOUD",
        ),
        pytest.param(
            '{\n  "scoring": 5\n}',
            "{path}:2: scoring must be a section (a JSON object)",
            id="section-as-number",
        ),
        pytest.param(
            '{\n  "github": "your-username"\n}',
            "{path}:2: github must be a section (a JSON object)",
            id="section-as-text",
        ),
        pytest.param(
            '{\n  "scoring": {\n    "weights": [1, 2, 3]\n  }\n}',
            "{path}:3: scoring.weights must be a section (a JSON object)",
            id="nested-section-as-list",
        ),
        pytest.param(
            '["github"]',
            "{path}: must hold a JSON object of settings",
            id="not-an-object",
        ),
        pytest.param(
            '{\n  "github": {\n    "username": "me",\n  }\n}',
            "{path}:4:3: not valid JSON (Expecting property name enclosed in double quotes); "
            "fix the syntax",
            id="trailing-comma",
        ),
        pytest.param(
            '{\n  "log_level": "INFO"\n  "actor": "me"\n}',
            "{path}:3:3: not valid JSON (Expecting ',' delimiter); fix the syntax",
            id="missing-comma",
        ),
    ],
)
def test_file_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, file=path, environ={})

    assert str(caught.value) == expected.format(path=path)


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"

    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, file=path, environ={})

    assert str(caught.value) == f"{path}: configuration file not found; check --config"


def test_missing_file_named_by_backlog_config(tmp_path: Path) -> None:
    path = tmp_path / "gone.json"

    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ={"BACKLOG_CONFIG": str(path)})

    assert str(caught.value) == f"{path}: configuration file not found; check --config"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param(
            {"BACKLOG_FOO__BAR": "1"},
            "environment BACKLOG_FOO__BAR: unknown setting 'foo.bar'",
            id="unknown",
        ),
        pytest.param(
            {"BACKLOG_SCORING__AGIN_CAP": "3"},
            "environment BACKLOG_SCORING__AGIN_CAP: unknown setting 'scoring.agin_cap'; "
            "did you mean 'scoring.aging_cap'?",
            id="typo",
        ),
        pytest.param(
            {"BACKLOG_SCORING__AGING_CAP": "x"},
            "environment BACKLOG_SCORING__AGING_CAP: scoring.aging_cap must be a number, not 'x'",
            id="not-a-number",
        ),
        pytest.param(
            {"BACKLOG_EXECUTION__SLICE_SIZE_THRESHOLD": "20"},
            "environment BACKLOG_EXECUTION__SLICE_SIZE_THRESHOLD: "
            "execution.slice_size_threshold must be from 1 to 13, not 20",
            id="out-of-range",
        ),
        pytest.param(
            {"LOG_LEVEL": "loud"},
            f"environment LOG_LEVEL: log_level must be one of {LOG_LEVELS_TEXT}, not 'loud'",
            id="LOG_LEVEL-alias",
        ),
        pytest.param(
            {"BACKLOG_ANALYZER__SCANOPENISSUES": "sometimes"},
            "environment BACKLOG_ANALYZER__SCANOPENISSUES: "
            "analyzer.scanOpenIssues must be true or false, not 'sometimes'",
            id="bad-flag",
        ),
    ],
)
def test_environment_errors(tmp_path: Path, environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ=environ)

    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"scoring.aging_capp": 3},
            "command line: unknown setting 'scoring.aging_capp'; did you mean 'scoring.aging_cap'?",
            id="typo",
        ),
        pytest.param(
            {"execution.max_cycle_time": 1.5},
            "command line: execution.max_cycle_time must be a whole number, not 1.5",
            id="fraction",
        ),
        pytest.param(
            {"log_level": "LOUD"},
            f"command line: log_level must be one of {LOG_LEVELS_TEXT}, not 'LOUD'",
            id="log_level",
        ),
    ],
)
def test_command_line_errors(
    tmp_path: Path, overrides: Mapping[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ={}, overrides=overrides)

    assert str(caught.value) == expected


def test_unknown_key_error_names_the_line_of_that_key(tmp_path: Path) -> None:
    # "aging_cap" also appears (correctly) in an earlier section; the error must point at the
    # misplaced one, not at the first occurrence of the name in the file.
    path = tmp_path / "config.json"
    path.write_text(
        '{\n  "scoring": {"aging_cap": 3},\n  "execution": {"aging_cap": 3}\n}\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, file=path, environ={})

    assert str(caught.value) == (
        f"{path}:3: unknown setting 'execution.aging_cap'; did you mean 'scoring.aging_cap'?"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param('{"scoring": {"aging_cap": NaN}}', "scoring.aging_cap", id="NaN-aging_cap"),
        pytest.param(
            '{"execution": {"max_cycle_time": Infinity}}',
            "execution.max_cycle_time",
            id="Infinity-max_cycle_time",
        ),
        pytest.param(
            '{"execution": {"slice_size_threshold": NaN}}',
            "execution.slice_size_threshold",
            id="NaN-slice_size_threshold",
        ),
    ],
)
def test_non_finite_numbers_are_configuration_errors(tmp_path: Path, text: str, key: str) -> None:
    # Python's JSON reader accepts NaN and Infinity; they must be refused like any bad value.
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: {re.escape(key)} must be "):
        config.load(tmp_path, file=path, environ={})


# --- settings objects --------------------------------------------------------------------------


def test_scoring_and_escalation_defaults(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={})

    assert cfg.scoring == ScoringSettings()
    assert cfg.escalation == EscalationSettings()


def test_scoring_and_escalation_reflect_the_values(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "config.json",
        {
            "scoring": {
                "aging_cap": 3,
                "aging_per_day": 0.5,
                "weights": {"impact": 2, "time_criticality": 1.5, "risk_reduction": 0.5},
                "keywords": {
                    "impact": [{"value": 13, "words": ["outage"], "name": "custom"}],
                    "effort": [{"value": 1, "words": "tiny, small"}],
                },
            },
            "escalation": {
                "large_effort": 5,
                "security_keywords": ["vault"],
                "performance_paths": ["src/hot/*"],
            },
        },
    )

    cfg = config.load(tmp_path, file=path, environ={})

    assert cfg.scoring == ScoringSettings(
        weights=Weights(impact=2.0, time_criticality=1.5, risk_reduction=0.5),
        aging_cap=3.0,
        aging_per_day=0.5,
        impact_rules=(KeywordRule(13, ("outage",), "custom"),),
        effort_rules=(KeywordRule(1, ("tiny", "small"), ""),),
    )
    assert cfg.escalation == EscalationSettings(
        large_effort=5, security_keywords=("vault",), performance_paths=("src/hot/*",)
    )


def test_configured_keyword_rules_drive_scoring(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "config.json",
        {
            "scoring": {
                "keywords": {"impact": [{"value": 13, "words": ["outage"], "name": "custom"}]}
            }
        },
    )
    cfg = config.load(tmp_path, file=path, environ={})
    now = datetime(2026, 1, 31, 9, tzinfo=UTC)

    result = score(BacklogItem("a", "Stop the outage", created_at=now), cfg.scoring, now)

    assert result.impact == Estimate(13, "keyword 'outage' (custom)", estimated=True)


def test_keyword_rules_from_the_environment_as_json(tmp_path: Path) -> None:
    environ = {"BACKLOG_SCORING__KEYWORDS__EFFORT": '[{"value": 2, "words": ["quick"]}]'}

    cfg = config.load(tmp_path, environ=environ)

    assert cfg.value("scoring.keywords.effort") == (KeywordRule(2, ("quick",), ""),)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            [],
            'must be a list of {"value": 1-13, "words": [...], "name": "..."}',
            id="empty-list",
        ),
        pytest.param(
            {"value": 13, "words": ["outage"]},
            'must be a list of {"value": 1-13, "words": [...], "name": "..."}',
            id="object-not-list",
        ),
        pytest.param("outage", "must be a JSON list of rules", id="text-not-json"),
        pytest.param(
            [{"value": 13, "words": ["outage"], "weight": 2}],
            f"rule 1 must be {RULE_SHAPE}",
            id="unknown-rule-key",
        ),
        pytest.param(
            [{"value": 13, "words": ["outage"]}, "crash"],
            f"rule 2 must be {RULE_SHAPE}",
            id="rule-not-object",
        ),
        pytest.param(
            [{"value": 14, "words": ["outage"]}], "must be from 1 to 13, not 14", id="value-14"
        ),
        pytest.param(
            [{"value": 2.5, "words": ["outage"]}],
            "must be a whole number, not 2.5",
            id="value-fraction",
        ),
        pytest.param([{"words": ["outage"]}], "must be a number, not None", id="value-missing"),
        pytest.param(
            [{"value": 13, "words": 5}], "must be a list of text, not 5", id="words-number"
        ),
        pytest.param(
            [{"value": 13, "words": ["outage"], "name": 7}],
            "must be text, not 7",
            id="name-number",
        ),
    ],
)
def test_keyword_rule_errors(tmp_path: Path, rules: object, expected: str) -> None:
    path = write_json(tmp_path / "config.json", {"scoring": {"keywords": {"impact": rules}}})

    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, file=path, environ={})

    assert str(caught.value) == f"{path}: scoring.keywords.impact {expected}"


def test_keyword_rules_that_are_not_json_in_the_environment(tmp_path: Path) -> None:
    environ = {"BACKLOG_SCORING__KEYWORDS__IMPACT": "outage,crash"}

    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ=environ)

    assert str(caught.value) == (
        "environment BACKLOG_SCORING__KEYWORDS__IMPACT: "
        "scoring.keywords.impact must be a JSON list of rules"
    )
