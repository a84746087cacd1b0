"""Metrics read from evidence receipts: spend, agent success, gate failures and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from continuous_backlog_executor.evidence import Outcome, Receipt, Step
from continuous_backlog_executor.model import BacklogItem, Source, TaskType
from continuous_backlog_executor.reports import metrics, receipts
from continuous_backlog_executor.reports.receipts import Recorded

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def attempt(
    item: str,
    number: int,
    outcome: Outcome,
    *,
    agent: str = "claude",
    tokens: tuple[int, int] = (0, 0),
    cost: float | None = None,
    failed: tuple[str, ...] = (),
) -> Recorded:
    """A finished attempt whose steps named in ``failed`` failed once each."""
    receipt = Receipt(item, number, agent, f"backlog/{item}", "a" * 40, START)
    for name in failed:
        receipt.add(Step(name, 1, False, "failed"))
    receipt.add(Step("escalation", 1, False, "security-sensitive: touches auth.py"))
    receipt.usage = {"input_tokens": tokens[0], "output_tokens": tokens[1], "cost_usd": cost}
    receipt.end(outcome, "", START)
    return Recorded(f"receipts/{item}/{number}.json", receipt)


ITEMS = {
    "A": BacklogItem("A", "Fix the parser", task_type=TaskType.BUG),
    "B": BacklogItem("B", "Docs", task_type=TaskType.DOC, source=Source("comments", path="a.py")),
}
ATTEMPTS = [
    attempt("A", 1, Outcome.GATE_FAILED, tokens=(1000, 200), cost=0.05, failed=("green",) * 2),
    attempt("A", 2, Outcome.SUCCESS, tokens=(800, 100), cost=0.04),
    attempt("B", 1, Outcome.SUCCESS, agent="aider", tokens=(50, 5), failed=("docs",)),
]


def test_spend_per_delivered_item_sums_all_its_attempts() -> None:
    spent = metrics.spend(ATTEMPTS, ATTEMPTS, ["A", "B"])

    assert spent["tokens"] == 2155
    assert spent["cost_usd"] == 0.09
    assert spent["by_item"] == [
        {"id": "A", "attempts": 2, "tokens": 2100, "cost_usd": 0.09},
        {"id": "B", "attempts": 1, "tokens": 55, "cost_usd": None},  # aider reported no cost
    ]
    # Cost per item averages only the items whose cost is known.
    assert spent["per_completed_item"] == {"items": 2, "tokens": 1077.5, "cost_usd": 0.09}


def test_agent_success_by_agent_source_and_risk() -> None:
    success = metrics.agent_success(ATTEMPTS, ITEMS, {"A": "security-sensitive"})

    assert success["overall"] == {"attempts": 3, "succeeded": 2, "rate": 0.6667}
    assert success["by_agent"] == {
        "aider": {"attempts": 1, "succeeded": 1, "rate": 1.0},
        "claude": {"attempts": 2, "succeeded": 1, "rate": 0.5},
    }
    assert success["by_source"] == {
        "comments": {"attempts": 1, "succeeded": 1, "rate": 1.0},
        "manual": {"attempts": 2, "succeeded": 1, "rate": 0.5},
    }
    assert success["by_risk"] == {
        "low": {"attempts": 1, "succeeded": 1, "rate": 1.0},
        "security-sensitive": {"attempts": 2, "succeeded": 1, "rate": 0.5},
    }


def test_gate_failures_leave_out_the_escalation_record() -> None:
    assert metrics.gate_failures(ATTEMPTS) == {"docs": 1, "green": 2}
    assert metrics.gate_failures_by_type(ATTEMPTS, ITEMS) == {
        "Bug": {"green": 2},
        "Doc": {"docs": 1},
    }
    assert metrics.outcomes(ATTEMPTS) == {"gate failed": 1, "success": 2}


def test_receipts_are_read_back_and_a_damaged_one_is_skipped(tmp_path: Path) -> None:
    for recorded in ATTEMPTS:
        path = tmp_path / recorded.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(recorded.receipt.to_json())
    (tmp_path / "receipts" / "A" / "3.json").write_text("{half a receipt")

    loaded = receipts.load(tmp_path)

    assert [r.path for r in loaded] == [r.path for r in ATTEMPTS]
    assert receipts.tokens(loaded[0].receipt) == 1200
    assert receipts.cost(loaded[2].receipt) is None
