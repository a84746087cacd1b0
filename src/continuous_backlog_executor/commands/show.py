"""``backlog show``: everything about one item."""

from __future__ import annotations

import argparse

from ..context import Context
from ..model import Source
from ..output import console, inputs, item_json, print_json, stamp
from ..scoring import score
from . import _options

NAME = "show"
HELP = "show one item in full"
DESCRIPTION = "Show every field of one item, its WSJF inputs and where it came from."


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``show``'s options."""
    parser.add_argument("item_id", metavar="ID", help="the item's id")
    _options.add_format(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the item."""
    backlog = ctx.load()
    item = backlog.get(args.item_id)
    result = score(item, ctx.config.scoring, ctx.now)
    item.wsjf_score, item.aging_multiplier = result.wsjf, result.aging_multiplier
    if args.format == "json":
        print_json(item_json(item, result))
        return 0
    out = console()
    out.print(f"[bold]{item.id}[/bold]  {item.title}", markup=True, highlight=False)
    rows = [
        (
            "status",
            item.status.value + (f" ({item.blocked_reason})" if item.blocked_reason else ""),
        ),
        ("type", item.task_type.value),
        ("wsjf", f"{result.wsjf:.2f}"),
        ("created", stamp(item.created_at)),
        ("updated", stamp(item.updated_at)),
        ("due", item.due_date.isoformat() if item.due_date else None),
        ("source", _source(item.source)),
        *(("also found by", _source(other)) for other in item.also_found_by),
        ("pull request", item.pr_url),
        (
            "approved",
            f"by {item.approval.by} at {stamp(item.approval.at)}" if item.approval else None,
        ),
        ("attempts", str(item.attempts) if item.attempts else None),
        ("labels", ", ".join(item.labels) or None),
        ("resolution", item.resolution),
    ]
    for name, value in rows:
        if value:
            out.print(f"  {name:<13} {value}", markup=False)
    out.print("  inputs        ", inputs(result), sep="")
    for title, lines in (
        ("description", item.description.splitlines()),
        ("acceptance criteria", [f"- {c}" for c in item.acceptance_criteria]),
        ("links", item.links),
        ("security notes", item.security_notes.splitlines()),
        ("test notes", item.test_notes.splitlines()),
        ("evidence", item.evidence),
    ):
        if lines:
            out.print(f"  {title}:", markup=False)
            for line in lines:
                out.print(f"    {line}", markup=False)
    return 0


def _source(source: Source | None) -> str | None:
    if source is None:
        return None
    details = [
        f"{k} {getattr(source, k)}"
        for k in ("tag", "author", "rule", "severity")
        if getattr(source, k)
    ]
    where = source.location()
    place = source.kind if where == source.kind else f"{source.kind} at {where}"
    return place + (f" ({', '.join(details)})" if details else "")
