"""``backlog plan``: what a run would do, in order, without writing anything."""

from __future__ import annotations

import argparse

from rich.table import Table

from ..context import Context
from ..github.remote import origin_repo
from ..output import console, print_json, print_table
from ..policy import Action, Decision, decide
from . import _options

NAME = "plan"
HELP = "show what a run would do, in order, writing nothing"
DESCRIPTION = """\
Rank the backlog and show, for each item in turn, what a run would do with it: refine it
(write acceptance criteria), slice it (split a large item), execute the TDD micro-cycle up to a
pull request, hold it for a human's approval (with the escalation trigger), or skip it (with
the reason). Nothing is written."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``plan``'s options."""
    parser.add_argument(
        "--max-cycles",
        type=_options.positive,
        metavar="N",
        help="a run would stop after N items (default: execution.max_cycles, else all)",
    )
    _options.add_format(parser)


def decisions(ctx: Context) -> tuple[int, list[Decision]]:
    """The item count and the decision for every open item, in rank order."""
    backlog = ctx.load()
    threshold = ctx.config.value("execution.slice_size_threshold")
    escalation = ctx.config.escalation
    ranked = backlog.ranked(ctx.config.scoring, ctx.now)
    home = ctx.config.value("github.repo") or origin_repo(ctx.repo)
    result = [
        decide(
            entry.item,
            entry.score,
            escalation=escalation,
            slice_size_threshold=threshold,
            home=home,
            portfolio=frozenset(ctx.config.value("github.reposToScan")),
        )
        for entry in ranked
        if entry.item.is_open
    ]
    return len(backlog.items), result


def _row(decision: Decision) -> dict[str, object]:
    return {
        "id": decision.item.id,
        "title": decision.item.title,
        "status": decision.item.status.value,
        "wsjf": round(decision.score.wsjf, 4),
        "action": decision.action.value,
        "steps": list(decision.steps),
        "reasons": list(decision.reasons),
    }


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the plan."""
    total, all_decisions = decisions(ctx)
    limit = args.max_cycles or ctx.config.value("execution.max_cycles")
    taken = [d for d in all_decisions if d.actionable][:limit]
    held = [d for d in all_decisions if d.action is Action.HOLD]
    skipped = [d for d in all_decisions if d.action is Action.SKIP]
    later = [d for d in all_decisions if d.actionable and d not in taken]
    if args.format == "json":
        print_json(
            {
                "backlog": str(ctx.store.path),
                "items": total,
                "max_cycles": limit,
                "take": [_row(d) for d in taken],
                "later": [_row(d) for d in later],
                "held": [_row(d) for d in held],
                "skipped": [_row(d) for d in skipped],
            }
        )
        return 0
    out = console()
    out.print(
        f"Plan for {ctx.store.path}: {total} items, {len(all_decisions)} open. "
        f"A run would take {len(taken)} item(s), best WSJF first"
        + (f" (stopping after {limit})" if limit else "")
        + ".",
        markup=False,
    )
    if taken:
        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        for column in ("#", "ID", "WSJF", "Action", "Steps (and why)"):
            table.add_column(column)
        for number, decision in enumerate(taken, start=1):
            why = f"  ({'; '.join(decision.reasons)})" if decision.reasons else ""
            table.add_row(
                str(number),
                decision.item.id,
                f"{decision.score.wsjf:.2f}",
                decision.action.value,
                " -> ".join(decision.steps) + why,
            )
        print_table(out, table)
    if later:
        out.print(f"Left for later runs: {', '.join(d.item.id for d in later)}", markup=False)
    for title, group in (("Held for approval (`backlog approve ID`)", held), ("Skipped", skipped)):
        if group:
            out.print(f"{title}:", markup=False)
            for decision in group:
                out.print(f"  {decision.item.id}  {'; '.join(decision.reasons)}", markup=False)
    if not all_decisions:
        out.print("There are no open items.")
    elif not taken:
        out.print("Nothing actionable: every open item is held, blocked or in progress.")
    out.print("Nothing was written.")
    return 0
