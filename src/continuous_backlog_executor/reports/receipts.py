"""Reading the evidence receipts back for reports: every attempt the engine recorded.

Receipts live in the state folder as ``receipts/<item>/<attempt>.json``. A receipt that cannot
be read (a crash mid-write on an old run, a hand edit) is skipped with a warning naming it, so
one bad file never stops a report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..evidence import Receipt

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One receipt and where it is, relative to the state folder."""

    path: str
    receipt: Receipt


def load(state_root: Path) -> list[Recorded]:
    """Every readable receipt under ``state_root/receipts``, oldest attempt first."""
    folder = state_root / "receipts"
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*/*.json")):
        try:
            receipt = Receipt.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("%s: skipping an unreadable receipt (%s)", path, error)
            continue
        found.append(Recorded(path.relative_to(state_root).as_posix(), receipt))
    found.sort(key=lambda r: (r.receipt.started, r.receipt.item_id, r.receipt.attempt))
    return found


def tokens(receipt: Receipt) -> int:
    """The tokens the attempt's agent runs used (input plus output)."""
    usage = receipt.usage or {}
    return int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)


def cost(receipt: Receipt) -> float | None:
    """The attempt's cost in USD, or None when the agent did not report one."""
    value = (receipt.usage or {}).get("cost_usd")
    return float(value) if isinstance(value, int | float) else None
