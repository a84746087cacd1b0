"""``backlog status``: write a status report to DOCS/status/ and print its summary."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from ..context import Context
from ..files import atomic_write
from ..output import console, print_json
from ..reports import status as report_mod

NAME = "status"
HELP = "write a status report and print its summary"
DESCRIPTION = """\
Compute the metrics (items processed, completed and blocked in the period since the previous
report, average cycle time, backlog size by status, WSJF distribution, blocked items with
their reasons) from the backlog and the journal, write them to
DOCS/status/status_<UTC time>.json with a Markdown twin, and print a summary."""

_REPORT_NAME = re.compile(r"^status_(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``status``'s options."""
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="print a summary (default) or the whole report as JSON",
    )


def previous_report(folder: Path) -> tuple[datetime | None, int | None]:
    """When the newest status report in ``folder`` was made and how many journal events it
    had seen; ``(None, None)`` without one. A report it cannot read counts by time alone."""
    reports = sorted(
        (datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC), int(m[2] or 1), path)
        for path in folder.glob("status_*.json")
        if (m := _REPORT_NAME.match(path.name))
    )
    if not reports:
        return None, None
    made, _number, path = reports[-1]
    try:
        seen = json.loads(path.read_text(encoding="utf-8")).get("journal_events")
    except (OSError, ValueError, AttributeError):
        seen = None
    return made, seen if isinstance(seen, int) and not isinstance(seen, bool) else None


def _free_name(folder: Path, stamp: str) -> Path:
    path = folder / f"status_{stamp}.json"
    number = 2
    while path.exists():
        path = folder / f"status_{stamp}-{number}.json"
        number += 1
    return path


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Write the report pair and summarise it."""
    backlog = ctx.load()
    folder = ctx.config.path("status_dir")
    ranked = backlog.ranked(ctx.config.scoring, ctx.now)
    since, seen = previous_report(folder)
    events = ctx.journal.read()
    report = report_mod.build(
        ranked,
        events,
        now=ctx.now,
        since=since,
        first_event=seen if seen is not None and seen <= len(events) else None,
    )
    target = _free_name(folder, ctx.now.strftime("%Y%m%dT%H%M%SZ"))
    atomic_write(target, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    atomic_write(target.with_suffix(".md"), report_mod.markdown(report))
    if args.format == "json":
        print_json(report)
        return 0
    out = console()
    sizes = ", ".join(f"{k} {v}" for k, v in report["backlog_size_by_status"].items() if v)
    out.print(
        f"Status report written to {target} (and {target.with_suffix('.md').name})", markup=False
    )
    out.print(f"  backlog: {report['backlog_size']} items ({sizes or 'empty'})", markup=False)
    out.print(
        f"  this period: {report['items_processed']} processed, {report['items_completed']} "
        f"completed, {report['items_blocked']} blocked",
        markup=False,
    )
    dist = report["wsjf_distribution"]
    if dist["count"]:
        out.print(f"  WSJF of open items: median {dist['median']}, max {dist['max']}", markup=False)
    for blocked in report["blocked_items"]:
        out.print(
            f"  blocked {blocked['id']} since {blocked['since']}: {blocked['reason']}", markup=False
        )
    return 0
