"""Reversals that agree with the ledger, adapters failing mid-command, the ledger outbox, events
published after commit, and bad-debt write-offs on statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import attrs
import pytest
from services_world import PARCEL, World, build_world, eur, widget_line

from o2c.adapters.memory import Fault, MemoryInventory, MemoryLedger, TableRateCarrier
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import InvoiceState
from o2c.domain.ledger import AccountRole, JournalEntry
from o2c.domain.matching import MatchingConfig, WriteOffTolerance
from o2c.domain.orders import OrderStatus
from o2c.domain.payments import PaymentStatus
from o2c.domain.receipts import Payer, Receipt, ReceiptState
from o2c.domain.reporting import Period, StatementKind
from o2c.ports.carriers import Booking, ShipmentRequest
from o2c.ports.errors import AdapterUnavailable
from o2c.ports.ledger import PostingResult
from o2c.services import Services, Settings
from o2c.services.errors import InsufficientStock, UnknownOrder


def _ledger_agrees(world: World) -> None:
    assert world.ledger.ledger.trial_balance().is_balanced
    assert world.receivable_balance() == world.open_total()


def _invoiced(world: World, order_id: str = "SO-1", quantity: int = 10) -> str:
    s = world.services
    s.orders.place_order(
        order_id, "C-1", [widget_line(quantity=quantity)], idempotency_key=world.key()
    )
    s.orders.ship_order(order_id, PARCEL, idempotency_key=world.key())
    return s.billing.invoice_order(order_id, idempotency_key=world.key()).invoice_number


def _pay(world: World, receipt_id: str, amount: str, reference: str) -> None:
    world.services.cash.import_receipts(
        [
            Receipt(
                receipt_id,
                eur(amount),
                world.today(),
                f"line-{receipt_id}",
                Payer(account="DE89370400440532013000"),
                reference=reference,
            )
        ],
        idempotency_key=world.key(),
    )


def _invoice_state(world: World, number: str) -> tuple[InvoiceState, object]:
    with world.store.unit_of_work() as uow:
        invoice = uow.invoices.get(number)
        return invoice.state, invoice.open


# --- reversals ----------------------------------------------------------------------------------


def test_reversing_a_receipt_that_took_the_discount_reopens_the_whole_invoice() -> None:
    world = build_world()
    world.customer(terms="2/10 NET 30")
    number = _invoiced(world)
    _pay(world, "R-1", "116.62", number)  # 119.00 less 2 %
    assert _invoice_state(world, number) == (InvoiceState.PAID, eur("0.00"))
    _ledger_agrees(world)

    world.services.cash.reverse_receipt("R-1", reason="bounced", idempotency_key=world.key())

    assert _invoice_state(world, number) == (InvoiceState.ISSUED, eur("119.00"))
    _ledger_agrees(world)


def test_reversing_a_short_payment_brings_back_the_written_off_difference() -> None:
    tolerance = WriteOffTolerance(absolute=eur("1.00"))
    world = build_world(Settings(matching=MatchingConfig(tolerance=tolerance)))
    world.customer()
    number = _invoiced(world)
    _pay(world, "R-1", "118.50", number)
    assert _invoice_state(world, number) == (InvoiceState.PAID, eur("0.00"))

    world.services.cash.reverse_receipt("R-1", reason="bounced", idempotency_key=world.key())

    assert _invoice_state(world, number) == (InvoiceState.ISSUED, eur("119.00"))
    _ledger_agrees(world)


def test_a_card_refund_reverses_the_card_receipt_and_the_ledger_follows(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key()).payment_id
    s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    number = s.billing.invoice_order("SO-1", idempotency_key=world.key()).invoice_number
    captured = s.cards.capture(payment, idempotency_key=world.key())
    assert _invoice_state(world, number)[0] is InvoiceState.PAID

    refunded = s.cards.refund(payment, idempotency_key=world.key())

    assert refunded.status is PaymentStatus.REFUNDED
    assert _invoice_state(world, number) == (InvoiceState.ISSUED, eur("119.00"))
    with world.store.unit_of_work() as uow:
        assert captured.receipt_id is not None
        assert uow.receipts.get(captured.receipt_id).state is ReceiptState.REVERSED
    _ledger_agrees(world)


# --- adapters failing mid-command -----------------------------------------------------------------


class _FailingCarrier:
    """A carrier whose bookings fail as an unreachable service would."""

    def __init__(self, inner: TableRateCarrier) -> None:
        self.inner = inner
        self.name = inner.name
        self.failures = 1

    def quote(self, request: ShipmentRequest) -> tuple[object, ...]:
        return self.inner.quote(request)

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        if self.failures:
            self.failures -= 1
            raise AdapterUnavailable(self.name, "booking service down")
        return self.inner.book(request, service)

    def track(self, tracking_number: str) -> object:
        return self.inner.track(tracking_number)

    def cancel(self, tracking_number: str) -> None:
        self.inner.cancel(tracking_number)

    def find_booking(self, shipment_id: str) -> Booking | None:
        return self.inner.find_booking(shipment_id)


class _RacingInventory:
    """Inventory whose second commit of a shipment finds the stock gone (taken meanwhile)."""

    def __init__(self, inner: MemoryInventory) -> None:
        self.inner = inner
        self.commits = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def commit(
        self, reservation_id: str, quantity: Decimal, *, idempotency_key: str | None = None
    ) -> None:
        self.commits += 1
        if self.commits == 2:
            self.inner.release(reservation_id)
        self.inner.commit(reservation_id, quantity, idempotency_key=idempotency_key)


def test_a_carrier_failure_leaves_stock_order_and_store_untouched() -> None:
    world = build_world(carrier=_FailingCarrier)  # type: ignore[arg-type]
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    before = world.snapshot()
    with pytest.raises(AdapterUnavailable):
        s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert world.snapshot() == before
    assert world.inventory.held("SO-1/1") == Decimal(10)
    # the retry, with the same key, ships once
    shipped = s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert shipped.order_status is OrderStatus.FULFILLED
    assert world.inventory.stock("WIDGET").on_hand == Decimal(90)


def test_a_shipment_larger_than_the_reservation_is_refused_before_anything_moves(
    world: World,
) -> None:
    world.customer()
    s = world.services
    s.orders.place_order(
        "SO-1",
        "C-1",
        [widget_line("1", quantity=5), widget_line("2", quantity=5)],
        idempotency_key=world.key(),
    )
    world.inventory.release("SO-1/2")  # the stock of line 2 went elsewhere meanwhile
    before = world.snapshot()
    with pytest.raises(InsufficientStock, match="line 2"):
        s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    assert world.snapshot() == before  # no booking, no stock committed for line 1
    assert world.inventory.held("SO-1/1") == Decimal(5)


def test_stock_taken_after_the_shipment_is_recorded_stays_open_for_a_person() -> None:
    """Stock leaves inventory once the shipment is recorded; a reservation emptied meanwhile by
    someone else cannot be shipped from, and that call stays open (the janitor reports it)."""
    world = build_world(inventory=_RacingInventory)  # type: ignore[arg-type]
    world.customer()
    s = world.services
    s.orders.place_order(
        "SO-1",
        "C-1",
        [widget_line("1", quantity=5), widget_line("2", quantity=5)],
        idempotency_key=world.key(),
    )
    shipped = s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    assert world.is_live(shipped.tracking_number)
    with world.store.unit_of_work() as uow:
        assert uow.orders.get("SO-1").status is OrderStatus.FULFILLED
        (open_call,) = uow.calls.unsettled()
    assert (open_call.operation, open_call.idempotency_key) == ("commit", "SO-1-SH1/2")
    report = s.janitor.run()
    assert report.unresolved == 1
    assert not report.settled


def test_a_gateway_outage_during_capture_records_nothing_and_the_retry_captures_once(
    world: World,
) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key()).payment_id
    s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    number = s.billing.invoice_order("SO-1", idempotency_key=world.key()).invoice_number
    before = world.snapshot()
    world.gateway.inject(Fault.UNAVAILABLE)
    with pytest.raises(AdapterUnavailable):
        s.cards.capture(payment, idempotency_key="capture")
    assert world.snapshot() == before
    assert _invoice_state(world, number)[0] is InvoiceState.ISSUED
    captured = s.cards.capture(payment, idempotency_key="capture")
    assert captured.captured == eur("119.00")
    assert world.gateway.payment(captured.gateway_reference or "").captured == eur("119.00")
    _ledger_agrees(world)


def test_a_notification_that_fails_is_delivered_by_the_retry_and_nothing_else_changes() -> None:
    world = build_world()
    world.customer()
    s = world.services
    world.notifier.fail_next()
    line = widget_line(quantity=5, product="GADGET")
    placed = s.orders.place_order("SO-1", "C-1", [line], idempotency_key="place")
    assert placed.shortfalls  # the command itself committed
    assert world.sent("order.line_out_of_stock") == []
    assert world.store.waiting()["notification_outbox"] == 1  # the notice waits, not "sent"
    before = world.snapshot()
    assert s.orders.place_order("SO-1", "C-1", [line], idempotency_key="place") == placed
    assert world.sent("order.line_out_of_stock") == ["C-1"]
    assert world.store.waiting()["notification_outbox"] == 0
    after = world.snapshot()
    # Stored values and ledger as before; the one commit more only records the delivery.
    assert (after[0], after[2]) == (before[0], before[2])


def test_a_failing_dunning_notice_rolls_nothing_back_and_is_resent(world: World) -> None:
    world.customer()
    _invoiced(world)
    world.clock.advance(days=40)
    world.notifier.fail_next()
    first = world.services.dunning.run_dunning(idempotency_key="dun")
    assert first.notices
    assert not world.sent("dunning.first")
    assert world.services.dunning.run_dunning(idempotency_key="dun") == first
    assert world.sent("dunning.first") == ["C-1"]


# --- the ledger outbox and events after commit --------------------------------------------------


class _FlakyLedger:
    """A ledger that is down for its first ``failures`` batches."""

    def __init__(self, inner: MemoryLedger, failures: int = 1) -> None:
        self.inner = inner
        self.name = inner.name
        self.failures = failures

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        if self.failures:
            self.failures -= 1
            raise AdapterUnavailable(self.name, "ledger down")
        return self.inner.post_batch(entries)

    def balance(self, account: str, currency: str, party: str | None = None) -> object:
        return self.inner.balance(account, currency, party)

    def trial_balance(self) -> object:
        return self.inner.trial_balance()


def _outbox(world: World) -> int:
    with world.store.unit_of_work() as uow:
        return len(uow.ledger_outbox)


def test_entries_wait_in_the_outbox_while_the_ledger_is_down_and_are_flushed_once() -> None:
    world = build_world(ledger=lambda inner: _FlakyLedger(inner, failures=2))  # type: ignore[arg-type,return-value]
    world.customer()
    number = _invoiced(world)  # the invoice's entries find the ledger down
    waiting = _outbox(world)
    assert waiting > 0
    assert len(world.ledger) == 0
    with world.store.unit_of_work() as uow:
        assert uow.invoices.get(number).state is InvoiceState.ISSUED  # the command committed
    with pytest.raises(AdapterUnavailable):
        world.services.flush_ledger_outbox()  # still down: the entries stay
    assert _outbox(world) == waiting
    assert world.services.flush_ledger_outbox() == waiting
    assert _outbox(world) == 0
    assert world.services.flush_ledger_outbox() == 0
    _ledger_agrees(world)


def test_every_command_posts_through_the_outbox_and_leaves_it_empty(world: World) -> None:
    world.customer()
    number = _invoiced(world)
    _pay(world, "R-1", "119.00", number)
    assert _outbox(world) == 0
    ids = {entry.entry_id for entry in world.ledger.ledger.entries}
    assert f"{number}:invoice_issued" in ids
    _ledger_agrees(world)


def test_events_are_published_after_their_command_committed() -> None:
    world = build_world()
    seen: list[tuple[str, bool]] = []

    def listener(events: Sequence[DomainEvent]) -> None:
        with world.store.unit_of_work() as uow:
            committed = uow.orders.find("SO-1") is not None
        seen.extend((type(event).__name__, committed) for event in events)

    world.services = Services(
        attrs.evolve(world.services.adapters, publish=listener), world.services.settings
    )
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="p")
    assert ("OrderPlaced", True) in seen
    assert all(committed for name, committed in seen if name.startswith("Order"))
    count = len(seen)
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="p")
    assert len(seen) == count  # a retry publishes nothing again


def test_a_command_that_fails_publishes_nothing(world: World) -> None:
    world.customer()
    published = len(world.published)
    with pytest.raises(UnknownOrder):
        world.services.orders.ship_order("SO-404", PARCEL, idempotency_key=world.key())
    assert len(world.published) == published


# --- bad debt -----------------------------------------------------------------------------------


def test_a_bad_debt_write_off_is_dated_on_the_statement(world: World) -> None:
    world.customer()
    number = _invoiced(world)
    world.clock.advance(days=90)
    world.services.billing.write_off_bad_debt(
        number, reason="customer insolvent", idempotency_key=world.key()
    )
    with world.store.unit_of_work() as uow:
        (written,) = uow.invoices.get(number).bad_debt_write_offs
    assert written.on == world.today()
    period = Period(world.today() - timedelta(days=120), world.today())
    statement = world.services.reports.statement("C-1", period)
    write_offs = [e.line for e in statement.entries if e.line.kind is StatementKind.WRITE_OFF]
    assert [(line.on, line.credit) for line in write_offs] == [(world.today(), eur("119.00"))]
    assert statement.closing_balance == eur("0.00")
    _ledger_agrees(world)


def test_a_return_credited_then_refunded_by_card_leaves_the_invoice_settled(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key()).payment_id
    s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    number = s.billing.invoice_order("SO-1", idempotency_key=world.key()).invoice_number
    s.cards.capture(payment, idempotency_key=world.key())
    note = s.billing.issue_credit_note(
        number, reason="returned", lines={1: Decimal(2)}, idempotency_key=world.key()
    )
    assert note.customer_credit == eur("23.80")  # the invoice was paid: the customer is owed

    refunded = s.cards.refund(payment, note.customer_credit, idempotency_key=world.key())

    assert refunded.refunded == eur("23.80")
    assert _invoice_state(world, number)[1] == eur("0.00")
    with world.store.unit_of_work() as uow:
        assert uow.invoices.get(number).customer_credit == eur("0.00")
    _ledger_agrees(world)
    chart = world.ledger.chart
    assert world.ledger.balance(chart.code(AccountRole.CUSTOMER_CREDIT), "EUR") == eur("0.00")
