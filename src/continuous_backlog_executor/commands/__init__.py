"""The subcommands: one module each, all listed in one sorted registry.

Each module has ``NAME``, ``HELP`` (one line for ``backlog --help``), ``DESCRIPTION``,
``configure(parser)`` to declare its options, and ``run(args, ctx) -> exit code``.
"""

from __future__ import annotations

import argparse
from typing import Protocol

from ..context import Context
from . import (
    add,
    approve,
    block,
    demo,
    discover,
    explain,
    merge,
    plan,
    prs,
    report,
    review,
    run,
    show,
    status,
    tune,
    unblock,
)
from . import list as list_


class Command(Protocol):
    """What every subcommand module provides."""

    NAME: str
    HELP: str
    DESCRIPTION: str

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Declare the subcommand's options on ``parser``."""

    def run(self, args: argparse.Namespace, ctx: Context) -> int:
        """Do the work; return the exit code."""


COMMANDS: dict[str, Command] = {
    "add": add,
    "approve": approve,
    "block": block,
    "demo": demo,
    "discover": discover,
    "explain": explain,
    "list": list_,
    "merge": merge,
    "plan": plan,
    "prs": prs,
    "report": report,
    "review": review,
    "run": run,
    "show": show,
    "status": status,
    "tune": tune,
    "unblock": unblock,
}
