"""``backlog merge``: merge an item's pull request and mark the item done."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from rich.console import Console

from ..backlog import Backlog
from ..context import Context
from ..errors import ItemNotFoundError, TransitionError
from ..forges import configured
from ..forges.base import ForgeError, PullRequest, PullState
from ..lifecycle import allowed
from ..model import BacklogItem, TaskStatus
from ..output import console

log = logging.getLogger(__name__)

NAME = "merge"
HELP = "merge an item's pull request and mark the item DONE"
DESCRIPTION = """\
Merge pull request KEY (its number, or an item id for that item's latest one) into
its base branch with a merge commit, then move the item to MERGED and DONE. Nothing
changes when the merge would conflict or would touch uncommitted work in the base
branch's checkout."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``merge``'s options."""
    parser.add_argument("key", metavar="KEY", help="the pull request's number (7 or #7) or item id")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Merge the pull request, then move its item to MERGED and DONE in the backlog."""
    with configured(ctx) as forge:
        found = forge.find(args.key)
        if found is None:
            raise ForgeError(f"no pull request {args.key!r}; `backlog prs` lists them")
        with ctx.store.transaction() as backlog:
            item = _item(backlog, found.item_id)
            steps = _steps(item, found)
            # A merge whose backlog update was lost (the file was edited meanwhile) is finished
            # here rather than refused, so running the command again always completes it.
            resumed = found.state is PullState.MERGED and bool(steps)
            pr = found if resumed else forge.merge(str(found.number))
            if item is not None:
                _finish(backlog, item, pr, steps, ctx)
    _report(console(), pr, item, steps, resumed=resumed, backlog=ctx.store.path)
    return 0


def _item(backlog: Backlog, item_id: str) -> BacklogItem | None:
    try:
        return backlog.get(item_id)
    except ItemNotFoundError:
        return None


def _steps(item: BacklogItem | None, pr: PullRequest) -> list[TaskStatus]:
    """The status changes that finish ``item``; checked before anything is merged."""
    if item is None or item.status is TaskStatus.DONE:
        return []
    if item.status is TaskStatus.MERGED:
        return [TaskStatus.DONE]
    if not allowed(item.status, TaskStatus.MERGED):
        raise TransitionError(
            f"not merging pull request #{pr.number}: item {item.id} is {item.status}, and only "
            f"an item in {TaskStatus.PR} can become {TaskStatus.MERGED}. `backlog show {item.id}` "
            "shows where it stands"
        )
    return [TaskStatus.MERGED, TaskStatus.DONE]


def _finish(
    backlog: Backlog, item: BacklogItem, pr: PullRequest, steps: list[TaskStatus], ctx: Context
) -> None:
    sha = (pr.merge_commit or pr.head)[:12]
    reasons = {
        TaskStatus.MERGED: f"merged as {sha} ({pr.url})",
        TaskStatus.DONE: f"pull request #{pr.number} merged into {pr.base}",
    }
    for target in steps:
        backlog.transition(item, target, reason=reasons[target], actor=ctx.actor, now=ctx.now)
    if item.pr_url is None:
        item.pr_url = pr.url
        item.updated_at = ctx.now


def _report(
    out: Console,
    pr: PullRequest,
    item: BacklogItem | None,
    steps: list[TaskStatus],
    *,
    resumed: bool,
    backlog: Path,
) -> None:
    sha = (pr.merge_commit or pr.head)[:12]
    done = "was already merged" if resumed else "merged"
    out.print(
        f"pull request #{pr.number} ({pr.branch}) {done} into {pr.base} as {sha}", markup=False
    )
    if item is None:
        log.warning("item %s is not in %s, so no item was updated", pr.item_id, backlog)
    elif steps:
        out.print(f"{item.id} is DONE", markup=False)
    else:
        out.print(f"{item.id} was already DONE; it is left as it is", markup=False)
