"""A tiny inventory: a stock ledger, prices with discounts and VAT, and JSON storage."""

from inventory.pricing import add_vat, apply_discount, gross_price, to_cents
from inventory.stock import Ledger, StockError

__all__ = ["Ledger", "StockError", "add_vat", "apply_discount", "gross_price", "to_cents"]
__version__ = "0.1.0"
