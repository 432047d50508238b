"""The inventory contract: what every :class:`~o2c.ports.inventory.InventoryPort` must do.

Subclass :class:`InventoryContract` and override ``make_inventory``: a callable that builds an
inventory holding the given opening stock (product id → quantity on hand, nothing reserved).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs
import pytest
from hypothesis import strategies as st

from o2c.ports.errors import AdapterRejected, DuplicateRequest, NotFound
from o2c.ports.inventory import InventoryPort, Reservation, StockLevel
from o2c.testing._kit import Contract, override_me, requires, run_property

__all__ = ["InventoryCapabilities", "InventoryContract", "InventoryFactory"]

InventoryFactory = Callable[[Mapping[str, Decimal]], InventoryPort]
"""Builds a fresh inventory with this opening stock on hand (and nothing reserved)."""


@attrs.frozen
class InventoryCapabilities:
    """What an inventory adapter declares about itself."""

    fractional_quantities: bool = True
    """Quantities with decimals (kilograms, metres), not whole pieces only."""


D = Decimal


class InventoryContract(Contract):
    """Reservations that never oversell, report shortfalls, and are idempotent and reversible.

    Fixtures to override: ``make_inventory`` (required) and ``capabilities``.
    """

    @pytest.fixture
    def make_inventory(self) -> InventoryFactory:
        """Override: return a callable building an inventory with the given opening stock."""
        override_me("make_inventory", "inventory", "lambda stock: MyInventory(stock)")

    @pytest.fixture
    def capabilities(self) -> InventoryCapabilities:
        """Override to declare what the inventory cannot do."""
        return InventoryCapabilities()

    @pytest.fixture
    def inventory(self, make_inventory: InventoryFactory) -> InventoryPort:
        return make_inventory({"P-1": D(10), "P-2": D(0), "P-3": D(4)})

    def reserve(
        self, inventory: InventoryPort, reservation_id: str, product: str, quantity: Decimal
    ) -> Reservation:
        return inventory.reserve(
            reservation_id,
            order_id="SO-1",
            line_id=reservation_id,
            product_id=product,
            quantity=quantity,
        )

    # --- stock --------------------------------------------------------------------------------

    def test_opening_stock_is_on_hand_and_available(self, inventory: InventoryPort) -> None:
        assert inventory.stock("P-1") == StockLevel("P-1", D(10), D(0))
        assert inventory.stock("P-1").available == D(10)
        assert inventory.stock("P-2").available == D(0)

    def test_an_unknown_product_is_not_found(self, inventory: InventoryPort) -> None:
        with pytest.raises(NotFound):
            inventory.stock("NOPE")
        with pytest.raises(NotFound):
            self.reserve(inventory, "R-1", "NOPE", D(1))

    # --- reservations -------------------------------------------------------------------------

    def test_a_reservation_within_stock_is_complete(self, inventory: InventoryPort) -> None:
        reservation = self.reserve(inventory, "R-1", "P-1", D(3))
        assert (reservation.reserved, reservation.back_ordered) == (D(3), D(0))
        assert reservation.is_complete
        assert (reservation.reservation_id, reservation.product_id) == ("R-1", "P-1")
        level = inventory.stock("P-1")
        assert (level.on_hand, level.reserved, level.available) == (D(10), D(3), D(7))

    def test_a_shortfall_is_back_ordered_not_refused(self, inventory: InventoryPort) -> None:
        self.reserve(inventory, "R-1", "P-3", D(3))
        reservation = self.reserve(inventory, "R-2", "P-3", D(5))
        assert (reservation.reserved, reservation.back_ordered) == (D(1), D(4))
        assert not reservation.is_complete
        assert inventory.stock("P-3").available == D(0)

    def test_no_stock_back_orders_everything(self, inventory: InventoryPort) -> None:
        reservation = self.reserve(inventory, "R-1", "P-2", D(2))
        assert (reservation.reserved, reservation.back_ordered) == (D(0), D(2))
        assert inventory.stock("P-2").reserved == D(0)

    def test_reserving_again_returns_the_first_answer_and_holds_once(
        self, inventory: InventoryPort
    ) -> None:
        first = self.reserve(inventory, "R-1", "P-3", D(3))
        again = self.reserve(inventory, "R-1", "P-3", D(3))
        assert again == first
        assert inventory.stock("P-3").reserved == D(3)

    def test_release_returns_the_quantity_to_availability(self, inventory: InventoryPort) -> None:
        self.reserve(inventory, "R-1", "P-1", D(6))
        inventory.release("R-1")
        assert inventory.stock("P-1") == StockLevel("P-1", D(10), D(0))
        inventory.release("R-1")  # twice: a no-op
        inventory.release("NEVER-MADE")  # unknown: a no-op
        assert inventory.stock("P-1") == StockLevel("P-1", D(10), D(0))
        assert self.reserve(inventory, "R-2", "P-1", D(10)).is_complete

    def test_commit_ships_out_of_the_reservation(self, inventory: InventoryPort) -> None:
        self.reserve(inventory, "R-1", "P-1", D(6))
        inventory.commit("R-1", D(4))
        assert inventory.stock("P-1") == StockLevel("P-1", D(6), D(2))
        inventory.commit("R-1", D(2))
        assert inventory.stock("P-1") == StockLevel("P-1", D(4), D(0))

    def test_commit_refuses_more_than_is_reserved(self, inventory: InventoryPort) -> None:
        self.reserve(inventory, "R-1", "P-3", D(6))  # 4 reserved, 2 back-ordered
        with pytest.raises(AdapterRejected):
            inventory.commit("R-1", D(5))
        assert inventory.stock("P-3") == StockLevel("P-3", D(4), D(4))
        inventory.commit("R-1", D(4))
        with pytest.raises(AdapterRejected):
            inventory.commit("R-1", D(1))
        assert inventory.stock("P-3") == StockLevel("P-3", D(0), D(0))

    def test_a_commit_under_a_key_happens_once(self, inventory: InventoryPort) -> None:
        """A commit whose answer was lost is asked again under its key: stock drops once."""
        self.reserve(inventory, "R-1", "P-1", D(6))
        inventory.commit("R-1", D(4), idempotency_key="SH-1/1")
        inventory.commit("R-1", D(4), idempotency_key="SH-1/1")
        assert inventory.stock("P-1") == StockLevel("P-1", D(6), D(2))
        assert inventory.held("R-1") == D(2)
        with pytest.raises(DuplicateRequest):
            inventory.commit("R-1", D(1), idempotency_key="SH-1/1")
        assert inventory.stock("P-1") == StockLevel("P-1", D(6), D(2))

    def test_release_after_a_partial_commit_frees_only_the_rest(
        self, inventory: InventoryPort
    ) -> None:
        self.reserve(inventory, "R-1", "P-1", D(6))
        inventory.commit("R-1", D(2))
        inventory.release("R-1")
        assert inventory.stock("P-1") == StockLevel("P-1", D(8), D(0))

    @requires("fractional_quantities")
    def test_fractional_quantities_are_exact(self, make_inventory: InventoryFactory) -> None:
        inventory = make_inventory({"CABLE": D("12.5")})
        reservation = self.reserve(inventory, "R-1", "CABLE", D("12.75"))
        assert (reservation.reserved, reservation.back_ordered) == (D("12.5"), D("0.25"))
        inventory.commit("R-1", D("0.1"))
        assert inventory.stock("CABLE") == StockLevel("CABLE", D("12.4"), D("12.4"))

    # --- property -----------------------------------------------------------------------------

    def test_reservations_never_oversell(self, make_inventory: InventoryFactory) -> None:
        """Whatever is reserved, released and shipped, stock matches a simple model of it."""
        step = st.tuples(
            st.sampled_from(("reserve", "release", "commit")),
            st.integers(0, 5),  # reservation number
            st.integers(0, 12),  # quantity
        )

        def check(steps: Sequence[tuple[str, int, int]]) -> None:
            inventory = make_inventory({"P": D(10)})
            on_hand = D(10)
            held: dict[str, Decimal] = {}
            first: dict[str, Reservation] = {}
            for action, number, amount in steps:
                rid, quantity = f"R-{number}", D(amount)
                if action == "reserve":
                    known = first.get(rid)
                    if known is not None and known.reserved + known.back_ordered != quantity:
                        continue  # another request under a used id: not what this models
                    answer = self.reserve(inventory, rid, "P", quantity)
                    if known is None:
                        available = on_hand - sum(held.values(), D(0))
                        assert answer.reserved == min(quantity, available)
                        first[rid], held[rid] = answer, answer.reserved
                    else:
                        assert answer == known
                    assert answer.reserved + answer.back_ordered == quantity
                elif action == "release":
                    inventory.release(rid)
                    if rid in held:
                        held[rid] = D(0)
                elif rid in held:
                    if quantity > held[rid]:
                        with pytest.raises(AdapterRejected):
                            inventory.commit(rid, quantity)
                    else:
                        inventory.commit(rid, quantity)
                        held[rid] -= quantity
                        on_hand -= quantity
                level = inventory.stock("P")
                assert level.on_hand == on_hand
                assert level.reserved == sum(held.values(), D(0))
                assert D(0) <= level.reserved <= level.on_hand

        run_property(st.lists(step, max_size=25), check)
