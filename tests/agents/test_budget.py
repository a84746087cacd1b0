"""Tests for ``Budget`` and ``Usage``: what is spent, what is left, and which limit is reached."""

from __future__ import annotations

import pytest

from continuous_backlog_executor.agents.base import Budget, Usage


@pytest.mark.parametrize(
    ("budget", "used", "reached"),
    [
        (Budget(), Usage(10**9, 10**9, 10.0, 10**6), None),
        (Budget(turns=3), Usage(turns=2), None),
        (Budget(turns=3), Usage(turns=3), "3 of 3 turns used"),
        (Budget(tokens=1000), Usage(600, 400), "1,000 of 1,000 tokens used"),
        (Budget(input_tokens=500), Usage(499, 9999), None),
        (Budget(output_tokens=500), Usage(0, 700), "700 of 500 output tokens used"),
        (Budget(cost_usd=0.5), Usage(cost_usd=None), None),
        (Budget(cost_usd=0.5), Usage(cost_usd=0.5), "$0.5000 of $0.5000 spent"),
    ],
)
def test_exceeded_names_the_limit_reached(budget: Budget, used: Usage, reached: str | None) -> None:
    assert budget.exceeded(used) == reached


def test_what_is_left_and_the_tighter_of_two() -> None:
    item = Budget(turns=10, tokens=5000, cost_usd=1.0, output_tokens=800)
    run = Budget(turns=4, cost_usd=2.0, input_tokens=3000)

    left = item.less(Usage(1000, 900, 0.25, 3))

    assert left == Budget(turns=7, tokens=3100, cost_usd=0.75, output_tokens=0)
    assert left.tighter(run) == Budget(4, 3100, 0.75, 3000, 0)


def test_usage_adds_up_and_unknown_cost_stays_unknown() -> None:
    assert Usage(1, 2, None, 1) + Usage(3, 4, None, 1) == Usage(4, 6, None, 2)
    assert Usage(1, 2, None, 1) + Usage(0, 0, 0.5, 1) == Usage(1, 2, 0.5, 2)
