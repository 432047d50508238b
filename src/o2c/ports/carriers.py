"""The carrier port: rates, bookings and tracking for shipments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from o2c.domain.customers import Address
from o2c.domain.money import Money
from o2c.domain.orders import LineQuantity

__all__ = [
    "Booking",
    "CarrierPort",
    "Parcel",
    "RateQuote",
    "Shipment",
    "ShipmentRequest",
    "TrackingEvent",
    "TrackingStatus",
]


@attrs.frozen
class Parcel:
    """One package: weight in kilograms and outer dimensions in centimetres."""

    weight_kg: Decimal
    length_cm: Decimal = Decimal(0)
    width_cm: Decimal = Decimal(0)
    height_cm: Decimal = Decimal(0)


@attrs.frozen
class ShipmentRequest:
    """What is to be shipped from where to where."""

    shipment_id: str
    order_id: str
    origin: Address
    destination: Address
    parcels: tuple[Parcel, ...]
    ship_on: date


@attrs.frozen
class RateQuote:
    """A carrier's price for a service level on a shipment."""

    carrier: str
    service: str
    price: Money
    transit_days: int


@attrs.frozen
class Booking:
    """A booked shipment: the tracking number and the label to print."""

    shipment_id: str
    carrier: str
    service: str
    tracking_number: str
    label_reference: str
    price: Money
    booked_at: datetime


@attrs.frozen
class Shipment:
    """What left the warehouse under one booking: the order lines and quantities it carries.

    Kept by the application (``UnitOfWork.shipments``) so that a delivery reported by the carrier
    can be recorded on exactly the lines and quantities that travelled together.
    """

    shipment_id: str
    order_id: str
    lines: tuple[LineQuantity, ...]
    booking: Booking
    shipped_on: date
    delivered_on: date | None = None


class TrackingStatus(enum.Enum):
    """Where a booked shipment is."""

    BOOKED = "booked"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"


@attrs.frozen
class TrackingEvent:
    """The latest known status of a shipment and when it was reached."""

    tracking_number: str
    status: TrackingStatus
    at: datetime
    detail: str = ""


@runtime_checkable
class CarrierPort(Protocol):
    """A shipping carrier.

    Contract:

    * ``quote`` returns every service the carrier offers for the request, cheapest first; an
      empty tuple when it cannot ship there at all.
    * ``book`` is idempotent by ``shipment_id``: booking the same shipment again returns the first
      booking. A service the carrier does not offer for the request raises ``AdapterRejected``.
    * ``track`` of an unknown tracking number raises ``NotFound``.
    * ``cancel`` is allowed until pickup (``AdapterRejected`` after); cancelling twice is a no-op.
    * ``find_booking`` is the status lookup: the booking made for a shipment id (cancelled ones
      included; ``track`` tells whether it was), or ``None`` if the shipment was never booked.
      Whoever lost the answer of ``book`` asks this to learn whether the booking exists.
    """

    name: str

    def quote(self, request: ShipmentRequest) -> tuple[RateQuote, ...]:
        """Rates for the shipment, cheapest first."""
        ...

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        """Book the shipment with the given service."""
        ...

    def track(self, tracking_number: str) -> TrackingEvent:
        """The shipment's current status."""
        ...

    def cancel(self, tracking_number: str) -> None:
        """Cancel a booked shipment before pickup."""
        ...

    def find_booking(self, shipment_id: str) -> Booking | None:
        """The booking made for ``shipment_id``, or ``None`` if there is none."""
        ...
