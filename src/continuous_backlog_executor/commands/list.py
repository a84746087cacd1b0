"""``backlog list``: the backlog ranked by WSJF."""

from __future__ import annotations

import argparse
import fnmatch

from ..context import Context
from ..model import FINISHED_STATUSES
from ..output import console, item_json, print_json, print_table, ranked_table
from ..policy import item_repository
from . import _options

NAME = "list"
HELP = "show the backlog ranked by WSJF"
DESCRIPTION = """\
Show items ranked by WSJF = (impact + time criticality + risk reduction) x aging / effort,
best first. Open items only unless --all or --status is given. In the Inputs column, I, T, R
and E are impact, time criticality, risk reduction and effort; a ~ marks a value estimated
from the item's words or type rather than set on it (`backlog explain ID` shows why)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``list``'s options."""
    parser.add_argument("--all", action="store_true", help="include finished items (DONE, MERGED)")
    parser.add_argument(
        "--status",
        action="append",
        type=_options.status,
        metavar="STATUS",
        help="only items with this status; repeat for several",
    )
    parser.add_argument(
        "--type", action="append", type=_options.task_type, metavar="TYPE", help="only this type"
    )
    parser.add_argument(
        "--repo-filter",
        metavar="PATTERN",
        help="only items of these repositories (owner/name, globs allowed; 'local' for this one)",
    )
    parser.add_argument("--limit", type=_options.positive, metavar="N", help="show the top N")
    _options.add_format(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the ranked backlog."""
    backlog = ctx.load()
    ranked = backlog.ranked(ctx.config.scoring, ctx.now)
    # Open items first, numbered by their rank among all open items (as `explain` says);
    # finished ones, when asked for, follow without a number.
    ranked.sort(key=lambda entry: entry.item.status in FINISHED_STATUSES)
    numbers = {
        id(entry.item): position
        for position, entry in enumerate(
            (e for e in ranked if e.item.status not in FINISHED_STATUSES), start=1
        )
    }
    shown = [
        entry
        for entry in ranked
        if (
            entry.item.status in args.status
            if args.status
            else args.all or entry.item.status not in FINISHED_STATUSES
        )
        and (not args.type or entry.item.task_type in args.type)
        and (
            not args.repo_filter
            or fnmatch.fnmatchcase(item_repository(entry.item) or "local", args.repo_filter)
        )
    ][: args.limit]
    if args.format == "json":
        print_json([item_json(entry.item, entry.score) for entry in shown])
        return 0
    out = console()
    if not backlog.items:
        out.print(
            f"The backlog {backlog.path} is empty. Add an item with `backlog add --title ...`."
        )
        return 0
    print_table(out, ranked_table((numbers.get(id(entry.item)), entry) for entry in shown))
    finished = sum(1 for item in backlog.items if item.status in FINISHED_STATUSES)
    out.print(
        f"{len(shown)} shown of {len(backlog.items)} items ({finished} finished). "
        "~ marks an estimate; `backlog explain ID` shows the working."
    )
    return 0
