"""``backlog status``: write a status report to DOCS/status/ and print its summary."""

from __future__ import annotations

import argparse

from ..context import Context
from ..output import console, print_json
from ..reports import publish

NAME = "status"
HELP = "write a status report and print its summary"
DESCRIPTION = """\
Compute the metrics for the period since the previous report from the backlog, the journal
and the evidence receipts (items processed, completed and blocked, cycle times by type and
source, throughput, agent success, gate failures, escalations, cost, ages, risks, coverage),
write them to DOCS/status/status_<UTC time>.json with a Markdown twin, copy both to
latest.json and latest.md, draw DOCS/status/index.html, regenerate DOCS/tech_debt.md, prune
old reports, and print a summary."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``status``'s options."""
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="print a summary (default) or the whole report as JSON",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Write the reports and summarise them."""
    published = publish.write(ctx)
    report, target = published.report, published.path
    if args.format == "json":
        print_json(report)
        return 0
    out = console()
    sizes = ", ".join(f"{k} {v}" for k, v in report["backlog_size_by_status"].items() if v)
    written = [target.with_suffix(".md").name, "latest.json", "latest.md"]
    written += [p.name for p in (published.html, published.tech_debt) if p is not None]
    out.print(f"Status report written to {target} (and {', '.join(written)})", markup=False)
    if published.pruned:
        out.print(f"  pruned {len(published.pruned)} old report file(s)", markup=False)
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
