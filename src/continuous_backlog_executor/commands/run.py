"""``backlog run``: discover, rank, and drive the actionable items to pull requests."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.live import Live
from rich.table import Table

from ..agents import AGENT_TYPES, make_agent
from ..agents.base import Agent, Usage
from ..config import SETTINGS
from ..context import Context
from ..discovery import merge
from ..dispatch import BACKLOG_CLEARED
from ..engine import Engine
from ..errors import BacklogError, ConfigError
from ..evidence import usage_text
from ..execution import ExecutionSettings
from ..forges import configured
from ..model import utcnow
from ..output import console, print_json, print_table
from ..reports import publish
from ..sources.base import Quiet
from ..summary import Processed, RunSummary
from . import _options, discover, plan, review, status

log = logging.getLogger(__name__)

REDRAW_SECONDS = 60.0  # the HTML page is redrawn at most this often during a run

NAME = "run"
HELP = "work through the backlog: each actionable item to a pull request"
DESCRIPTION = """\
Sync the backlog (discover, unless --no-discover), rank it by WSJF, then take the
highest-ranked actionable item, refine it, and drive it through the TDD micro-cycle in its own
git worktree (red, green, refactor, security, docs, CI) to a pull request; record the evidence;
and go on until nothing actionable is left, --max-cycles items were processed, or the time
limit is up. The engine checks every step itself; an item whose checks keep failing is
BLOCKED with the reason. Needs an agent (agent.type in the configuration). Ctrl-C stops
cleanly: the current item goes back to READY."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``run``'s options."""
    parser.add_argument(
        "--max-cycles",
        type=_options.positive,
        metavar="N",
        help="stop after N items (default: execution.max_cycles, else all)",
    )
    parser.add_argument("--item", metavar="ID", help="work on this item only")
    parser.add_argument(
        "--no-discover", action="store_true", help="skip discovery; work on the backlog as it is"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="take no new item after this long (default: execution.time_limit)",
    )
    parser.add_argument(
        "--workers",
        type=_options.positive,
        metavar="N",
        help="work on N items at once, each in its own worktree (default: execution.workers)",
    )
    parser.add_argument(
        "--keep-worktrees", action="store_true", help="keep each item's worktree afterwards"
    )
    parser.add_argument("--dry-run", action="store_true", help="show the plan; write nothing")
    _options.add_format(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run the loop and report what it did."""
    if args.dry_run:
        return plan.run(args, ctx)
    settings = ExecutionSettings.from_config(ctx.config)
    if args.keep_worktrees:
        settings = dataclasses.replace(settings, keep_worktrees=True)
    agent = _agent(ctx)
    if args.item:
        ctx.load().get(args.item)  # an unknown id is an error before any work
    with configured(ctx) as forge:
        engine = Engine(ctx, agent=agent, forge=forge, settings=settings)
        engine.after_cycle = _refresher(ctx)
        if not args.no_discover:
            _sync(ctx, args.format)
        with _display(args.format) as observer:
            engine.tools.observer = observer
            summary = engine.run(
                max_cycles=args.max_cycles or ctx.config.value("execution.max_cycles"),
                item_id=args.item,
                time_limit=args.time_limit or ctx.config.value("execution.time_limit"),
                workers=args.workers or ctx.config.value("execution.workers"),
            )
    _report(ctx, summary, args.format)
    if summary.error:
        log.error("the run stopped: %s", summary.error)
        return 1
    return 0


def _agent(ctx: Context) -> Agent:
    kind = ctx.config.value("agent.type")
    if not kind:
        raise ConfigError(
            f"no agent configured: set agent.type ({', '.join(AGENT_TYPES)}) in the "
            'configuration, e.g. {"agent": {"type": "command", "command": '
            '["my-agent", "--prompt-file", "{prompt_file}"]}} or {"agent": {"type": "openai", '
            '"model": "gpt-4.1"}}; `backlog plan` shows what a run would do'
        )
    settings: dict[str, object] = {
        key.removeprefix("agent."): ctx.config.value(key)
        for key in SETTINGS
        if key.startswith("agent.")
    }
    settings["command"] = list(ctx.config.value("agent.command"))
    settings["extra_args"] = list(ctx.config.value("agent.extra_args"))
    agent = make_agent(settings, base=ctx.config.file.parent if ctx.config.file else ctx.repo)
    check = getattr(agent, "check", None)
    if callable(check):
        check()
    return agent


def _sync(ctx: Context, output: str) -> None:
    sources = discover.selected(ctx, None)
    scans = discover.discover(ctx, sources, observer=Quiet())
    with ctx.store.transaction() as backlog:
        result = merge(backlog, scans, now=ctx.now, actor=f"{ctx.actor} (discover)")
    if output != "json":
        discover.summary(scans, result, dry_run=False)


@contextmanager
def _display(output: str) -> Iterator[Callable[[str, str], None]]:
    """A live view of every worker's item, phase and elapsed time on a terminal; log lines
    otherwise. A phase of ``""`` means the item is finished."""
    if output == "json" or os.environ.get("CI") or not sys.stderr.isatty():
        yield lambda item, phase: log.info("%s: %s", item, phase) if phase else None
        return
    started: dict[str, float] = {}
    phases: dict[str, str] = {}
    lock = threading.Lock()

    def view() -> Table:
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        with lock:
            for item, phase in phases.items():
                table.add_row(item, phase, f"{now - started[item]:.0f}s")
        return table

    with Live(get_renderable=view, console=console(stderr=True), refresh_per_second=4):

        def show(item: str, phase: str) -> None:
            with lock:
                if not phase:
                    phases.pop(item, None)
                    started.pop(item, None)
                    return
                started.setdefault(item, time.monotonic())
                phases[item] = phase

        yield show


def _report(ctx: Context, summary: RunSummary, output: str) -> None:
    rows = [
        {
            "id": p.item_id,
            "title": p.title,
            "outcome": str(p.outcome),
            "status": str(p.status),
            "reason": p.reason,
            "pr_url": p.pr_url,
            "receipt": p.receipt,
            "usage": dataclasses.asdict(p.usage),
        }
        for p in summary.processed
    ]
    if output == "json":
        print_json(
            {
                "processed": rows,
                "recovered": summary.recovered,
                "followed": [
                    {"id": f.item_id, "status": str(f.status), "reason": f.reason}
                    for f in summary.followed
                ],
                "stopped": summary.stopped_because,
                "error": summary.error,
            }
        )
        _after_run(ctx, summary, quiet=True)
        return
    out = console()
    for item_id in summary.recovered:
        out.print(f"recovered {item_id}: its run was gone; back to READY", markup=False)
    for followed in summary.followed:
        out.print(f"{followed.item_id} -> {followed.status}: {followed.reason}", markup=False)
    table = Table(title=f"Run: {len(rows)} item(s); stopped because {summary.stopped_because}")
    for column in ("id", "outcome", "status", "reason", "pr_url"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("id", "outcome", "status", "reason", "pr_url")))
    print_table(out, table)
    total = sum((p.usage for p in summary.processed), Usage())
    if total.turns or total.input_tokens:
        out.print(f"agent usage: {usage_text(dataclasses.asdict(total))}", markup=False)
    out.print(f"evidence receipts: {ctx.state.root / 'receipts'}", markup=False)
    _after_run(ctx, summary, quiet=False)


def _refresher(ctx: Context) -> Callable[[Processed], None]:
    """After each item, the run so far in ``latest.*`` and the tech-debt page, and in the HTML
    page at most every ``REDRAW_SECONDS`` (its charts take a good part of a second, which
    quick items should not pay each time); one worker at a time, and a failure to write them
    never stops the run."""
    lock = threading.Lock()
    drawn = [time.monotonic()]  # the run's start: the page from the last run is fresh enough

    def refresh(done: Processed) -> None:
        with lock:
            draw = time.monotonic() - drawn[0] >= REDRAW_SECONDS
            try:
                publish.write(dataclasses.replace(ctx, now=utcnow()), final=False, draw=draw)
                drawn[0] = time.monotonic() if draw else drawn[0]
                log.debug("status report refreshed after %s", done.item_id)
            except (BacklogError, OSError) as error:
                log.warning("could not refresh the status report: %s", error)

    return refresh


def _after_run(ctx: Context, summary: RunSummary, *, quiet: bool) -> None:
    """The status report after every run, and the end-of-pass review when the run went
    through the whole backlog. Both cover the run's own events, so their period ends now,
    not when the run began."""
    later = dataclasses.replace(ctx, now=utcnow())
    if quiet:
        publish.write(later)
    else:
        status.run(argparse.Namespace(format="table"), later)
    if summary.stopped_because == BACKLOG_CLEARED and not summary.error:
        reviewed = review.review(later)
        if not quiet:
            review.print_summary(reviewed, ctx.config.path("status_dir"))
