"""``backlog tune``: show the tuning the end-of-pass review proposed, and apply it on request.

The review never changes settings itself: a person reads the proposal (``tune`` prints it,
DOCS/status/tuning.md holds it) and applies it with ``--apply``, which writes the changes into
the configuration file and marks the proposal as applied.
"""

from __future__ import annotations

import argparse

from ..config import DEFAULT_FILE
from ..context import Context
from ..errors import BacklogError
from ..output import console, print_json
from ..reports import tuning

NAME = "tune"
HELP = "show the proposed tuning; --apply writes it to the configuration"
DESCRIPTION = """\
Print the settings the last end-of-pass review proposed to change (scoring weights, aging,
slice size, cycle time), with the evidence for each. With --apply, write them into the
configuration file (--config, else .backlog.json) after checking that none of the settings
changed since the proposal was made."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``tune``'s options."""
    parser.add_argument("--apply", action="store_true", help="write the proposal to the config")
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="a summary or JSON"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Show or apply the pending proposal."""
    folder = ctx.config.path("status_dir")
    proposal = tuning.read(folder)
    if proposal is None:
        raise BacklogError(
            f"no tuning proposal in {folder}; `backlog review` (or a run that finishes a "
            "pass) writes one"
        )
    out = console()
    if args.format == "json" and not args.apply:
        print_json(proposal)
        return 0
    if proposal.get("applied"):
        out.print(f"The proposal of {proposal['created']} was applied already.", markup=False)
        return 0
    if not proposal["changes"]:
        out.print(f"The review of {proposal['pass']} proposed no change.", markup=False)
        return 0
    for change in proposal["changes"]:
        out.print(
            f"{change['key']}: {change['current']} -> {change['proposed']}  ({change['why']})",
            markup=False,
        )
    if not args.apply:
        out.print("Nothing changed; `backlog tune --apply` applies this.", markup=False)
        return 0
    target = ctx.config.file or ctx.repo / DEFAULT_FILE
    keys = tuning.apply(proposal, ctx.config, target)
    tuning.write(folder, {**proposal, "applied": {"at": ctx.now.isoformat(), "to": str(target)}})
    out.print(f"Applied {len(keys)} setting(s) to {target}.", markup=False)
    return 0
