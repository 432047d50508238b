"""An in-memory stock book: on-hand quantities per product and reservations per order line.

Stock arrives with :meth:`MemoryInventory.receive`. A reservation holds what is available now and
reports the rest as back-ordered; it is remembered by its id, so asking again gives the first
answer. A reservation then shrinks as its quantity ships (:meth:`~MemoryInventory.commit`, which
also takes the goods off the shelf) or is released. Quantities are :class:`~decimal.Decimal`
(pieces, kilograms, metres); negative quantities, floats and non-finite values are refused.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from decimal import Decimal

import attrs

from o2c.ports.errors import AdapterRejected, DuplicateRequest, NotFound
from o2c.ports.inventory import Reservation, StockLevel

__all__ = ["MemoryInventory"]

Quantity = Decimal | int | str


@attrs.define
class _Product:
    on_hand: Decimal
    reserved: Decimal


@attrs.define
class _Hold:
    """A reservation as first answered, and how much of it is still held."""

    answer: Reservation
    asked: Decimal
    held: Decimal


class MemoryInventory:
    """Stock and reservations in memory, satisfying :class:`~o2c.ports.inventory.InventoryPort`.

    ``stock`` maps product ids to their opening on-hand quantity.
    """

    def __init__(self, stock: Mapping[str, Quantity] | None = None, *, name: str = "memory"):
        self.name = name
        self._products: dict[str, _Product] = {}
        self._holds: dict[str, _Hold] = {}
        self._commits: dict[str, tuple[str, Decimal]] = {}
        self._lock = threading.Lock()
        for product_id, quantity in (stock or {}).items():
            self.receive(product_id, quantity)

    # --- stock ---------------------------------------------------------------------------------

    def receive(self, product_id: str, quantity: Quantity) -> StockLevel:
        """Put ``quantity`` of a product on the shelf (a new product starts at zero)."""
        if not product_id:
            raise AdapterRejected(self.name, "a product needs an id", "invalid_product")
        amount = self._quantity(quantity, "received quantity")
        with self._lock:
            product = self._products.setdefault(product_id, _Product(Decimal(0), Decimal(0)))
            product.on_hand += amount
            return StockLevel(product_id, product.on_hand, product.reserved)

    def stock(self, product_id: str) -> StockLevel:
        """The stock level of a product; ``NotFound`` if it was never received."""
        product = self._product(product_id)
        return StockLevel(product_id, product.on_hand, product.reserved)

    def products(self) -> tuple[str, ...]:
        """Every product id known, in the order first received."""
        return tuple(self._products)

    # --- reservations --------------------------------------------------------------------------

    def reserve(
        self,
        reservation_id: str,
        *,
        order_id: str,
        line_id: str,
        product_id: str,
        quantity: Decimal,
    ) -> Reservation:
        """Reserve what is available of ``quantity``; report the shortfall as back-ordered.

        The same ``reservation_id`` again returns the first answer; with a different order,
        line, product or quantity it raises ``DuplicateRequest``.
        """
        asked = self._quantity(quantity, "reserved quantity")
        with self._lock:
            hold = self._holds.get(reservation_id)
            if hold is not None:
                first = hold.answer
                if (first.order_id, first.line_id, first.product_id, hold.asked) != (
                    order_id,
                    line_id,
                    product_id,
                    asked,
                ):
                    raise DuplicateRequest(
                        self.name,
                        f"reservation {reservation_id} was made for another request",
                        reservation_id,
                    )
                return first
            product = self._product(product_id)
            available = max(Decimal(0), product.on_hand - product.reserved)
            reserved = min(asked, available)
            answer = Reservation(
                reservation_id, order_id, line_id, product_id, reserved, asked - reserved
            )
            product.reserved += reserved
            self._holds[reservation_id] = _Hold(answer, asked, reserved)
            return answer

    def release(self, reservation_id: str) -> None:
        """Return what the reservation still holds to availability; a no-op if nothing is held."""
        with self._lock:
            hold = self._holds.get(reservation_id)
            if hold is None or hold.held == 0:
                return
            self._products[hold.answer.product_id].reserved -= hold.held
            hold.held = Decimal(0)

    def commit(
        self, reservation_id: str, quantity: Decimal, *, idempotency_key: str | None = None
    ) -> None:
        """Ship ``quantity`` out of the reservation: on hand and reserved both drop.

        ``NotFound`` for an unknown reservation; ``AdapterRejected`` for more than it still holds.
        Under an ``idempotency_key`` already used for the same request it does nothing; for
        another request, ``DuplicateRequest``.
        """
        shipped = self._quantity(quantity, "shipped quantity")
        with self._lock:
            if idempotency_key is not None:
                done = self._commits.get(idempotency_key)
                if done is not None:
                    if done != (reservation_id, shipped):
                        raise DuplicateRequest(
                            self.name,
                            f"commit {idempotency_key} was made for another request",
                            idempotency_key,
                        )
                    return
            hold = self._holds.get(reservation_id)
            if hold is None:
                raise NotFound(self.name, f"no reservation {reservation_id}", reservation_id)
            if shipped > hold.held:
                raise AdapterRejected(
                    self.name,
                    f"cannot ship {shipped} of reservation {reservation_id}: it holds {hold.held}",
                    "exceeds_reservation",
                )
            product = self._products[hold.answer.product_id]
            product.on_hand -= shipped
            product.reserved -= shipped
            hold.held -= shipped
            if idempotency_key is not None:
                self._commits[idempotency_key] = (reservation_id, shipped)

    def held(self, reservation_id: str) -> Decimal:
        """How much the reservation still holds (zero once shipped or released)."""
        hold = self._holds.get(reservation_id)
        if hold is None:
            raise NotFound(self.name, f"no reservation {reservation_id}", reservation_id)
        return hold.held

    # --- helpers -------------------------------------------------------------------------------

    def _product(self, product_id: str) -> _Product:
        product = self._products.get(product_id)
        if product is None:
            raise NotFound(self.name, f"unknown product {product_id!r}", product_id)
        return product

    def _quantity(self, value: object, what: str) -> Decimal:
        if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
            raise AdapterRejected(
                self.name, f"{what} must be a Decimal, not {value!r}", "invalid_quantity"
            )
        try:
            amount = Decimal(value)
        except ArithmeticError as error:
            raise AdapterRejected(
                self.name, f"{what} {value!r} is not a number", "invalid_quantity"
            ) from error
        if not amount.is_finite() or amount < 0:
            raise AdapterRejected(
                self.name, f"{what} must be zero or more, got {value}", "invalid_quantity"
            )
        return amount
