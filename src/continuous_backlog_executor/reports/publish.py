"""Writing a status report: the JSON and Markdown pair, the stable ``latest`` copies, the
history row, the HTML page, the tech-debt page, and pruning of old reports.

This is the one place that reads the backlog, journal, receipts and coverage together and
writes into the status folder; ``backlog status`` and ``backlog run`` both come here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .. import git
from ..context import Context
from ..errors import BacklogError, GitError
from ..execution import ExecutionSettings
from ..files import atomic_write
from ..scoring import RankedItem
from . import coverage as coverage_mod
from . import history, html, tech_debt
from . import receipts as receipts_mod
from . import status as status_mod
from .markdown import markdown

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Published:
    """What one report wrote."""

    report: dict[str, Any]
    path: Path
    html: Path | None
    tech_debt: Path | None
    pruned: list[Path]


def previous(folder: Path) -> dict[str, Any] | None:
    """The newest report in ``folder``, or None without a readable one."""
    found = history.reports(folder)
    if not found:
        return None
    try:
        data = json.loads(found[-1][1].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _free_name(folder: Path, stamp: str) -> Path:
    path = folder / f"status_{stamp}.json"
    number = 2
    while path.exists():
        path = folder / f"status_{stamp}-{number}.json"
        number += 1
    return path


def _head(repo: Path) -> str | None:
    try:
        return git.head(repo)
    except GitError:
        return None


def coverage_section(
    ctx: Context, last: dict[str, Any] | None, recorded: list[receipts_mod.Recorded]
) -> dict[str, Any]:
    """``coverage_delta`` and its evidence. When the base branch moved in the period (changes
    were merged), its coverage at the start of the period against now; the start is where the
    previous report measured it, or, for a first report, the base of the period's first
    delivered item. Otherwise the delivered pull requests' own changes (each head against its
    base), summed. Measurements are cached by commit."""
    if not ctx.config.value("reports.coverage"):
        return {"delta": None, "note": "coverage measurement is off (reports.coverage)"}
    head = _head(ctx.repo)
    if head is None:
        return {"delta": None, "note": "the target is not a git repository with a commit"}
    since = (last or {}).get("timestamp")
    delivered: list[tuple[str, str, str]] = []  # item, base and head of each success
    for r in recorded:
        done, tip = r.receipt.finished, r.receipt.head_sha
        if str(r.receipt.outcome) != "success" or not tip or done is None:
            continue
        if since is None or done.strftime("%Y-%m-%dT%H:%M:%SZ") > since:
            delivered.append((r.receipt.item_id, r.receipt.base_sha, tip))
    before = ((last or {}).get("coverage") or {}).get("after") or {}
    base = before.get("sha") if isinstance(before.get("sha"), str) else None
    if base is None and delivered:
        base = delivered[0][1]
    settings = ExecutionSettings.from_config(ctx.config)
    timeout = float(ctx.config.value("reports.coverage_timeout"))

    def measure(sha: str) -> coverage_mod.Coverage:
        return coverage_mod.measure(
            ctx.repo, sha, state=ctx.state, settings=settings, timeout=timeout
        )

    now = measure(head)
    if base and base != head:
        old = measure(base)
        delta = coverage_mod.delta(old, now)
        note = None if delta is not None else (old.reason or now.reason)
        return {"delta": delta, "note": note, "base": _facts(old), "after": _facts(now)}
    section: dict[str, Any] = {"after": _facts(now)}
    if not delivered:
        reason = now.reason or "nothing was merged or delivered in this period"
        return {**section, "delta": None, "note": reason}
    by_item: dict[str, dict[str, Any]] = {}
    for item_id, base_sha, head_sha in delivered:
        old, new = measure(base_sha), measure(head_sha)
        by_item[item_id] = {
            "base": _facts(old),
            "head": _facts(new),
            "delta": coverage_mod.delta(old, new),
        }
    deltas = [v["delta"] for v in by_item.values() if v["delta"] is not None]
    note = (
        "nothing was merged in this period: the sum of each delivered pull request's own "
        "change (its head against its base)"
        if deltas
        else "the delivered pull requests could not be measured"
    )
    total = round(sum(deltas), 2) if deltas else None
    return {**section, "delta": total, "note": note, "by_item": by_item}


def _facts(measured: coverage_mod.Coverage) -> dict[str, Any]:
    return {
        "sha": measured.sha,
        "percent": None if measured.percent is None else round(measured.percent, 2),
        "covered": measured.covered,
        "statements": measured.statements,
        "reason": measured.reason,
    }


def _receipt_base(ctx: Context, folder: Path) -> str | None:
    """The state folder as a link from the status folder, when both are on one disk."""
    try:
        return Path(os.path.relpath(ctx.state.root, folder)).as_posix() + "/"
    except ValueError:  # different drives on Windows
        return None


@contextlib.contextmanager
def locked(ctx: Context) -> Iterator[None]:
    """Hold the status folder's lock: two processes reporting at once would both take the
    previous report as their period's start and could pick the same file name."""
    folder = ctx.config.path("status_dir")
    wait = 2 * float(ctx.config.value("reports.coverage_timeout")) + 120
    try:
        with FileLock(ctx.state.lock_path(folder), timeout=wait):
            yield
    except Timeout:
        raise BacklogError(
            f"another process has been writing the status report in {folder} for {wait:g} s; "
            "try again when it is done"
        ) from None


def write(ctx: Context, *, final: bool = True, draw: bool = True) -> Published:
    """Compute the report for the period since the previous one and write everything.

    A run refreshes the report after each item with ``final=False``: ``latest.*``, the HTML
    page and the tech-debt page show the run so far, but no dated report, history row or
    coverage run is made until the run ends, so each run still makes one dated report.
    ``draw=False`` leaves the HTML page as it is (drawing its charts takes most of the time).
    """
    with locked(ctx):
        try:
            return _write(ctx, final=final, draw=draw)
        except OSError as error:  # a folder where a report goes, a read-only disk...
            where = error.filename2 or error.filename or ctx.config.path("status_dir")
            raise BacklogError(
                f"{where}: cannot write the status report ({error.strerror or error}); "
                "make DOCS/status (paths.status_dir) a writable folder"
            ) from None


def _write(ctx: Context, *, final: bool, draw: bool) -> Published:
    backlog = ctx.load()
    folder = ctx.config.path("status_dir")
    ranked: list[RankedItem] = backlog.ranked(ctx.config.scoring, ctx.now)
    last = previous(folder)
    found = history.reports(folder)
    since = found[-1][0] if found else None
    seen = (last or {}).get("journal_events")
    events = ctx.journal.read()
    recorded = receipts_mod.load(ctx.state.root)
    report = status_mod.build(
        ranked,
        events,
        now=ctx.now,
        since=since,
        first_event=seen
        if isinstance(seen, int) and not isinstance(seen, bool) and seen <= len(events)
        else None,
        inputs=status_mod.Inputs(
            receipts=recorded,
            risk=status_mod.risk_classes(ranked, ctx.config.escalation, recorded),
            coverage=coverage_section(ctx, last, recorded)
            if final
            else {"delta": None, "note": "measured when the run ends"},
            starving_days=float(ctx.config.value("reports.starving_days")),
        ),
    )
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    page = markdown(report)
    target = folder / "latest.json"
    if final:
        target = _free_name(folder, ctx.now.strftime("%Y%m%dT%H%M%SZ"))
        atomic_write(target, text)
        atomic_write(target.with_suffix(".md"), page)
    atomic_write(folder / "latest.json", text)
    atomic_write(folder / "latest.md", page)
    if final:
        rows = history.add(
            folder, history.row(report), int(ctx.config.value("reports.history_rows"))
        )
    else:  # the charts show the run so far as the last point, without recording it
        rows = [*history.read(folder / history.HISTORY), history.row(report)]
    html_path = None
    if draw and ctx.config.value("reports.html"):
        html_path = folder / "index.html"
        atomic_write(html_path, html.render(report, rows, receipt_base=_receipt_base(ctx, folder)))
    debt_path: Path | None = ctx.config.path("tech_debt")
    try:
        tech_debt.write(ctx.config.path("tech_debt"), ranked, ctx.now)
    except BacklogError as error:
        # The report stands on its own; a tech-debt page a person broke is theirs to fix.
        log.warning("%s", error)
        debt_path = None
    pruned = (
        history.prune(
            folder,
            keep=int(ctx.config.value("reports.keep")),
            keep_days=float(ctx.config.value("reports.keep_days")),
            now=ctx.now,
        )
        if final
        else []
    )
    return Published(report, target, html_path, debt_path, pruned)
