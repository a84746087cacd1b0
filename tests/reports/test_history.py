"""The status history stays bounded: rows roll up by day, old report files are pruned."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from continuous_backlog_executor.reports import history

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def row(stamp: str, **figures: Any) -> dict[str, Any]:
    """A history row at ``stamp`` with zero figures unless given."""
    base: dict[str, Any] = {
        "timestamp": stamp,
        "backlog_size_by_status": {"READY": 1},
        "items_processed": 0,
        "items_completed": 0,
        "items_delivered": 0,
        "items_blocked": 0,
        "cycles": 0,
        "cycle_time_avg": None,
        "wsjf_delivered": 0.0,
        "tokens": 0,
        "cost_usd": None,
        "coverage_percent": None,
        "reports": 1,
    }
    return base | figures


def test_a_crowded_old_day_is_rolled_up_into_one_row() -> None:
    rows = [
        row("2026-11-01T09:00:00Z", items_delivered=1, cycles=1, cycle_time_avg=100.0, tokens=5),
        row("2026-11-01T15:00:00Z", items_delivered=2, cycles=3, cycle_time_avg=300.0),
        row("2026-11-01T18:00:00Z", cost_usd=0.5, coverage_percent=80.0),
        row("2026-11-02T09:00:00Z", items_delivered=4),
    ]

    rolled = history.roll_up(rows, 2)

    assert [r["timestamp"] for r in rolled] == ["2026-11-01T18:00:00Z", "2026-11-02T09:00:00Z"]
    day = rolled[0]
    assert (day["items_delivered"], day["cycles"], day["reports"]) == (3, 4, 3)
    assert day["cycle_time_avg"] == 250.0  # (100 * 1 + 300 * 3) / 4
    assert (day["tokens"], day["cost_usd"], day["coverage_percent"]) == (5, 0.5, 80.0)


def test_when_every_day_has_one_row_the_oldest_go() -> None:
    rows = [row(f"2026-11-0{day}T09:00:00Z") for day in range(1, 6)]

    assert history.roll_up(rows, 3) == rows[2:]


def test_add_keeps_the_file_within_its_limit(tmp_path: Path) -> None:
    for hour in range(10, 22):
        history.add(tmp_path, row(f"2026-11-25T{hour}:00:00Z", items_processed=1), 10)

    rows = history.read(tmp_path / history.HISTORY)
    # The eleventh row rolled the day's ten up into one; the twelfth came after it.
    assert [r["reports"] for r in rows] == [11, 1]
    assert sum(r["items_processed"] for r in rows) == 12


def test_a_damaged_history_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / history.HISTORY
    path.write_text(json.dumps(row("2026-11-25T10:00:00Z")) + "\n{not json\n")

    assert [r["timestamp"] for r in history.read(path)] == ["2026-11-25T10:00:00Z"]


def _report(folder: Path, stamp: str) -> Path:
    path = folder / f"status_{stamp}.json"
    path.write_text("{}")
    path.with_suffix(".md").write_text("#")
    return path


def test_prune_keeps_the_newest_by_count_and_age(tmp_path: Path) -> None:
    old = _report(tmp_path, "20260101T000000Z")
    kept = [_report(tmp_path, f"20261124T0{h}0000Z") for h in range(3)]
    newest = _report(tmp_path, "20261125T110000Z")
    same_second = _report(tmp_path, "20261125T110000Z-2")

    deleted = history.prune(tmp_path, keep=4, keep_days=30, now=NOW)

    assert old in deleted
    assert old.with_suffix(".md") in deleted
    assert kept[0] in deleted  # fifth newest: over the count
    left = sorted(p.name for p in tmp_path.glob("status_*.json"))
    assert left == sorted(p.name for p in (*kept[1:], newest, same_second))


def test_prune_never_deletes_the_newest_even_when_it_is_old(tmp_path: Path) -> None:
    only = _report(tmp_path, "20200101T000000Z")

    assert history.prune(tmp_path, keep=1, keep_days=1, now=NOW) == []
    assert only.exists()
