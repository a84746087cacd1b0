"""Following the pull requests items are waiting on, at the start of every run.

- merged: the item goes to MERGED and DONE;
- closed without merging: BLOCKED, with the reason;
- changes requested by a reviewer, or a failing check run on the head commit: the item goes
  back to work (READY) with the review's or the check's text as feedback for the next attempt,
  which changes the code on top of the branch and updates the same pull request; after
  ``execution.max_review_rounds`` rounds it is BLOCKED for a person instead.

Each review and check is handled once (they are remembered in the item's progress record).
Review text is data: it only ever reaches a prompt between the untrusted-data markers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from . import worktree
from .backlog import Backlog, BacklogStore
from .errors import BacklogError
from .execution import ExecutionSettings, Progress
from .forges.base import Forge, PullState, PullStatus
from .lifecycle import allowed
from .model import BacklogItem, TaskStatus, utcnow
from .store import StateStore

log = logging.getLogger(__name__)
S = TaskStatus
FEEDBACK_CHARS = 4000  # of one review or check summary: enough to act on, not a flood


@dataclass(frozen=True, slots=True)
class Followed:
    """What following one pull request did to its item."""

    item_id: str
    status: TaskStatus
    reason: str


def follow(
    store: BacklogStore,
    state: StateStore,
    forge_for: Callable[[BacklogItem], Forge],
    settings: ExecutionSettings,
    *,
    actor: str,
) -> list[Followed]:
    """Follow every pull request an item in PR is waiting on, on the forge of the item's
    repository (``forge_for``; module docstring)."""
    done: list[Followed] = []
    for item in store.load().items:
        if item.status is not S.PR:
            continue
        try:
            forge = forge_for(item)
            pull = forge.find(item.id)
            status = forge.status(str(pull.number)) if pull is not None else None
        except BacklogError as error:  # the forge or the repository's clone cannot be reached
            log.warning("%s: cannot follow its pull request: %s", item.id, error)
            continue
        if status is None:
            continue
        outcome = _judge(item, status, state, settings)
        if outcome is not None:
            with store.transaction() as backlog:
                _apply(backlog, backlog.get(item.id), outcome, actor)
            done.append(Followed(item.id, *outcome))
    return done


def _judge(
    item: BacklogItem, status: PullStatus, state: StateStore, settings: ExecutionSettings
) -> tuple[TaskStatus, str] | None:
    pull = status.pull
    if pull.state is PullState.MERGED:
        return S.DONE, f"pull request {pull.url} merged"
    if pull.state is PullState.CLOSED:
        return S.BLOCKED, f"pull request {pull.url} was closed without merging"
    path = state.folder("progress") / f"{worktree.safe_id(item.id)}.json"
    progress = Progress.read(path)
    if progress is None:
        return None
    asks = [
        (f"review:{r.author}:{r.submitted_at}", f"{r.author} requested changes:\n{r.body}")
        for r in status.changes_requested
    ] + [
        (f"check:{c.name}:{pull.head}", f"check {c.name} {c.conclusion}:\n{c.summary}")
        for c in status.failing_checks
    ]
    new = [(key, text) for key, text in asks if key not in progress.handled]
    if not new:
        return None
    progress.handled = [*progress.handled, *(key for key, _ in new)]
    if progress.rounds >= settings.max_review_rounds:
        progress.write(path)
        return S.BLOCKED, (
            f"pull request {pull.url} still gets change requests or failing checks after "
            f"{progress.rounds} round(s) (execution.max_review_rounds); a person should look"
        )
    progress.rounds += 1
    progress.feedback = "\n\n".join(text[:FEEDBACK_CHARS] for _, text in new)
    progress.write(path)
    what = "; ".join(text.splitlines()[0] for _, text in new)
    return S.READY, f"back to work on pull request {pull.url}: {what}"


def _apply(
    backlog: Backlog, item: BacklogItem, outcome: tuple[TaskStatus, str], actor: str
) -> None:
    target, reason = outcome
    path = {S.DONE: (S.MERGED, S.DONE), S.READY: (S.DOING, S.READY)}.get(target, (target,))
    for status in path:
        if allowed(item.status, status):
            backlog.transition(item, status, reason=reason, actor=actor, now=utcnow())
