"""An in-memory stock ledger: quantities on hand per SKU, and a low-stock report."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_THRESHOLD = 5

# Printed after each line of the pick list the warehouse works through on Fridays.
REORDER_NOTE = "TODO: reorder from supplier"


class StockError(Exception):
    """A stock movement that cannot be applied."""


@dataclass
class Ledger:
    """Units on hand by SKU, and a display name for each SKU."""

    quantities: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, sku: str, quantity: int, name: str | None = None) -> int:
        """Receive ``quantity`` units of ``sku``; returns the new quantity on hand."""
        # TODO: reject negative quantities instead of clamping them to zero
        quantity = max(quantity, 0)
        self.quantities[sku] = self.quantities.get(sku, 0) + quantity
        if name:
            self.names[sku] = name
        return self.quantities[sku]

    def remove(self, sku: str, quantity: int) -> int:
        """Take ``quantity`` units of ``sku`` out of stock; returns what is left."""
        if sku not in self.quantities:
            raise StockError(f"unknown SKU {sku!r}")
        on_hand = self.quantities[sku]
        if quantity > on_hand:
            raise StockError(f"cannot remove {quantity} of {sku!r}: only {on_hand} in stock")
        self.quantities[sku] = on_hand - quantity
        return self.quantities[sku]

    def quantity(self, sku: str) -> int:
        """Units of ``sku`` on hand (0 for a SKU never received)."""
        return self.quantities.get(sku, 0)

    def low_stock(self, threshold: int = DEFAULT_THRESHOLD) -> list[tuple[str, int]]:
        """``(sku, quantity)`` for every SKU below ``threshold``, fewest units first."""
        # TODO: give each SKU its own reorder threshold. One number for the whole shop
        #   is too coarse: screws are reordered at 500, pallets at 2. Keep `threshold`
        #   as the default for SKUs that have none of their own.
        low = [(sku, qty) for sku, qty in self.quantities.items() if qty < threshold]
        return sorted(low, key=lambda pair: (pair[1], pair[0]))

    def pick_list(self, threshold: int = DEFAULT_THRESHOLD) -> str:
        """The low-stock report as text, one SKU per line."""
        lines = [f"{sku:<10} {qty:>5}  {REORDER_NOTE}" for sku, qty in self.low_stock(threshold)]
        return "\n".join(lines) if lines else "Nothing to reorder."
