"""The end-of-pass review's regressions and tuning proposals, and applying a proposal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from continuous_backlog_executor import config
from continuous_backlog_executor.errors import ConfigError
from continuous_backlog_executor.model import BacklogItem, TaskStatus
from continuous_backlog_executor.reports import passes, tuning
from continuous_backlog_executor.scoring import ScoringSettings, rank

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def measured(**parts: Any) -> dict[str, Any]:
    """A pass measurement with nothing wrong, changed by ``parts``."""
    base: dict[str, Any] = {
        "timestamp": "2026-11-25T12:00:00Z",
        "head": "abc123",
        "health": {"coverage_percent": 90.0, "tests": 40, "lint_findings": 2, "comment_debt": 5},
        "delivery": {"items_delivered": 3, "wsjf_delivered": 12.0, "cycle_time_avg": 100.0},
        "reliability": {
            "gate_failures": {},
            "gate_failures_by_type": {},
            "sent_back": 0,
            "escalations": 0,
            "outcomes": {},
            "agent_success": {"claude": {"attempts": 4, "succeeded": 3, "rate": 0.75}},
        },
        "starving": [],
        "starving_count": 0,
        "starving_days": 30.0,
    }
    for key, value in parts.items():
        base[key] = base[key] | value if isinstance(base[key], dict) else value
    return base


def fingerprints(current: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    return [finding.fingerprint for finding in passes.regressions(current, previous)]


def test_a_steady_pass_has_no_regression() -> None:
    assert fingerprints(measured(), measured()) == []


def test_each_named_regression_is_found_with_a_stable_fingerprint() -> None:
    previous = measured()
    current = measured(
        health={"coverage_percent": 85.5, "tests": 38, "lint_findings": 4, "comment_debt": 5},
        delivery={"items_delivered": 1, "wsjf_delivered": 2.0, "cycle_time_avg": 400.0},
        reliability={
            "gate_failures_by_type": {"Bug": {"green": 3, "ci": 1}},
            "agent_success": {"aider": {"attempts": 5, "succeeded": 1, "rate": 0.2}},
        },
        starving=[
            {"id": "OLD-1", "age_days": 45.0, "rank": 9, "aging_multiplier": 2.0},
        ],
        starving_count=1,
    )

    found = passes.regressions(current, previous)

    assert [f.fingerprint for f in found] == [
        "coverage-drop",
        "gate:green:Bug",
        "agent:aider",
        "starving",
        "rise:lint_findings",
        "tests-fell",
        "cycle-time",
    ]
    assert found[0].title == "Coverage fell from 90.0% to 85.5% over the last pass"
    assert all(f.origin.kind == "review" and "process" in f.labels for f in found)
    assert "OLD-1 (45.0 days, rank 9)" in found[3].description


def test_a_small_coverage_wobble_and_a_first_pass_are_not_regressions() -> None:
    wobble = measured(health={"coverage_percent": 89.8})

    assert fingerprints(wobble, measured()) == []
    assert fingerprints(measured(), None) == []


def _config(tmp_path: Path, data: dict[str, Any] | None = None) -> config.Config:
    file = None
    if data is not None:
        file = tmp_path / "config.json"
        file.write_text(json.dumps(data))
    return config.load(tmp_path, file=file, environ={})


def test_starving_items_timeouts_and_overdue_items_propose_settings(tmp_path: Path) -> None:
    overdue = BacklogItem(
        "LATE-1", "Ship the export", status=TaskStatus.READY, due_date=date(2026, 11, 1)
    )
    ranked = rank([overdue], ScoringSettings(), NOW)
    current = measured(
        starving=[{"id": "OLD-1", "age_days": 45.0, "rank": 9, "aging_multiplier": 2.0}],
        starving_count=1,
    )
    report = {"outcomes": {"timed out": 2, "success": 1}}

    changes = tuning.propose(current, report, ranked, _config(tmp_path), NOW.date())

    assert [(c["key"], c["current"], c["proposed"]) for c in changes] == [
        ("scoring.aging_per_day", 0.1, 0.15),
        ("scoring.aging_cap", 2.0, 3.0),
        ("execution.slice_size_threshold", 5, 4),
        ("execution.max_cycle_time", 3600, 5400),
        ("scoring.weights.time_criticality", 1.0, 1.25),
    ]
    assert "LATE-1" in changes[-1]["why"]


def test_apply_writes_the_changes_and_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    cfg = _config(tmp_path, {"github": {"username": "ada"}, "scoring": {"aging_cap": 2.0}})
    proposal = {
        "changes": [
            {"key": "scoring.aging_cap", "current": 2.0, "proposed": 3.0, "why": "starving"},
            {"key": "execution.max_cycle_time", "current": 3600, "proposed": 5400, "why": "t"},
        ]
    }
    assert cfg.file is not None

    keys = tuning.apply(proposal, cfg, cfg.file)

    assert keys == ["scoring.aging_cap", "execution.max_cycle_time"]
    assert json.loads(cfg.file.read_text()) == {
        "github": {"username": "ada"},
        "scoring": {"aging_cap": 3.0},
        "execution": {"max_cycle_time": 5400},
    }
    reloaded = config.load(tmp_path, file=cfg.file, environ={})
    assert reloaded.value("scoring.aging_cap") == 3.0


def test_a_stale_proposal_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    cfg = _config(tmp_path, {"scoring": {"aging_cap": 4.0}})
    assert cfg.file is not None
    before = cfg.file.read_bytes()
    proposal = {"changes": [{"key": "scoring.aging_cap", "current": 2.0, "proposed": 3.0}]}

    with pytest.raises(ConfigError, match=r"scoring.aging_cap is 4.0 now"):
        tuning.apply(proposal, cfg, cfg.file)
    assert cfg.file.read_bytes() == before


def test_a_damaged_proposal_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / tuning.PROPOSAL).write_text("{not json")

    with pytest.raises(ConfigError, match=r"tuning.json: not a readable proposal"):
        tuning.read(tmp_path)


@pytest.mark.parametrize(
    ("spelled", "expected"),
    [
        pytest.param(
            {"scoring.aging_cap": 2.0},
            {"scoring.aging_cap": 3.0, "scoring": {"weights": {"time_criticality": 1.25}}},
            id="one-dotted-key",
        ),
        pytest.param(
            {"scoring": {"weights.time_criticality": 1.0}, "scoring.aging_cap": 2.0},
            {"scoring": {"weights.time_criticality": 1.25}, "scoring.aging_cap": 3.0},
            id="sections-and-dotted-keys-mixed",
        ),
    ],
)
def test_apply_changes_a_setting_where_the_file_already_sets_it(
    tmp_path: Path, spelled: dict[str, Any], expected: dict[str, Any]
) -> None:
    # The file's own spelling is kept, so no setting is written twice; a setting the file did
    # not have goes in sections.
    cfg = _config(tmp_path, spelled)
    assert cfg.file is not None
    proposal = {
        "changes": [
            {"key": "scoring.aging_cap", "current": 2.0, "proposed": 3.0, "why": "starving"},
            {"key": "scoring.weights.time_criticality", "current": 1.0, "proposed": 1.25},
        ]
    }

    tuning.apply(proposal, cfg, cfg.file)

    assert json.loads(cfg.file.read_text()) == expected
    reloaded = config.load(tmp_path, file=cfg.file, environ={})
    assert reloaded.value("scoring.aging_cap") == 3.0
    assert reloaded.value("scoring.weights.time_criticality") == 1.25
