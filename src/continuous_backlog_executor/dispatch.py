"""Handing items to a run's workers: the highest-WSJF actionable item no worker has taken, never
one whose files another worker's item is changing, until a limit says stop.

One dispatcher serves every worker of a run (one worker: the plain loop). Taking and giving
back happen under one lock, so two workers never take the same item, and the limits (cycles,
time, the run's budget, a run-stopping error) are checked in one place. Which files an item
touches is known before work only from where it was found and the paths its text names; items
that name none are not held back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import process
from .model import BacklogItem
from .policy import Decision, item_paths

if TYPE_CHECKING:
    from .summary import Processed, RunSummary

# The engine's planning step: the next decision, given the items taken and a test of items in use.
NextDecision = Callable[[set[str], str | None, Callable[[BacklogItem], bool]], Decision | None]

BACKLOG_CLEARED = "nothing actionable is left"  # a full pass over the backlog ended
WAIT = 0.5  # seconds a worker waits before looking again while others work


@dataclass(frozen=True)
class Limits:
    """When a run stops taking items."""

    max_cycles: int | None = None
    item_id: str | None = None
    time_limit: float | None = None


class Dispatcher:
    """Hands out decisions to workers (see the module docstring)."""

    def __init__(
        self,
        summary: RunSummary,
        limits: Limits,
        *,
        next_decision: NextDecision,
        stop_reason: Callable[[], str | None],
    ) -> None:
        self.summary = summary
        self.limits = limits
        self.next_decision = next_decision
        self.stop_reason = stop_reason  # the engine's own reasons: budget spent, an API refused
        self.started = time.monotonic()
        self.cond = threading.Condition()
        self.claimed: set[str] = set()
        self.busy: dict[str, tuple[str, ...]] = {}
        self.taken = 0
        self.stopped = False

    def take(self) -> Decision | None:
        """The next item for a worker, or ``None`` when the run takes no more."""
        with self.cond:
            while not self.stopped:
                reason = self._limit()
                if reason is not None:
                    self._stop(reason)
                    break
                decision = self.next_decision(self.claimed, self.limits.item_id, self._in_use)
                if decision is not None:
                    self.claimed.add(decision.item.id)
                    self.busy[decision.item.id] = tuple(item_paths(decision.item))
                    self.taken += 1
                    return decision
                if not self.busy:
                    self._stop(BACKLOG_CLEARED)
                    break
                # Running items may free files, or add slices: look again when one ends.
                self.cond.wait(WAIT)
            return None

    def done(self, decision: Decision, processed: Processed | None) -> None:
        """A worker finished ``decision`` (``None``: another run had it)."""
        with self.cond:
            self.busy.pop(decision.item.id, None)
            if processed is None:
                self.taken -= 1
            else:
                self.summary.processed.append(processed)
            if self.limits.item_id is not None:
                self._stop(f"worked on {self.limits.item_id} (--item)")
            self.cond.notify_all()

    def _limit(self) -> str | None:
        reason = self.stop_reason()
        if reason is not None:
            return reason
        cycles = self.limits.max_cycles
        if cycles is not None and self.taken >= cycles:
            return f"processed {cycles} item(s) (--max-cycles)"
        limit = self.limits.time_limit
        if limit is not None and time.monotonic() - self.started >= limit:
            return f"the time limit of {limit:g}s is up"
        return None

    def _in_use(self, item: BacklogItem) -> bool:
        """True when ``item`` names a file (or folder) a running item names too."""
        mine = item_paths(item)
        return any(_overlap(a, b) for paths in self.busy.values() for a in paths for b in mine)

    def _stop(self, reason: str) -> None:
        if not self.stopped:
            self.stopped = True
            self.summary.stopped_because = self.summary.stopped_because or reason
        self.cond.notify_all()


def _overlap(a: str, b: str) -> bool:
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def in_parallel(work: Callable[[], None], workers: int, cancel: threading.Event) -> None:
    """Run ``work`` in ``workers`` threads until each returns. Ctrl-C (in the main thread)
    sets ``cancel`` and stops every child process at once, again and again until the threads
    are done (a worker may start one more), so each puts its item back to READY; then it is
    raised again. A worker's error cancels the others and is raised here."""
    failures: list[BaseException] = []
    # Each worker says itself when it is done: after Ctrl-C interrupts a join, CPython may
    # report that thread as no longer alive while it still runs (its cleanup, its lease).
    finished = [threading.Event() for _ in range(workers)]

    def worker(done: threading.Event) -> None:
        try:
            work()
        except KeyboardInterrupt:
            pass  # cancelled: the worker's item went back to READY
        except BaseException as error:  # handed to the main thread
            failures.append(error)
            cancel.set()
            process.stop_all()
        finally:
            done.set()

    threads = [
        threading.Thread(target=worker, args=(done,), name=f"worker-{n}", daemon=True)
        for n, done in enumerate(finished, start=1)
    ]
    for thread in threads:
        thread.start()
    try:
        for done in finished:
            while not done.wait(0.2):
                pass
    except KeyboardInterrupt:
        cancel.set()
        while not all(done.is_set() for done in finished):
            process.stop_all()
            time.sleep(0.05)
        raise
    if failures:
        raise failures[0]
