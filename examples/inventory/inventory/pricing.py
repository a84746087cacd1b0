"""Prices with discounts and VAT, in exact decimal arithmetic, rounded to whole cents."""

from __future__ import annotations

from decimal import ROUND_HALF_DOWN, Decimal

CENT = Decimal("0.01")

# HACK: the rates are hard-coded until finance publishes them somewhere we can read
# them from (backlog item INV-7).
VAT_RATES = {"standard": Decimal("0.20"), "reduced": Decimal("0.05"), "zero": Decimal("0")}


def to_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to whole cents; half a cent rounds up."""
    # FIXME(alice): rounding is wrong for half cents: 0.125 becomes 0.12, not 0.13
    return amount.quantize(CENT, rounding=ROUND_HALF_DOWN)


def apply_discount(price: Decimal, percent: Decimal | int) -> Decimal:
    """``price`` less ``percent`` per cent, rounded to cents."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a discount of {percent}% is not between 0 and 100")
    return to_cents(price * (100 - Decimal(percent)) / 100)


def add_vat(net: Decimal, rate: str = "standard") -> Decimal:
    """``net`` plus VAT at the named rate, rounded to cents."""
    if rate not in VAT_RATES:
        raise ValueError(f"unknown VAT rate {rate!r}; use one of {', '.join(VAT_RATES)}")
    return to_cents(net * (1 + VAT_RATES[rate]))


def gross_price(
    net: Decimal, discount_percent: Decimal | int = 0, rate: str = "standard"
) -> Decimal:
    """What the customer pays: the discount first, then VAT."""
    return add_vat(apply_discount(net, discount_percent), rate)
