"""``backlog review``: the end-of-pass review, also run by ``backlog run`` when a pass ends.

It measures the pass (since the previous review), compares it with the previous pass, adds a
meta-item to the backlog for each regression it can name (one per problem, however many
passes see it), and writes a tuning proposal for a person to apply with ``backlog tune``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import discovery
from ..backlog import Backlog
from ..context import Context
from ..execution import ExecutionSettings
from ..files import atomic_write
from ..model import TaskStatus
from ..output import console, print_json
from ..reports import coverage as coverage_mod
from ..reports import history, passes, publish, tuning
from ..reports import receipts as receipts_mod
from ..reports import status as status_mod
from ..sources.base import Finding

NAME = "review"
HELP = "review the last pass: compare it, add meta-items, propose tuning"
DESCRIPTION = """\
Measure the pass since the previous review (coverage, tests, open findings; items and WSJF
delivered, cycle time; gate failures, work sent back, escalations, agent success), compare it
with the previous pass, add a meta-item to the backlog for each regression (once, however many
passes see it), and write a tuning proposal to DOCS/status/tuning.md. `backlog run` does this
by itself when nothing actionable is left. Settings change only with `backlog tune --apply`."""

PASSES = "passes.jsonl"
KEEP_PASSES = 200


@dataclass(frozen=True, slots=True)
class Reviewed:
    """What one review found and wrote."""

    measured: dict[str, Any]
    added: list[str]
    seen_again: list[str]
    proposal: dict[str, Any]
    titles: dict[str, str]  # of the meta-items added or seen again


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``review``'s options."""
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="a summary or JSON"
    )


def record(
    backlog: Backlog, findings: list[Finding], *, now: datetime, actor: str
) -> tuple[list[str], list[str]]:
    """Put each regression in the backlog once: a new meta-item the first time, a note on the
    open one when it is seen again, the closed one reopened when it comes back."""
    index = {key: item for item in backlog.items for key in discovery.keys_of(item)}
    taken = {item.id.lower() for item in backlog.items}
    added, again = [], []
    for finding in findings:
        item = index.get((finding.origin.kind, finding.fingerprint))
        if item is None:
            item = backlog.add(
                discovery.new_item(finding, discovery.discovered_id(finding, taken), now)
            )
            taken.add(item.id.lower())
            added.append(item.id)
            continue
        item.evidence = [*item.evidence, f"seen again {now:%Y-%m-%dT%H:%M:%SZ}: {finding.title}"]
        item.updated_at = now
        if not item.is_open:
            reason = f"seen again by the end-of-pass review: {finding.title}"
            if item.status is TaskStatus.MERGED:
                backlog.transition(item, TaskStatus.DONE, reason=reason, actor=actor, now=now)
            backlog.transition(item, TaskStatus.NEW, reason=reason, actor=actor, now=now)
        again.append(item.id)
    return added, again


def _coverage(ctx: Context) -> coverage_mod.Coverage | None:
    if not ctx.config.value("reports.coverage"):
        return None
    return coverage_mod.measure(
        ctx.repo,
        "HEAD",
        state=ctx.state,
        settings=ExecutionSettings.from_config(ctx.config),
        timeout=float(ctx.config.value("reports.coverage_timeout")),
    )


def review(ctx: Context) -> Reviewed:
    """Review the pass that ended now and write what it found (one review at a time)."""
    with publish.locked(ctx):
        return _review(ctx)


def _review(ctx: Context) -> Reviewed:
    folder = ctx.config.path("status_dir")
    earlier = history.read(folder / PASSES)
    previous = earlier[-1] if earlier else None
    since = datetime.fromisoformat(previous["timestamp"]) if previous else None
    ranked = ctx.load().ranked(ctx.config.scoring, ctx.now)
    recorded = receipts_mod.load(ctx.state.root)
    report = status_mod.build(
        ranked,
        ctx.journal.read(),
        now=ctx.now,
        since=since,
        inputs=status_mod.Inputs(
            receipts=recorded,
            risk=status_mod.risk_classes(ranked, ctx.config.escalation, recorded),
            starving_days=float(ctx.config.value("reports.starving_days")),
        ),
    )
    measured = passes.measure(report, ranked, _coverage(ctx))
    measured["compared"] = passes.compare(measured, previous)
    findings = passes.regressions(measured, previous)
    with ctx.store.transaction() as backlog:
        added, again = record(backlog, findings, now=ctx.now, actor=f"{ctx.actor} (review)")
    measured["meta_items"] = {"added": added, "seen_again": again}
    rows = [*earlier, measured][-KEEP_PASSES:]
    atomic_write(folder / PASSES, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    proposal = {
        "created": measured["timestamp"],
        "pass": measured["timestamp"],
        "config_file": str(ctx.config.file) if ctx.config.file else None,
        "changes": tuning.propose(measured, report, ranked, ctx.config, ctx.now.date()),
    }
    tuning.write(folder, proposal)
    atomic_write(folder / "review.md", _markdown(measured, findings))
    titles = {f.fingerprint: f.title for f in findings}
    by_id = {
        item.id: titles.get(item.source.fingerprint or "", item.title)
        for item in ctx.load().items
        if item.id in (*added, *again) and item.source is not None
    }
    return Reviewed(measured, added, again, proposal, by_id)


def _markdown(measured: dict[str, Any], findings: list[Finding]) -> str:
    lines = [f"# End-of-pass review, {measured['timestamp']}", ""]
    lines += ["| Figure | This pass | Previous | Change |", "| --- | --- | --- | --- |"]
    for name, row in measured["compared"].items():
        lines.append(f"| {name} | {row['now']} | {row['before']} | {row['change']} |")
    if not measured["compared"]:
        lines = [*lines[:2], "The first pass: nothing to compare with yet."]
    lines += ["", "## Regressions", ""]
    lines += [f"- {f.title} ({f.fingerprint})" for f in findings] or ["None."]
    added, again = measured["meta_items"]["added"], measured["meta_items"]["seen_again"]
    lines += ["", f"Meta-items added: {', '.join(added) or 'none'}."]
    lines += [f"Meta-items seen again: {', '.join(again) or 'none'}.", ""]
    return "\n".join(lines)


def print_summary(reviewed: Reviewed, folder: Path) -> None:
    """Say what the review found, for a terminal."""
    out = console()
    health = reviewed.measured["health"]
    out.print(
        f"End-of-pass review written to {folder / 'review.md'}: coverage "
        f"{health['coverage_percent'] if health['coverage_percent'] is not None else '-'}%, "
        f"tests {health['tests'] if health['tests'] is not None else '-'}, "
        f"lint findings {health['lint_findings']}",
        markup=False,
    )
    for item_id in reviewed.added:
        out.print(f"  meta-item added: {item_id}: {reviewed.titles[item_id]}", markup=False)
    for item_id in reviewed.seen_again:
        out.print(f"  meta-item seen again: {item_id}: {reviewed.titles[item_id]}", markup=False)
    changes = reviewed.proposal["changes"]
    if changes:
        out.print(
            f"  tuning proposed ({len(changes)} setting(s)) in {folder / 'tuning.md'}; "
            "`backlog tune --apply` applies it",
            markup=False,
        )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Review and report."""
    reviewed = review(ctx)
    if args.format == "json":
        print_json({**reviewed.measured, "proposal": reviewed.proposal})
        return 0
    print_summary(reviewed, ctx.config.path("status_dir"))
    return 0
