"""The status report for people: the same figures as the JSON, as Markdown tables.

It is rendered from the JSON report alone, so the two can never disagree: every number here
is a value of the report, printed as it is.
"""

from __future__ import annotations

from typing import Any

NONE = "-"


def cell(value: object) -> str:
    """``value`` fit for a table cell: pipes escaped, one line, ``-`` for unknown."""
    if value is None:
        return NONE
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]], empty: str) -> list[str]:
    if not rows:
        return [empty, ""]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _rates(group: dict[str, dict[str, Any]]) -> list[tuple[object, ...]]:
    return [(key, v["attempts"], v["succeeded"], v["rate"]) for key, v in group.items()]


def _summary(report: dict[str, Any]) -> list[str]:
    flow = report["throughput"]
    spend = report["spend"]
    rows: list[tuple[object, ...]] = [
        ("Items processed (entered DOING)", report["items_processed"]),
        ("Items completed (merged or done)", report["items_completed"]),
        ("Items delivered (pull request or done)", len(report["items_delivered"])),
        ("Items blocked", report["items_blocked"]),
        ("Completion rate", report["completion_rate"]),
        ("Average cycle time (s)", report["cycle_time_avg"]),
        ("Coverage delta (points)", report["coverage_delta"]),
        ("Throughput (items per day)", flow["items_per_day"]),
        ("Throughput (WSJF per day)", flow["wsjf_per_day"]),
        ("Agent success rate", report["agent_success"]["overall"]["rate"]),
        ("Escalations", report["escalations"]["count"]),
        ("Tokens used", spend["tokens"]),
        ("Cost (USD)", spend["cost_usd"]),
        ("Tokens per delivered item", spend["per_completed_item"]["tokens"]),
        ("Cost per delivered item (USD)", spend["per_completed_item"]["cost_usd"]),
    ]
    lines = _table(("Metric", "Value"), rows, "")
    notes = [report[k] for k in ("coverage_delta_note", "cycle_time_note") if report.get(k)]
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    return lines


def _wsjf(dist: dict[str, Any]) -> list[str]:
    if not dist["count"]:
        return ["No open items.", ""]
    lines = [
        f"{dist['count']} open items; min {dist['min']}, median {dist['median']}, "
        f"mean {dist['mean']}, max {dist['max']}.",
        "",
    ]
    return lines + _table(("WSJF", "Items"), list(dist["buckets"].items()), "")


def _delivery(report: dict[str, Any]) -> list[str]:
    lines = ["## Cycle time by task type", ""]
    by = report["cycle_time"]
    spread = ("count", "avg", "median")
    lines += _table(
        ("Type", "Cycles", "Average (s)", "Median (s)"),
        [(k, *(v[s] for s in spread)) for k, v in by["by_type"].items()],
        "No cycle ended in this period.",
    )
    lines += ["## Cycle time by source", ""]
    lines += _table(
        ("Source", "Cycles", "Average (s)", "Median (s)"),
        [(k, *(v[s] for s in spread)) for k, v in by["by_source"].items()],
        "No cycle ended in this period.",
    )
    lines += ["## Throughput by day", ""]
    lines += _table(
        ("Day", "Items", "WSJF"),
        [(day, v["items"], v["wsjf"]) for day, v in report["throughput"]["by_day"].items()],
        "Nothing was delivered in this period.",
    )
    return lines


def _reliability(report: dict[str, Any]) -> list[str]:
    success = report["agent_success"]
    header = ("", "Attempts", "Succeeded", "Rate")
    lines = ["## Agent success", ""]
    for name, title in (("by_agent", "Agent"), ("by_source", "Source"), ("by_risk", "Risk")):
        lines += _table((title, *header[1:]), _rates(success[name]), f"No attempt ({title}).")
    lines += ["## Gate failures", ""]
    lines += _table(
        ("Gate", "Failed tries"),
        list(report["gate_failures"].items()),
        "No gate failed in this period.",
    )
    lines += ["## Escalations by trigger", ""]
    lines += _table(
        ("Trigger", "Items held"),
        list(report["escalations"]["by_trigger"].items()),
        "Nothing was held for approval in this period.",
    )
    lines += ["## Cost per delivered item", ""]
    lines += _table(
        ("Item", "Attempts", "Tokens", "Cost (USD)"),
        [(r["id"], r["attempts"], r["tokens"], r["cost_usd"]) for r in report["spend"]["by_item"]],
        "Nothing was delivered in this period.",
    )
    return lines


def _waiting(report: dict[str, Any]) -> list[str]:
    ages = report["ages"]
    lines = ["## Age of open items", ""]
    lines += _table(("Age", "Items"), list(ages["buckets"].items()), "")
    lines += [
        f"Starving (waiting over {ages['starving_days']:g} days): {ages['starving']}.",
        "",
        "## Oldest waiting items",
        "",
    ]
    keys = ("id", "title", "age_days", "aging_multiplier", "wsjf", "rank", "starving")
    lines += _table(
        ("Item", "Title", "Age (days)", "Aging", "WSJF", "Rank", "Starving"),
        [tuple(row[k] for k in keys) for row in ages["oldest_waiting"]],
        "Nothing is waiting.",
    )
    shown, total = len(report["risks"]), report.get("risks_total", len(report["risks"]))
    lines += ["## Notable risks", ""]
    if total > shown:
        lines += [f"The {shown} highest-ranked of {total}.", ""]
    lines += _table(
        ("Item", "Title", "Status", "Risk", "Why"),
        [tuple(r[k] for k in ("id", "title", "status", "risk", "why")) for r in report["risks"]],
        "No notable risk.",
    )
    lines += ["## Blocked items", ""]
    lines += _table(
        ("Item", "Title", "Reason", "Since"),
        [tuple(b[k] for k in ("id", "title", "reason", "since")) for b in report["blocked_items"]],
        "Nothing is blocked.",
    )
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The report for people, with the same numbers as the JSON."""
    since = report["period"]["since"] or "the start of the journal"
    lines = [
        f"# Backlog status, {report['timestamp']}",
        "",
        f"Period: {since} to {report['period']['until']}.",
        "",
        *_summary(report),
        "## Backlog by status",
        "",
        *_table(("Status", "Items"), list(report["backlog_size_by_status"].items()), ""),
        "## WSJF of open items",
        "",
        *_wsjf(report["wsjf_distribution"]),
        *_delivery(report),
        *_reliability(report),
        *_waiting(report),
        "## Completed in this period",
        "",
    ]
    lines += [f"- {item}" for item in report["completed_items"]] or ["Nothing."]
    lines += ["", "## Next up", ""]
    lines += [
        f"1. {n['id']} (WSJF {n['wsjf']}): {cell(n['title'])}" for n in report["next_up"]
    ] or ["Nothing is waiting."]
    return "\n".join(lines) + "\n"
