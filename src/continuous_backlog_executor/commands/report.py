"""``backlog report``: the figures of a recent period against the period before it, in the
terminal. Computed on the spot from the backlog, the journal and the receipts; writes nothing.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.table import Table

from ..context import Context
from ..errors import BacklogError
from ..output import console, print_json, print_table
from ..reports import receipts as receipts_mod
from ..reports import status as status_mod

NAME = "report"
HELP = "print this period's figures against the previous period's"
DESCRIPTION = """\
Print a summary of the last period (--since, default 7d) next to the period of the same
length before it: items processed, delivered and blocked, completion rate, cycle time,
throughput, agent success, escalations, gate failures and spend, with the change between the
two. Nothing is written; `backlog status` writes the reports to DOCS/status/."""

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``report``'s options."""
    parser.add_argument(
        "--since",
        default="7d",
        metavar="SPAN",
        help="how far back the period goes: 24h, 7d, 2w, or a date such as 2026-11-01 "
        "(default: 7d)",
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="a table (default) or JSON"
    )


def parse_since(text: str, now: datetime) -> datetime:
    """The start of the period ``text`` names: a span back from ``now``, or a date."""
    match = _SPAN.match(text.strip().lower())
    if match:
        span = float(match.group(1)) * _UNIT[match.group(2)]
        if span <= timedelta(0):
            raise BacklogError(f"--since {text!r}: the period must be longer than zero")
        return now - span
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BacklogError(
            f"--since {text!r}: use a span such as 24h, 7d or 2w, or a date such as 2026-11-01"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment >= now:
        raise BacklogError(f"--since {text!r} is not in the past")
    return moment


def _total(mapping: dict[str, int]) -> int:
    return sum(mapping.values())


# Each row: label, how to read it from a report, and whether a rise is good news.
ROWS: list[tuple[str, Callable[[dict[str, Any]], float | int | None], bool | None]] = [
    ("Items processed", lambda r: r["items_processed"], True),
    ("Items delivered (PR or done)", lambda r: len(r["items_delivered"]), True),
    ("Items completed (merged or done)", lambda r: r["items_completed"], True),
    ("Items blocked", lambda r: r["items_blocked"], False),
    ("Completion rate", lambda r: r["completion_rate"], True),
    ("Average cycle time (s)", lambda r: r["cycle_time_avg"], False),
    ("Throughput (items/day)", lambda r: r["throughput"]["items_per_day"], True),
    ("Throughput (WSJF/day)", lambda r: r["throughput"]["wsjf_per_day"], True),
    ("Agent success rate", lambda r: r["agent_success"]["overall"]["rate"], True),
    ("Agent attempts", lambda r: r["agent_success"]["overall"]["attempts"], None),
    ("Escalations", lambda r: r["escalations"]["count"], None),
    ("Gate failures", lambda r: _total(r["gate_failures"]), False),
    ("Tokens", lambda r: r["spend"]["tokens"], None),
    ("Cost (USD)", lambda r: r["spend"]["cost_usd"], False),
]


def trend(now: float | None, before: float | None, rise_is_good: bool | None) -> str:
    """The change from ``before`` to ``now`` as text, with an arrow and a word for its sense."""
    if now is None or before is None:
        return "n/a"
    change = now - before
    if abs(change) < 1e-9:
        return "= same"
    arrow = "▲" if change > 0 else "▼"
    text = f"{arrow} {change:+.4g}"
    if before:
        text += f" ({change / abs(before):+.0%})"
    if rise_is_good is not None:
        text += " better" if (change > 0) == rise_is_good else " worse"
    return text


def compare(ctx: Context, since: datetime) -> dict[str, Any]:
    """The report of ``(since, now]`` and of the period of the same length before it."""
    ranked = ctx.load().ranked(ctx.config.scoring, ctx.now)
    events = ctx.journal.read()
    recorded = receipts_mod.load(ctx.state.root)
    inputs = status_mod.Inputs(
        receipts=recorded, risk=status_mod.risk_classes(ranked, ctx.config.escalation, recorded)
    )
    current = status_mod.build(ranked, events, now=ctx.now, since=since, inputs=inputs)
    earlier = since - (ctx.now - since)
    previous = status_mod.build(ranked, events, now=since, since=earlier, inputs=inputs)
    rows = []
    for label, read, good in ROWS:
        this, that = read(current), read(previous)
        rows.append(
            {"metric": label, "now": this, "before": that, "trend": trend(this, that, good)}
        )
    return {
        "period": current["period"],
        "previous_period": previous["period"],
        "rows": rows,
        "backlog_size_by_status": current["backlog_size_by_status"],
        "blocked_items": current["blocked_items"],
        "gate_failures": current["gate_failures"],
    }


def _shown(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Compute both periods and print them side by side."""
    result = compare(ctx, parse_since(args.since, ctx.now))
    if args.format == "json":
        print_json(result)
        return 0
    out = console()
    period, before = result["period"], result["previous_period"]
    table = Table(title=f"{period['since']} to {period['until']} (against the period before)")
    for column in ("Metric", "This period", "Previous period", "Change"):
        table.add_column(column, justify="left" if column in ("Metric", "Change") else "right")
    for row in result["rows"]:
        table.add_row(row["metric"], _shown(row["now"]), _shown(row["before"]), row["trend"])
    print_table(out, table)
    out.print(f"previous period: {before['since']} to {before['until']}", markup=False)
    sizes = ", ".join(f"{k} {v}" for k, v in result["backlog_size_by_status"].items() if v)
    out.print(f"backlog now: {sizes or 'empty'}", markup=False)
    if result["gate_failures"]:
        gates = ", ".join(f"{k} {v}" for k, v in result["gate_failures"].items())
        out.print(f"gate failures this period: {gates}", markup=False)
    for blocked in result["blocked_items"]:
        out.print(
            f"blocked {blocked['id']} since {blocked['since']}: {blocked['reason']}", markup=False
        )
    return 0
