"""Saving a ledger to a JSON file and loading it back."""

from __future__ import annotations

import json
from pathlib import Path

from inventory.stock import Ledger

FORMAT = 1


def save(ledger: Ledger, path: Path) -> None:
    """Write ``ledger`` to ``path`` as JSON."""
    data = {"format": FORMAT, "quantities": ledger.quantities, "names": ledger.names}
    # TODO: write to a temporary file and rename it, so a crash cannot leave half a ledger
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(path: Path) -> Ledger:
    """The ledger saved at ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a ledger file of format {FORMAT}")
    quantities = {str(sku): int(qty) for sku, qty in data["quantities"].items()}
    return Ledger(quantities=quantities, names=dict(data.get("names", {})))
