"""``backlog unblock``: release a blocked item back to READY."""

from __future__ import annotations

import argparse

from ..context import Context
from ..model import TaskStatus
from ..output import console

NAME = "unblock"
HELP = "release a blocked item back to READY"
DESCRIPTION = "Move a BLOCKED item back to READY and clear its blocked reason."


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``unblock``'s options."""
    parser.add_argument("item_id", metavar="ID", help="the item's id")
    parser.add_argument("--reason", default="", help="what changed (recorded in the journal)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Unblock the item."""
    with ctx.store.transaction() as backlog:
        item = backlog.get(args.item_id)
        was = item.blocked_reason
        reason = args.reason or f"unblocked by {ctx.actor}"
        backlog.transition(item, TaskStatus.READY, reason=reason, actor=ctx.actor, now=ctx.now)
    console().print(f"unblocked {item.id} (was: {was}); it is READY", markup=False)
    return 0
