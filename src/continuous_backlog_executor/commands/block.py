"""``backlog block``: stop the engine from taking an item, saying why."""

from __future__ import annotations

import argparse

from ..context import Context
from ..model import TaskStatus
from ..output import console

NAME = "block"
HELP = "block an item, with a reason"
DESCRIPTION = "Mark an item BLOCKED so no run takes it; the reason shows in lists and reports."


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``block``'s options."""
    parser.add_argument("item_id", metavar="ID", help="the item's id")
    parser.add_argument("--reason", required=True, help="why it cannot go ahead")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Block the item."""
    with ctx.store.transaction() as backlog:
        item = backlog.get(args.item_id)
        backlog.transition(
            item, TaskStatus.BLOCKED, reason=args.reason, actor=ctx.actor, now=ctx.now
        )
    console().print(f"blocked {item.id}: {args.reason}", markup=False)
    return 0
