"""``backlog add``: put a new item in the backlog by hand."""

from __future__ import annotations

import argparse

from ..context import Context
from ..model import BacklogItem, Source, TaskStatus, TaskType
from ..output import console, item_json, print_json
from ..scoring import score
from . import _options

NAME = "add"
HELP = "add an item to the backlog"
DESCRIPTION = """\
Add an item. WSJF inputs you leave out are estimated from the title, description and type
whenever the backlog is ranked; values you give are kept and never replaced by estimates."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``add``'s options."""
    parser.add_argument("--title", required=True, help="one line saying what should be done")
    parser.add_argument("--description", default="", help="more detail")
    parser.add_argument("--id", dest="item_id", help="the item's id (default: the next BL-<n>)")
    parser.add_argument(
        "--type",
        dest="task_type",
        type=_options.task_type,
        default=TaskType.FEATURE,
        help="Feature (default), Bug, Refactor, Security, Doc, Test or Performance",
    )
    parser.add_argument(
        "--status",
        type=str.upper,
        choices=(TaskStatus.NEW.value, TaskStatus.REFINED.value, TaskStatus.READY.value),
        default=TaskStatus.NEW.value,
        help="NEW (default), REFINED or READY",
    )
    for flag, name in (
        ("--impact", "impact"),
        ("--effort", "effort"),
        ("--time-criticality", "time criticality"),
        ("--risk-reduction", "risk reduction"),
    ):
        parser.add_argument(flag, type=_options.scale, metavar="1-13", help=f"{name} (1-13)")
    parser.add_argument(
        "--criteria",
        action="append",
        default=[],
        metavar="TEXT",
        help="an acceptance criterion; repeat for several",
    )
    parser.add_argument(
        "--link", action="append", default=[], metavar="URL", help="a related link; repeatable"
    )
    parser.add_argument(
        "--label", action="append", default=[], metavar="LABEL", help="a label; repeatable"
    )
    parser.add_argument("--due", type=_options.day, metavar="YYYY-MM-DD", help="a due date")
    parser.add_argument("--security-notes", default="", help="security considerations")
    parser.add_argument("--test-notes", default="", help="how it should be tested")
    _options.add_format(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Append the item and say what it scored."""
    with ctx.store.transaction() as backlog:
        item = backlog.add(
            BacklogItem(
                id=args.item_id or backlog.new_id(),
                title=args.title,
                description=args.description,
                task_type=args.task_type,
                impact=args.impact,
                effort=args.effort,
                status=TaskStatus(args.status),
                created_at=ctx.now,
                updated_at=ctx.now,
                links=args.link,
                acceptance_criteria=args.criteria,
                security_notes=args.security_notes,
                test_notes=args.test_notes,
                time_criticality=args.time_criticality,
                risk_reduction=args.risk_reduction,
                due_date=args.due,
                labels=args.label,
                source=Source(kind="manual", author=ctx.actor),
            )
        )
    result = score(item, ctx.config.scoring, ctx.now)
    item.wsjf_score, item.aging_multiplier = result.wsjf, result.aging_multiplier
    if args.format == "json":
        print_json(item_json(item, result))
    else:
        console().print(
            f"added {item.id} to {ctx.store.path} (WSJF {result.wsjf:.2f}): {item.title}",
            markup=False,
        )
    return 0
