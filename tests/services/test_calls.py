"""Calls to other systems that survive any failure: the breaks of shipping and placing orders, the
protocol's compensation and the janitor, on the memory store and on SQLite.

The tests named ``test_break_*`` are the regression tests of the breaks found by injecting faults
at every port call (1: a failed commit of ``ship_order``; 2: a transient inventory error while
shipping; 8: ``place_order`` failing on a later line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from services_world import DUNNING, PARCEL, START, widget_line

from o2c.adapters.memory import (
    Fault,
    FixedClock,
    MemoryInventory,
    MemoryLedger,
    MemoryStore,
    OutboxNotifier,
    SandboxGateway,
    TableRateCarrier,
)
from o2c.domain.calls import CallStatus, ExternalCall
from o2c.domain.customers import Address, Customer
from o2c.domain.money import Money, money
from o2c.domain.orders import OrderStatus
from o2c.domain.payments import PaymentStatus
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Booking, ShipmentRequest, TrackingStatus
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, NotFound
from o2c.ports.inventory import Reservation
from o2c.ports.persistence import UnitOfWork
from o2c.services import Adapters, Services, Settings
from o2c.services.errors import CallUndone

# --- a world whose adapters fail on demand ------------------------------------------------------


class _CommandCommits:
    """Proxy of a unit of work whose commit fails (a conflict) when it carries a command result."""

    def __init__(self, inner: UnitOfWork, flaky: FlakyCommits) -> None:
        self._inner = inner
        self._flaky = flaky
        self._is_command = False
        outer = self

        class _Commands:
            def recall(self, key: str) -> str | None:
                return inner.commands.recall(key)

            def remember(self, key: str, result: str) -> None:
                outer._is_command = True
                inner.commands.remember(key, result)

        self.commands = _Commands()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _CommandCommits:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(None, None, None)

    def commit(self) -> None:
        if self._is_command and self._flaky.failures:
            self._flaky.failures -= 1
            self._inner.rollback()
            raise AdapterUnavailable("store", "another unit of work committed meanwhile")
        self._inner.commit()


@attrs.define
class FlakyCommits:
    """A unit-of-work factory whose next ``failures`` command commits fail."""

    factory: Callable[[], UnitOfWork]
    failures: int = 0

    def __call__(self) -> UnitOfWork:
        uow: Any = _CommandCommits(self.factory(), self)
        return uow  # type: ignore[no-any-return]


class FlakyInventory:
    """Inventory whose named operations fail next: ``"unavailable"`` before acting, ``"lost"``
    after acting (the answer is lost)."""

    def __init__(self, inner: MemoryInventory) -> None:
        self.inner = inner
        self.name = inner.name
        self.faults: dict[str, list[str]] = {}

    def fail(self, operation: str, *faults: str) -> None:
        self.faults.setdefault(operation, []).extend(faults)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _run(self, operation: str, act: Callable[[], Any]) -> Any:
        queue = self.faults.get(operation)
        fault = queue.pop(0) if queue else None
        if fault == "unavailable":
            raise AdapterUnavailable(self.name, f"{operation} failed")
        answer = act()
        if fault == "lost":
            raise AdapterUnavailable(self.name, f"{operation} acted, the answer was lost")
        return answer

    def reserve(self, reservation_id: str, **request: Any) -> Reservation:
        answer: Reservation = self._run(
            "reserve", lambda: self.inner.reserve(reservation_id, **request)
        )
        return answer

    def release(self, reservation_id: str) -> None:
        self._run("release", lambda: self.inner.release(reservation_id))

    def commit(self, reservation_id: str, quantity: Decimal, **key: Any) -> None:
        self._run("commit", lambda: self.inner.commit(reservation_id, quantity, **key))


class FlakyCarrier:
    """Carrier whose named operations fail next, as :class:`FlakyInventory`."""

    def __init__(self, inner: TableRateCarrier) -> None:
        self.inner = inner
        self.name = inner.name
        self.faults: dict[str, list[str]] = {}

    def fail(self, operation: str, *faults: str) -> None:
        self.faults.setdefault(operation, []).extend(faults)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _run(self, operation: str, act: Callable[[], Any]) -> Any:
        queue = self.faults.get(operation)
        fault = queue.pop(0) if queue else None
        if fault == "unavailable":
            raise AdapterUnavailable(self.name, f"{operation} failed")
        if fault == "rejected":
            raise AdapterRejected(self.name, f"{operation} refused", "refused")
        answer = act()
        if fault == "lost":
            raise AdapterUnavailable(self.name, f"{operation} acted, the answer was lost")
        return answer

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        booking: Booking = self._run("book", lambda: self.inner.book(request, service))
        return booking

    def cancel(self, tracking_number: str) -> None:
        self._run("cancel", lambda: self.inner.cancel(tracking_number))


@attrs.define
class CallWorld:
    """The services over a store (memory or SQLite) and adapters that fail on demand."""

    services: Services
    units: FlakyCommits
    stock: MemoryInventory
    inventory: FlakyInventory
    shipping: TableRateCarrier
    carrier: FlakyCarrier
    gateway: SandboxGateway
    clock: FixedClock
    keys: int = 0

    def key(self) -> str:
        self.keys += 1
        return f"k-{self.keys}"

    def customer(self) -> None:
        customer = Customer(
            "C-1",
            "Customer C-1",
            "EUR",
            PaymentTerms.parse("NET 30"),
            address=Address("Hauptstrasse 1", "Berlin", "10115", "DE"),
        )
        s = self.services
        s.customers.register_customer(customer, idempotency_key=self.key())
        s.customers.approve_credit(
            "C-1",
            money("100000", "EUR"),
            START.date().replace(year=2027),
            reviewer="ana",
            reason="known",
            idempotency_key=self.key(),
        )

    def live_bookings(self) -> set[str]:
        return {
            b.tracking_number
            for b in self.shipping.bookings()
            if self.shipping.track(b.tracking_number).status is not TrackingStatus.CANCELLED
        }

    def recorded_bookings(self) -> set[str]:
        with self.units.factory() as uow:
            return {s.booking.tracking_number for s in uow.shipments.values()}

    def open_calls(self) -> tuple[object, ...]:
        with self.units.factory() as uow:
            return uow.calls.unsettled()

    def reserved_for_open_lines(self, product: str = "WIDGET") -> Decimal:
        """What stored orders still hold: open lines of orders that are not cancelled."""
        with self.units.factory() as uow:
            return sum(
                (
                    line.shippable_quantity
                    for order in uow.orders.values()
                    if order.status is not OrderStatus.CANCELLED and not order.waits_for_credit
                    for line in order.lines
                    if line.product_id == product
                ),
                Decimal(0),
            )

    def shipped(self, product: str = "WIDGET") -> Decimal:
        with self.units.factory() as uow:
            return sum(
                (
                    line.fulfilled
                    for order in uow.orders.values()
                    for line in order.lines
                    if line.product_id == product
                ),
                Decimal(0),
            )

    def consistent(self) -> None:
        """No stock held without an open order line, no booking without a shipment record."""
        level = self.stock.stock("WIDGET")
        assert level.reserved == self.reserved_for_open_lines()
        assert level.on_hand == Decimal(100) - self.shipped()
        assert self.live_bookings() == self.recorded_bookings()


def _world(factory: Callable[[], UnitOfWork]) -> CallWorld:
    clock = FixedClock(START)
    stock = MemoryInventory({"WIDGET": 100})
    inventory = FlakyInventory(stock)
    shipping = TableRateCarrier(clock)
    carrier = FlakyCarrier(shipping)
    gateway = SandboxGateway(clock)
    units = FlakyCommits(factory)
    adapters = Adapters(
        unit_of_work=units,
        inventory=inventory,
        carrier=carrier,
        payment_gateway=gateway,
        ledger=MemoryLedger(),
        notifier=OutboxNotifier(),
        clock=clock,
    )
    services = Services(adapters, Settings(dunning_policy=DUNNING))
    return CallWorld(services, units, stock, inventory, shipping, carrier, gateway, clock)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CallWorld]:
    """A world on each store (PostgreSQL on the session's throwaway database, emptied first)."""
    if request.param == "memory":
        yield _world(MemoryStore().unit_of_work)
        return
    from o2c.adapters.sql import SqlStore, schema  # noqa: PLC0415

    if request.param == "sqlite":
        with SqlStore(tmp_path / "books.db") as store:
            yield _world(store.unit_of_work)
        return
    url: str = request.getfixturevalue("postgres_url")
    with SqlStore(url, upgrade=True) as store:
        with store.engine.begin() as connection:
            for table in reversed(schema.metadata.sorted_tables):
                connection.execute(table.delete())
        yield _world(store.unit_of_work)


def _place(world: CallWorld, order_id: str = "SO-1", quantity: int = 10) -> None:
    world.services.orders.place_order(
        order_id, "C-1", [widget_line(quantity=quantity)], idempotency_key=world.key()
    )


# --- the breaks ---------------------------------------------------------------------------------


def test_break_1_a_failed_commit_of_ship_order_leaves_nothing_and_the_retry_ships(
    world: CallWorld,
) -> None:
    world.customer()
    _place(world)
    world.units.failures = 1  # the shipment's commit meets a conflict
    with pytest.raises(AdapterUnavailable):
        world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert world.stock.stock("WIDGET").reserved == Decimal(10)  # stock still held, not gone
    assert world.stock.stock("WIDGET").on_hand == Decimal(100)
    assert world.live_bookings() == set()  # the booking was cancelled again
    assert world.recorded_bookings() == set()
    shipped = world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert shipped.order_status is OrderStatus.FULFILLED
    assert world.live_bookings() == {shipped.tracking_number} == world.recorded_bookings()
    assert world.stock.stock("WIDGET").on_hand == Decimal(90)
    assert world.stock.stock("WIDGET").reserved == Decimal(0)
    world.consistent()


def test_break_2_a_transient_inventory_error_never_records_a_cancelled_label(
    world: CallWorld,
) -> None:
    world.customer()
    _place(world)
    world.inventory.fail("commit", "unavailable")
    try:
        shipped = world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    except AdapterUnavailable:
        shipped = world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert world.shipping.track(shipped.tracking_number).status is not TrackingStatus.CANCELLED
    assert world.recorded_bookings() == {shipped.tracking_number} == world.live_bookings()
    # the stock that could not leave at once leaves on the retry (or the janitor's run)
    world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert world.stock.stock("WIDGET").on_hand == Decimal(90)
    assert world.open_calls() == ()
    world.consistent()


def test_break_8_an_unknown_product_reserves_nothing_for_an_order_that_does_not_exist(
    world: CallWorld,
) -> None:
    world.customer()
    lines = [widget_line("1", quantity=5), widget_line("2", quantity=1, product="NO-SUCH")]
    with pytest.raises(NotFound):
        world.services.orders.place_order("SO-1", "C-1", lines, idempotency_key="place")
    assert world.stock.stock("WIDGET").reserved == Decimal(0)
    with world.units.factory() as uow:
        assert uow.orders.find("SO-1") is None


def test_break_8_a_later_line_failing_releases_the_earlier_lines(world: CallWorld) -> None:
    world.customer()
    lines = [widget_line("1", quantity=5), widget_line("2", quantity=3)]
    world.inventory.fail("reserve", "ok", "unavailable")
    with pytest.raises(AdapterUnavailable):
        world.services.orders.place_order("SO-1", "C-1", lines, idempotency_key="place")
    assert world.stock.stock("WIDGET").reserved == Decimal(0)
    assert world.open_calls() == ()
    placed = world.services.orders.place_order("SO-1", "C-1", lines, idempotency_key="place")
    assert placed.status is OrderStatus.APPROVED
    assert world.stock.stock("WIDGET").reserved == Decimal(8)  # held for real, not remembered
    shipped = world.services.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    assert shipped.order_status is OrderStatus.FULFILLED
    world.consistent()


# --- the protocol -------------------------------------------------------------------------------


def test_a_reservation_whose_answer_was_lost_is_released_and_marked_compensated(
    world: CallWorld,
) -> None:
    world.customer()
    world.inventory.fail("reserve", "lost")
    with pytest.raises(AdapterUnavailable):
        _place(world)
    assert world.stock.stock("WIDGET").reserved == Decimal(0)
    with world.units.factory() as uow:
        (call,) = uow.calls.of_subject("SO-1")
    assert call.status is CallStatus.COMPENSATED
    assert (call.adapter, call.operation, call.idempotency_key) == (
        "inventory",
        "reserve",
        "SO-1/1",
    )
    assert call.attempts == 1
    assert call.created_at == START


def test_a_refused_booking_is_marked_failed_and_nothing_is_undone(world: CallWorld) -> None:
    world.customer()
    _place(world)
    world.carrier.fail("book", "rejected")
    with pytest.raises(AdapterRejected):
        world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="a")
    with world.units.factory() as uow:
        (call,) = (c for c in uow.calls.of_subject("SO-1") if c.operation == "book")
    assert call.status is CallStatus.FAILED
    assert "refused" in call.detail
    shipped = world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="b")
    assert shipped.shipment_id == "SO-1-SH2"  # the refused id is never asked for again
    world.consistent()


def test_a_succeeded_call_is_recorded_with_the_command(world: CallWorld) -> None:
    world.customer()
    _place(world)
    shipped = world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    with world.units.factory() as uow:
        calls = {c.call_id: c for c in uow.calls.of_subject("SO-1")}
    assert calls["carrier:book:SO-1-SH1"].status is CallStatus.SUCCEEDED
    assert calls["inventory:reserve:SO-1/1"].status is CallStatus.SUCCEEDED
    assert calls["inventory:commit:SO-1-SH1/1"].status is CallStatus.SUCCEEDED
    assert shipped.shipment_id == "SO-1-SH1"
    assert world.open_calls() == ()


def test_cancelling_an_order_releases_its_stock_after_the_commit(world: CallWorld) -> None:
    world.customer()
    _place(world)
    world.inventory.fail("release", "unavailable")
    world.services.orders.cancel_order("SO-1", reason="changed mind", idempotency_key="c")
    assert world.stock.stock("WIDGET").reserved == Decimal(10)  # the release failed: open
    assert len(world.open_calls()) == 1
    report = world.services.janitor.run()
    assert report.completed == 1
    assert world.stock.stock("WIDGET").reserved == Decimal(0)
    world.consistent()


# --- the janitor --------------------------------------------------------------------------------


def test_the_janitor_cancels_a_booking_whose_compensation_failed(world: CallWorld) -> None:
    world.customer()
    _place(world)
    world.units.failures = 1
    world.carrier.fail("cancel", "unavailable")  # the command's own compensation fails too
    with pytest.raises(AdapterUnavailable):
        world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert len(world.live_bookings()) == 1  # a booking without a shipment: open, not silent
    assert len(world.open_calls()) == 1
    report = world.services.janitor.run()
    assert (report.examined, report.compensated, report.unresolved) == (1, 1, 0)
    assert report.settled
    assert world.live_bookings() == set()
    assert world.services.janitor.run().examined == 0  # idempotent: nothing left
    world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    world.consistent()


def test_the_janitor_finds_a_booking_that_never_happened(world: CallWorld) -> None:
    world.customer()
    _place(world)
    world.units.failures = 1
    world.carrier.fail("book", "unavailable")
    with pytest.raises(AdapterUnavailable):
        world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    with world.units.factory() as uow:
        (call,) = (c for c in uow.calls.of_subject("SO-1") if c.operation == "book")
    assert call.status is CallStatus.FAILED  # the lookup found no booking: nothing to undo
    world.consistent()


def test_the_janitor_leaves_recent_calls_to_their_command(world: CallWorld) -> None:
    from datetime import timedelta  # noqa: PLC0415

    world.customer()
    _place(world)
    world.inventory.fail("commit", "unavailable")
    world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    report = world.services.janitor.run(older_than=timedelta(minutes=5))
    assert (report.too_recent, report.completed) == (1, 0)
    world.clock.advance(timedelta(minutes=6))
    report = world.services.janitor.run(older_than=timedelta(minutes=5))
    assert (report.too_recent, report.completed) == (0, 1)
    world.consistent()


def test_the_janitor_resolves_a_pending_authorisation(world: CallWorld) -> None:
    world.customer()
    _place(world)
    world.gateway.inject(Fault.LOST_RESPONSE)
    result = world.services.cards.authorise("SO-1", "tok_approve", idempotency_key="auth")
    assert result.status is PaymentStatus.PENDING
    report = world.services.janitor.run()
    assert report.payments_resolved == 1
    with world.units.factory() as uow:
        assert uow.payments.get(result.payment_id).status is PaymentStatus.AUTHORISED


# --- card payments -----------------------------------------------------------------------------


def _invoiced_with_card(world: CallWorld) -> str:
    world.customer()
    _place(world)
    s = world.services
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key="auth").payment_id
    s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    s.billing.invoice_order("SO-1", idempotency_key="invoice")
    return payment


def _held_by_gateway(world: CallWorld, payment_id: str) -> Money:
    with world.units.factory() as uow:
        reference = uow.payments.get(payment_id).gateway_reference or ""
    money_there = world.gateway.payment(reference)
    return money_there.captured - money_there.refunded


def test_a_capture_whose_commit_failed_is_recorded_by_the_retry(world: CallWorld) -> None:
    payment = _invoiced_with_card(world)
    world.units.failures = 1
    with pytest.raises(AdapterUnavailable):
        world.services.cards.capture(payment, idempotency_key="capture")
    assert _held_by_gateway(world, payment) == money("119.00", "EUR")  # taken, not booked
    (open_call,) = world.open_calls()
    assert isinstance(open_call, ExternalCall)
    assert (open_call.operation, open_call.status) == ("capture", CallStatus.UNKNOWN)
    captured = world.services.cards.capture(payment, idempotency_key="capture")
    assert captured.captured == money("119.00", "EUR")
    report = world.services.janitor.run()
    assert (report.completed, report.compensated) == (1, 0)  # the books hold it now
    assert _held_by_gateway(world, payment) == money("119.00", "EUR")
    assert world.open_calls() == ()


def test_a_capture_never_recorded_is_refunded_by_the_janitor(world: CallWorld) -> None:
    payment = _invoiced_with_card(world)
    world.units.failures = 1
    with pytest.raises(AdapterUnavailable):
        world.services.cards.capture(payment, idempotency_key="capture")
    report = world.services.janitor.run()
    assert report.compensated == 1
    assert _held_by_gateway(world, payment) == money("0.00", "EUR")  # the money went back
    with pytest.raises(CallUndone):  # the same request would be handed the undone capture
        world.services.cards.capture(payment, idempotency_key="capture")
    with world.units.factory() as uow:
        assert uow.payments.get(payment).status is PaymentStatus.AUTHORISED


def test_an_authorisation_never_recorded_is_voided_by_the_janitor(world: CallWorld) -> None:
    world.customer()
    _place(world)
    world.units.failures = 1
    with pytest.raises(AdapterUnavailable):
        world.services.cards.authorise("SO-1", "tok_approve", idempotency_key="auth")
    (open_call,) = world.open_calls()
    assert isinstance(open_call, ExternalCall)
    report = world.services.janitor.run()
    assert report.compensated == 1
    answer = world.gateway.fetch_status(open_call.idempotency_key)
    assert world.gateway.payment(answer.gateway_reference or "").voided


# --- any sequence of failures ends consistent -----------------------------------------------------

_FAULTS = st.sampled_from(
    [
        ("none", ""),
        ("commit", ""),
        ("inventory", "reserve:unavailable"),
        ("inventory", "reserve:lost"),
        ("inventory", "commit:unavailable"),
        ("inventory", "commit:lost"),
        ("inventory", "release:unavailable"),
        ("carrier", "book:unavailable"),
        ("carrier", "book:lost"),
        ("carrier", "cancel:unavailable"),
    ]
)
_STEPS = st.lists(
    st.tuples(st.sampled_from(["place", "ship", "cancel"]), st.integers(1, 3), _FAULTS),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_STEPS, faults=st.lists(_FAULTS, max_size=3))
def test_any_failures_then_the_janitor_leave_stock_and_bookings_agreeing_with_the_books(
    steps: list[tuple[str, int, tuple[str, str]]], faults: list[tuple[str, str]]
) -> None:
    """Whatever fails and wherever, after one retry and a janitor run no stock is held without
    an open order line and every live booking is a recorded shipment (memory store)."""
    world = _world(MemoryStore().unit_of_work)
    world.customer()
    for number, (action, order, (where, what)) in enumerate(steps):
        _arm(world, where, what)
        key = f"{action}-{order}-{number}"
        order_id = f"SO-{order}"
        for _attempt in range(2):  # the command, then its retry under the same key
            try:
                if action == "place":
                    world.services.orders.place_order(
                        order_id, "C-1", [widget_line(quantity=order)], idempotency_key=key
                    )
                elif action == "ship":
                    world.services.orders.ship_order(order_id, PARCEL, idempotency_key=key)
                else:
                    world.services.orders.cancel_order(order_id, reason="r", idempotency_key=key)
                break
            except Exception:  # any refusal or fault: retried once
                continue
        for where_, what_ in faults:  # the janitor's own calls may fail too: a second run
            _arm(world, where_, what_)
        world.services.janitor.run()
        _disarm(world)
        world.services.janitor.run()
        assert world.open_calls() == ()
        world.consistent()


def _arm(world: CallWorld, where: str, what: str) -> None:
    if where == "commit":
        world.units.failures = 1
    elif where in ("inventory", "carrier"):
        operation, fault = what.split(":")
        target = world.inventory if where == "inventory" else world.carrier
        target.fail(operation, fault)


def _disarm(world: CallWorld) -> None:
    world.units.failures = 0
    world.inventory.faults.clear()
    world.carrier.faults.clear()
