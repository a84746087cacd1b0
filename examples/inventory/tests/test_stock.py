from pathlib import Path

import pytest

from inventory.stock import REORDER_NOTE, Ledger, StockError
from inventory.storage import load, save


@pytest.fixture
def ledger() -> Ledger:
    shop = Ledger()
    shop.add("SCREW-4", 120, name="Wood screw 4 mm")
    shop.add("PALLET", 2, name="Euro pallet")
    shop.add("GLUE", 4)
    return shop


def test_add_accumulates(ledger: Ledger) -> None:
    assert ledger.add("GLUE", 6) == 10
    assert ledger.quantity("GLUE") == 10


def test_remove_takes_stock_out(ledger: Ledger) -> None:
    assert ledger.remove("SCREW-4", 20) == 100


def test_remove_more_than_on_hand_fails(ledger: Ledger) -> None:
    with pytest.raises(StockError, match="only 2 in stock"):
        ledger.remove("PALLET", 3)
    assert ledger.quantity("PALLET") == 2


def test_remove_unknown_sku_fails(ledger: Ledger) -> None:
    with pytest.raises(StockError, match="unknown SKU"):
        ledger.remove("NAILS", 1)


def test_low_stock_lists_fewest_first(ledger: Ledger) -> None:
    assert ledger.low_stock() == [("PALLET", 2), ("GLUE", 4)]
    assert ledger.low_stock(threshold=3) == [("PALLET", 2)]


def test_pick_list(ledger: Ledger) -> None:
    lines = ledger.pick_list().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("PALLET")
    assert lines[0].endswith(REORDER_NOTE)
    assert Ledger().pick_list() == "Nothing to reorder."


def test_save_and_load_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    save(ledger, path)
    assert load(path) == ledger
