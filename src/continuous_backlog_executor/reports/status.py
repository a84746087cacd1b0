"""The status report: metrics computed from the backlog and the journal, as JSON and Markdown.

Pure: it is handed the items, their scores, the journal's events and the period, and returns
data. Every value is computed; where something cannot be (no coverage measured, no cycle
finished), the value is ``null`` and a note says why.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..lifecycle import Event
from ..model import FINISHED_STATUSES, TaskStatus
from ..scoring import RankedItem

WSJF_BUCKETS = ((0.0, 1.0), (1.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, float("inf")))
CYCLE_ENDS = frozenset({TaskStatus.PR, TaskStatus.MERGED, TaskStatus.DONE})


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _in_period(event: Event, since: datetime | None, until: datetime) -> bool:
    return (since is None or event.time > since) and event.time <= until


def cycle_times(
    events: Sequence[Event],
    since: datetime | None,
    until: datetime,
    *,
    first_event: int | None = None,
) -> list[float]:
    """Seconds from entering DOING to reaching PR or done, for cycles ending in the period
    (the events from index ``first_event`` on, when given; else those between the times)."""
    started: dict[str, datetime] = {}
    times = []
    for index, event in enumerate(events):
        if event.to_status is TaskStatus.DOING:
            started[event.item] = event.time
        elif event.to_status in CYCLE_ENDS and event.item in started:
            begin = started.pop(event.item)
            in_period = (
                index >= first_event if first_event is not None else _in_period(event, since, until)
            )
            if in_period:
                times.append((event.time - begin).total_seconds())
    return times


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


def build(
    ranked: Sequence[RankedItem],
    events: Sequence[Event],
    *,
    now: datetime,
    since: datetime | None,
    first_event: int | None = None,
) -> dict[str, Any]:
    """The report for the period since the previous report.

    The period is the journal's events from index ``first_event`` on (the previous report
    records how many it had seen, so every event lands in exactly one report); without it,
    the events in ``(since, now]``, or the whole journal when ``since`` is None as well.
    """
    if first_event is not None:
        period = list(events[first_event:])
    else:
        period = [event for event in events if _in_period(event, since, now)]
    completed = sorted({e.item for e in period if e.to_status in FINISHED_STATUSES})
    processed = {e.item for e in period if e.to_status is TaskStatus.DOING}
    blocked_now = {e.item for e in period if e.to_status is TaskStatus.BLOCKED}
    times = cycle_times(events, since, now, first_event=first_event)
    sizes = Counter(entry.item.status for entry in ranked)
    blocked_since = _last_blocked(events)
    open_ranked = [entry for entry in ranked if entry.item.is_open]
    return {
        "timestamp": _stamp(now),
        "period": {"since": _stamp(since), "until": _stamp(now)},
        "journal_events": len(events),
        "completed_items": completed,
        "coverage_delta": None,
        "coverage_delta_note": "no coverage measurement was recorded in this period",
        "cycle_time_avg": round(statistics.fmean(times), 1) if times else None,
        "cycle_time_note": None if times else "no item finished a DOING cycle in this period",
        "items_processed": len(processed),
        "items_completed": len(completed),
        "items_blocked": len(blocked_now),
        "completion_rate": round(len(completed) / len(processed), 4) if processed else None,
        "backlog_size_by_status": {status.value: sizes.get(status, 0) for status in TaskStatus},
        "backlog_size": len(ranked),
        "wsjf_distribution": wsjf_distribution(ranked),
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
    }


def _cell(value: object) -> str:
    return "-" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict[str, Any]) -> str:
    """The report for people, with the same numbers as the JSON."""
    since = report["period"]["since"] or "the start of the journal"
    dist = report["wsjf_distribution"]
    lines = [
        f"# Backlog status, {report['timestamp']}",
        "",
        f"Period: {since} to {report['period']['until']}.",
        "",
        "| Metric | Value |",
        "| --- | --- |",
        f"| Items processed (entered DOING) | {report['items_processed']} |",
        f"| Items completed | {report['items_completed']} |",
        f"| Items blocked | {report['items_blocked']} |",
        f"| Completion rate | {_cell(report['completion_rate'])} |",
        f"| Average cycle time (s) | {_cell(report['cycle_time_avg'])} |",
        f"| Coverage delta | {_cell(report['coverage_delta'])} |",
        "",
    ]
    notes = [report[k] for k in ("coverage_delta_note", "cycle_time_note") if report.get(k)]
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    lines += ["## Backlog by status", "", "| Status | Items |", "| --- | --- |"]
    lines += [
        f"| {status} | {count} |" for status, count in report["backlog_size_by_status"].items()
    ]
    lines += ["", "## WSJF of open items", ""]
    if dist["count"]:
        lines.append(
            f"{dist['count']} open items; min {dist['min']}, median {dist['median']}, "
            f"mean {dist['mean']}, max {dist['max']}."
        )
        lines += ["", "| WSJF | Items |", "| --- | --- |"]
        lines += [f"| {bucket} | {count} |" for bucket, count in dist["buckets"].items()]
    else:
        lines.append("No open items.")
    lines += ["", "## Blocked items", ""]
    if report["blocked_items"]:
        lines += ["| Item | Title | Reason | Since |", "| --- | --- | --- | --- |"]
        lines += [
            "| " + " | ".join(_cell(b[key]) for key in ("id", "title", "reason", "since")) + " |"
            for b in report["blocked_items"]
        ]
    else:
        lines.append("Nothing is blocked.")
    lines += ["", "## Completed in this period", ""]
    lines += [f"- {item}" for item in report["completed_items"]] or ["Nothing."]
    lines += ["", "## Next up", ""]
    lines += [
        f"1. {n['id']} (WSJF {n['wsjf']}): {_cell(n['title'])}" for n in report["next_up"]
    ] or ["Nothing is waiting."]
    return "\n".join(lines) + "\n"
