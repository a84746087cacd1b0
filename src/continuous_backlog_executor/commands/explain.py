"""``backlog explain``: how an item's WSJF score was reached, value by value."""

from __future__ import annotations

import argparse

from ..context import Context
from ..output import console, print_json, score_json, stamp
from ..scoring import COMPONENTS
from . import _options

NAME = "explain"
HELP = "show how an item's WSJF score is worked out"
DESCRIPTION = """\
Show each WSJF input and the rule that set it (the item's own value, a keyword set, the due
date, or the default for its type), the cost of delay, the aging multiplier from the item's
age in fractional days, the effort, the result, and the item's rank."""

LABELS = {
    "impact": "impact",
    "time_criticality": "time criticality",
    "risk_reduction": "risk reduction",
    "effort": "effort",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``explain``'s options."""
    parser.add_argument("item_id", metavar="ID", help="the item's id")
    _options.add_format(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the breakdown."""
    backlog = ctx.load()
    item = backlog.get(args.item_id)
    ranked = backlog.ranked(ctx.config.scoring, ctx.now)
    open_ranked = [entry for entry in ranked if entry.item.is_open]
    result = next(entry.score for entry in ranked if entry.item is item)
    position = next((n for n, e in enumerate(open_ranked, start=1) if e.item is item), None)
    if args.format == "json":
        print_json(
            {"id": item.id, **score_json(result), "rank": position, "open_items": len(open_ranked)}
        )
        return 0
    settings = ctx.config.scoring
    weights = settings.weights
    out = console()
    out.print(f"{item.id}  {item.title}", markup=False)
    for name in COMPONENTS[:3]:
        part = result.component(name)
        how = f"estimated: {part.rule}" if part.estimated else part.rule
        out.print(f"  {LABELS[name]:<17}{part.value:>6}   {how}", markup=False)
    out.print(
        f"  {'cost of delay':<17}{result.cost_of_delay:>6g}   = "
        f"{weights.impact:g} x {result.impact.value} + "
        f"{weights.time_criticality:g} x {result.time_criticality.value} + "
        f"{weights.risk_reduction:g} x {result.risk_reduction.value}",
        markup=False,
    )
    out.print(
        f"  {'age':<17}{result.days_old:>6.2f}   days since created_at {stamp(item.created_at)} "
        "(fractional days)",
        markup=False,
    )
    capped = f", capped at aging_cap {settings.aging_cap:g}" if result.aging_capped else ""
    out.print(
        f"  {'aging multiplier':<17}{result.aging_multiplier:>6.2f}   "
        f"= min({settings.aging_cap:g}, 1 + {result.days_old:.2f} x {settings.aging_per_day:g})"
        f"{capped}",
        markup=False,
    )
    effort = result.effort
    how = f"estimated: {effort.rule}" if effort.estimated else effort.rule
    out.print(f"  {'effort':<17}{effort.value:>6}   {how}", markup=False)
    out.print(
        f"  {'WSJF':<17}{result.wsjf:>6.2f}   = {result.cost_of_delay:g} x "
        f"{result.aging_multiplier:.2f} / {effort.value}",
        markup=False,
    )
    where = (
        f"{position} of {len(open_ranked)} open items"
        if position
        else f"not ranked ({item.status})"
    )
    out.print(f"  {'rank':<17}{where:>6}", markup=False)
    return 0
