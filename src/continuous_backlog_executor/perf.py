"""Keeping bulk work fast on large backlogs."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc(*, settle_after: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects.

    Reading 100,000 items allocates millions of objects that form no reference cycles; the
    collector would otherwise walk the whole growing heap again and again, doubling the time.
    Nothing is leaked: reference counting still frees everything, and the collector resumes
    (if it was running) when the block ends. With ``settle_after``, the objects are first
    settled (see ``settle``), so the collector does not walk them all as soon as it resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if settle_after:
            settle()
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def running_gc() -> Iterator[None]:
    """Let the collector run for a while inside ``paused_gc``: around parser calls, whose
    objects do form cycles that would otherwise pile up."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


def settle() -> None:
    """Take every object alive now out of the collector's reach (``gc.freeze``).

    Meant for a command-line process right after it read a large backlog: those objects live
    until the process ends and hold no cycles, yet every later collection would walk all of
    them. A library should not call this; it is global to the process.
    """
    gc.freeze()
