"""The table-rate carrier: quotes from its table, idempotent bookings, tracking by the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from o2c.adapters.memory import (
    FixedClock,
    RateTable,
    ServiceRate,
    TableRateCarrier,
    TrackingSchedule,
    WeightBand,
    Zone,
)
from o2c.domain.customers import Address
from o2c.domain.money import money
from o2c.ports.carriers import Parcel, ShipmentRequest, TrackingStatus
from o2c.ports.errors import AdapterRejected, DuplicateRequest, NotFound

BOOKED_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WAREHOUSE = Address("1 Warehouse Road", "Hamburg", "20095", "DE")


def shipment(
    country: str = "DE", *weights: str, shipment_id: str = "SH-1", ship_on: date | None = None
) -> ShipmentRequest:
    parcels = tuple(Parcel(Decimal(w)) for w in weights or ("1.5",))
    return ShipmentRequest(
        shipment_id,
        "SO-1",
        WAREHOUSE,
        Address("Main Street 1", "Somewhere", "1000", country),
        parcels,
        ship_on or BOOKED_AT.date(),
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(BOOKED_AT)


@pytest.fixture
def carrier(clock: FixedClock) -> TableRateCarrier:
    return TableRateCarrier(clock)


def test_quotes_every_service_cheapest_first(carrier: TableRateCarrier) -> None:
    quotes = carrier.quote(shipment("DE", "1.5"))
    assert [(q.service, q.price, q.transit_days) for q in quotes] == [
        ("standard", money("4.90", "EUR"), 2),
        ("express", money("9.90", "EUR"), 1),
    ]
    assert {q.carrier for q in quotes} == {"table-rate"}


def test_price_is_the_sum_of_each_parcels_band(carrier: TableRateCarrier) -> None:
    standard = carrier.quote(shipment("FR", "2", "2.01", "31.5"))[0]
    assert standard.price == money("9.50", "EUR") + money("13.50", "EUR") + money("29.00", "EUR")
    assert standard.transit_days == 3


def test_rest_of_world_and_zones_by_country(carrier: TableRateCarrier) -> None:
    assert carrier.quote(shipment("US"))[0].transit_days == 10
    assert carrier.quote(shipment("IT"))[0].price == money("12.50", "EUR")


def test_heavier_than_every_band_cannot_be_quoted(carrier: TableRateCarrier) -> None:
    assert carrier.quote(shipment("DE", "1", "40")) == ()


def test_bulky_parcels_are_charged_by_volumetric_weight(carrier: TableRateCarrier) -> None:
    # 40 x 30 x 30 cm = 36,000 cm³ = 7.2 kg volumetric: the 10 kg band, though it weighs 1 kg.
    bulky = Parcel(Decimal(1), Decimal(40), Decimal(30), Decimal(30))
    request = shipment("DE")
    request = ShipmentRequest(
        request.shipment_id, "SO-1", WAREHOUSE, request.destination, (bulky,), request.ship_on
    )
    assert carrier.quote(request)[0].price == money("9.90", "EUR")


def test_a_table_without_rest_of_world_cannot_ship_elsewhere(clock: FixedClock) -> None:
    band = WeightBand(Decimal(5), money("3.00", "EUR"))
    table = RateTable((Zone("home", frozenset({"NL"}), (ServiceRate("post", 1, (band,)),)),))
    carrier = TableRateCarrier(clock, table=table)
    assert carrier.quote(shipment("NL"))[0].price == money("3.00", "EUR")
    assert carrier.quote(shipment("DE")) == ()
    with pytest.raises(AdapterRejected) as caught:
        carrier.book(shipment("DE"), "post")
    assert caught.value.code == "service_unavailable"


def test_invalid_tables_and_parcels_are_refused(carrier: TableRateCarrier) -> None:
    band = WeightBand(Decimal(5), money("3.00", "EUR"))
    with pytest.raises(AdapterRejected):
        ServiceRate("post", 1, (band, WeightBand(Decimal(2), money("1.00", "EUR"))))
    with pytest.raises(AdapterRejected):
        ServiceRate("post", 0, (band,))
    with pytest.raises(AdapterRejected):
        RateTable((Zone("a", frozenset({"NL"}), ()), Zone("b", frozenset({"NL"}), ())))
    with pytest.raises(AdapterRejected) as caught:
        carrier.quote(shipment("DE", "0"))
    assert caught.value.code == "invalid_parcel"


def test_book_returns_a_deterministic_booking(clock: FixedClock) -> None:
    one = TableRateCarrier(clock).book(shipment("DE"), "express")
    two = TableRateCarrier(clock).book(shipment("DE"), "express")
    assert one == two
    assert one.tracking_number.startswith("TR")
    assert one.label_reference == f"LBL-{one.tracking_number}"
    assert one.price == money("9.90", "EUR")
    assert one.booked_at == BOOKED_AT
    other = TableRateCarrier(clock).book(shipment("DE", shipment_id="SH-2"), "express")
    assert other.tracking_number != one.tracking_number


def test_book_is_idempotent_by_shipment_id(carrier: TableRateCarrier, clock: FixedClock) -> None:
    first = carrier.book(shipment("DE"), "standard")
    clock.advance(hours=1)
    assert carrier.book(shipment("DE"), "standard") == first
    assert carrier.bookings() == (first,)
    with pytest.raises(DuplicateRequest):
        carrier.book(shipment("DE"), "express")
    with pytest.raises(DuplicateRequest):
        carrier.book(shipment("AT"), "standard")


def test_unoffered_service_is_rejected(carrier: TableRateCarrier) -> None:
    with pytest.raises(AdapterRejected) as caught:
        carrier.book(shipment("DE"), "overnight-by-drone")
    assert caught.value.code == "service_unavailable"
    assert carrier.bookings() == ()


def test_tracking_advances_with_the_clock(carrier: TableRateCarrier, clock: FixedClock) -> None:
    tracking = carrier.book(shipment("FR"), "standard").tracking_number  # 3 days
    seen = []
    for _ in range(4 * 24):
        event = carrier.track(tracking)
        if not seen or seen[-1][0] is not event.status:
            seen.append((event.status, event.at))
        clock.advance(hours=1)
    assert seen == [
        (TrackingStatus.BOOKED, BOOKED_AT),
        (TrackingStatus.PICKED_UP, BOOKED_AT + timedelta(hours=4)),
        (TrackingStatus.IN_TRANSIT, BOOKED_AT + timedelta(hours=6)),
        (TrackingStatus.OUT_FOR_DELIVERY, BOOKED_AT + timedelta(days=3, hours=-6)),
        (TrackingStatus.DELIVERED, BOOKED_AT + timedelta(days=3)),
    ]


def test_a_later_ship_date_delays_the_schedule(
    carrier: TableRateCarrier, clock: FixedClock
) -> None:
    tracking = carrier.book(shipment("DE", ship_on=date(2025, 3, 5)), "express").tracking_number
    clock.advance(days=1)
    assert carrier.track(tracking).status is TrackingStatus.BOOKED
    clock.set(datetime(2025, 3, 5, 4, 0, tzinfo=UTC))
    event = carrier.track(tracking)
    assert (event.status, event.at) == (
        TrackingStatus.PICKED_UP,
        datetime(2025, 3, 5, 4, 0, tzinfo=UTC),
    )


def test_custom_schedule(clock: FixedClock) -> None:
    carrier = TableRateCarrier(clock, schedule=TrackingSchedule(pickup_after=timedelta(hours=1)))
    tracking = carrier.book(shipment(), "standard").tracking_number
    clock.advance(hours=1)
    assert carrier.track(tracking).status is TrackingStatus.PICKED_UP
    with pytest.raises(AdapterRejected):
        TrackingSchedule(pickup_after=timedelta(hours=20))


def test_cancel_before_pickup_only(carrier: TableRateCarrier, clock: FixedClock) -> None:
    early = carrier.book(shipment(shipment_id="SH-1"), "standard").tracking_number
    late = carrier.book(shipment(shipment_id="SH-2"), "standard").tracking_number
    clock.advance(hours=1)
    carrier.cancel(early)
    carrier.cancel(early)
    event = carrier.track(early)
    assert (event.status, event.at) == (TrackingStatus.CANCELLED, BOOKED_AT + timedelta(hours=1))
    clock.advance(days=5)
    assert carrier.track(early).status is TrackingStatus.CANCELLED
    with pytest.raises(AdapterRejected) as caught:
        carrier.cancel(late)
    assert caught.value.code == "already_picked_up"
    assert carrier.track(late).status is TrackingStatus.DELIVERED


def test_unknown_tracking_number_is_not_found(carrier: TableRateCarrier) -> None:
    with pytest.raises(NotFound):
        carrier.track("TR-NOPE")
    with pytest.raises(NotFound):
        carrier.cancel("TR-NOPE")


def test_default_table_covers_a_few_eu_countries_and_the_world() -> None:
    table = RateTable.default()
    assert {zone.name for zone in table.zones} == {"domestic", "eu-1", "eu-2"}
    assert table.zone_for("NL") is not None
    assert table.zone_for("JP") is table.rest_of_world
