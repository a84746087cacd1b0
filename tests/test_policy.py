"""Tests for readiness and escalation rules: which items are held, skipped, refined, sliced, run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from continuous_backlog_executor.model import Approval, BacklogItem, Source, TaskStatus
from continuous_backlog_executor.policy import (
    Action,
    Decision,
    Escalation,
    EscalationSettings,
    Trigger,
    decide,
    escalations,
    named_paths,
)
from continuous_backlog_executor.scoring import ScoringSettings, score

S = TaskStatus
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SCORING = ScoringSettings()
DEFAULTS = EscalationSettings()
PLAIN_TITLE = "Tidy the footer"  # no escalation keyword and no scoring keyword
MICRO_CYCLE = ("red", "green", "refactor", "security", "docs", "ci", "pull request")
APPROVAL = Approval(by="alice", at=NOW, note="reviewed the plan")


def make(title: str = PLAIN_TITLE, **fields: Any) -> BacklogItem:
    """A READY item with acceptance criteria and effort 2 unless ``fields`` say otherwise."""
    values: dict[str, Any] = {
        "id": "T-3",
        "title": title,
        "status": S.READY,
        "effort": 2,
        "acceptance_criteria": ["the footer is tidy"],
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return BacklogItem(**values)


def at(path: str) -> Source:
    return Source("todo", path=path, line=4)


def triggers_of(item: BacklogItem, settings: EscalationSettings = DEFAULTS) -> list[Escalation]:
    found: list[Escalation] = escalations(item, score(item, SCORING, NOW), settings)
    return found


def judge(item: BacklogItem, *, threshold: int = 5) -> Decision:
    return decide(
        item,
        score(item, SCORING, NOW),
        escalation=DEFAULTS,
        slice_size_threshold=threshold,
    )


# --- escalations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "settings", "expected"),
    [
        (make(effort=7), DEFAULTS, []),
        (make(effort=8), DEFAULTS, [Escalation(Trigger.LARGE_EFFORT, "effort 8 >= 8")]),
        (make(effort=13), DEFAULTS, [Escalation(Trigger.LARGE_EFFORT, "effort 13 >= 8")]),
        (
            make("Rewrite the footer", effort=None),
            DEFAULTS,
            [Escalation(Trigger.LARGE_EFFORT, "effort 8 >= 8")],
        ),
        (make(effort=None), DEFAULTS, []),
        (
            make(effort=5),
            EscalationSettings(large_effort=5),
            [Escalation(Trigger.LARGE_EFFORT, "effort 5 >= 5")],
        ),
    ],
    ids=[
        "effort-7-is-not-large",
        "effort-8-is-large",
        "effort-13-is-large",
        "estimated-effort-8-is-large",
        "estimated-type-default-5-is-not",
        "configured-threshold-5",
    ],
)
def test_large_effort_needs_approval(
    item: BacklogItem, settings: EscalationSettings, expected: list[Escalation]
) -> None:
    assert triggers_of(item, settings) == expected


@pytest.mark.parametrize(
    ("item", "settings", "expected"),
    [
        (
            make("Rotate the jwt signing key"),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "mentions 'jwt'")],
        ),
        (
            make("Support OAuth sign-in"),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "mentions 'OAuth'")],
        ),
        (
            make(description="store the password hashed"),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "mentions 'password'")],
        ),
        (
            make(labels=["ui", "crypto"]),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "mentions 'crypto'")],
        ),
        (make("Credit the authorship of the footer"), DEFAULTS, []),
        (
            make(source=at("src/auth/login.py")),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "touches src/auth/login.py")],
        ),
        (
            make(source=at("src/Secrets/Vault.py")),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "touches src/Secrets/Vault.py")],
        ),
        (
            make("Hash the password", source=at("src/auth/login.py")),
            DEFAULTS,
            [Escalation(Trigger.SECURITY, "touches src/auth/login.py")],
        ),
        (make("Rotate the jwt signing key"), EscalationSettings(security_keywords=()), []),
        (make(source=at("src/auth/login.py")), EscalationSettings(security_paths=()), []),
        (
            make("Add an alembic revision"),
            DEFAULTS,
            [Escalation(Trigger.MIGRATION, "mentions 'alembic'")],
        ),
        (
            make("Squash old migrations"),
            DEFAULTS,
            [Escalation(Trigger.MIGRATION, "mentions 'migrations'")],
        ),
        (
            make("Plan the schema change"),
            DEFAULTS,
            [Escalation(Trigger.MIGRATION, "mentions 'schema change'")],
        ),
        (
            make(source=at("db/migrations/0001_init.py")),
            DEFAULTS,
            [Escalation(Trigger.MIGRATION, "touches db/migrations/0001_init.py")],
        ),
        (
            make(source=at("schema/seed.SQL")),
            DEFAULTS,
            [Escalation(Trigger.MIGRATION, "touches schema/seed.SQL")],
        ),
        (make(source=at("src/engine/hot_loop.py")), DEFAULTS, []),
        (
            make(source=at("src/engine/hot_loop.py")),
            EscalationSettings(performance_paths=("src/engine/*",)),
            [Escalation(Trigger.PERFORMANCE, "touches src/engine/hot_loop.py")],
        ),
        (
            make("Tune the hot path"),
            DEFAULTS,
            [Escalation(Trigger.PERFORMANCE, "mentions 'hot path'")],
        ),
        (
            make(
                "Migrate password storage on the hot path", effort=13, source=at("src/auth/x.sql")
            ),
            DEFAULTS,
            [
                Escalation(Trigger.LARGE_EFFORT, "effort 13 >= 8"),
                Escalation(Trigger.SECURITY, "touches src/auth/x.sql"),
                Escalation(Trigger.MIGRATION, "touches src/auth/x.sql"),
                Escalation(Trigger.PERFORMANCE, "mentions 'hot path'"),
            ],
        ),
    ],
    ids=[
        "security-keyword-in-title",
        "security-keyword-keeps-its-case",
        "security-keyword-in-description",
        "security-keyword-in-labels",
        "whole-words-only",
        "security-path",
        "security-path-any-case",
        "path-is-preferred-to-keyword",
        "security-keywords-disabled",
        "security-paths-disabled",
        "migration-keyword",
        "migration-keyword-plural",
        "migration-phrase",
        "migration-directory",
        "sql-file-any-case",
        "performance-paths-off-by-default",
        "performance-path-configured",
        "performance-keyword",
        "every-trigger-in-order",
    ],
)
def test_keywords_and_paths_trigger_escalations(
    item: BacklogItem, settings: EscalationSettings, expected: list[Escalation]
) -> None:
    assert triggers_of(item, settings) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            make("Cache sessions", description="The fix goes in src/auth/session.py."),
            [Escalation(Trigger.SECURITY, "touches src/auth/session.py")],
        ),
        (
            make("Speed up lookups", acceptance_criteria=["db/migrations/0004_index.py exists"]),
            [Escalation(Trigger.MIGRATION, "touches db/migrations/0004_index.py")],
        ),
        (
            make("Rename a column in schema.sql"),
            [Escalation(Trigger.MIGRATION, "touches schema.sql")],
        ),
        (make("Read https://example.com/kb/secrets-guide.md before fixing the footer"), []),
        (make("Edit the footer and/or header of docs/index.md"), []),
    ],
    ids=["path-in-description", "path-in-criteria", "file-name", "url-is-not-a-path", "and-or"],
)
def test_paths_an_item_names_trigger_escalations(
    item: BacklogItem, expected: list[Escalation]
) -> None:
    assert triggers_of(item, DEFAULTS) == expected


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("fix src/app.py: it crashes", ["src/app.py"]),
        ("edit ./migrations/0003_add.py.", ["migrations/0003_add.py"]),
        ("see http://host/a/b.py and foo.bar()", []),
        ("version 1.2.3, e.g. this", []),
        ("src/a.py then src/a.py again", ["src/a.py"]),
    ],
)
def test_named_paths(text: str, paths: list[str]) -> None:
    assert named_paths(text) == paths


def test_an_escalation_reads_as_trigger_then_detail() -> None:
    assert (
        str(Escalation(Trigger.SECURITY, "mentions 'jwt'")) == "security-sensitive: mentions 'jwt'"
    )
    assert str(Escalation(Trigger.LARGE_EFFORT, "effort 8 >= 8")) == "large effort: effort 8 >= 8"


# --- decide: skipped items -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"status": S.BLOCKED, "blocked_reason": "waiting on the vendor"},
            "blocked: waiting on the vendor",
        ),
        ({"status": S.BLOCKED}, "blocked: no reason recorded"),
        ({"status": S.DOING}, "already in progress"),
        (
            {"status": S.PR, "pr_url": "https://github.com/acme/app/pull/7"},
            "waiting on its pull request https://github.com/acme/app/pull/7",
        ),
        ({"status": S.PR}, "waiting on its pull request"),
        ({"status": S.MERGED}, "finished (MERGED)"),
        ({"status": S.DONE}, "finished (DONE)"),
    ],
    ids=[
        "blocked-with-reason",
        "blocked-without-reason",
        "doing",
        "pr-with-url",
        "pr-without-url",
        "merged",
        "done",
    ],
)
def test_items_not_in_a_workable_status_are_skipped_with_the_reason(
    fields: dict[str, Any], reason: str
) -> None:
    # Large effort and a security word would otherwise hold the item: skipping comes first.
    item = make("Rotate the jwt signing key", effort=13, **fields)
    decision = judge(item)
    assert decision.action is Action.SKIP
    assert decision.reasons == (reason,)
    assert decision.steps == ()
    assert decision.item is item
    assert decision.actionable is False


# --- decide: held items --------------------------------------------------------------------------


def test_an_escalated_item_without_approval_is_held_with_every_reason() -> None:
    item = make("Rotate the jwt signing key", effort=8)
    decision = judge(item)
    assert decision.action is Action.HOLD
    assert decision.reasons == (
        "needs approval: large effort: effort 8 >= 8",
        "needs approval: security-sensitive: mentions 'jwt'",
    )
    assert decision.steps == ()
    assert decision.actionable is False


@pytest.mark.parametrize(
    ("fields", "action", "reasons", "steps"),
    [
        (
            {},
            Action.EXECUTE,
            ("approved by alice: security-sensitive: mentions 'jwt'",),
            MICRO_CYCLE,
        ),
        (
            {"acceptance_criteria": []},
            Action.REFINE,
            (
                "no acceptance criteria yet",
                "approved by alice: security-sensitive: mentions 'jwt'",
            ),
            ("criteria", *MICRO_CYCLE),
        ),
        (
            {"effort": 8},
            Action.SLICE,
            (
                "effort 8 > slice size 5",
                "approved by alice: large effort: effort 8 >= 8",
                "approved by alice: security-sensitive: mentions 'jwt'",
            ),
            ("slice",),
        ),
    ],
    ids=["execute", "refine", "slice"],
)
def test_an_approved_item_is_not_held_and_its_reasons_mention_the_approval(
    fields: dict[str, Any], action: Action, reasons: tuple[str, ...], steps: tuple[str, ...]
) -> None:
    item = make("Rotate the jwt signing key", approval=APPROVAL, **fields)
    decision = judge(item)
    assert decision.action is action
    assert decision.reasons == reasons
    assert decision.steps == steps
    assert decision.actionable is True


def test_an_approval_without_any_trigger_adds_no_reason() -> None:
    decision = judge(make(approval=APPROVAL))
    assert decision.action is Action.EXECUTE
    assert decision.reasons == ()


# --- decide: refine, slice, execute --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "threshold", "action", "reasons", "steps"),
    [
        (
            {"acceptance_criteria": []},
            5,
            Action.REFINE,
            ("no acceptance criteria yet",),
            ("criteria", "red", "green", "refactor", "security", "docs", "ci", "pull request"),
        ),
        (
            {"acceptance_criteria": [], "effort": 7},
            5,
            Action.REFINE,
            ("no acceptance criteria yet",),
            ("criteria", "red", "green", "refactor", "security", "docs", "ci", "pull request"),
        ),
        ({"effort": 7}, 5, Action.SLICE, ("effort 7 > slice size 5",), ("slice",)),
        ({"effort": 6}, 5, Action.SLICE, ("effort 6 > slice size 5",), ("slice",)),
        ({"effort": 5}, 5, Action.EXECUTE, (), MICRO_CYCLE),
        (
            {"title": "Implement the footer", "effort": None},
            3,
            Action.SLICE,
            ("effort 5 > slice size 3",),
            ("slice",),
        ),
        ({"status": S.NEW}, 5, Action.EXECUTE, (), MICRO_CYCLE),
        ({"status": S.REFINED}, 5, Action.EXECUTE, (), MICRO_CYCLE),
        ({"status": S.READY}, 5, Action.EXECUTE, (), MICRO_CYCLE),
    ],
    ids=[
        "no-criteria-refine",
        "refine-before-slice",
        "effort-7-over-5-slice",
        "effort-6-over-5-slice",
        "effort-at-threshold-execute",
        "estimated-effort-slice",
        "new-execute",
        "refined-execute",
        "ready-execute",
    ],
)
def test_workable_items_are_refined_sliced_or_executed(
    fields: dict[str, Any],
    threshold: int,
    action: Action,
    reasons: tuple[str, ...],
    steps: tuple[str, ...],
) -> None:
    decision = judge(make(**fields), threshold=threshold)
    assert decision.action is action
    assert decision.reasons == reasons
    assert decision.steps == steps
    assert decision.actionable is True


def test_execute_runs_the_full_micro_cycle_in_order() -> None:
    assert judge(make()).steps == (
        "red",
        "green",
        "refactor",
        "security",
        "docs",
        "ci",
        "pull request",
    )


@pytest.mark.parametrize(
    ("action", "actionable"),
    [
        (Action.REFINE, True),
        (Action.SLICE, True),
        (Action.EXECUTE, True),
        (Action.HOLD, False),
        (Action.SKIP, False),
    ],
    ids=lambda value: value.value if isinstance(value, Action) else None,
)
def test_actionable_is_true_only_when_a_run_spends_agent_time(
    action: Action, actionable: bool
) -> None:
    item = make()
    assert Decision(item, score(item, SCORING, NOW), action).actionable is actionable
