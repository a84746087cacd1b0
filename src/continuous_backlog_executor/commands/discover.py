"""``backlog discover``: find items in the repository and merge them into the backlog."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from ..context import Context
from ..discovery import ChangeKind, Merge, merge, scan
from ..errors import BacklogError, ConfigError
from ..output import console, print_json
from ..reports import tech_debt
from ..sources import SOURCES
from ..sources.base import DiscoverySource, Finding, Observer, Quiet, Scan

log = logging.getLogger(__name__)

NAME = "discover"
HELP = "find items in the code and merge them into the backlog"
DESCRIPTION = f"""\
Run every enabled discovery source over the repository and merge what they find into the
backlog: new problems become items, duplicates found by several sources become one item, items
whose problem is gone are closed as DONE (never deleted) and reopened if it comes back. Items
in DOING or PR and everything a person edited are left alone. Exit code 1 when a source
failed (the others' findings are still merged).
Sources: {", ".join(SOURCES)}."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``discover``'s options."""
    parser.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="run only this source (repeatable); runs it even if disabled in the configuration",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="a summary for people (default) or the findings and changes as JSON",
    )


def selected(ctx: Context, names: Sequence[str] | None) -> list[DiscoverySource]:
    """The sources to run: those named, else every enabled one."""
    if names:
        unknown = [name for name in names if name not in SOURCES]
        if unknown:
            valid = ", ".join(SOURCES)
            raise ConfigError(
                f"--source {unknown[0]!r} is not a discovery source; use one of {valid}"
            )
        return [SOURCES[name] for name in dict.fromkeys(names)]
    return [source for name, source in SOURCES.items() if ctx.config.source_enabled(name)]


def discover(ctx: Context, sources: Sequence[DiscoverySource], *, observer: Observer) -> list[Scan]:
    """Run ``sources`` (without the backlog lock: a test run may take minutes)."""
    own = frozenset(
        str(ctx.config.path(key).relative_to(ctx.repo))
        for key in ("backlog", "journal", "tech_debt")
        if ctx.config.path(key).is_relative_to(ctx.repo)
    )
    status_dir = ctx.config.path("status_dir")
    if status_dir.is_dir() and status_dir.is_relative_to(ctx.repo):
        own |= {str(p.relative_to(ctx.repo)) for p in status_dir.rglob("*") if p.is_file()}
    return scan(
        sources,
        repo=ctx.repo,
        options=ctx.config.source_options,
        state=ctx.state,
        now=ctx.now,
        observer=observer,
        known=ctx.load().items,
        own_files=own,
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Discover, merge (unless a dry run) and report."""
    sources = selected(ctx, args.source)
    with _progress(args.format) as observer:
        scans = discover(ctx, sources, observer=observer)
    actor = f"{ctx.actor} (discover)"
    if args.dry_run:
        result = merge(ctx.load(), scans, now=ctx.now, actor=actor)
    else:
        with ctx.store.transaction() as backlog:
            result = merge(backlog, scans, now=ctx.now, actor=actor)
        _tech_debt(ctx)
    if args.format == "json":
        print_json(_json(scans, result, dry_run=args.dry_run))
    else:
        summary(scans, result, dry_run=args.dry_run)
    return 1 if any(s.failed for s in scans) else 0


class _Bar:
    """Progress on a terminal: one line per source."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def task(self, source: str) -> TaskID:
        """The progress line of ``source``, made on first use."""
        if source not in self.tasks:
            self.tasks[source] = self.bar.add_task(source, total=None)
        return self.tasks[source]

    def progress(self, source: str, done: int, total: int | None, what: str) -> None:
        """Show ``source`` at ``done`` of ``total``."""
        self.bar.update(
            self.task(source), completed=done, total=total, description=f"{source}: {what}"
        )


@contextmanager
def _progress(output: str) -> Iterator[Observer]:
    # Quiet in CI, into a pipe, or when the output itself is JSON for a program.
    if output == "json" or os.environ.get("CI") or not sys.stderr.isatty():
        yield Quiet()
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as progress:
        yield _Bar(progress)


def _finding_json(finding: Finding) -> dict[str, object]:
    origin = finding.origin
    return {
        "fingerprint": finding.fingerprint,
        "title": finding.title,
        "task_type": finding.task_type.value,
        "source": {
            k: getattr(origin, k) for k in origin.__slots__ if getattr(origin, k) is not None
        },
        "created_at": finding.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if finding.created_at
        else None,
        "labels": list(finding.labels),
        "description": finding.description,
    }


def _tech_debt(ctx: Context) -> None:
    """Regenerate the tech-debt page from the merged backlog; a page a person broke is
    reported, not overwritten, and does not fail the discovery that already landed."""
    ranked = ctx.load().ranked(ctx.config.scoring, ctx.now)
    try:
        tech_debt.write(ctx.config.path("tech_debt"), ranked, ctx.now)
    except BacklogError as error:
        log.warning("%s", error)


def _json(scans: Sequence[Scan], result: Merge, *, dry_run: bool) -> dict[str, object]:
    return {
        "dry_run": dry_run,
        "sources": [
            {
                "name": s.source,
                "seconds": round(s.seconds, 3),
                "skipped": s.skipped,
                "failed": s.failed,
                "warnings": list(s.warnings),
                "findings": [_finding_json(f) for f in s.findings],
            }
            for s in scans
        ],
        "changes": [
            {"kind": c.kind.value, "item": c.item, "title": c.title, "detail": c.detail}
            for c in result.changes
        ],
    }


def summary(scans: Sequence[Scan], result: Merge, *, dry_run: bool) -> None:
    out = console()
    for s in scans:
        if s.failed:
            out.print(f"{s.source}: FAILED: {s.failed}", markup=False)
        elif s.skipped:
            out.print(f"{s.source}: skipped: {s.skipped}", markup=False)
        else:
            out.print(f"{s.source}: {len(s.findings)} found in {s.seconds:.1f}s", markup=False)
        for warning in s.warnings:
            out.print(f"  warning: {warning}", markup=False)
    verb = "would be" if dry_run else ""
    counts = ", ".join(
        f"{result.count(kind)} {verb} {kind.value}".replace("  ", " ") for kind in ChangeKind
    )
    out.print(f"Backlog: {counts}.", markup=False)
    for change in result.changes:
        out.print(
            f"  {change.kind.value:<8} {change.item}  {change.title}  ({change.detail})",
            markup=False,
        )
    if dry_run:
        out.print("Nothing was written (--dry-run).")
