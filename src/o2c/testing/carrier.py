"""The carrier contract: what every :class:`~o2c.ports.carriers.CarrierPort` adapter must do.

Subclass :class:`CarrierContract`, override ``make_carrier`` (a fresh carrier in test mode per
call) and, if your carrier does not serve it, ``shipment_request`` (a domestic German parcel by
default).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest

from o2c.domain.customers import Address
from o2c.domain.money import is_exact
from o2c.ports.carriers import CarrierPort, Parcel, ShipmentRequest, TrackingStatus
from o2c.ports.errors import AdapterRejected, NotFound
from o2c.testing._kit import Contract, override_me, requires

__all__ = ["CarrierCapabilities", "CarrierContract", "CarrierFactory", "domestic_parcel"]

CarrierFactory = Callable[[], CarrierPort]
"""Builds a fresh carrier."""


@attrs.frozen
class CarrierCapabilities:
    """What a carrier adapter declares about itself."""

    cancellation: bool = True
    """Bookings can be cancelled until pickup."""


def domestic_parcel() -> ShipmentRequest:
    """One parcel of 1.5 kg from Hamburg to Berlin: the contract's default shipment."""
    return ShipmentRequest(
        "SHP-1",
        "SO-1",
        Address("1 Warehouse Road", "Hamburg", "20095", "DE"),
        Address("5 Customer Street", "Berlin", "10115", "DE"),
        (Parcel(Decimal("1.5"), Decimal(30), Decimal(20), Decimal(10)),),
        date(2026, 3, 2),
    )


class CarrierContract(Contract):
    """Quotes cheapest first, idempotent bookings, tracking and cancellation.

    Fixtures to override: ``make_carrier`` (required), ``shipment_request`` and ``capabilities``.
    """

    @pytest.fixture
    def make_carrier(self) -> CarrierFactory:
        """Override: return a callable that builds a fresh carrier."""
        override_me("make_carrier", "carrier", "lambda: MyCarrier(api_key=...)")

    @pytest.fixture
    def capabilities(self) -> CarrierCapabilities:
        """Override to declare what the carrier cannot do."""
        return CarrierCapabilities()

    @pytest.fixture
    def shipment_request(self) -> ShipmentRequest:
        """A shipment the carrier serves; override if yours does not ship this one."""
        return domestic_parcel()

    @pytest.fixture
    def carrier(self, make_carrier: CarrierFactory) -> CarrierPort:
        return make_carrier()

    def test_quotes_come_cheapest_first_in_exact_money(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        quotes = carrier.quote(shipment_request)
        assert quotes, "the carrier must serve the contract's shipment_request"
        prices = [quote.price.amount for quote in quotes]
        assert prices == sorted(prices)
        assert len({quote.price.currency for quote in quotes}) == 1
        for quote in quotes:
            assert is_exact(quote.price)
            assert quote.price.amount >= 0
            assert quote.transit_days >= 0
            assert quote.carrier == carrier.name
        assert len({quote.service for quote in quotes}) == len(quotes)

    def test_a_booking_gives_a_tracking_number_at_the_quoted_price(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        cheapest = carrier.quote(shipment_request)[0]
        booking = carrier.book(shipment_request, cheapest.service)
        assert booking.shipment_id == shipment_request.shipment_id
        assert booking.service == cheapest.service
        assert booking.price == cheapest.price
        assert booking.tracking_number
        assert booking.booked_at.utcoffset() is not None

    def test_booking_again_returns_the_first_booking(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        service = carrier.quote(shipment_request)[0].service
        first = carrier.book(shipment_request, service)
        assert carrier.book(shipment_request, service) == first

    def test_a_service_it_does_not_offer_is_rejected(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        with pytest.raises(AdapterRejected):
            carrier.book(shipment_request, "no-such-service-offered")

    def test_a_booked_shipment_can_be_tracked(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        booking = carrier.book(shipment_request, carrier.quote(shipment_request)[0].service)
        event = carrier.track(booking.tracking_number)
        assert event.tracking_number == booking.tracking_number
        assert event.status is not TrackingStatus.CANCELLED
        assert event.at.utcoffset() is not None

    def test_an_unknown_tracking_number_is_not_found(self, carrier: CarrierPort) -> None:
        with pytest.raises(NotFound):
            carrier.track("NO-SUCH-TRACKING-NUMBER")

    def test_the_booking_of_a_shipment_can_be_looked_up(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        """The status lookup: whoever lost the answer of ``book`` learns what was booked."""
        assert carrier.find_booking(shipment_request.shipment_id) is None
        booking = carrier.book(shipment_request, carrier.quote(shipment_request)[0].service)
        assert carrier.find_booking(shipment_request.shipment_id) == booking
        assert carrier.find_booking("NO-SUCH-SHIPMENT") is None

    @requires("cancellation")
    def test_a_cancelled_booking_is_still_found_and_tracks_as_cancelled(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        booking = carrier.book(shipment_request, carrier.quote(shipment_request)[0].service)
        carrier.cancel(booking.tracking_number)
        found = carrier.find_booking(shipment_request.shipment_id)
        assert found == booking
        assert carrier.track(found.tracking_number).status is TrackingStatus.CANCELLED

    @requires("cancellation")
    def test_a_booking_cancelled_before_pickup_stays_cancelled(
        self, carrier: CarrierPort, shipment_request: ShipmentRequest
    ) -> None:
        booking = carrier.book(shipment_request, carrier.quote(shipment_request)[0].service)
        carrier.cancel(booking.tracking_number)
        carrier.cancel(booking.tracking_number)  # twice: a no-op
        assert carrier.track(booking.tracking_number).status is TrackingStatus.CANCELLED
