"""``backlog prs``: the pull requests opened for backlog items."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from rich.text import Text

from ..context import Context
from ..forges import configured
from ..forges.base import PullRequest, PullState
from ..output import console, print_json, print_table, stamp
from . import _options

NAME = "prs"
HELP = "show the pull requests opened for items"
DESCRIPTION = """\
Show every pull request with its number, item, state, branch, title and when it was
opened and merged. `backlog merge NUMBER` merges an open one."""
STATES = ("open", "merged", "closed", "all")


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``prs``'s options."""
    parser.add_argument(
        "--state", choices=STATES, default="all", help="only pull requests in this state"
    )
    _options.add_format(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the pull requests."""
    with configured(ctx) as forge:
        everything = forge.list()
    shown = [pr for pr in everything if args.state in ("all", pr.state.value)]
    if args.format == "json":
        print_json([pr_json(pr) for pr in shown])
        return 0
    out = console()
    if not shown:
        some = f"{args.state} pull requests ({len(everything)} in all)" if everything else ""
        out.print(f"no {some or 'pull requests yet'}", markup=False)
        return 0
    print_table(out, _table(shown))
    opened = sum(1 for pr in everything if pr.state is PullState.OPEN)
    out.print(
        f"{len(shown)} shown of {len(everything)} pull requests ({opened} open). "
        "`backlog merge NUMBER` merges an open one.",
        markup=False,
    )
    return 0


def pr_json(pr: PullRequest) -> dict[str, Any]:
    """Every field of ``pr`` for machines."""
    return {
        "number": pr.number,
        "item_id": pr.item_id,
        "state": pr.state.value,
        "branch": pr.branch,
        "base": pr.base,
        "title": pr.title,
        "body": pr.body,
        "url": pr.url,
        "head": pr.head,
        "created_at": stamp(pr.created_at),
        "merged_at": stamp(pr.merged_at),
        "merge_commit": pr.merge_commit,
    }


def _table(prs: list[PullRequest]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("#", "Item", "State", "Branch", "Title", "Created", "Merged"):
        table.add_column(name, justify="right" if name == "#" else "left")
    for pr in prs:
        # Text(), not str: a title people wrote may hold brackets rich would read as styling.
        table.add_row(
            str(pr.number),
            Text(pr.item_id),
            pr.state.value,
            Text(pr.branch),
            Text(pr.title),
            stamp(pr.created_at),
            stamp(pr.merged_at) or "-",
        )
    return table
