"""The inventory port: stock availability and reservations per order line."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

__all__ = ["InventoryPort", "Reservation", "StockLevel"]


@attrs.frozen
class StockLevel:
    """Stock of one product: on hand, reserved for orders, and what is left to promise."""

    product_id: str
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        """On hand minus reserved, never below zero."""
        return max(Decimal(0), self.on_hand - self.reserved)


@attrs.frozen
class Reservation:
    """What a reservation request obtained: ``reserved`` now, ``back_ordered`` short.

    ``reserved + back_ordered`` equals the quantity asked for. A back-ordered quantity is the
    inventory's signal that the line cannot be filled from stock now.
    """

    reservation_id: str
    order_id: str
    line_id: str
    product_id: str
    reserved: Decimal
    back_ordered: Decimal

    @property
    def is_complete(self) -> bool:
        """Whether the whole quantity asked for is reserved."""
        return self.back_ordered == 0


@runtime_checkable
class InventoryPort(Protocol):
    """Stock and reservations.

    Contract:

    * ``reserve`` is idempotent by ``reservation_id``: asking again returns the first result.
    * It reserves what is available and reports the shortfall as ``back_ordered``; it never
      reserves more than is available and never fails for lack of stock.
    * ``release`` returns the reserved quantity to availability; releasing twice, or releasing an
      unknown id, is a no-op.
    * ``commit`` turns (part of) a reservation into a shipment: on hand and reserved both drop.
      Committing more than is reserved raises ``AdapterRejected``. With an ``idempotency_key``
      it happens once: committing again under the key (the same reservation and quantity) is a
      no-op, so a commit whose answer was lost can simply be asked again; the key with another
      reservation or quantity raises ``DuplicateRequest``.
    * ``held`` tells how much a reservation still holds (zero once shipped or released), so a
      shipment can be checked before anything is committed; an unknown id raises ``NotFound``.
    * An unknown product raises ``NotFound``.
    """

    def stock(self, product_id: str) -> StockLevel:
        """The stock level of a product."""
        ...

    def reserve(
        self,
        reservation_id: str,
        *,
        order_id: str,
        line_id: str,
        product_id: str,
        quantity: Decimal,
    ) -> Reservation:
        """Reserve up to ``quantity`` of a product for an order line."""
        ...

    def release(self, reservation_id: str) -> None:
        """Give back whatever the reservation still holds."""
        ...

    def commit(
        self, reservation_id: str, quantity: Decimal, *, idempotency_key: str | None = None
    ) -> None:
        """Ship ``quantity`` out of the reservation (once per ``idempotency_key``)."""
        ...

    def held(self, reservation_id: str) -> Decimal:
        """What the reservation still holds."""
        ...
