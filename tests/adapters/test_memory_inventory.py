"""The in-memory stock book: receipts, reservations with back-orders, release and commit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.memory import MemoryInventory
from o2c.ports.errors import AdapterRejected, DuplicateRequest, NotFound
from o2c.ports.inventory import Reservation


def reserve(
    inventory: MemoryInventory, reservation_id: str, quantity: str, product: str = "P-1"
) -> Reservation:
    return inventory.reserve(
        reservation_id,
        order_id="SO-1",
        line_id=reservation_id,
        product_id=product,
        quantity=Decimal(quantity),
    )


def test_receive_adds_stock_and_creates_products() -> None:
    inventory = MemoryInventory({"P-1": 5})
    inventory.receive("P-1", Decimal("2.5"))
    inventory.receive("P-2", "3")
    assert inventory.stock("P-1").on_hand == Decimal("7.5")
    assert inventory.stock("P-2").available == 3
    assert inventory.products() == ("P-1", "P-2")


def test_unknown_product_is_not_found() -> None:
    inventory = MemoryInventory()
    with pytest.raises(NotFound) as caught:
        inventory.stock("nope")
    assert caught.value.adapter == "memory"
    assert caught.value.key == "nope"
    with pytest.raises(NotFound):
        reserve(inventory, "R-1", "1", product="nope")


@pytest.mark.parametrize("bad", [Decimal(-1), -1, "-0.5", 1.5, Decimal("NaN"), "lots", True])
def test_negative_and_non_decimal_quantities_are_refused(bad: object) -> None:
    inventory = MemoryInventory({"P-1": 5})
    with pytest.raises(AdapterRejected) as caught:
        inventory.receive("P-1", bad)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_quantity"
    with pytest.raises(AdapterRejected):
        reserve(inventory, "R-1", "-1")
    assert inventory.stock("P-1").on_hand == 5
    assert inventory.stock("P-1").reserved == 0


def test_full_reservation_when_stock_suffices() -> None:
    inventory = MemoryInventory({"P-1": 10})
    reservation = reserve(inventory, "R-1", "4")
    assert (reservation.reserved, reservation.back_ordered) == (4, 0)
    assert reservation.is_complete
    level = inventory.stock("P-1")
    assert (level.on_hand, level.reserved, level.available) == (10, 4, 6)


def test_partial_reservation_reports_the_shortfall_as_back_ordered() -> None:
    inventory = MemoryInventory({"P-1": 3})
    reserve(inventory, "R-1", "2")
    short = reserve(inventory, "R-2", "5")
    assert (short.reserved, short.back_ordered) == (1, 4)
    assert not short.is_complete
    nothing = reserve(inventory, "R-3", "2")
    assert (nothing.reserved, nothing.back_ordered) == (0, 2)
    assert inventory.stock("P-1").available == 0


def test_reserve_is_idempotent_by_reservation_id() -> None:
    inventory = MemoryInventory({"P-1": 3})
    first = reserve(inventory, "R-1", "2")
    inventory.receive("P-1", 10)
    again = reserve(inventory, "R-1", "2")
    assert again == first
    assert inventory.stock("P-1").reserved == 2


def test_same_reservation_id_for_another_request_is_a_duplicate() -> None:
    inventory = MemoryInventory({"P-1": 3})
    reserve(inventory, "R-1", "2")
    with pytest.raises(DuplicateRequest) as caught:
        reserve(inventory, "R-1", "3")
    assert caught.value.key == "R-1"
    assert inventory.stock("P-1").reserved == 2


def test_release_returns_stock_and_is_idempotent() -> None:
    inventory = MemoryInventory({"P-1": 3})
    reserve(inventory, "R-1", "2")
    inventory.release("R-1")
    inventory.release("R-1")
    inventory.release("never-made")
    assert inventory.stock("P-1").reserved == 0
    assert inventory.stock("P-1").available == 3
    assert inventory.held("R-1") == 0


def test_commit_ships_out_of_the_reservation() -> None:
    inventory = MemoryInventory({"P-1": 10})
    reserve(inventory, "R-1", "4")
    inventory.commit("R-1", Decimal(3))
    level = inventory.stock("P-1")
    assert (level.on_hand, level.reserved, level.available) == (7, 1, 6)
    assert inventory.held("R-1") == 1
    inventory.release("R-1")
    assert inventory.stock("P-1").reserved == 0
    assert inventory.stock("P-1").on_hand == 7


def test_commit_beyond_the_reservation_is_rejected_and_changes_nothing() -> None:
    inventory = MemoryInventory({"P-1": 10})
    reserve(inventory, "R-1", "4")
    inventory.commit("R-1", Decimal(3))
    with pytest.raises(AdapterRejected) as caught:
        inventory.commit("R-1", Decimal(2))
    assert caught.value.code == "exceeds_reservation"
    assert inventory.stock("P-1").on_hand == 7
    inventory.release("R-1")
    with pytest.raises(AdapterRejected):
        inventory.commit("R-1", Decimal(1))


def test_commit_of_unknown_reservation_is_not_found() -> None:
    with pytest.raises(NotFound):
        MemoryInventory({"P-1": 1}).commit("R-9", Decimal(1))


operations = st.lists(
    st.tuples(
        st.sampled_from(["receive", "reserve", "release", "commit"]),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=0, max_value=8),
    ),
    max_size=40,
)


@given(operations)
def test_stock_invariants_hold_under_any_sequence(steps: list[tuple[str, int, int]]) -> None:
    inventory = MemoryInventory({"P-1": 0})
    asked: dict[str, int] = {}
    for action, which, quantity in steps:
        rid = f"R-{which}"
        if action == "receive":
            inventory.receive("P-1", quantity)
        elif action == "reserve" and asked.get(rid, quantity) == quantity:
            result = reserve(inventory, rid, str(quantity))
            asked[rid] = quantity
            assert result.reserved + result.back_ordered == quantity
        elif action == "release":
            inventory.release(rid)
        elif action == "commit" and rid in asked:
            held = inventory.held(rid)
            if quantity <= held:
                inventory.commit(rid, Decimal(quantity))
            else:
                with pytest.raises(AdapterRejected):
                    inventory.commit(rid, Decimal(quantity))
        level = inventory.stock("P-1")
        assert 0 <= level.reserved <= level.on_hand
        assert level.reserved == sum(inventory.held(r) for r in asked)
