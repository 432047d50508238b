"""The fault matrix: a whole order-to-cash cycle, broken at every port call in every way.

A dry run drives the cycle (order → reserve → ship → invoice → card authorise / capture / refund
→ bank receipt → cash application → a pending card authorisation resolved, voided and its order
cancelled → credit note → dunning → ledger flush → event delivery)
through ``o2c.bootstrap()`` with every adapter wrapped by :mod:`o2c.testing.faults`, and counts
the port calls. Then, for every call number and every :class:`~o2c.testing.faults.FaultKind`,
the cycle runs again with that one call broken. A command that raises is retried with the same
idempotency key (three times), then the janitor runs and the event outbox is delivered when the
services have them, then it is retried twice more; once the command got through after a fault,
the janitor and the outbox run too. The cycle then goes on. At the end the ledger
outbox is flushed (and the janitor and the outbox run once more), and the run is checked:

* ``stock_orphaned``: stock held by a reservation that no order line needs;
* ``stock_missing``: an order line that needs stock its reservation no longer holds;
* ``booking_without_shipment``: a live carrier booking with no shipment recorded;
* ``shipment_on_cancelled_booking``: a shipment recorded on a cancelled booking;
* ``gateway_vs_books``: the money the gateway holds differs from the gateway clearing account;
* ``ledger_vs_events``: a journal entry the events call for is not posted, or one is posted that
  no event calls for (or still waits in the ledger outbox);
* ``events_delivered``: a committed event never reached the (idempotent) listening plugin, or
  one reached it that was never committed;
* ``events_relayed``: a committed event never reached the broker (the relay), reached it out of
  commit order in its stream, or one reached it that was never committed (checked by event id,
  once the store has outboxes);
* ``notices_delivered``: a notification never reached the notifier;
* ``ar_vs_open_items``: the receivable control account differs from the open items;
* ``ledger_balanced``: the trial balance does not balance;
* ``completes``: a command could never complete by retrying.

What the run committed is known exactly: the units of work keep what each commit stored in the
event and notification outboxes (:class:`~o2c.testing.faults.CommitLog`), so every committed event
and notice is checked against what the plugin, the broker and the notifier got, however the run
went. On a store without outboxes the dry run's events and notifications are the reference, used
only when every command completed with the dry run's result (the cycle is deterministic); a run
that went another way is then checked against what the plugin heard.

Plugins hear events without their ids, so the listening plugin tells events apart by what they
say: two distinct events that say the same thing (an invoice paid, reopened and paid again on the
same day) count as one, so losing one of them goes unseen there; the broker check goes by id.

Run it as a script for the counts (``python tests/reliability/fault_matrix.py --store sqlite``);
``tests/reliability/test_fault_matrix.py`` asserts that every run is consistent.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

import o2c
from o2c.adapters.memory import FixedClock, SandboxGateway
from o2c.config import Config
from o2c.domain.customers import Address, Customer
from o2c.domain.dunning import DunningAction, DunningLevel, DunningPolicy, FeeTable
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import AccountRole, JournalEntry
from o2c.domain.money import Money, money, total, unit_price
from o2c.domain.orders import OrderLine, OrderStatus
from o2c.domain.posting import PostingRules, journal_entries
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel, TrackingStatus
from o2c.services import Services, Settings
from o2c.testing.faults import (
    CommitLog,
    FaultKind,
    FaultPlan,
    FaultyCarrier,
    FaultyGateway,
    FaultyInventory,
    FaultyLedger,
    FaultyListener,
    FaultyNotifier,
    FaultyRelay,
    PortCall,
    faulty_unit_of_work,
)

STORES = ("memory", "sqlite")
INVARIANTS = (
    "stock_orphaned",
    "stock_missing",
    "booking_without_shipment",
    "shipment_on_cancelled_booking",
    "gateway_vs_books",
    "ledger_vs_events",
    "events_delivered",
    "events_relayed",
    "notices_delivered",
    "ar_vs_open_items",
    "ledger_balanced",
    "completes",
)

STOCK = {"WIDGET": 100, "GADGET": 20, "POSTER": 0}
"""Opening stock; no posters, so the second order's poster line is back-ordered."""
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VAT = TaxCategory.standard("19")
PARCEL = (Parcel(Decimal("1.5")),)
ACCOUNT = "DE89370400440532013000"
RETRIES_BEFORE_JANITOR = 3
RETRIES_AFTER_JANITOR = 2
DUNNING = DunningPolicy(
    (
        DunningLevel(1, 7, "dunning.first"),
        DunningLevel(
            2,
            21,
            "dunning.second",
            fee=FeeTable.flat(money("5.00", "EUR")),
            actions=frozenset({DunningAction.CREDIT_HOLD}),
        ),
    )
)


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def line(line_id: str, product: str, quantity: int, price: str = "10.00") -> OrderLine:
    return OrderLine(line_id, product, product.title(), quantity, unit_price(price, "EUR"), VAT)


# --- the application under test ------------------------------------------------------------------


class EventLog:
    """An idempotent listener: handles each event once (by its id, or by its value without one)."""

    def __init__(self) -> None:
        self.heard: dict[object, DomainEvent] = {}
        self.deliveries = 0

    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.deliveries += 1
        self.heard.setdefault(event_identity(event), event)

    def contents(self) -> Counter[tuple[object, ...]]:
        """What the events heard say, each counted once per event (see :func:`event_content`)."""
        return Counter(event_content(event) for event in self.heard.values())


IDENTITY_FIELDS = frozenset({"event_id"})
"""Fields that name an event rather than say what happened (they may differ between runs)."""


def event_identity(event: DomainEvent) -> object:
    """What makes two deliveries the same event: its id once events carry one, else its value."""
    event_id = getattr(event, "event_id", None)
    return event_id if event_id is not None else event_content(event)


def event_content(event: DomainEvent) -> tuple[object, ...]:
    """What an event says, without its id: equal for the same fact in two runs of the cycle."""
    kind = type(event)
    if not attrs.has(kind):
        return (kind.__qualname__, repr(event))
    return (
        kind.__qualname__,
        *(
            (field.name, repr(getattr(event, field.name)))
            for field in attrs.fields(kind)
            if field.name not in IDENTITY_FIELDS
        ),
    )


@attrs.define
class Rig:
    """One application over wrapped adapters, and what the checks need to read."""

    plan: FaultPlan
    services: Services
    clock: FixedClock
    inventory: FaultyInventory
    carrier: FaultyCarrier
    gateway: FaultyGateway
    ledger: FaultyLedger
    notifier: FaultyNotifier
    relay: FaultyRelay
    unit_of_work: Callable[[], Any]
    events: EventLog
    close: Callable[[], None]
    committed: CommitLog = attrs.field(factory=CommitLog)
    """What the run's units of work committed to the outboxes (empty without outboxes)."""

    @property
    def has_outboxes(self) -> bool:
        """Whether the store keeps committed events and notices in outboxes."""
        with self.unit_of_work() as uow:
            return hasattr(uow, "event_outbox") and hasattr(uow, "notification_outbox")


def config_for(store: str, folder: Path | None) -> Config:
    adapters: dict[str, object] = {
        "clock": {"use": "fixed", "options": {"at": START}},
        "inventory": {"use": "memory", "options": {"stock": STOCK}},
        "relay": "memory",
    }
    if store == "sqlite":
        assert folder is not None
        url = f"sqlite:///{folder / 'books.db'}"
        adapters["persistence"] = {"use": "sql", "options": {"url": url}}
        adapters["ledger"] = "sql"
    config = Config.from_mapping({"adapters": adapters})
    return attrs.evolve(config, settings=Settings(dunning_policy=DUNNING))


def build(store: str, plan: FaultPlan, folder: Path | None = None) -> Rig:
    """The application over ``store``, every port wrapped by ``plan``."""
    config = config_for(store, folder)
    base = o2c.bootstrap(config, load_entry_points=False)
    built = base.adapters
    events = EventLog()
    inventory = FaultyInventory(built.inventory, plan)
    carrier = FaultyCarrier(built.carrier, plan)
    gateway = FaultyGateway(built.payment_gateway, plan)
    ledger = FaultyLedger(built.ledger, plan)
    notifier = FaultyNotifier(built.notifier, plan)
    assert built.relay is not None
    relay = FaultyRelay(built.relay, plan)
    committed = CommitLog()
    app = o2c.bootstrap(
        config,
        load_entry_points=False,
        plugins={"event-log": FaultyListener(events, plan)},
        unit_of_work=faulty_unit_of_work(built.unit_of_work, plan, log=committed),
        inventory=inventory,
        carrier=carrier,
        payment_gateway=gateway,
        ledger=ledger,
        notifier=notifier,
        relay=relay,
        clock=built.clock,
    )
    clock = built.clock
    assert isinstance(clock, FixedClock)

    def close() -> None:
        for adapter in (built.ledger, getattr(built.unit_of_work, "__self__", None)):
            closing = getattr(adapter, "close", None)
            if callable(closing):
                closing()

    return Rig(
        plan,
        app.services,
        clock,
        inventory,
        carrier,
        gateway,
        ledger,
        notifier,
        relay,
        built.unit_of_work,
        events,
        close,
        committed,
    )


# --- the cycle ----------------------------------------------------------------------------------


class Blocked(Exception):
    """A step needs the result of an earlier step that never completed."""


Memo = dict[str, Any]


@attrs.frozen
class Step:
    name: str
    run: Callable[[Services, Rig, Memo], object]
    """Runs the command under a fixed idempotency key; retried as is."""


def _receipt(receipt_id: str, amount: str, on: date, reference: str = "") -> Receipt:
    return Receipt(
        receipt_id,
        eur(amount),
        on,
        f"stmt-{receipt_id}",
        Payer(name="Customer C-1", account=ACCOUNT),
        remittance=f"payment {reference}" if reference else "",
        reference=reference,
    )


def _need(memo: Memo, key: str) -> Any:
    if key not in memo:
        raise Blocked(key)
    return memo[key]


def _open_of(rig: Rig, item_id: str) -> str:
    with rig.unit_of_work() as uow:
        item = uow.open_items.find(item_id)
        return str(item.open.amount) if item is not None else "0"


def cycle() -> tuple[Step, ...]:
    """The steps of the cycle, each one command under its own key."""

    def place_card_order(s: Services, rig: Rig, memo: Memo) -> object:
        lines = [line("1", "WIDGET", 10), line("2", "GADGET", 2, "25.00")]
        return s.orders.place_order("SO-1", "C-1", lines, idempotency_key="place-1")

    def authorise(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.cards.authorise("SO-1", "tok_approve", idempotency_key="auth-1")
        memo["payment"] = result.payment_id
        return result

    def ship_1(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship-1")
        memo["shipment-1"] = result.shipment_id
        return result

    def invoice_1(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.billing.invoice_order("SO-1", idempotency_key="invoice-1")
        memo["invoice-1"] = result.invoice_number
        return result

    def capture(s: Services, rig: Rig, memo: Memo) -> object:
        return s.cards.capture(_need(memo, "payment"), idempotency_key="capture-1")

    def credit_note(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.billing.issue_credit_note(
            _need(memo, "invoice-1"),
            reason="one gadget returned",
            lines={2: Decimal(1)},
            idempotency_key="return-1",
        )
        memo["credit"] = result.customer_credit
        return result

    def refund(s: Services, rig: Rig, memo: Memo) -> object:
        return s.cards.refund(
            _need(memo, "payment"), _need(memo, "credit"), idempotency_key="refund-1"
        )

    def place_terms_order(s: Services, rig: Rig, memo: Memo) -> object:
        lines = [line("1", "WIDGET", 3), line("2", "POSTER", 1)]  # no posters: back-ordered
        return s.orders.place_order("SO-2", "C-1", lines, idempotency_key="place-2")

    def ship_2(s: Services, rig: Rig, memo: Memo) -> object:
        return s.orders.ship_order("SO-2", PARCEL, idempotency_key="ship-2")

    def invoice_2(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.billing.invoice_order("SO-2", idempotency_key="invoice-2")
        memo["invoice-2"] = result.invoice_number
        return result

    def bank_receipt(s: Services, rig: Rig, memo: Memo) -> object:
        number = _need(memo, "invoice-2")
        receipt = _receipt("R-1", "35.70", rig.clock.today(), number)
        return s.cash.import_receipts([receipt], idempotency_key="statement-1")

    def place_3(s: Services, rig: Rig, memo: Memo) -> object:
        return s.orders.place_order(
            "SO-3", "C-1", [line("1", "WIDGET", 5)], idempotency_key="place-3"
        )

    def ship_3(s: Services, rig: Rig, memo: Memo) -> object:
        return s.orders.ship_order("SO-3", PARCEL, idempotency_key="ship-3")

    def invoice_3(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.billing.invoice_order("SO-3", idempotency_key="invoice-3")
        memo["invoice-3"] = result.invoice_number
        return result

    def unreferenced_receipt(s: Services, rig: Rig, memo: Memo) -> object:
        receipt = _receipt("R-2", "20.00", rig.clock.today())
        return s.cash.import_receipts([receipt], idempotency_key="statement-2")

    def cash_application(s: Services, rig: Rig, memo: Memo) -> object:
        return s.cash.apply_receipt("R-2", _need(memo, "invoice-3"), idempotency_key="apply-2")

    def time_passes(s: Services, rig: Rig, memo: Memo) -> object:
        if "advanced" not in memo:
            rig.clock.advance(days=55)
            memo["advanced"] = True
        return None

    def place_4(s: Services, rig: Rig, memo: Memo) -> object:
        return s.orders.place_order(
            "SO-4", "C-1", [line("1", "GADGET", 1, "25.00")], idempotency_key="place-4"
        )

    def authorise_pending(s: Services, rig: Rig, memo: Memo) -> object:
        result = s.cards.authorise("SO-4", "tok_pending", idempotency_key="auth-4")
        memo["payment-4"] = result.payment_id
        return result

    def resolve(s: Services, rig: Rig, memo: Memo) -> object:
        return s.cards.resolve_pending(_need(memo, "payment-4"), idempotency_key="resolve-4")

    def void(s: Services, rig: Rig, memo: Memo) -> object:
        return s.cards.void(_need(memo, "payment-4"), idempotency_key="void-4")

    def cancel_4(s: Services, rig: Rig, memo: Memo) -> object:
        return s.orders.cancel_order("SO-4", reason="changed mind", idempotency_key="cancel-4")

    def track(s: Services, rig: Rig, memo: Memo) -> object:
        return s.orders.track_shipment(_need(memo, "shipment-1"), idempotency_key="track-1")

    def dunning(s: Services, rig: Rig, memo: Memo) -> object:
        return s.dunning.run_dunning(idempotency_key="dunning-1")

    def final_receipts(s: Services, rig: Rig, memo: Memo) -> object:
        number = _need(memo, "invoice-3")
        if "statement-3" not in memo:
            # The statement is read once; a retry sends the same statement again.
            today = rig.clock.today()
            with rig.plan.paused():
                rest = _open_of(rig, number)
                fee = _open_of(rig, f"{number}-FEE-L2")
            receipts = [_receipt("R-3", rest, today, number)]
            if Decimal(fee) > 0:
                receipts.append(_receipt("R-4", fee, today, f"{number}-FEE-L2"))
            memo["statement-3"] = receipts
        return s.cash.import_receipts(memo["statement-3"], idempotency_key="statement-3")

    def flush(s: Services, rig: Rig, memo: Memo) -> object:
        # How many entries were still waiting depends on what failed before: not a result to
        # compare with the dry run's.
        s.flush_ledger_outbox()
        return None

    return (
        Step("place_order SO-1", place_card_order),
        Step("cards.authorise", authorise),
        Step("ship_order SO-1", ship_1),
        Step("invoice_order SO-1", invoice_1),
        Step("cards.capture", capture),
        Step("issue_credit_note", credit_note),
        Step("cards.refund", refund),
        Step("place_order SO-2", place_terms_order),
        Step("ship_order SO-2", ship_2),
        Step("invoice_order SO-2", invoice_2),
        Step("import_receipts (bank)", bank_receipt),
        Step("place_order SO-3", place_3),
        Step("ship_order SO-3", ship_3),
        Step("invoice_order SO-3", invoice_3),
        Step("import_receipts (on account)", unreferenced_receipt),
        Step("cash.apply_receipt", cash_application),
        Step("place_order SO-4", place_4),
        Step("cards.authorise (pending)", authorise_pending),
        Step("clock +55 days", time_passes),
        Step("cards.resolve_pending", resolve),
        Step("cards.void", void),
        Step("cancel_order SO-4", cancel_4),
        Step("track_shipment", track),
        Step("run_dunning", dunning),
        Step("import_receipts (settle)", final_receipts),
        Step("flush_ledger_outbox", flush),
    )


def set_up(rig: Rig) -> None:
    """The customer and its credit line (not part of the matrix: nothing else exists yet)."""
    customer = Customer(
        "C-1",
        "Customer C-1",
        "EUR",
        PaymentTerms.parse("NET 30"),
        email="c-1@example.com",
        address=Address("Hauptstrasse 1", "Berlin", "10115", "DE"),
        payer_accounts=frozenset({ACCOUNT}),  # type: ignore[arg-type]  # attrs converter
    )
    with rig.plan.paused():
        s = rig.services
        s.customers.register_customer(customer, idempotency_key="customer")
        s.customers.approve_credit(
            "C-1",
            eur("5000"),
            date(2027, 3, 1),
            reviewer="ana",
            reason="references checked",
            idempotency_key="credit",
        )


JANITOR_AGE = timedelta(0)
"""The janitor settles every open call: the clock is fixed and no command runs beside it."""


def janitor(services: Services) -> None:
    """Run the janitor, which also delivers waiting events and notices once the outbox is wired.

    One janitor run is what an operator schedules. Until the services wire the outbox delivery
    into it (``janitor.deliver``), the outbox is delivered here, if the services have one.
    """
    services.janitor.run(older_than=JANITOR_AGE)
    outbox = getattr(services, "outbox", None)
    if services.janitor.deliver is None and outbox is not None:
        outbox.deliver()


SWEEP_AFTER = timedelta(hours=1)
"""How long after the cycle the closing sweep runs: past any outbox backoff (minutes at most).

The clock is fixed, so without this a message that failed once would wait for its backoff
forever; in production the scheduled sweep runs later than the failure, as here.
"""


def _settle(rig: Rig, memo: Memo) -> None:
    """The closing sweep, some time later: janitor and outbox, then every entry still waiting."""
    if "swept" not in memo:
        rig.clock.advance(SWEEP_AFTER)
        memo["swept"] = True
    janitor(rig.services)
    rig.services.flush_ledger_outbox()


@attrs.frozen
class StepOutcome:
    name: str
    first_call: int
    """The number of the first port call the step made (dry run) or could make."""
    result: object = None
    attempts: int = 0
    completed: bool = False
    blocked: bool = False
    error: str = ""


def _attempt(call: Callable[[], object]) -> tuple[bool, object, str]:
    try:
        return True, call(), ""
    except Blocked as missing:
        raise missing
    except Exception as error:  # any failure is retried, as an application would
        return False, None, f"{type(error).__name__}: {error}"


def drive(rig: Rig) -> tuple[tuple[StepOutcome, ...], str]:
    """Run the cycle with retries and janitor runs; returns each step's outcome and the sweep's."""
    memo: Memo = {}
    outcomes: list[StepOutcome] = []
    s = rig.services
    for step in cycle():
        first = rig.plan.count + 1
        attempts = 0
        error = ""
        done = False
        result: object = None
        swept = False
        try:
            for round_ in range(RETRIES_BEFORE_JANITOR + 1 + RETRIES_AFTER_JANITOR):
                if round_ == RETRIES_BEFORE_JANITOR + 1:
                    _attempt(lambda: janitor(s))
                    swept = True
                attempts += 1
                done, result, error = _attempt(lambda: step.run(s, rig, memo))  # noqa: B023
                if done:
                    break
        except Blocked as missing:
            outcomes.append(StepOutcome(step.name, first, blocked=True, error=f"needs {missing}"))
            continue
        if attempts > 1 and not swept:
            # After a fault the janitor runs once the retry got through, before the cycle goes on.
            _attempt(lambda: janitor(s))
        outcomes.append(StepOutcome(step.name, first, result, attempts, done, error=error))
    sweep = ""
    for _ in range(RETRIES_BEFORE_JANITOR + 1):
        done, _, sweep = _attempt(lambda: _settle(rig, memo))
        if done:
            break
    return tuple(outcomes), sweep


# --- the checks ---------------------------------------------------------------------------------


@attrs.frozen
class Reference:
    """What a run committed when it went the dry run's way: its events and notifications."""

    results: tuple[object, ...]
    events: tuple[DomainEvent, ...]
    notices: frozenset[str]


def reference_of(rig: Rig, outcomes: Sequence[StepOutcome]) -> Reference:
    """What a run (the dry run) committed, to check other runs against."""
    return Reference(
        tuple(o.result for o in outcomes),
        tuple(rig.events.heard.values()),
        frozenset(n.notification_id for n in rig.notifier.delivered()),
    )


def check(rig: Rig, outcomes: Sequence[StepOutcome], reference: Reference | None) -> dict[str, str]:
    """The invariants this run breaks, each with what was seen."""
    broken: dict[str, str] = {}
    with rig.plan.paused():
        _check_stock(rig, broken)
        _check_bookings(rig, broken)
        _check_money(rig, broken)
        _check_ledger_and_events(rig, outcomes, reference, broken)
    never = [o.name for o in outcomes if not o.completed and not o.blocked]
    if never:
        broken["completes"] = f"could never complete: {', '.join(never)}"
    return broken


def _check_stock(rig: Rig, broken: dict[str, str]) -> None:
    inventory = rig.inventory.inner
    orphaned: list[str] = []
    missing: list[str] = []
    seen: set[str] = set()
    with rig.unit_of_work() as uow:
        for reservation in rig.inventory.reservations():
            rid = reservation.reservation_id
            if rid in seen:
                continue
            seen.add(rid)
            held = inventory.held(rid)
            order = uow.orders.find(reservation.order_id)
            need = Decimal(0)
            if order is not None and not (
                order.status in (OrderStatus.CANCELLED, OrderStatus.DRAFT, OrderStatus.PLACED)
                or order.waits_for_credit
            ):
                for order_line in order.lines:
                    if order_line.line_id == reservation.line_id:
                        need = order_line.shippable_quantity
            if held > need:
                orphaned.append(f"{rid} holds {held}, the order needs {need}")
            elif held < need:
                missing.append(f"{rid} holds {held}, the order needs {need}")
    if orphaned:
        broken["stock_orphaned"] = "; ".join(orphaned)
    if missing:
        broken["stock_missing"] = "; ".join(missing)


def _check_bookings(rig: Rig, broken: dict[str, str]) -> None:
    carrier = rig.carrier.inner
    live: dict[str, bool] = {}
    for booking in rig.carrier.bookings():
        status = carrier.track(booking.tracking_number).status
        live[booking.tracking_number] = status is not TrackingStatus.CANCELLED
    with rig.unit_of_work() as uow:
        recorded = {s.booking.tracking_number: s.shipment_id for s in uow.shipments.values()}
    unrecorded = [number for number, alive in live.items() if alive and number not in recorded]
    if unrecorded:
        broken["booking_without_shipment"] = f"live bookings {unrecorded} have no shipment"
    cancelled = [shipment for number, shipment in recorded.items() if not live.get(number, True)]
    if cancelled:
        broken["shipment_on_cancelled_booking"] = f"shipments {cancelled} ride cancelled bookings"


def _check_money(rig: Rig, broken: dict[str, str]) -> None:
    gateway = rig.gateway.inner
    assert isinstance(gateway, SandboxGateway)
    held: list[Money] = []
    for reference in rig.gateway.references():
        payment = gateway.payment(reference)
        held.append(payment.captured - payment.refunded)
    at_gateway = total(held, "EUR")
    ledger = rig.ledger.inner
    chart = rig.services.settings.chart
    clearing = ledger.balance(chart.code(AccountRole.GATEWAY_CLEARING), "EUR")
    if at_gateway != clearing:
        broken["gateway_vs_books"] = f"the gateway holds {at_gateway}, the books say {clearing}"
    receivable = ledger.balance(chart.code(AccountRole.RECEIVABLE), "EUR")
    with rig.unit_of_work() as uow:
        open_total = total((item.open for item in uow.open_items.open()), "EUR")
    if receivable != open_total:
        broken["ar_vs_open_items"] = f"receivable {receivable}, open items {open_total}"
    if not ledger.trial_balance().is_balanced:
        broken["ledger_balanced"] = "the trial balance does not balance"


def _entries(events: Iterable[DomainEvent], rules: PostingRules) -> dict[str, JournalEntry]:
    found: dict[str, JournalEntry] = {}
    for event in events:
        for entry in journal_entries(event, rules):
            found.setdefault(entry.entry_id, entry)
    return found


def _check_ledger_and_events(
    rig: Rig,
    outcomes: Sequence[StepOutcome],
    reference: Reference | None,
    broken: dict[str, str],
) -> None:
    heard = tuple(rig.events.heard.values())
    followed = reference is not None and _followed(outcomes, reference)
    truth: tuple[DomainEvent, ...] = heard
    if rig.has_outboxes:
        # With outboxes, what the run committed is known exactly (see CommitLog): every committed
        # event and notice must be delivered, and nothing else. This holds however the run went,
        # also when the janitor settled something earlier than the dry run did (a pending card
        # authorisation resolved right after the retried command instead of days later).
        truth = _committed_events(rig)
        # Plugins hear events without their ids, so two that say the same thing count once on
        # both sides (see the module doc).
        committed_contents = Counter({event_content(e): 1 for e in truth})
        heard_contents = Counter(dict.fromkeys(rig.events.contents(), 1))
        _compare_events(committed_contents, heard_contents, broken)
        _compare_notices(_committed_notices(rig), rig, broken)
        _check_relay(rig, broken)
        followed = True
    elif reference is not None and followed:
        committed = Counter(event_content(event) for event in reference.events)
        _compare_events(committed, rig.events.contents(), broken)
        _compare_notices(reference.notices, rig, broken)
        truth = reference.events
    rules = PostingRules(rig.services.settings.chart)
    expected = _entries(truth, rules)
    posted = {entry.entry_id: entry for entry in rig.ledger.posted()}
    with rig.unit_of_work() as uow:
        waiting = [entry.entry_id for entry in uow.ledger_outbox.values()]
    unposted = sorted(set(expected) - set(posted))
    unexpected = sorted(set(posted) - set(expected))
    changed = sorted(k for k in set(expected) & set(posted) if expected[k] != posted[k])
    if not followed and unexpected:
        # Without the dry run's events to go by, an entry whose event the plugin never heard
        # says the event was lost (the entry records a committed fact), not that the ledger erred.
        broken["events_delivered"] = (
            f"journal entries {unexpected} were posted but their events never delivered"
        )
        unexpected = []
    if unposted or unexpected or changed or waiting:
        broken["ledger_vs_events"] = (
            f"not posted {unposted}, posted without an event {unexpected}, "
            f"different {changed}, still in the outbox {waiting}"
        )


def _committed_events(rig: Rig) -> tuple[DomainEvent, ...]:
    found: dict[str, DomainEvent] = {}
    for message in rig.committed.messages("event_outbox"):
        found.setdefault(message.message_id, message.value)  # type: ignore[attr-defined]
    return tuple(found.values())


def _committed_notices(rig: Rig) -> frozenset[str]:
    return frozenset(
        message.message_id  # type: ignore[attr-defined]
        for message in rig.committed.messages("notification_outbox")
    )


def _check_relay(rig: Rig, broken: dict[str, str]) -> None:
    committed: dict[str, list[str]] = {}
    for message in rig.committed.messages("event_outbox"):
        ids = committed.setdefault(message.stream, [])  # type: ignore[attr-defined]
        if message.message_id not in ids:  # type: ignore[attr-defined]
            ids.append(message.message_id)  # type: ignore[attr-defined]
    relayed: dict[str, list[str]] = {}
    for event in rig.relay.published():
        ids = relayed.setdefault(event.stream, [])
        if event.event_id not in ids:  # a redelivery after a failure: first one counts
            ids.append(event.event_id)
    all_committed = {i for ids in committed.values() for i in ids}
    all_relayed = {i for ids in relayed.values() for i in ids}
    lost = sorted(all_committed - all_relayed)
    extra = sorted(all_relayed - all_committed)
    disordered = sorted(
        stream
        for stream, ids in relayed.items()
        if [i for i in committed.get(stream, []) if i in ids] != ids
    )
    if lost or extra or disordered:
        broken["events_relayed"] = (
            f"never relayed {lost}, relayed never committed {extra}, "
            f"out of commit order in {disordered}"
        )


def _compare_events(
    committed: Counter[tuple[object, ...]],
    delivered: Counter[tuple[object, ...]],
    broken: dict[str, str],
) -> None:
    lost = committed - delivered
    extra = delivered - committed
    if lost or extra:
        broken["events_delivered"] = (
            f"{lost.total()} committed events never delivered ({_kinds(lost)}), "
            f"{extra.total()} delivered never committed ({_kinds(extra)})"
        )


def _compare_notices(committed: frozenset[str], rig: Rig, broken: dict[str, str]) -> None:
    sent = {n.notification_id for n in rig.notifier.delivered()}
    unsent = sorted(committed - sent)
    if unsent:
        broken["notices_delivered"] = f"never delivered: {unsent}"


def _kinds(contents: Counter[tuple[object, ...]]) -> str:
    counts: Counter[str] = Counter()
    for content, n in contents.items():
        counts[str(content[0])] += n
    return ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))


def _followed(outcomes: Sequence[StepOutcome], reference: Reference) -> bool:
    """Whether every step completed with the dry run's result."""
    return len(outcomes) == len(reference.results) and all(
        outcome.completed and outcome.result == expected
        for outcome, expected in zip(outcomes, reference.results, strict=True)
    )


# --- the matrix ---------------------------------------------------------------------------------


@attrs.frozen
class Run:
    """One injected fault and what became of it."""

    number: int
    kind: FaultKind
    operation: str
    """The port call broken (``inventory.reserve``)."""
    step: str
    """The step of the cycle that made the call."""
    broken: Mapping[str, str]
    followed: bool
    """Whether every step completed with the dry run's result."""

    @property
    def consistent(self) -> bool:
        return not self.broken


@attrs.frozen
class Matrix:
    store: str
    calls: int
    """Port calls in the dry run."""
    numbers: tuple[int, ...]
    """The call numbers broken (every one, or a deterministic sample)."""
    runs: tuple[Run, ...]
    dry_run_broken: Mapping[str, str]
    rotated: bool = False
    every: int = 1
    """Whether each call was broken in one way only, the kind turning with the call number."""

    @property
    def inconsistent(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if not run.consistent)


_TEMPLATES: dict[str, Path] = {}


def _template() -> Path:
    """An empty book with the schema in place, made once: copying it is faster than migrating."""
    if "sqlite" not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="o2c-faults-template-"))
        atexit.register(shutil.rmtree, folder, True)
        app = o2c.bootstrap(config_for("sqlite", folder), load_entry_points=False)
        store = getattr(app.adapters.unit_of_work, "__self__", None)
        closing = getattr(store, "close", None)
        if callable(closing):
            closing()
        _TEMPLATES["sqlite"] = folder / "books.db"
    return _TEMPLATES["sqlite"]


@contextmanager
def _folder(store: str) -> Iterator[Path | None]:
    if store == "memory":
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="o2c-faults-") as name:
        shutil.copyfile(_template(), Path(name) / "books.db")
        yield Path(name)


def one_run(
    store: str, plan: FaultPlan, reference: Reference | None
) -> tuple[Rig, tuple[StepOutcome, ...], dict[str, str]]:
    """Build, set up, drive and check one run."""
    with _folder(store) as folder:
        rig = build(store, plan, folder)
        try:
            set_up(rig)
            outcomes, sweep = drive(rig)
            broken = check(rig, outcomes, reference)
            if sweep:
                broken.setdefault("completes", f"the closing sweep failed: {sweep}")
        finally:
            rig.close()
    return rig, outcomes, broken


def _step_of(outcomes: Sequence[StepOutcome], number: int) -> str:
    name = "closing sweep"
    for outcome in outcomes:
        if outcome.first_call <= number:
            name = outcome.name
    return name


def run_matrix(
    store: str = "memory",
    *,
    every: int = 1,
    kinds: Sequence[FaultKind] = tuple(FaultKind),
    numbers: Sequence[int] | None = None,
    rotate: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Matrix:
    """The dry run, then one run per broken call number (every ``every``-th) and fault kind.

    With ``rotate`` each chosen call is broken once, the kind turning from one chosen call to
    the next (the first the first kind, the second the second, …): every call site is reached at
    a quarter of the cost, which is how the slower stores are sampled. With ``every`` above 1,
    the first call of each operation (``port.method``) the stride skips is broken too, so every
    operation of the cycle is still reached.
    """
    dry = FaultPlan.dry_run()
    rig, outcomes, dry_broken = one_run(store, dry, None)
    reference = reference_of(rig, outcomes)
    calls = dry.calls
    chosen = tuple(numbers) if numbers is not None else _sample(calls, every)
    runs: list[Run] = []
    todo = len(chosen) * (1 if rotate else len(kinds))
    for position, number in enumerate(chosen):
        call = calls[number - 1]
        for kind in (kinds[position % len(kinds)],) if rotate else kinds:
            plan = FaultPlan.single(number, kind)
            _, run_outcomes, broken = one_run(store, plan, reference)
            runs.append(
                Run(
                    number,
                    kind,
                    call.operation,
                    _step_of(outcomes, number),
                    broken,
                    _followed(run_outcomes, reference),
                )
            )
            if progress is not None:
                progress(len(runs), todo)
    return Matrix(store, len(calls), chosen, tuple(runs), dry_broken, rotate, every)


def _sample(calls: Sequence[PortCall], every: int) -> tuple[int, ...]:
    """Every ``every``-th call number, and the first call of each operation the stride skips."""
    chosen = set(range(1, len(calls) + 1, every))
    reached = {calls[number - 1].operation for number in chosen}
    for call in calls:
        if call.operation not in reached:
            reached.add(call.operation)
            chosen.add(call.number)
    return tuple(sorted(chosen))


def summary(matrix: Matrix) -> str:
    """The matrix's counts, for a person."""
    runs = matrix.runs
    bad = matrix.inconsistent
    sampled = (
        "every call"
        if len(matrix.numbers) == matrix.calls
        else f"{len(matrix.numbers)} of them: one in {matrix.every}, and each operation once"
    )
    sampled += (
        ", each in one way, the kind turning from one to the next"
        if matrix.rotated
        else ", each in every way"
    )
    followed = sum(1 for run in runs if run.followed)
    out = [
        f"store: {matrix.store}",
        f"port calls in the cycle: {matrix.calls} (broken: {sampled})",
        f"faults injected: {len(runs)}",
        f"consistent: {len(runs) - len(bad)}",
        f"inconsistent: {len(bad)}",
        f"could never complete by retrying: {sum(1 for r in runs if 'completes' in r.broken)}",
        f"runs that ended as the dry run did: {followed}",
    ]
    if matrix.dry_run_broken:
        out.append(f"THE DRY RUN ITSELF IS INCONSISTENT: {dict(matrix.dry_run_broken)}")
    out.append("inconsistent runs per invariant:")
    per_invariant = Counter(name for run in bad for name in run.broken)
    out.extend(f"  {name:<31} {per_invariant.get(name, 0)}" for name in INVARIANTS)
    out.append("runs per broken call and fault kind (inconsistent / injected):")
    table: dict[tuple[str, str], list[int]] = {}
    for run in runs:
        cell = table.setdefault((run.operation, run.kind.value), [0, 0])
        cell[1] += 1
        cell[0] += 0 if run.consistent else 1
    for (operation, kind), (n_bad, n_all) in sorted(table.items()):
        out.append(f"  {operation:<34} {kind:<12} {n_bad:>4} / {n_all}")
    out.append("inconsistent runs per step of the cycle and invariant:")
    causes = Counter((run.step, name) for run in bad for name in run.broken)
    for (step, name), n in sorted(causes.items()):
        out.append(f"  {step:<34} {name:<31} {n}")
    return "\n".join(out)


def details(matrix: Matrix) -> str:
    """Every inconsistent run, one line per broken invariant."""
    out = []
    for run in matrix.inconsistent:
        for name, seen in sorted(run.broken.items()):
            out.append(
                f"#{run.number} {run.operation} {run.kind.value} [{run.step}] {name}: {seen}"
            )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=STORES, default="memory")
    parser.add_argument("--every", type=int, default=1, help="break every k-th call only")
    parser.add_argument(
        "--rotate", action="store_true", help="break each call in one way, turning the kind"
    )
    parser.add_argument("--details", action="store_true", help="list every inconsistent run")
    parser.add_argument("--progress", action="store_true", help="count the runs on stderr")
    args = parser.parse_args(argv)

    def progress(done: int, todo: int) -> None:
        print(f"\r{done}/{todo} runs", end="" if done < todo else "\n", file=sys.stderr)

    matrix = run_matrix(
        args.store,
        every=args.every,
        rotate=args.rotate,
        progress=progress if args.progress else None,
    )
    print(summary(matrix))
    if args.details:
        print(details(matrix))
    return 0 if not matrix.inconsistent and not matrix.dry_run_broken else 1


if __name__ == "__main__":
    sys.exit(main())
