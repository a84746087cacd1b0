"""The end-of-pass review: measure a pass over the backlog, compare it with the previous one,
and name the regressions it can see.

A pass ends when nothing actionable is left. Its measurement has three parts: code health
(coverage, tests, open lint/security findings and code-comment debt), delivery (items and
WSJF delivered, cycle time) and reliability (gate failures, work sent back, escalations, agent
success). Regressions become findings of the ``review`` source with stable fingerprints, so the
backlog gets one meta-item per problem however many passes see it. Pure: the caller measures
coverage and hands in the backlog, journal and receipts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Source, TaskType
from ..scoring import RankedItem
from ..sources.base import Finding
from .coverage import Coverage

KIND = "review"
LABEL = "process"
COVERAGE_DROP = 0.5  # percentage points: smaller moves are noise from changed test selection
REPEATED_GATE = 3  # failed tries of one gate, for one task type, in one pass
LOW_SUCCESS = 0.5
MIN_ATTEMPTS = 3  # fewer attempts say nothing about an agent
CYCLE_SLOWDOWN = 1.5
LINT_SOURCES = frozenset({"sarif", "bandit"})


def health(ranked: Sequence[RankedItem], coverage: Coverage | None) -> dict[str, Any]:
    """Code health now: coverage and tests from a coverage run, findings from the backlog."""
    # Suppressed findings and skipped tests are debt someone chose to carry, not new findings.
    open_kinds = Counter(
        entry.item.source.kind
        for entry in ranked
        if entry.item.is_open
        and entry.item.source
        and not {"suppressed", "skipped-test"} & set(entry.item.labels)
    )
    return {
        "coverage_percent": None
        if coverage is None or coverage.percent is None
        else round(coverage.percent, 2),
        "coverage_note": None if coverage is None else coverage.reason,
        "tests": None if coverage is None else coverage.tests,
        "failing_tests": None if coverage is None else coverage.failing,
        "lint_findings": sum(open_kinds[k] for k in LINT_SOURCES),
        "dependency_alerts": open_kinds["deps"],
        "comment_debt": open_kinds["comments"],
    }


def measure(
    report: Mapping[str, Any], ranked: Sequence[RankedItem], coverage: Coverage | None
) -> dict[str, Any]:
    """The pass's measurement, from the status report of its period and the coverage now."""
    return {
        "timestamp": report["timestamp"],
        "period": report["period"],
        "head": None if coverage is None else coverage.sha,
        "health": health(ranked, coverage),
        "delivery": {
            "items_delivered": len(report["items_delivered"]),
            "wsjf_delivered": report["throughput"]["wsjf"],
            "cycle_time_avg": report["cycle_time_avg"],
        },
        "reliability": {
            "gate_failures": report["gate_failures"],
            "gate_failures_by_type": report["gate_failures_by_type"],
            "sent_back": report["sent_back"],
            "escalations": report["escalations"]["count"],
            "outcomes": report["outcomes"],
            "agent_success": report["agent_success"]["by_agent"],
        },
        "starving": [row for row in report["ages"]["oldest_waiting"] if row["starving"]],
        "starving_count": report["ages"]["starving"],
        "starving_days": report["ages"]["starving_days"],
    }


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 4)


def compare(current: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """Figure by figure, this pass against the previous one (None where either is unknown)."""
    if previous is None:
        return {}
    figures = (
        ("health", "coverage_percent"),
        ("health", "tests"),
        ("health", "failing_tests"),
        ("health", "lint_findings"),
        ("health", "comment_debt"),
        ("delivery", "items_delivered"),
        ("delivery", "wsjf_delivered"),
        ("delivery", "cycle_time_avg"),
        ("reliability", "sent_back"),
        ("reliability", "escalations"),
    )
    return {
        f"{part}.{name}": {
            "now": current[part].get(name),
            "before": previous[part].get(name),
            "change": _change(current[part].get(name), previous[part].get(name)),
        }
        for part, name in figures
    }


def _finding(key: str, title: str, evidence: list[str], kind: TaskType) -> Finding:
    return Finding(
        fingerprint=key,
        title=title,
        description="Found by the end-of-pass review.\n\nEvidence:\n"
        + "\n".join(f"- {line}" for line in evidence),
        task_type=kind,
        origin=Source(kind=KIND, rule=key.split(":", 1)[0]),
        labels=(LABEL,),
    )


def regressions(current: Mapping[str, Any], previous: Mapping[str, Any] | None) -> list[Finding]:
    """What got worse, each as a finding with its evidence and a stable fingerprint."""
    found = []
    now_h, before_h = current["health"], (previous or {}).get("health") or {}
    drop = _change(before_h.get("coverage_percent"), now_h.get("coverage_percent"))
    if drop is not None and drop >= COVERAGE_DROP:
        found.append(
            _finding(
                "coverage-drop",
                f"Coverage fell from {before_h['coverage_percent']}% to "
                f"{now_h['coverage_percent']}% over the last pass",
                [
                    f"pass ending {current['timestamp']}: {now_h['coverage_percent']}% "
                    f"at {current['head']}",
                    f"previous pass: {before_h['coverage_percent']}%",
                ],
                TaskType.TEST,
            )
        )
    for kind, gates in current["reliability"]["gate_failures_by_type"].items():
        for gate, count in gates.items():
            if count >= REPEATED_GATE:
                found.append(
                    _finding(
                        f"gate:{gate}:{kind}",
                        f"The {gate} gate keeps failing for {kind} items",
                        [
                            f"{count} failed tries of {gate} in the pass ending "
                            f"{current['timestamp']}"
                        ],
                        TaskType.REFACTOR,
                    )
                )
    for agent, rate in current["reliability"]["agent_success"].items():
        if rate["attempts"] >= MIN_ATTEMPTS and (rate["rate"] or 0) < LOW_SUCCESS:
            found.append(
                _finding(
                    f"agent:{agent}",
                    f"Agent {agent} succeeds in only {rate['succeeded']} of {rate['attempts']} "
                    "attempts",
                    [f"success rate {rate['rate']} in the pass ending {current['timestamp']}"],
                    TaskType.REFACTOR,
                )
            )
    if current["starving_count"]:
        ids = ", ".join(
            f"{r['id']} ({r['age_days']} days, rank {r['rank']})" for r in current["starving"]
        )
        found.append(
            _finding(
                "starving",
                f"{current['starving_count']} item(s) waited over "
                f"{current['starving_days']:g} days despite aging",
                [f"oldest: {ids}" if ids else "see the status report's oldest waiting items"],
                TaskType.REFACTOR,
            )
        )
    found += _worse_than_before(current, previous)
    return found


def _worse_than_before(
    current: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> list[Finding]:
    if previous is None:
        return []
    found = []
    now_h, before_h = current["health"], previous["health"]
    for name, label in (("lint_findings", "Lint and security findings"),):
        if (now_h.get(name) or 0) > (before_h.get(name) or 0):
            found.append(
                _finding(
                    f"rise:{name}",
                    f"{label} rose from {before_h.get(name)} to {now_h.get(name)}",
                    [f"open {name.replace('_', ' ')} at the pass ending {current['timestamp']}"],
                    TaskType.REFACTOR,
                )
            )
    tests_now, tests_before = now_h.get("tests"), before_h.get("tests")
    if tests_now is not None and tests_before is not None and tests_now < tests_before:
        found.append(
            _finding(
                "tests-fell",
                f"The test count fell from {tests_before} to {tests_now}",
                [f"tests run at {current['head']}: {tests_now}"],
                TaskType.TEST,
            )
        )
    slow, fast = current["delivery"]["cycle_time_avg"], previous["delivery"]["cycle_time_avg"]
    if slow is not None and fast and slow > CYCLE_SLOWDOWN * fast:
        found.append(
            _finding(
                "cycle-time",
                f"Average cycle time rose from {fast:g} s to {slow:g} s",
                [f"pass ending {current['timestamp']}"],
                TaskType.PERFORMANCE,
            )
        )
    return found
