"""Tuning proposals from a pass's outcomes, and applying one to the configuration file.

The review proposes; a person decides. A proposal is written to the status folder as JSON
(for ``backlog tune --apply``) and Markdown (for reading), and records the value each setting
had when it was made: applying it after someone changed that setting is refused, so a stale
proposal never overwrites a newer decision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..files import atomic_write
from ..scoring import RankedItem

PROPOSAL = "tuning.json"
MAX_AGING_CAP = 5.0
STRAINED = ("timed out", "max turns", "over budget")  # outcomes of work too big for one go


def _change(key: str, current: Any, proposed: Any, why: str) -> dict[str, Any]:
    return {"key": key, "current": current, "proposed": proposed, "why": why}


def propose(
    measured: Mapping[str, Any],
    report: Mapping[str, Any],
    ranked: Sequence[RankedItem],
    config: Config,
    today: date,
) -> list[dict[str, Any]]:
    """Setting changes the pass's outcomes argue for, each with the evidence as its reason."""
    value = config.value
    changes = []
    if measured["starving_count"]:
        per_day = float(value("scoring.aging_per_day"))
        changes.append(
            _change(
                "scoring.aging_per_day",
                per_day,
                round(max(per_day * 1.5, 0.05), 3),
                f"{measured['starving_count']} item(s) waited over "
                f"{measured['starving_days']:g} days: aging lifts them too slowly",
            )
        )
        cap = float(value("scoring.aging_cap"))
        capped = [r for r in measured["starving"] if r["aging_multiplier"] >= cap]
        if capped and cap < MAX_AGING_CAP:
            changes.append(
                _change(
                    "scoring.aging_cap",
                    cap,
                    min(cap + 1.0, MAX_AGING_CAP),
                    f"{len(capped)} starving item(s) already at the aging cap",
                )
            )
    outcomes = report["outcomes"]
    strained = sum(outcomes.get(name, 0) for name in STRAINED)
    threshold = int(value("execution.slice_size_threshold"))
    if strained >= 2 and threshold > 1:
        changes.append(
            _change(
                "execution.slice_size_threshold",
                threshold,
                threshold - 1,
                f"{strained} attempt(s) ran out of time, turns or budget: smaller slices fit",
            )
        )
    limit = int(value("execution.max_cycle_time"))
    if outcomes.get("timed out", 0) >= 2:
        changes.append(
            _change(
                "execution.max_cycle_time",
                limit,
                int(limit * 1.5),
                f"{outcomes['timed out']} attempt(s) timed out",
            )
        )
    overdue = [
        e.item.id
        for e in ranked
        if e.item.is_open and e.item.due_date is not None and e.item.due_date < today
    ]
    if overdue:
        weight = float(value("scoring.weights.time_criticality"))
        changes.append(
            _change(
                "scoring.weights.time_criticality",
                weight,
                round(weight + 0.25, 2),
                f"{len(overdue)} open item(s) are past their due date: {', '.join(overdue[:5])}",
            )
        )
    return changes


def markdown(proposal: Mapping[str, Any]) -> str:
    """The proposal for a person to read before ``backlog tune --apply``."""
    lines = [
        f"# Tuning proposal, {proposal['created']}",
        "",
        f"From the end-of-pass review of {proposal['pass']}. Nothing is changed until someone "
        "runs `backlog tune --apply`.",
        "",
    ]
    if not proposal["changes"]:
        return "\n".join([*lines, "No change is proposed.", ""])
    lines += ["| Setting | Now | Proposed | Why |", "| --- | --- | --- | --- |"]
    lines += [
        f"| `{c['key']}` | {c['current']} | {c['proposed']} | {c['why']} |"
        for c in proposal["changes"]
    ]
    return "\n".join([*lines, ""])


def read(folder: Path) -> dict[str, Any] | None:
    """The pending proposal in ``folder``, or None."""
    path = folder / PROPOSAL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{path}: not a readable proposal ({error}); run `backlog review`"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        raise ConfigError(f"{path}: not a tuning proposal; run `backlog review` again")
    return data


def write(folder: Path, proposal: Mapping[str, Any]) -> Path:
    """Store ``proposal`` (JSON and Markdown); returns the JSON's path."""
    path = folder / PROPOSAL
    atomic_write(path, json.dumps(proposal, indent=2, ensure_ascii=False) + "\n")
    atomic_write(path.with_suffix(".md"), markdown(proposal))
    return path


def apply(proposal: Mapping[str, Any], config: Config, target: Path) -> list[str]:
    """Write the proposal's changes into the JSON configuration file ``target``; returns the
    keys changed. Refused, with nothing written, when a setting no longer has the value the
    proposal was made against, or the file is not a JSON object."""
    for change in proposal["changes"]:
        now = config.value(change["key"])
        if now != change["current"]:
            raise ConfigError(
                f"{change['key']} is {now!r} now, but the proposal was made when it was "
                f"{change['current']!r}; run `backlog review` for a fresh proposal"
            )
    try:
        text = target.read_text(encoding="utf-8") if target.exists() else "{}"
        data = json.loads(text)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{target}: cannot read it as JSON ({error}); nothing was changed"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{target}: the configuration must be a JSON object; nothing changed")
    for change in proposal["changes"]:
        key = change["key"]
        node, name = _spelled(data, key.split(".")) or _nested(data, key, target)
        node[name] = change["proposed"]
    atomic_write(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return [change["key"] for change in proposal["changes"]]


def _spelled(node: dict[str, Any], parts: list[str]) -> tuple[dict[str, Any], str] | None:
    """Where the file already sets the setting named by ``parts``, however it spells it: in
    sections (``{"scoring": {"aging_cap": 2}}``), as one dotted key (``{"scoring.aging_cap":
    2}``) or a mix. The configuration accepts each, so a new value goes where the old one is
    rather than beside it, where one of the two would silently win."""
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if end == len(parts):
            if name in node:
                return node, name
        elif isinstance(node.get(name), dict):
            found = _spelled(node[name], parts[end:])
            if found is not None:
                return found
    return None


def _nested(data: dict[str, Any], key: str, target: Path) -> tuple[dict[str, Any], str]:
    """Where a setting the file does not set yet goes: in its sections."""
    *sections, name = key.split(".")
    node = data
    for section in sections:
        child = node.setdefault(section, {})
        if not isinstance(child, dict):
            raise ConfigError(
                f"{target}: {section!r} is not an object, so {key} cannot be set in it; "
                "nothing was changed"
            )
        node = child
    return node, name
