"""A table-rate carrier: prices from a rate table, bookings in memory, tracking by the clock.

The :class:`RateTable` groups destination countries into :class:`Zone` s; each zone offers
service levels (:class:`ServiceRate`), each with a price per parcel weight band and a transit time
in days. A shipment's price for a service is the sum of its parcels' band prices; a parcel heavier
(or bulkier) than the service's last band cannot go with that service. Bulky parcels are charged by
volumetric weight, length x width x height / ``volumetric_divisor`` (cm³ per kg), when it exceeds
the actual weight.

Tracking follows a fixed schedule from the moment the shipment leaves (the booking, or the start of
its ``ship_on`` date if that is later): picked up after :attr:`TrackingSchedule.pickup_after`, in
transit :attr:`TrackingSchedule.in_transit_after` later, out for delivery
:attr:`TrackingSchedule.out_for_delivery_before` ahead of delivery, and delivered ``transit_days``
days after leaving. The injected clock decides where a shipment is, so a test moves a
:class:`~o2c.adapters.memory.clock.FixedClock` to watch it travel.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from decimal import Decimal

import attrs

from o2c.domain.money import Money, money, total
from o2c.ports.carriers import (
    Booking,
    Parcel,
    RateQuote,
    ShipmentRequest,
    TrackingEvent,
    TrackingStatus,
)
from o2c.ports.clock import Clock
from o2c.ports.errors import AdapterRejected, DuplicateRequest, NotFound

__all__ = [
    "RateTable",
    "ServiceRate",
    "TableRateCarrier",
    "TrackingSchedule",
    "WeightBand",
    "Zone",
]


def _invalid_table(message: str) -> AdapterRejected:
    return AdapterRejected("table-rate", message, "invalid_rate_table")


def _positive_decimal(
    instance: object, attribute: attrs.Attribute[Decimal], value: Decimal
) -> None:
    if not value.is_finite() or value <= 0:
        raise _invalid_table(f"{attribute.name} must be a positive Decimal, got {value!r}")


@attrs.frozen
class WeightBand:
    """Parcels up to ``up_to_kg`` (inclusive) cost ``price`` each."""

    up_to_kg: Decimal = attrs.field(validator=_positive_decimal)
    price: Money


def _bands_ascending(
    instance: ServiceRate,
    attribute: attrs.Attribute[tuple[WeightBand, ...]],
    value: tuple[WeightBand, ...],
) -> None:
    bands = value
    if not bands:
        raise _invalid_table(f"service {instance.service!r} needs at least one weight band")
    limits = [band.up_to_kg for band in bands]
    if limits != sorted(set(limits)):
        raise _invalid_table(f"weight bands of {instance.service!r} must ascend strictly")
    if len({band.price.currency for band in bands}) != 1:
        raise _invalid_table(f"weight bands of {instance.service!r} mix currencies")


def _at_least_one_day(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise _invalid_table(f"transit_days must be at least 1, got {value}")


@attrs.frozen
class ServiceRate:
    """A service level in a zone: its weight bands (ascending) and its transit time."""

    service: str
    transit_days: int = attrs.field(validator=_at_least_one_day)
    bands: tuple[WeightBand, ...] = attrs.field(validator=_bands_ascending)

    def band_for(self, parcel: Parcel, volumetric_divisor: int) -> WeightBand | None:
        """The cheapest band the parcel fits, by actual and volumetric weight; ``None`` if none."""
        volume = parcel.length_cm * parcel.width_cm * parcel.height_cm
        for band in self.bands:
            # Compare the volume with the band's limit in cm³ rather than divide: exact.
            if parcel.weight_kg <= band.up_to_kg and volume <= band.up_to_kg * volumetric_divisor:
                return band
        return None


@attrs.frozen
class Zone:
    """Destination countries (ISO alpha-2) that share a rate card."""

    name: str
    countries: frozenset[str]
    services: tuple[ServiceRate, ...]


def _no_country_twice(
    instance: RateTable, attribute: attrs.Attribute[tuple[Zone, ...]], value: tuple[Zone, ...]
) -> None:
    seen: set[str] = set()
    for zone in value:
        twice = seen & zone.countries
        if twice:
            raise _invalid_table(f"countries {sorted(twice)} appear in more than one zone")
        seen |= zone.countries


@attrs.frozen
class RateTable:
    """Zones by destination country, and the zone for every other country (if any)."""

    zones: tuple[Zone, ...] = attrs.field(validator=_no_country_twice)
    rest_of_world: Zone | None = None
    volumetric_divisor: int = 5000
    """Cubic centimetres per chargeable kilogram."""

    def zone_for(self, country: str) -> Zone | None:
        """The zone serving ``country``; the rest-of-world zone, or ``None`` if it has none."""
        for zone in self.zones:
            if country in zone.countries:
                return zone
        return self.rest_of_world

    @classmethod
    def default(cls) -> RateTable:
        """A sample EUR table shipping from Germany: domestic, two EU zones, rest of world."""
        return cls(
            (
                _zone("domestic", "DE", standard=(2, _STANDARD_DE), express=(1, _EXPRESS_DE)),
                _zone(
                    "eu-1",
                    "AT BE CZ DK FR LU NL PL",
                    standard=(3, _STANDARD_EU1),
                    express=(2, _EXPRESS_EU1),
                ),
                _zone(
                    "eu-2",
                    "BG EE ES FI GR HR HU IE IT LT LV PT RO SE SI SK",
                    standard=(5, _STANDARD_EU2),
                    express=(3, _EXPRESS_EU2),
                ),
            ),
            _zone("rest-of-world", "", standard=(10, _STANDARD_ROW), express=(5, _EXPRESS_ROW)),
        )


_LIMITS = ("2", "5", "10", "31.5")
_STANDARD_DE = ("4.90", "6.90", "9.90", "16.90")
_EXPRESS_DE = ("9.90", "12.90", "17.90", "29.90")
_STANDARD_EU1 = ("9.50", "13.50", "18.50", "29.00")
_EXPRESS_EU1 = ("19.90", "24.90", "34.90", "54.90")
_STANDARD_EU2 = ("12.50", "17.50", "24.00", "39.00")
_EXPRESS_EU2 = ("26.90", "33.90", "45.90", "69.90")
_STANDARD_ROW = ("24.00", "36.00", "55.00", "95.00")
_EXPRESS_ROW = ("49.00", "69.00", "99.00", "159.00")


def _zone(
    name: str,
    countries: str,
    *,
    standard: tuple[int, tuple[str, ...]],
    express: tuple[int, tuple[str, ...]],
) -> Zone:
    def service(label: str, days: int, prices: tuple[str, ...]) -> ServiceRate:
        bands = (
            WeightBand(Decimal(limit), money(price, "EUR"))
            for limit, price in zip(_LIMITS, prices, strict=True)
        )
        return ServiceRate(label, days, tuple(bands))

    return Zone(
        name,
        frozenset(countries.split()),
        (service("standard", *standard), service("express", *express)),
    )


@attrs.frozen
class TrackingSchedule:
    """When a shipment reaches each status, relative to when it leaves and is delivered."""

    pickup_after: timedelta = timedelta(hours=4)
    in_transit_after: timedelta = timedelta(hours=2)
    """After pickup."""
    out_for_delivery_before: timedelta = timedelta(hours=6)
    """Before delivery."""

    def __attrs_post_init__(self) -> None:
        if min(self.pickup_after, self.in_transit_after, self.out_for_delivery_before) <= timedelta(
            0
        ) or self.pickup_after + self.in_transit_after + self.out_for_delivery_before >= timedelta(
            days=1
        ):
            raise _invalid_table("the schedule's steps must be positive and fit within one day")

    def milestones(
        self, leaves: datetime, transit_days: int
    ) -> tuple[tuple[TrackingStatus, datetime], ...]:
        """Each status after booking and the instant it is reached, in order."""
        picked_up = leaves + self.pickup_after
        delivered = leaves + timedelta(days=transit_days)
        return (
            (TrackingStatus.PICKED_UP, picked_up),
            (TrackingStatus.IN_TRANSIT, picked_up + self.in_transit_after),
            (TrackingStatus.OUT_FOR_DELIVERY, delivered - self.out_for_delivery_before),
            (TrackingStatus.DELIVERED, delivered),
        )


@attrs.define
class _Shipment:
    request: ShipmentRequest
    booking: Booking
    leaves: datetime
    transit_days: int
    cancelled_at: datetime | None = None


class TableRateCarrier:
    """A carrier priced by a :class:`RateTable`, satisfying :class:`~o2c.ports.CarrierPort`.

    Tracking numbers are derived from the shipment id (``TR`` and twelve hex digits), so the same
    shipment always gets the same number; the label reference is ``LBL-`` and the number.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        table: RateTable | None = None,
        schedule: TrackingSchedule | None = None,
        name: str = "table-rate",
    ):
        self.name = name
        self._clock = clock
        self._table = table or RateTable.default()
        self._schedule = schedule or TrackingSchedule()
        self._by_shipment: dict[str, _Shipment] = {}
        self._by_tracking: dict[str, _Shipment] = {}
        self._lock = threading.Lock()

    @property
    def table(self) -> RateTable:
        """The rate table in use."""
        return self._table

    def quote(self, request: ShipmentRequest) -> tuple[RateQuote, ...]:
        """Every service that can carry all the parcels, cheapest (then fastest) first."""
        quotes = [
            RateQuote(self.name, rate.service, price, rate.transit_days)
            for rate, price in self._priced(request)
        ]
        quotes.sort(key=lambda q: (q.price.amount, q.transit_days, q.service))
        return tuple(quotes)

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        """Book ``service`` for the shipment; booking the same shipment again returns the first.

        ``AdapterRejected`` if the service cannot carry the shipment; ``DuplicateRequest`` if the
        shipment id was booked with other content or another service.
        """
        with self._lock:
            known = self._by_shipment.get(request.shipment_id)
            if known is not None:
                if known.request != request or known.booking.service != service:
                    raise DuplicateRequest(
                        self.name,
                        f"shipment {request.shipment_id} was booked with other details",
                        request.shipment_id,
                    )
                return known.booking
            priced = {rate.service: (rate, price) for rate, price in self._priced(request)}
            if service not in priced:
                offered = ", ".join(sorted(priced)) or "none"
                raise AdapterRejected(
                    self.name,
                    f"service {service!r} cannot carry shipment {request.shipment_id} to "
                    f"{request.destination.country} (offered: {offered})",
                    "service_unavailable",
                )
            rate, price = priced[service]
            now = self._clock.now()
            tracking_number = self._tracking_number(request.shipment_id)
            booking = Booking(
                request.shipment_id,
                self.name,
                service,
                tracking_number,
                f"LBL-{tracking_number}",
                price,
                now,
            )
            start_of_ship_day = datetime.combine(request.ship_on, time(0), now.tzinfo)
            shipment = _Shipment(request, booking, max(now, start_of_ship_day), rate.transit_days)
            self._by_shipment[request.shipment_id] = shipment
            self._by_tracking[tracking_number] = shipment
            return booking

    def track(self, tracking_number: str) -> TrackingEvent:
        """Where the shipment is at the clock's "now", and since when."""
        shipment = self._shipment(tracking_number)
        if shipment.cancelled_at is not None:
            return TrackingEvent(
                tracking_number, TrackingStatus.CANCELLED, shipment.cancelled_at, "cancelled"
            )
        now = self._clock.now()
        status, since = TrackingStatus.BOOKED, shipment.booking.booked_at
        for milestone, at in self._schedule.milestones(shipment.leaves, shipment.transit_days):
            if at > now:
                break
            status, since = milestone, at
        return TrackingEvent(tracking_number, status, since, _DETAILS[status])

    def cancel(self, tracking_number: str) -> None:
        """Cancel before pickup; ``AdapterRejected`` after. Cancelling twice is a no-op."""
        with self._lock:
            shipment = self._shipment(tracking_number)
            if shipment.cancelled_at is not None:
                return
            status = self.track(tracking_number).status
            if status is not TrackingStatus.BOOKED:
                raise AdapterRejected(
                    self.name,
                    f"shipment {tracking_number} is already {status.value}",
                    "already_picked_up",
                )
            shipment.cancelled_at = self._clock.now()

    def find_booking(self, shipment_id: str) -> Booking | None:
        """The booking made for ``shipment_id`` (cancelled or not), or ``None``."""
        shipment = self._by_shipment.get(shipment_id)
        return None if shipment is None else shipment.booking

    def bookings(self) -> tuple[Booking, ...]:
        """Every booking made, in booking order (cancelled ones included)."""
        return tuple(shipment.booking for shipment in self._by_shipment.values())

    # --- helpers -------------------------------------------------------------------------------

    def _priced(self, request: ShipmentRequest) -> Iterable[tuple[ServiceRate, Money]]:
        if not request.parcels:
            raise AdapterRejected(
                self.name, f"shipment {request.shipment_id} has no parcels", "no_parcels"
            )
        for parcel in request.parcels:
            dimensions = (parcel.weight_kg, parcel.length_cm, parcel.width_cm, parcel.height_cm)
            if any(not value.is_finite() or value < 0 for value in dimensions) or (
                parcel.weight_kg == 0
            ):
                raise AdapterRejected(
                    self.name,
                    f"shipment {request.shipment_id} has a parcel of impossible size: {parcel}",
                    "invalid_parcel",
                )
        zone = self._table.zone_for(request.destination.country)
        if zone is None:
            return
        divisor = self._table.volumetric_divisor
        for rate in zone.services:
            bands = [rate.band_for(parcel, divisor) for parcel in request.parcels]
            if all(band is not None for band in bands):
                prices = [band.price for band in bands if band is not None]
                yield rate, total(prices, prices[0].currency)

    def _shipment(self, tracking_number: str) -> _Shipment:
        shipment = self._by_tracking.get(tracking_number)
        if shipment is None:
            raise NotFound(
                self.name, f"no shipment with tracking number {tracking_number}", tracking_number
            )
        return shipment

    def _tracking_number(self, shipment_id: str) -> str:
        digest = hashlib.sha256(f"{self.name}/{shipment_id}".encode()).hexdigest().upper()
        length = 12
        # Widen the number in the (unlikely) event that two shipment ids share a prefix.
        while f"TR{digest[:length]}" in self._by_tracking:
            length += 1
        return f"TR{digest[:length]}"


_DETAILS: Mapping[TrackingStatus, str] = {
    TrackingStatus.BOOKED: "label created, awaiting pickup",
    TrackingStatus.PICKED_UP: "picked up by the carrier",
    TrackingStatus.IN_TRANSIT: "on its way",
    TrackingStatus.OUT_FOR_DELIVERY: "out for delivery",
    TrackingStatus.DELIVERED: "delivered",
}
