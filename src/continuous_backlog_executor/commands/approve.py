"""``backlog approve``: a human's go-ahead for an item the escalation rules hold back."""

from __future__ import annotations

import argparse

from ..context import Context
from ..model import Approval, TaskStatus
from ..output import console

NAME = "approve"
HELP = "approve an item that needs a human's go-ahead"
DESCRIPTION = """\
Record your approval on the item. An item blocked with "needs approval: ..." goes back to
READY and the next run continues it from where it stopped; an item not yet blocked is
approved in advance, so the escalation rules will not hold it."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``approve``'s options."""
    parser.add_argument("item_id", metavar="ID", help="the item's id")
    parser.add_argument("--note", default="", help="why it is fine to go ahead")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Record the approval and release the item if it was waiting for it."""
    out = console()
    with ctx.store.transaction() as backlog:
        item = backlog.get(args.item_id)
        item.approval = Approval(by=ctx.actor, at=ctx.now, note=args.note)
        item.updated_at = ctx.now
        waiting = item.status is TaskStatus.BLOCKED and (item.blocked_reason or "").startswith(
            "needs approval"
        )
        if waiting:
            reason = f"approved by {ctx.actor}" + (f": {args.note}" if args.note else "")
            backlog.transition(item, TaskStatus.READY, reason=reason, actor=ctx.actor, now=ctx.now)
    if waiting:
        out.print(f"approved {item.id}; it is READY again", markup=False)
    elif item.status is TaskStatus.BLOCKED:
        out.print(
            f"approved {item.id}, but it stays BLOCKED ({item.blocked_reason}); "
            f"`backlog unblock {item.id}` releases it",
            markup=False,
        )
    else:
        out.print(f"approved {item.id} in advance ({item.status})", markup=False)
    return 0
