"""The macro loop, as ordered steps: recover what a dead run left, sync (discover), rank, then
take the highest-WSJF actionable item, refine or slice it, drive it through the micro-cycle to
a pull request, record everything, and go on until nothing actionable is left, the cycle
limit is reached or the time is up.

Status changes are short locked transactions on the backlog file, never held while an agent
works, so people (and other commands) can use the backlog during a run. A lease per item keeps
two engines on one repository off the same item.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import worktree
from .agents.base import Agent
from .answers import Slice
from .backlog import Backlog
from .context import Context
from .dispatch import Dispatcher, Limits, in_parallel
from .errors import BacklogError
from .evidence import Outcome, Receipt
from .execution import ExecutionSettings, Stop, Tools
from .executor import Attempt
from .files import atomic_write
from .follow import follow
from .forges.base import Forge, ForgeError
from .github.remote import origin_repo
from .lease import Leases
from .lifecycle import allowed
from .model import BacklogItem, TaskStatus, utcnow
from .policy import SLICED, Action, Decision, decide
from .portfolio import PortfolioError, Workspace, configured
from .summary import Processed, RunSummary
from .worktree import Worktrees

log = logging.getLogger(__name__)
S = TaskStatus
TO_DOING = {
    S.NEW: (S.REFINED, S.READY, S.DOING),
    S.REFINED: (S.READY, S.DOING),
    S.READY: (S.DOING,),
}


class Engine:
    """Works through one repository's backlog (see the module docstring)."""

    def __init__(
        self,
        ctx: Context,
        *,
        agent: Agent,
        forge: Forge,
        settings: ExecutionSettings,
        observer: Callable[[str, str], None] = lambda item, phase: None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.worktrees = Worktrees(ctx.repo, ctx.state)
        self.leases = Leases(ctx.state)
        self.tools = Tools(
            ctx.repo, ctx.state, ctx.store, agent, forge, settings, ctx.actor, utcnow, observer
        )
        self.base = worktree.base_branch(ctx.repo, settings.base_branch)
        self.halted: str | None = None  # why the run must stop, when an item's attempt says so
        self.home = ctx.config.value("github.repo") or origin_repo(ctx.repo)
        self.portfolio = configured(ctx)  # the other repositories' items are worked on in clones
        self.here = Workspace(self.worktrees, self.base, self.tools)
        # Called after each item (from its worker's thread): the status report is refreshed.
        self.after_cycle: Callable[[Processed], None] | None = None

    # -- the loop ---------------------------------------------------------------------------

    def run(
        self,
        *,
        max_cycles: int | None = None,
        item_id: str | None = None,
        time_limit: float | None = None,
        workers: int = 1,
    ) -> RunSummary:
        """Process items until none is actionable, ``max_cycles`` were processed, or time's up;
        ``workers`` items at once, each in its own worktree."""
        summary = RunSummary(recovered=self.recover())
        summary.followed = follow(
            self.ctx.store, self.ctx.state, self._forge_for, self.settings, actor=self.ctx.actor
        )
        dispatcher = Dispatcher(
            summary,
            Limits(max_cycles, item_id, time_limit),
            next_decision=self.next_decision,
            stop_reason=self._stop_reason,
        )
        if workers <= 1:
            self._work(dispatcher)
        else:
            in_parallel(lambda: self._work(dispatcher), workers, self.tools.cancel)
        if self.halted is not None:
            summary.error = self.halted
        self.close_sliced_parents()
        return summary

    def _work(self, dispatcher: Dispatcher) -> None:
        while (decision := dispatcher.take()) is not None:
            done = None
            try:
                done = self.process(decision)
            finally:
                dispatcher.done(decision, done)
            if done is not None and self.after_cycle is not None:
                self.after_cycle(done)

    def _stop_reason(self) -> str | None:
        if self.halted is not None:
            return self.halted
        spent = self.settings.run_budget.exceeded(self.tools.spent.usage)
        return None if spent is None else f"the run's budget is spent: {spent}"

    def plan(self, backlog: Backlog) -> list[Decision]:
        """Every item's decision, highest WSJF first."""
        ranked = backlog.ranked(self.ctx.config.scoring, utcnow())
        return [
            decide(
                r.item,
                r.score,
                escalation=self.settings.escalation,
                slice_size_threshold=self.settings.slice_size_threshold,
                home=self.home,
                portfolio=self.portfolio.repos,
            )
            for r in ranked
        ]

    def next_decision(
        self,
        tried: set[str],
        item_id: str | None,
        in_use: Callable[[BacklogItem], bool] = lambda item: False,
    ) -> Decision | None:
        """The highest-WSJF actionable item not tried in this run (or the one asked for) whose
        files no running item is changing."""
        for decision in self.plan(self.ctx.load()):
            if decision.item.id in tried:
                continue
            if item_id is not None and decision.item.id != item_id:
                continue
            if decision.actionable and in_use(decision.item):
                continue
            if decision.action is Action.HOLD:
                self._hold(decision)
                continue
            if decision.actionable:
                return decision
        return None

    # -- one item ---------------------------------------------------------------------------

    def process(self, decision: Decision) -> Processed | None:
        """Refine, slice or execute one item under its lease; ``None`` if another run has it."""
        lease = self.leases.acquire(decision.item.id)
        if lease is None:
            log.info("%s: another run is working on it; skipped", decision.item.id)
            return None
        try:
            return self._process(decision)
        finally:
            self.leases.release(lease)
            self.tools.observer(decision.item.id, "")  # finished: off the live display

    def _forge_for(self, item: BacklogItem) -> Forge:
        return self.portfolio.workspace(item, self.here, self.home).tools.forge

    def _process(self, decision: Decision) -> Processed:
        item = decision.item
        try:
            place = self.portfolio.workspace(item, self.here, self.home)
        except PortfolioError as error:  # that repository cannot be reached; others can
            with self.ctx.store.transaction() as backlog:
                self._move(backlog, backlog.get(item.id), S.BLOCKED, str(error))
            return Processed(item.id, item.title, Outcome.NEEDS_HUMAN, str(error), S.BLOCKED)
        wt = place.worktrees.prepare(item.id, item.title, place.base)
        attempt = Attempt(
            place.tools, self.ctx.load().get(item.id), wt, self._start(item.id, decision)
        )
        keep = self.settings.keep_worktrees
        try:
            return self._drive(attempt, decision)
        except Stop as stop:
            keep = keep or stop.outcome is Outcome.NEEDS_HUMAN
            return self._stopped(attempt, stop)
        except KeyboardInterrupt:
            attempt.receipt.end(Outcome.INTERRUPTED, "stopped by the user", utcnow())
            self._finish(attempt, S.READY, "interrupted: the run was stopped (Ctrl-C)")
            raise
        except BacklogError as error:
            return self._stopped(attempt, Stop(Outcome.NEEDS_HUMAN, f"engine error: {error}"))
        finally:
            if not keep:
                place.worktrees.remove(wt)

    def _drive(self, attempt: Attempt, decision: Decision) -> Processed:
        item = attempt.item
        if decision.action is Action.REFINE:
            try:
                criteria = attempt.criteria()
            except Stop as stop:
                # Without criteria the item stays to be refined, by a person or a later run.
                attempt.receipt.end(stop.outcome, stop.reason, utcnow())
                return self._finish(attempt, S.REFINED, f"no acceptance criteria: {stop.reason}")
            with self.ctx.store.transaction() as backlog:
                stored = backlog.get(item.id)
                stored.acceptance_criteria = criteria
                stored.updated_at = utcnow()
            item.acceptance_criteria = criteria
            again = self._redecide(item.id)
            if again.action is Action.HOLD:
                raise Stop(Outcome.NEEDS_HUMAN, "; ".join(again.reasons))
            if again.action is Action.SLICE:
                return self._slice(attempt)
        elif decision.action is Action.SLICE:
            return self._slice(attempt)
        pull = attempt.run()
        status, reason = S.PR, f"pull request {pull.url} opened"
        if self.settings.auto_merge and attempt.low_risk:
            try:
                merged = attempt.t.forge.merge(str(pull.number))
            except ForgeError as error:
                reason = f"{reason}; auto-merge did not happen: {error}"
            else:
                status = S.DONE
                reason = f"auto-merged as {(merged.merge_commit or '')[:12]} ({pull.url})"
        elif self.settings.auto_merge:
            reason = f"{reason}; not auto-merged: it needed approval"
        return self._finish(attempt, status, reason, pr_url=pull.url)

    def _slice(self, attempt: Attempt) -> Processed:
        children = attempt.slices()
        ids = self._add_children(attempt.item, children)
        attempt.receipt.end(Outcome.SUCCESS, f"split into {', '.join(ids)}", utcnow())
        return self._finish(attempt, S.REFINED, f"split into {len(ids)} slices: {', '.join(ids)}")

    def _add_children(self, parent: BacklogItem, children: list[Slice]) -> list[str]:
        ids = []
        with self.ctx.store.transaction() as backlog:
            stored = backlog.get(parent.id)
            for number, child in enumerate(children, start=1):
                item = BacklogItem(
                    id=_child_id(backlog, parent.id, number),
                    title=child.title,
                    description=child.description,
                    task_type=parent.task_type,
                    effort=child.effort,
                    acceptance_criteria=list(child.acceptance_criteria),
                    links=[f"parent:{parent.id}"],
                    labels=["slice"],
                    approval=parent.approval,
                )
                backlog.add(item)
                ids.append(item.id)
            stored.labels = [*stored.labels, SLICED]
            stored.links = [*stored.links, *(f"slice:{i}" for i in ids)]
        return ids

    def close_sliced_parents(self) -> None:
        """A sliced item is DONE once every one of its slices is."""
        with self.ctx.store.transaction() as backlog:
            by_id = {item.id: item for item in backlog.items}
            for item in backlog.items:
                if SLICED not in item.labels or not item.is_open:
                    continue
                children = [by_id.get(link[6:]) for link in item.links if link.startswith("slice:")]
                finished = (S.DONE, S.MERGED)
                if children and all(c is not None and c.status in finished for c in children):
                    self._move(backlog, item, S.DONE, "every slice is done")

    # -- status and records -----------------------------------------------------------------

    def _start(self, item_id: str, decision: Decision) -> int:
        with self.ctx.store.transaction() as backlog:
            item = backlog.get(item_id)
            item.attempts += 1
            if decision.action is Action.EXECUTE:
                for target in TO_DOING.get(item.status, ()):
                    self._move(backlog, item, target, f"picked with WSJF {decision.score.wsjf:.2f}")
            return item.attempts

    def _redecide(self, item_id: str) -> Decision:
        backlog = self.ctx.load()
        decision = next(d for d in self.plan(backlog) if d.item.id == item_id)
        if decision.action is Action.EXECUTE:
            with self.ctx.store.transaction() as stored:
                item = stored.get(item_id)
                for target in TO_DOING.get(item.status, ()):
                    self._move(stored, item, target, "acceptance criteria restated")
        return decision

    def _stopped(self, attempt: Attempt, stop: Stop) -> Processed:
        attempt.receipt.end(stop.outcome, stop.reason, utcnow())
        if stop.fatal:
            self.halted = stop.reason
            return self._finish(attempt, S.READY, f"not attempted further: {stop.reason}")
        # An item that never reached DOING (its criteria could not be restated) needs refining;
        # one whose micro-cycle ran and changed nothing is blocked like any other stop. The
        # stored status decides: the attempt's copy is from before the item was picked.
        if stop.outcome is Outcome.NO_CHANGE and self.ctx.load().get(attempt.item.id).status in (
            S.NEW,
            S.REFINED,
        ):
            return self._finish(attempt, S.REFINED, stop.reason)
        return self._finish(attempt, S.BLOCKED, stop.reason)

    def _finish(
        self, attempt: Attempt, status: TaskStatus, reason: str, *, pr_url: str | None = None
    ) -> Processed:
        receipt = attempt.receipt
        path = self._save_receipt(receipt)
        with self.ctx.store.transaction() as backlog:
            item = backlog.get(attempt.item.id)
            if pr_url:
                item.pr_url = pr_url
            item.evidence = [*item.evidence, f"receipt: {path}"]
            self._move_to(backlog, item, status, reason)
            final = item.status
        outcome = receipt.outcome or Outcome.SUCCESS
        item_id, title = attempt.item.id, attempt.item.title
        return Processed(item_id, title, outcome, reason, final, pr_url, str(path), attempt.usage)

    def _move_to(
        self, backlog: Backlog, item: BacklogItem, status: TaskStatus, reason: str
    ) -> None:
        if status is S.DONE and item.status is S.DOING:
            self._move(backlog, item, S.PR, reason)
            self._move(backlog, item, S.MERGED, reason)
        if item.status is not status:
            self._move(backlog, item, status, reason)

    def _move(self, backlog: Backlog, item: BacklogItem, status: TaskStatus, reason: str) -> None:
        if allowed(item.status, status):
            backlog.transition(item, status, reason=reason, actor=self.ctx.actor, now=utcnow())
        else:
            log.warning("%s: cannot go from %s to %s (%s)", item.id, item.status, status, reason)

    def _save_receipt(self, receipt: Receipt) -> str:
        folder = self.ctx.state.folder("receipts", worktree.safe_id(receipt.item_id))
        path = folder / f"{receipt.attempt}.json"
        atomic_write(path, receipt.to_json())
        return str(path.relative_to(self.ctx.state.root))

    def _hold(self, decision: Decision) -> None:
        item = decision.item
        if item.status is S.BLOCKED or not allowed(item.status, S.BLOCKED):
            return
        with self.ctx.store.transaction() as backlog:
            stored = backlog.get(item.id)
            if stored.status is not S.BLOCKED and stored.approval is None:
                self._move(backlog, stored, S.BLOCKED, "; ".join(decision.reasons))

    # -- recovery ---------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Items left in DOING by a run that is gone go back to READY; their leases and
        worktrees are cleared (their branches, holding the work so far, stay), and an agent
        still working in such a worktree is stopped.

        It all happens with the leases frozen: another engine cannot take an item meanwhile,
        so its new item and worktree are never mistaken for a dead run's.
        """
        recovered = []
        with self.leases.frozen() as leases:
            live = {lease.item_id for lease in leases if self.leases.is_alive(lease)}
            with self.ctx.store.transaction() as backlog:
                for item in backlog.items:
                    if item.status is S.DOING and item.id not in live:
                        reason = "recovered: the run working on it is gone"
                        self._move(backlog, item, S.READY, reason)
                        recovered.append(item.id)
            for lease in leases:
                if lease.item_id not in live:
                    self.leases.drop(lease)
            self.worktrees.clean_stale(live)
            self.portfolio.clean_stale(live)
        return recovered


def _child_id(backlog: Backlog, parent: str, number: int) -> str:
    taken = {item.id for item in backlog.items}
    candidate = f"{parent}.{number}"
    while candidate in taken:
        number += 1
        candidate = f"{parent}.{number}"
    return candidate
