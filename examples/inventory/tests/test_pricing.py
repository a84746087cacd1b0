from decimal import Decimal

import pytest

from inventory.pricing import add_vat, apply_discount, gross_price, to_cents


def test_to_cents_rounds_to_two_places() -> None:
    assert to_cents(Decimal("17.991")) == Decimal("17.99")
    assert to_cents(Decimal("10.4895")) == Decimal("10.49")


def test_discount() -> None:
    assert apply_discount(Decimal("19.99"), 10) == Decimal("17.99")
    assert apply_discount(Decimal("19.99"), 0) == Decimal("19.99")


def test_discount_out_of_range() -> None:
    with pytest.raises(ValueError, match="not between 0 and 100"):
        apply_discount(Decimal("5.00"), 120)


def test_half_cent_rounds_up() -> None:
    # 50% off 25 cents is 12.5 cents: the customer pays 13.
    assert apply_discount(Decimal("0.25"), 50) == Decimal("0.13")


def test_vat_rates() -> None:
    assert add_vat(Decimal("10.00")) == Decimal("12.00")
    assert add_vat(Decimal("9.99"), "reduced") == Decimal("10.49")
    assert add_vat(Decimal("9.99"), "zero") == Decimal("9.99")


def test_unknown_vat_rate() -> None:
    with pytest.raises(ValueError, match="unknown VAT rate"):
        add_vat(Decimal("1.00"), "luxury")


def test_gross_price_discounts_before_vat() -> None:
    assert gross_price(Decimal("100.00"), 15) == Decimal("102.00")
