"""Persistence ports: repositories with named queries, gap-free number sequences, the unit of work.

Domain values are immutable, so a repository stores and returns whole values by key: loading,
changing with a domain operation and saving the returned value is the whole protocol. A
:class:`UnitOfWork` groups every change of one command (the entities, the numbers drawn, the
idempotency record) so that they become visible together at :meth:`UnitOfWork.commit`, or not at
all.

Every other way the application finds a value is a **named query**: a typed method of the
repository (:meth:`InvoiceRepository.of_order`, :meth:`OpenItemQueries.open_of`, ...). The store
derives what a query filters on from the stored value itself (a SQL store keeps it in indexed
columns), so no caller keeps secondary keys and no query scans a repository. Queries see the
values as this unit of work would commit them: its own writes included, removed values excluded.
Queries that return several values return them in the order the values were first stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import TracebackType
from typing import Protocol, Self, TypeVar, runtime_checkable

from o2c.domain.calls import ExternalCall
from o2c.domain.cash import Allocation
from o2c.domain.credit import CreditAccount
from o2c.domain.customers import Customer
from o2c.domain.dunning import DunningBook
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import CreditNote, Invoice
from o2c.domain.ledger import JournalEntry
from o2c.domain.orders import Order, OrderStatus
from o2c.domain.payments import Payment
from o2c.domain.quotes import Quote
from o2c.domain.receipts import Receipt
from o2c.domain.receivables import OpenItem
from o2c.domain.references import normalise_account
from o2c.domain.reporting import DEFAULT_AGING, AgingBasis, AgingReport, AgingSchedule
from o2c.domain.worklist import QueuedReceipt
from o2c.ports.carriers import Shipment
from o2c.ports.notifications import Notification
from o2c.ports.outbox import OutboxRepository

__all__ = [
    "CustomerRepository",
    "ExternalCallRepository",
    "ExceptionQueueRepository",
    "IdempotencyRecord",
    "InvoiceRepository",
    "NumberSequence",
    "OpenItemQueries",
    "OrderRepository",
    "PaymentRepository",
    "ReceiptRepository",
    "Repository",
    "ShipmentRepository",
    "UnitOfWork",
    "normalise_account",
]

T = TypeVar("T")


@runtime_checkable
class Repository(Protocol[T]):
    """A keyed store of one kind of domain value, seen through the current unit of work.

    Contract: ``get`` of an unknown key raises ``NotFound``; ``find`` returns ``None`` instead;
    ``add`` refuses a key that exists (``DuplicateRequest``); ``save`` stores a new version of
    a value; ``remove`` deletes one (outboxes need it); ``values`` lists every stored value in
    insertion order. Writes become visible to other units of work only on commit.
    """

    def get(self, key: str) -> T:
        """The value stored under ``key``."""
        ...

    def find(self, key: str) -> T | None:
        """The value stored under ``key``, or ``None``."""
        ...

    def add(self, key: str, value: T) -> None:
        """Store a new value under a key that is not used yet."""
        ...

    def save(self, key: str, value: T) -> None:
        """Store a new version of a value (or a new one)."""
        ...

    def values(self) -> Iterator[T]:
        """Every stored value, in insertion order."""
        ...

    def remove(self, key: str) -> None:
        """Delete the value under ``key``; removing a missing key is a no-op."""
        ...

    def __len__(self) -> int: ...


@runtime_checkable
class CustomerRepository(Repository[Customer], Protocol):
    """Customers by id, and by the bank accounts they pay from."""

    def by_payer_account(self, account: str) -> tuple[Customer, ...]:
        """The customers that list ``account`` among their ``payer_accounts``.

        Both sides are compared in :func:`normalise_account` form.
        """
        ...

    def by_name(self, name: str) -> tuple[Customer, ...]:
        """The customers whose name is ``name``, compared in
        :func:`~o2c.domain.references.normalise_payer_name` form (case and spacing aside), so a
        payer's name on a bank statement finds its customer."""
        ...


@runtime_checkable
class OrderRepository(Repository[Order], Protocol):
    """Sales orders by id, by status, and those that still count against credit."""

    def with_status(self, status: OrderStatus) -> tuple[Order, ...]:
        """Every order in ``status``."""
        ...

    def awaiting_invoice(self, customer_id: str) -> tuple[Order, ...]:
        """The customer's orders with something still to invoice (a positive uninvoiced gross).

        Credit exposure counts these besides the open items.
        """
        ...


@runtime_checkable
class InvoiceRepository(Repository[Invoice], Protocol):
    """Invoices by document number, and the issued invoices of an order."""

    def of_order(self, order_id: str) -> tuple[Invoice, ...]:
        """The issued invoices billing a line of the order, in the order they were issued."""
        ...


@runtime_checkable
class PaymentRepository(Repository[Payment], Protocol):
    """Card payments by payment id, by order, and by the gateway's reference."""

    def of_order(self, order_id: str) -> tuple[Payment, ...]:
        """The payments taken for an order (their ``reference``), in the order they were made."""
        ...

    def by_gateway_reference(self, reference: str) -> Payment | None:
        """The payment the gateway knows by ``reference``, or ``None``."""
        ...

    def awaiting_gateway_reference(self) -> tuple[Payment, ...]:
        """Pending payments the gateway has not named yet (their authorisation answer was lost)."""
        ...


@runtime_checkable
class ReceiptRepository(Repository[Receipt], Protocol):
    """Receipts by receipt id, by the statement line they came from, and by card payment."""

    def by_source(self, source_id: str) -> Receipt | None:
        """The receipt recorded from statement line or gateway event ``source_id``, or ``None``."""
        ...

    def of_payment(self, payment_id: str) -> tuple[Receipt, ...]:
        """The receipts that record money of card payment ``payment_id``, oldest first."""
        ...


@runtime_checkable
class ExceptionQueueRepository(Repository[QueuedReceipt], Protocol):
    """The exception queue: receipts waiting for a person, keyed by receipt id."""

    def open_entries(
        self,
        *,
        customer_id: str | None = None,
        currency: str | None = None,
        arrived_by: date | None = None,
    ) -> tuple[QueuedReceipt, ...]:
        """The open entries (:attr:`~o2c.domain.worklist.QueuedReceipt.is_open`), narrowed to a
        customer, a currency, and money that arrived on or before ``arrived_by`` (its value
        date: the queue's age), whichever are given."""
        ...


@runtime_checkable
class ShipmentRepository(Repository[Shipment], Protocol):
    """Booked shipments by shipment id, and the shipments of an order."""

    def of_order(self, order_id: str) -> tuple[Shipment, ...]:
        """The shipments booked for an order, in the order they were booked."""
        ...


@runtime_checkable
class ExternalCallRepository(Repository[ExternalCall], Protocol):
    """Calls to other systems by call id: unsettled ones, and those made for a subject."""

    def unsettled(self) -> tuple[ExternalCall, ...]:
        """The calls whose outcome is open (``pending`` or ``unknown``), oldest first."""
        ...

    def of_subject(self, subject: str) -> tuple[ExternalCall, ...]:
        """The calls made for ``subject`` (an order, a payment), in the order they were recorded."""
        ...


@runtime_checkable
class OpenItemQueries(Protocol):
    """The receivables of both kinds, issued invoices and dunning charges, as open items.

    Read-only: an item changes by saving its invoice (``UnitOfWork.invoices``) or its charge
    (``UnitOfWork.charges``). An invoice that is not issued has no open item.
    """

    def find(self, item_id: str) -> OpenItem | None:
        """The open item of issued invoice or charge ``item_id`` (settled or not), or ``None``."""
        ...

    def open(self) -> tuple[OpenItem, ...]:
        """Every item not settled yet."""
        ...

    def open_of(self, customer_id: str, currency: str) -> tuple[OpenItem, ...]:
        """The customer's items in ``currency`` that are not settled yet."""
        ...

    def aging(
        self,
        as_of: date,
        schedule: AgingSchedule = DEFAULT_AGING,
        basis: AgingBasis = AgingBasis.DUE_DATE,
        *,
        split_instalments: bool = False,
    ) -> AgingReport:
        """The unsettled items aged as of a date: exactly what
        :func:`~o2c.domain.reporting.aging_report` returns for :meth:`open`, with the same
        schedule, basis and ``split_instalments``.

        A store may sum in the database instead of loading every item.
        """
        ...


@runtime_checkable
class NumberSequence(Protocol):
    """Gap-free document numbers per series (``"INV"``, ``"CN"``, ``"DN"``, …).

    Contract: numbers of a series start at 1 and increase by one; a number drawn in a unit of
    work that rolls back is handed out again, so issued documents never leave a gap.
    """

    def next(self, series: str) -> int:
        """The next number of the series."""
        ...


@runtime_checkable
class IdempotencyRecord(Protocol):
    """Which commands have run, by idempotency key, and what they returned.

    Contract: ``remember`` in a unit of work that rolls back is forgotten with it.
    """

    def recall(self, key: str) -> str | None:
        """The stored result of the command with this key, or ``None`` if it never ran."""
        ...

    def remember(self, key: str, result: str) -> None:
        """Record that the command with this key ran and what it returned."""
        ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One atomic change: every repository, sequence and record of a command.

    Use it as a context manager; leaving the block without :meth:`commit` rolls back::

        with uow:
            order = uow.orders.get("SO-1")
            ...
            uow.commit()
    """

    customers: CustomerRepository
    credit_accounts: Repository[CreditAccount]
    quotes: Repository[Quote]
    orders: OrderRepository
    invoices: InvoiceRepository
    credit_notes: Repository[CreditNote]
    charges: Repository[OpenItem]
    """Dunning fees and interest: open items of kind ``CHARGE``, keyed by item id."""
    open_items: OpenItemQueries
    """Issued invoices and charges seen as open items, by customer and currency."""
    payments: PaymentRepository
    receipts: ReceiptRepository
    allocations: Repository[tuple[Allocation, ...]]
    """Every allocation made from a receipt, keyed by receipt id, in the order they were made.

    A bounced receipt is reversed by reopening exactly what these allocations settled.
    """
    exception_queue: ExceptionQueueRepository
    """Receipts waiting for a person, with their suggestions and the decisions made."""
    shipments: ShipmentRepository
    """Booked shipments by shipment id, so a delivery is recorded on the lines that travelled."""
    dunning: Repository[DunningBook]
    """What dunning remembers between runs, one book per key (``"default"``)."""
    ledger_outbox: Repository[JournalEntry]
    """Journal entries committed with their command and not yet confirmed by the ledger port.

    The ledger is another system, so entries travel through this outbox: stored in the same
    unit of work as the change they record, posted after commit, removed once posted. Entry ids
    are deterministic and posting is idempotent, so a retry never posts twice.
    """
    calls: ExternalCallRepository
    """Calls to other systems: each intent recorded (and committed) before the call is made, its
    outcome recorded with the command's changes; the janitor settles those left open."""
    event_outbox: OutboxRepository[DomainEvent]
    """Domain events committed with their command and not yet delivered (to plugins, a broker).

    Delivered after commit, at least once, in commit order per stream, each under a stable
    event id; removed once delivered (see :mod:`o2c.ports.outbox`).
    """
    notification_outbox: OutboxRepository[Notification]
    """Notifications committed with their command and not yet accepted by the notifier."""
    sequences: NumberSequence
    commands: IdempotencyRecord

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make every change of this unit of work visible at once."""
        ...

    def rollback(self) -> None:
        """Forget every change since the unit of work began."""
        ...
