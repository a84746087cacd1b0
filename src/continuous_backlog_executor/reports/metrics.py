"""The status report's detailed metrics: throughput, cycle times by kind, agent success, gate
failures, escalations, spend, ages and risks. Pure functions of the backlog, the journal's
events and the evidence receipts.

Every figure is computed from what the engine recorded itself; a figure that has nothing to be
computed from is ``None``, never zero, so a chart or a reader can tell "none" from "unknown".
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..lifecycle import Event
from ..model import BacklogItem, TaskStatus
from ..scoring import RankedItem
from . import receipts as receipts_mod
from .receipts import Recorded

S = TaskStatus
CYCLE_ENDS = frozenset({S.PR, S.MERGED, S.DONE})
WAITING = frozenset({S.NEW, S.REFINED, S.READY})
APPROVAL = "needs approval: "
AGE_BUCKETS = ((0, 1, "<1d"), (1, 7, "1-7d"), (7, 30, "7-30d"), (30, 90, "30-90d"))
OLDEST_SHOWN = 5
# Steps that record facts rather than judge the work: their "failures" are not gate failures.
NOT_GATES = frozenset({"escalation", "partial work", "agent commits", "pull request"})


def stamp(moment: datetime | None) -> str | None:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


@dataclass(frozen=True, slots=True)
class Cycle:
    """One item's way from DOING to a pull request or done."""

    item: str
    started: datetime
    ended: datetime

    @property
    def seconds(self) -> float:
        """How long the cycle took."""
        return (self.ended - self.started).total_seconds()


def cycles(events: Sequence[Event], in_period: Callable[[int, Event], bool]) -> list[Cycle]:
    """The cycles that ended in the period (``in_period(index, event)`` of the ending event)."""
    started: dict[str, datetime] = {}
    found = []
    for index, event in enumerate(events):
        if event.to_status is S.DOING:
            started[event.item] = event.time
        elif event.to_status in CYCLE_ENDS and event.item in started:
            begin = started.pop(event.item)
            if in_period(index, event):
                found.append(Cycle(event.item, begin, event.time))
    return found


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "avg": round(statistics.fmean(values), 1) if values else None,
        "median": round(statistics.median(values), 1) if values else None,
    }


def source_of(item: BacklogItem | None) -> str:
    """The kind of source an item came from; hand-written items are ``manual``."""
    if item is None:
        return "unknown"
    return item.source.kind if item.source else "manual"


def cycle_time_by(
    found: Sequence[Cycle], items: Mapping[str, BacklogItem]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Cycle time count, mean and median by task type and by source."""
    by_type: dict[str, list[float]] = defaultdict(list)
    by_source: dict[str, list[float]] = defaultdict(list)
    for cycle in found:
        item = items.get(cycle.item)
        by_type[str(item.task_type) if item else "unknown"].append(cycle.seconds)
        by_source[source_of(item)].append(cycle.seconds)
    return {
        "by_type": {key: _spread(v) for key, v in sorted(by_type.items())},
        "by_source": {key: _spread(v) for key, v in sorted(by_source.items())},
    }


def delivered(period: Iterable[Event]) -> list[tuple[str, datetime]]:
    """Items whose work reached a pull request or done in the period, once each, with when."""
    seen: dict[str, datetime] = {}
    for event in period:
        if event.to_status in CYCLE_ENDS and event.from_status not in CYCLE_ENDS:
            seen.setdefault(event.item, event.time)
    return sorted(seen.items(), key=lambda pair: (pair[1], pair[0]))


def throughput(
    done: Sequence[tuple[str, datetime]],
    wsjf: Mapping[str, float],
    since: datetime | None,
    until: datetime,
) -> dict[str, Any]:
    """Items and WSJF delivered per day over the period, and day by day."""
    start = since or (done[0][1] if done else None)
    # A period shorter than a day counts as one: three items in an hour are three a day so
    # far, not seventy-two.
    days = max((until - start).total_seconds() / 86400, 1.0) if start else None
    by_day: dict[str, dict[str, float]] = {}
    for item_id, moment in done:
        day = by_day.setdefault(moment.strftime("%Y-%m-%d"), {"items": 0, "wsjf": 0.0})
        day["items"] += 1
        day["wsjf"] = round(day["wsjf"] + wsjf.get(item_id, 0.0), 4)
    total_wsjf = sum(wsjf.get(item_id, 0.0) for item_id, _ in done)
    return {
        "items": len(done),
        "wsjf": round(total_wsjf, 4),
        "days": round(days, 3) if days else None,
        "items_per_day": round(len(done) / days, 3) if days else None,
        "wsjf_per_day": round(total_wsjf / days, 3) if days else None,
        "by_day": dict(sorted(by_day.items())),
    }


def _rate(succeeded: int, attempts: int) -> dict[str, Any]:
    return {
        "attempts": attempts,
        "succeeded": succeeded,
        "rate": round(succeeded / attempts, 4) if attempts else None,
    }


def agent_success(
    attempts: Sequence[Recorded],
    items: Mapping[str, BacklogItem],
    risk: Mapping[str, str],
) -> dict[str, Any]:
    """How many attempts ended in success, by agent, by source and by risk class."""
    groups: dict[str, dict[str, list[bool]]] = {
        "by_agent": defaultdict(list),
        "by_source": defaultdict(list),
        "by_risk": defaultdict(list),
    }
    for recorded in attempts:
        receipt = recorded.receipt
        ok = str(receipt.outcome) == "success"
        groups["by_agent"][receipt.agent].append(ok)
        groups["by_source"][source_of(items.get(receipt.item_id))].append(ok)
        groups["by_risk"][risk.get(receipt.item_id, "low")].append(ok)
    overall = [str(r.receipt.outcome) == "success" for r in attempts]
    return {
        "overall": _rate(sum(overall), len(overall)),
        **{
            name: {key: _rate(sum(v), len(v)) for key, v in sorted(group.items())}
            for name, group in groups.items()
        },
    }


def gate_failures(attempts: Sequence[Recorded]) -> dict[str, int]:
    """Failed tries of each gate (criteria, red, green, security, ci...) in the attempts."""
    counts: Counter[str] = Counter(
        step.name
        for recorded in attempts
        for step in recorded.receipt.steps
        if not step.passed and step.name not in NOT_GATES
    )
    return dict(sorted(counts.items()))


def gate_failures_by_type(
    attempts: Sequence[Recorded], items: Mapping[str, BacklogItem]
) -> dict[str, dict[str, int]]:
    """Failed gate tries by the item's task type: a gate that keeps failing for one kind of
    item points at a process problem (a test setup, a missing tool), not at one item."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for recorded in attempts:
        item = items.get(recorded.receipt.item_id)
        kind = str(item.task_type) if item else "unknown"
        for step in recorded.receipt.steps:
            if not step.passed and step.name not in NOT_GATES:
                counts[kind][step.name] += 1
    return {kind: dict(sorted(c.items())) for kind, c in sorted(counts.items())}


def outcomes(attempts: Sequence[Recorded]) -> dict[str, int]:
    """How the period's attempts ended, counted by outcome."""
    counts = Counter(str(r.receipt.outcome or "unfinished") for r in attempts)
    return dict(sorted(counts.items()))


def sent_back(period: Iterable[Event]) -> int:
    """Work undone in the period: pull requests sent back for changes, finished items
    reopened because their problem came back."""
    back = {(S.PR, S.DOING), (S.DONE, S.NEW), (S.MERGED, S.NEW)}
    return sum(1 for e in period if (e.from_status, e.to_status) in back)


def triggers(reason: str) -> list[str]:
    """The escalation triggers named in a ``needs approval: trigger: detail; ...`` reason."""
    if not reason.startswith(APPROVAL):
        return []
    return [part.split(":", 1)[0].strip() for part in reason[len(APPROVAL) :].split("; ")]


def escalations(period: Iterable[Event]) -> dict[str, Any]:
    """Items held for approval in the period, counted by the trigger that held them."""
    held = [e for e in period if e.to_status is S.BLOCKED and e.reason.startswith(APPROVAL)]
    by_trigger: Counter[str] = Counter(t for e in held for t in triggers(e.reason))
    return {"count": len(held), "by_trigger": dict(sorted(by_trigger.items()))}


def spend(
    attempts: Sequence[Recorded], everything: Sequence[Recorded], completed: Sequence[str]
) -> dict[str, Any]:
    """Tokens and cost of the period's attempts, and of the completed items (all attempts)."""
    costs = [receipts_mod.cost(r.receipt) for r in attempts]
    known = [c for c in costs if c is not None]
    by_item: list[dict[str, Any]] = []
    for item_id in completed:
        own = [r.receipt for r in everything if r.receipt.item_id == item_id]
        item_costs = [c for c in (receipts_mod.cost(r) for r in own) if c is not None]
        by_item.append(
            {
                "id": item_id,
                "attempts": len(own),
                "tokens": sum(receipts_mod.tokens(r) for r in own),
                "cost_usd": round(sum(item_costs), 6) if item_costs else None,
            }
        )
    item_cost = [row["cost_usd"] for row in by_item if row["cost_usd"] is not None]
    return {
        "attempts": len(attempts),
        "tokens": sum(receipts_mod.tokens(r.receipt) for r in attempts),
        "cost_usd": round(sum(known), 6) if known else None,
        "per_completed_item": {
            "items": len(by_item),
            "tokens": round(sum(r["tokens"] for r in by_item) / len(by_item), 1)
            if by_item
            else None,
            "cost_usd": round(sum(item_cost) / len(item_cost), 6) if item_cost else None,
        },
        "by_item": by_item,
    }


def ages(ranked: Sequence[RankedItem], now: datetime, starving_days: float) -> dict[str, Any]:
    """Age buckets of open items and the oldest ones still waiting to be picked.

    An item waiting longer than ``starving_days`` is starving: the aging multiplier exists to
    lift such items, so seeing them here means the multiplier is too weak for this backlog.
    """
    open_items = [entry for entry in ranked if entry.item.is_open]
    buckets = {label: 0 for _low, _high, label in AGE_BUCKETS} | {"90d+": 0}
    for entry in open_items:
        age = (now - entry.item.created_at) / timedelta(days=1)
        label = next((lab for low, high, lab in AGE_BUCKETS if low <= age < high), "90d+")
        buckets[label] += 1
    rank_of = {entry.item.id: number for number, entry in enumerate(open_items, start=1)}
    waiting = sorted(
        (entry for entry in open_items if entry.item.status in WAITING),
        key=lambda entry: (entry.item.created_at, entry.item.id),
    )
    oldest = [
        {
            "id": entry.item.id,
            "title": entry.item.title,
            "age_days": round((now - entry.item.created_at) / timedelta(days=1), 1),
            "aging_multiplier": round(entry.score.aging_multiplier, 3),
            "wsjf": round(entry.wsjf, 4),
            "rank": rank_of[entry.item.id],
            "starving": (now - entry.item.created_at) / timedelta(days=1) > starving_days,
        }
        for entry in waiting[:OLDEST_SHOWN]
    ]
    return {
        "buckets": buckets,
        "oldest_waiting": oldest,
        "starving": sum(
            1
            for entry in waiting
            if (now - entry.item.created_at) / timedelta(days=1) > starving_days
        ),
        "starving_days": starving_days,
    }


def risks(ranked: Sequence[RankedItem], risk: Mapping[str, str]) -> list[dict[str, Any]]:
    """What a lead should look at: items awaiting approval, open security items, items that
    used up their attempts, and open items in a risky class."""
    found = []
    for entry in ranked:
        item = entry.item
        if not item.is_open:
            continue
        why = []
        if item.status is S.BLOCKED and (item.blocked_reason or "").startswith(APPROVAL):
            why.append("awaiting approval")
        if str(item.task_type) == "Security":
            why.append("open security item")
        if item.status is S.BLOCKED and item.attempts >= 2:
            why.append(f"blocked after {item.attempts} attempts")
        if risk.get(item.id, "low") != "low" and not why:
            why.append(risk[item.id])
        if why:
            found.append(
                {
                    "id": item.id,
                    "title": item.title,
                    "status": str(item.status),
                    "risk": risk.get(item.id, "low"),
                    "why": "; ".join(why),
                }
            )
    return found
