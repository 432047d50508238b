"""Processes that share one book: the parent's set-up and the children's commands.

The test in ``test_many_processes.py`` starts the children with the ``spawn`` start method, so
everything a child runs lives here, at module level, and takes plain picklable arguments.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from multiprocessing.synchronize import Barrier
from typing import Any, TypeVar

import attrs

from o2c.adapters.memory import (
    FixedClock,
    MemoryInventory,
    OutboxNotifier,
    SandboxGateway,
    TableRateCarrier,
)
from o2c.adapters.sql import SqlLedger, SqlStore
from o2c.domain.customers import Address, Customer
from o2c.domain.money import money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.services import Adapters, Services, Settings, retrying

R = TypeVar("R")

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMERS = ("C-1", "C-2", "C-3")
ORDERS = tuple(f"SO-{n:02d}" for n in range(1, 13))
SHARED_ORDER = "SO-SHARED"
SHARED_INVOICE_KEY = "invoice-shared"
SHARED_PAYMENT_KEY = "pay-shared"
SHARED_RECEIPT = "R-SHARED"
ATTEMPTS = 30
"""Generous: three processes paying the same invoices collide often, and each retry is cheap."""


def payer_account(customer_id: str) -> str:
    return f"DE00{customer_id[-1]}0000000000000000"


def customer_of(order_id: str) -> str:
    return CUSTOMERS[sum(map(ord, order_id)) % len(CUSTOMERS)]


@attrs.define
class Book:
    """Services over the shared book, as one process builds them."""

    store: SqlStore
    ledger: SqlLedger
    services: Services

    def close(self) -> None:
        self.ledger.close()
        self.store.close()


def open_book(store_url: str, ledger_url: str) -> Book:
    """Services whose store and ledger are the shared databases; the rest is in memory."""
    clock = FixedClock(START)
    store = SqlStore(store_url, upgrade=True)
    ledger = SqlLedger(ledger_url)
    adapters = Adapters(
        unit_of_work=store.unit_of_work,
        inventory=MemoryInventory({"WIDGET": 1000}),
        carrier=TableRateCarrier(clock),
        payment_gateway=SandboxGateway(clock),
        ledger=ledger,
        notifier=OutboxNotifier(),
        clock=clock,
    )
    return Book(store, ledger, Services(adapters, Settings()))


def set_up(store_url: str, ledger_url: str) -> None:
    """Customers with credit, and every order placed and shipped, so it awaits its invoice."""
    book = open_book(store_url, ledger_url)
    services = book.services
    try:
        for customer_id in CUSTOMERS:
            customer = Customer(
                customer_id,
                f"Customer {customer_id}",
                "EUR",
                PaymentTerms.parse("NET 30"),
                address=Address("Hauptstrasse 1", "Berlin", "10115", "DE"),
                payer_accounts=frozenset({payer_account(customer_id)}),
            )
            services.customers.register_customer(customer, idempotency_key=f"reg-{customer_id}")
            services.customers.approve_credit(
                customer_id,
                money("100000", "EUR"),
                date(2027, 3, 1),
                reviewer="ana",
                reason="references checked",
                idempotency_key=f"credit-{customer_id}",
            )
        for number, order_id in enumerate((*ORDERS, SHARED_ORDER), start=1):
            line = OrderLine(
                "1",
                "WIDGET",
                "Widget",
                number,
                unit_price("10.00", "EUR"),
                TaxCategory.standard("19"),
            )
            services.orders.place_order(
                order_id, customer_of(order_id), [line], idempotency_key=f"place-{order_id}"
            )
            services.orders.ship_order(
                order_id, (Parcel(Decimal("1.5")),), idempotency_key=f"ship-{order_id}"
            )
    finally:
        book.close()


@attrs.define
class Tally:
    """What one child did: commands run, retries needed, invoice numbers it was given."""

    child: int
    commands: int = 0
    retries: int = 0
    numbers: list[str] = attrs.field(factory=list)
    flushed: int = 0
    """Ledger entries this child posted from the outbox at the end."""

    def wait(self, seconds: float) -> None:
        self.retries += 1
        time.sleep(seconds)

    def run(self, call: Callable[[], R]) -> R:
        self.commands += 1
        return retrying(call, attempts=ATTEMPTS, first_delay=0.005, max_delay=0.2, sleep=self.wait)


def _receipt(receipt_id: str, source_id: str, invoice: Any) -> Receipt:
    return Receipt(
        receipt_id,
        invoice.gross,
        START.date(),
        source_id,
        Payer(account=payer_account(invoice.customer_id)),
        reference=invoice.number,
    )


@attrs.frozen
class Job:
    """What a child is told: where the book is, which child it is, and the import path."""

    store_url: str
    ledger_url: str
    index: int
    children: int
    paths: tuple[str, ...]


def child(job: Job, start: Barrier) -> dict[str, Any]:
    """One process's share of the work, every command wrapped in ``retrying``.

    (a) invoice its own orders, and the shared order under the shared key; (b) pay every
    invoice with receipts of its own, and the shared invoice with the shared batch under the
    shared key. The barrier starts each phase in every child at once.
    """
    sys.path[:0] = [p for p in job.paths if p not in sys.path]
    book = open_book(job.store_url, job.ledger_url)
    services = book.services
    index = job.index
    tally = Tally(index)
    try:
        start.wait()
        shared = tally.run(
            lambda: services.billing.invoice_order(SHARED_ORDER, idempotency_key=SHARED_INVOICE_KEY)
        )
        tally.numbers.append(shared.invoice_number)
        for order_id in ORDERS[index :: job.children]:
            invoiced = tally.run(
                lambda order_id=order_id: services.billing.invoice_order(
                    order_id, idempotency_key=f"invoice-{order_id}"
                )
            )
            tally.numbers.append(invoiced.invoice_number)

        start.wait()
        with book.store.unit_of_work() as uow:
            invoices = sorted(uow.invoices.values(), key=lambda i: i.number)
            shared_invoice = uow.invoices.get(shared.invoice_number)
        batch = [_receipt(SHARED_RECEIPT, "stmt-shared", shared_invoice)]
        tally.run(lambda: services.cash.import_receipts(batch, idempotency_key=SHARED_PAYMENT_KEY))
        for invoice in invoices:
            mine = f"{index}-{invoice.number}"
            receipt = _receipt(f"R-{mine}", f"stmt-{mine}", invoice)
            tally.run(
                lambda receipt=receipt, mine=mine: services.cash.import_receipts(
                    [receipt], idempotency_key=f"pay-{mine}"
                )
            )

        # Entries whose posting lost a race on the journal wait in the outbox; like any
        # deployment of many processes, each one flushes it (once all have posted theirs).
        start.wait()
        tally.flushed = tally.run(services.flush_ledger_outbox)
    finally:
        book.close()
    return attrs.asdict(tally)


def run_child(job: Job, start: Barrier, results: Any) -> None:
    """The target of a child process: its tally, or the error that stopped it, on ``results``."""
    try:
        results.put(("ok", child(job, start)))
    except BaseException as error:
        start.abort()  # the others must not wait for this one at the barrier
        results.put(("error", f"child {job.index}: {type(error).__name__}: {error}"))
        raise
