"""The status report: metrics computed from the backlog and the journal, as JSON and Markdown.

Pure: it is handed the items, their scores, the journal's events and the period, and returns
data. Every value is computed; where something cannot be (no coverage measured, no cycle
finished), the value is ``null`` and a note says why.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..lifecycle import Event
from ..model import FINISHED_STATUSES, TaskStatus, as_utc
from ..policy import EscalationSettings, escalations
from ..scoring import RankedItem
from . import metrics
from .receipts import Recorded

WSJF_BUCKETS = ((0.0, 1.0), (1.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, float("inf")))


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _in_period(event: Event, since: datetime | None, until: datetime) -> bool:
    return (since is None or event.time > since) and event.time <= until


def cycle_times(events: Sequence[Event], since: datetime | None, until: datetime) -> list[float]:
    """Seconds from entering DOING to reaching PR or done, for cycles ending in the period."""
    ended = metrics.cycles(events, lambda _index, event: _in_period(event, since, until))
    return [cycle.seconds for cycle in ended]


def wsjf_distribution(ranked: Sequence[RankedItem]) -> dict[str, Any]:
    """Count, spread and buckets of WSJF over open items."""
    scores = sorted(entry.wsjf for entry in ranked if entry.item.is_open)
    buckets = {
        (f"{low:g}-{high:g}" if high != float("inf") else f"{low:g}+"): sum(
            1 for s in scores if low <= s < high
        )
        for low, high in WSJF_BUCKETS
    }
    if not scores:
        return {
            "count": 0,
            "min": None,
            "max": None,
            "mean": None,
            "median": None,
            "buckets": buckets,
        }
    quartiles = statistics.quantiles(scores, n=4) if len(scores) > 1 else [scores[0]] * 3
    return {
        "count": len(scores),
        "min": round(scores[0], 4),
        "max": round(scores[-1], 4),
        "mean": round(statistics.fmean(scores), 4),
        "median": round(statistics.median(scores), 4),
        "p25": round(quartiles[0], 4),
        "p75": round(quartiles[2], 4),
        "buckets": buckets,
    }


def _last_blocked(events: Sequence[Event]) -> dict[str, datetime]:
    since: dict[str, datetime] = {}
    for event in events:
        if event.to_status is TaskStatus.BLOCKED:
            since[event.item] = event.time
    return since


def risk_classes(
    ranked: Sequence[RankedItem], settings: EscalationSettings, attempts: Sequence[Recorded]
) -> dict[str, str]:
    """The risk class of each item an agent worked on: the first escalation trigger its
    words, paths or effort set off, else the first one its diff set off (from the receipts);
    items not listed are ``low``. Only attempted items are classed: a large backlog's other
    items would cost a full score breakdown each, on every report."""
    found: dict[str, str] = {}
    for recorded in attempts:
        for step in recorded.receipt.steps:
            if step.name == "escalation" and not step.passed:
                found.setdefault(recorded.receipt.item_id, step.reason.split(":", 1)[0])
    attempted = {recorded.receipt.item_id for recorded in attempts}
    for entry in ranked:
        if entry.item.id not in attempted:
            continue
        before = escalations(entry.item, entry.score, settings)
        if before:
            found[entry.item.id] = str(before[0].trigger)
    return found


def _latest_receipts(attempts: Sequence[Recorded]) -> dict[str, str]:
    return {r.receipt.item_id: r.path for r in attempts}


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a report is computed from, beside the backlog and the journal."""

    receipts: Sequence[Recorded] = ()
    risk: Mapping[str, str] = field(default_factory=dict)
    coverage: Mapping[str, Any] | None = None  # delta, note, base and after measurements
    starving_days: float = 30.0
    table_rows: int = 50


def build(
    ranked: Sequence[RankedItem],
    events: Sequence[Event],
    *,
    now: datetime,
    since: datetime | None,
    first_event: int | None = None,
    inputs: Inputs | None = None,
) -> dict[str, Any]:
    """The report for the period since the previous report.

    The period is the journal's events from index ``first_event`` on (the previous report
    records how many it had seen, so every event lands in exactly one report); without it,
    the events in ``(since, now]``, or the whole journal when ``since`` is None as well.
    Receipts count when their attempt finished in ``(since, now]``.
    """
    extra = inputs or Inputs()
    if first_event is not None:
        period = list(events[first_event:])
    else:
        period = [event for event in events if _in_period(event, since, now)]
    completed = sorted({e.item for e in period if e.to_status in FINISHED_STATUSES})
    processed = {e.item for e in period if e.to_status is TaskStatus.DOING}
    blocked_now = {e.item for e in period if e.to_status is TaskStatus.BLOCKED}
    ended = metrics.cycles(
        events,
        lambda index, event: (
            index >= first_event if first_event is not None else _in_period(event, since, now)
        ),
    )
    times = [cycle.seconds for cycle in ended]
    sizes = Counter(entry.item.status for entry in ranked)
    blocked_since = _last_blocked(events)
    open_ranked = [entry for entry in ranked if entry.item.is_open]
    items = {entry.item.id: entry.item for entry in ranked}
    wsjf = {entry.item.id: entry.wsjf for entry in ranked}
    attempts = [
        r
        for r in extra.receipts
        if r.receipt.finished is not None
        and (since is None or as_utc(r.receipt.finished) > since)
        and as_utc(r.receipt.finished) <= now
    ]
    delivered = metrics.delivered(period)
    receipt_of = _latest_receipts(extra.receipts)
    coverage = dict(extra.coverage or {})
    risks = metrics.risks(ranked, extra.risk)  # highest WSJF first; the list shows the top
    return {
        "timestamp": _stamp(now),
        "period": {"since": _stamp(since), "until": _stamp(now)},
        "journal_events": len(events),
        "completed_items": completed,
        "coverage_delta": coverage.get("delta"),
        "coverage_delta_note": coverage.get("note")
        if coverage
        else "no coverage measurement was recorded in this period",
        "coverage": {k: v for k, v in coverage.items() if k not in ("delta", "note")},
        "cycle_time_avg": round(statistics.fmean(times), 1) if times else None,
        "cycle_time_note": None if times else "no item finished a DOING cycle in this period",
        "items_processed": len(processed),
        "items_completed": len(completed),
        "items_blocked": len(blocked_now),
        "items_delivered": [item_id for item_id, _ in delivered],
        # Of the items picked in the period, the share whose work reached a PR or done.
        "completion_rate": round(len(processed & {i for i, _ in delivered}) / len(processed), 4)
        if processed
        else None,
        "backlog_size_by_status": {status.value: sizes.get(status, 0) for status in TaskStatus},
        "backlog_size": len(ranked),
        "wsjf_distribution": wsjf_distribution(ranked),
        "throughput": metrics.throughput(delivered, wsjf, since, now),
        "cycle_time": {
            **metrics.cycle_time_by(ended, items),
            "cycles": [
                {"id": c.item, "ended": _stamp(c.ended), "seconds": round(c.seconds, 1)}
                for c in ended
            ],
        },
        "agent_success": metrics.agent_success(attempts, items, extra.risk),
        "gate_failures": metrics.gate_failures(attempts),
        "gate_failures_by_type": metrics.gate_failures_by_type(attempts, items),
        "outcomes": metrics.outcomes(attempts),
        "sent_back": metrics.sent_back(period),
        "escalations": metrics.escalations(period),
        "spend": metrics.spend(attempts, extra.receipts, [item for item, _ in delivered]),
        "ages": metrics.ages(ranked, now, extra.starving_days),
        "risks": risks[: extra.table_rows],
        "risks_total": len(risks),
        "blocked_items": [
            {
                "id": entry.item.id,
                "title": entry.item.title,
                "reason": entry.item.blocked_reason,
                "since": _stamp(blocked_since.get(entry.item.id, entry.item.updated_at)),
            }
            for entry in ranked
            if entry.item.status is TaskStatus.BLOCKED
        ],
        "next_up": [
            {"id": e.item.id, "title": e.item.title, "wsjf": round(e.wsjf, 4)}
            for e in open_ranked
            if e.item.status in (TaskStatus.NEW, TaskStatus.REFINED, TaskStatus.READY)
        ][:5],
        "ranked": [
            {
                "rank": number,
                "id": e.item.id,
                "title": e.item.title,
                "status": str(e.item.status),
                "type": str(e.item.task_type),
                "source": metrics.source_of(e.item),
                "wsjf": round(e.wsjf, 4),
                "age_days": round((now - e.item.created_at).total_seconds() / 86400, 1),
                "pr_url": e.item.pr_url,
                "receipt": receipt_of.get(e.item.id),
            }
            for number, e in enumerate(open_ranked[: extra.table_rows], start=1)
        ],
    }
