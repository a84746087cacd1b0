"""The status history, kept bounded: one compact row per report, old reports pruned.

Every report adds a row to ``history.jsonl`` (the figures the trend charts need). When the
rows pass their limit, the oldest day with several rows is rolled up into one row, so the
history of a long-running engine stays small while keeping one point per day. Report files
themselves (``status_<time>.json`` and ``.md``) are pruned beyond a count and an age; the
newest is never pruned and also lives at the stable names ``latest.json`` and ``latest.md``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..files import atomic_write

log = logging.getLogger(__name__)

HISTORY = "history.jsonl"
REPORT_NAME = re.compile(r"^status_(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")
SUMMED = ("items_processed", "items_completed", "items_delivered", "items_blocked", "cycles")


def row(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of ``report`` the trend charts and ``backlog report`` need."""
    spend = report.get("spend") or {}
    coverage = report.get("coverage") or {}
    after = coverage.get("after") or {}
    return {
        "timestamp": report["timestamp"],
        "backlog_size_by_status": report["backlog_size_by_status"],
        "items_processed": report["items_processed"],
        "items_completed": report["items_completed"],
        "items_delivered": len(report.get("items_delivered") or ()),
        "items_blocked": report["items_blocked"],
        "cycles": len((report.get("cycle_time") or {}).get("cycles") or ()),
        "cycle_time_avg": report["cycle_time_avg"],
        "wsjf_delivered": (report.get("throughput") or {}).get("wsjf", 0.0),
        "tokens": spend.get("tokens", 0),
        "cost_usd": spend.get("cost_usd"),
        "coverage_percent": after.get("percent"),
        "reports": 1,
    }


def read(path: Path) -> list[dict[str, Any]]:
    """The rows in ``path``, oldest first; damaged lines are skipped with a warning."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            data = json.loads(line)
            if isinstance(data, dict) and isinstance(data.get("timestamp"), str):
                rows.append(data)
                continue
        except ValueError:
            pass
        if line.strip():
            log.warning("%s:%d: skipping a damaged history line", path, number)
    return rows


def _merge(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One row standing for ``rows`` (one day's): sums of counts, the last sizes, a weighted
    mean cycle time."""
    last = rows[-1]
    merged = dict(last)
    for key in SUMMED:
        merged[key] = sum(int(r.get(key) or 0) for r in rows)
    timed = [(r["cycle_time_avg"], int(r.get("cycles") or 0)) for r in rows if r["cycle_time_avg"]]
    weight = sum(count for _avg, count in timed)
    merged["cycle_time_avg"] = (
        round(sum(avg * count for avg, count in timed) / weight, 1) if weight else None
    )
    merged["wsjf_delivered"] = round(sum(float(r.get("wsjf_delivered") or 0) for r in rows), 4)
    merged["tokens"] = sum(int(r.get("tokens") or 0) for r in rows)
    costs = [float(r["cost_usd"]) for r in rows if r.get("cost_usd") is not None]
    merged["cost_usd"] = round(sum(costs), 6) if costs else None
    covered = [r["coverage_percent"] for r in rows if r.get("coverage_percent") is not None]
    merged["coverage_percent"] = covered[-1] if covered else None
    merged["reports"] = sum(int(r.get("reports") or 1) for r in rows)
    return merged


def roll_up(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """``rows`` cut to ``limit``: the oldest day with several rows becomes one row, again and
    again; when every day has one row, the oldest rows go."""
    rows = list(rows)
    while len(rows) > limit:
        days = [r["timestamp"][:10] for r in rows]
        crowded = next((day for day in days if days.count(day) > 1), None)
        if crowded is None:
            return rows[len(rows) - limit :]
        first = days.index(crowded)
        last = len(days) - 1 - days[::-1].index(crowded)
        rows[first : last + 1] = [_merge(rows[first : last + 1])]
    return rows


def add(folder: Path, new: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Append ``new`` to the folder's history, rolled up to ``limit`` rows; returns them all."""
    path = folder / HISTORY
    rows = roll_up([*read(path), new], limit)
    atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return rows


def reports(folder: Path) -> list[tuple[datetime, Path]]:
    """The status report files in ``folder``, oldest first."""
    found = []
    for path in folder.glob("status_*.json"):
        match = REPORT_NAME.match(path.name)
        if match:
            made = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            found.append((made, int(match.group(2) or 1), path))
    found.sort()
    return [(made, path) for made, _number, path in found]


def prune(folder: Path, *, keep: int, keep_days: float, now: datetime) -> list[Path]:
    """Delete report pairs beyond the newest ``keep`` or older than ``keep_days``; the newest
    always stays. Returns what was deleted. Their figures live on in the history rows."""
    found = reports(folder)
    cutoff = now - timedelta(days=keep_days)
    doomed = [
        path
        for index, (made, path) in enumerate(reversed(found))
        if index > 0 and (index >= keep or made < cutoff)
    ]
    deleted = []
    for path in doomed:
        for twin in (path, path.with_suffix(".md")):
            try:
                twin.unlink()
                deleted.append(twin)
            except FileNotFoundError:
                pass
            except OSError as error:
                log.warning("%s: could not prune an old report (%s)", twin, error)
    return deleted
