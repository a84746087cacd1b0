"""Presenting items to people (rich tables) and to programs (JSON), shared by the commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .model import BacklogItem, Source
from .scoring import RankedItem, Score

SHORT = {"impact": "I", "time_criticality": "T", "risk_reduction": "R", "effort": "E"}


def console(*, stderr: bool = False) -> Console:
    """A console that colours on terminals and prints plain, unwrapped text into pipes."""
    stream = sys.stderr if stderr else sys.stdout
    plain = not stream.isatty()
    return Console(
        file=stream,
        highlight=False,
        soft_wrap=plain,
        width=10_000 if plain else None,
        no_color=plain,
    )


def print_table(out: Console, table: Table) -> None:
    """Print ``table``; into a pipe, as plain columns without trailing padding."""
    if out.is_terminal:
        out.print(table)
        return
    table.box = None
    with out.capture() as captured:
        out.print(table)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    out.file.write("\n".join(lines) + "\n")


def stamp(moment: datetime | None) -> str | None:
    """``moment`` as ISO-8601 UTC text."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _source_json(source: Source | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {k: getattr(source, k) for k in source.__slots__}


def score_json(score: Score) -> dict[str, Any]:
    """The WSJF breakdown for machines."""
    return {
        **{
            name: {"value": part.value, "rule": part.rule, "estimated": part.estimated}
            for name in SHORT
            for part in (score.component(name),)
        },
        "days_old": round(score.days_old, 4),
        "aging_multiplier": round(score.aging_multiplier, 4),
        "aging_capped": score.aging_capped,
        "cost_of_delay": score.cost_of_delay,
        "wsjf": round(score.wsjf, 4),
    }


def item_json(item: BacklogItem, score: Score | None = None) -> dict[str, Any]:
    """Every field of ``item`` for machines, with its score when given."""
    data: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "task_type": item.task_type.value,
        "status": item.status.value,
        "impact": item.impact,
        "effort": item.effort,
        "time_criticality": item.time_criticality,
        "risk_reduction": item.risk_reduction,
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "created_at": stamp(item.created_at),
        "updated_at": stamp(item.updated_at),
        "acceptance_criteria": list(item.acceptance_criteria),
        "links": list(item.links),
        "labels": list(item.labels),
        "security_notes": item.security_notes,
        "test_notes": item.test_notes,
        "blocked_reason": item.blocked_reason,
        "pr_url": item.pr_url,
        "source": _source_json(item.source),
        "also_found_by": [_source_json(other) for other in item.also_found_by],
        "approval": (
            {"by": item.approval.by, "at": stamp(item.approval.at), "note": item.approval.note}
            if item.approval
            else None
        ),
        "attempts": item.attempts,
        "evidence": list(item.evidence),
        "resolution": item.resolution,
        "wsjf_score": round(item.wsjf_score, 4),
        "aging_multiplier": round(item.aging_multiplier, 4),
    }
    if score is not None:
        data["score"] = score_json(score)
    return data


def print_json(data: object) -> None:
    """Write ``data`` as indented JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def inputs(score: Score) -> Text:
    """``I8 T3 R5 E2`` with estimated values marked by ``~``."""
    text = Text()
    for name, short in SHORT.items():
        part = score.component(name)
        if text:
            text.append(" ")
        text.append(
            f"{short}{'~' if part.estimated else ''}{part.value}",
            style="dim" if part.estimated else "",
        )
    return text


def ranked_table(
    rows: Iterable[tuple[int | None, RankedItem]], *, title: str | None = None
) -> Table:
    """The ranked backlog: rank (None: not ranked), id, status, type, WSJF, inputs, age, title."""
    table = Table(title=title, show_edge=False, pad_edge=False, header_style="bold")
    for name, justify in (
        ("#", "right"),
        ("ID", "left"),
        ("Status", "left"),
        ("Type", "left"),
        ("WSJF", "right"),
        ("Inputs", "left"),
        ("Age", "right"),
        ("Title", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for position, entry in rows:
        item, score = entry.item, entry.score
        table.add_row(
            "-" if position is None else str(position),
            item.id,
            item.status.value,
            item.task_type.value,
            f"{score.wsjf:.2f}",
            inputs(score),
            f"{score.days_old:.0f}d",
            item.title,
        )
    return table
