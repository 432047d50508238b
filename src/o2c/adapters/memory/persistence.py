"""Persistence in memory: a durable :class:`MemoryStore` and units of work over it.

A :class:`MemoryUnitOfWork` never copies the store. Each of its repositories keeps a small *write
set* (the values saved in this unit of work) in front of the store's committed dictionary: reads
look in the write set first, then in the store; :meth:`MemoryUnitOfWork.commit` applies every write
set, the numbers drawn and the idempotency records to the store at once, under the store's lock.
Leaving the ``with`` block without committing (or with an exception) drops the write sets, so
nothing is written, the numbers drawn are handed out again and the commands remembered are
forgotten. Values are immutable domain values, so sharing them between the store and the units of
work is safe.

Concurrency is optimistic: reads take no lock and see what is committed (read committed), and
commit refuses, with the retryable ``AdapterUnavailable``, a unit of work whose writes overlap with
what another unit of work committed since this one began (a value saved, a number series drawn
from, an idempotency key remembered), so no update is lost and no number is drawn twice. A key that
another unit of work *added* first raises ``DuplicateRequest``. A removal leaves no trace (so
outboxes do not grow the store), hence a value removed meanwhile and saved again here comes back.
A unit of work itself belongs to one thread at a time.

The named queries of the port are answered from **indexes** the store keeps itself: each
repository names the index keys a value files under, derived from the value
(:data:`o2c.adapters.indexing.INDEXES`), and commit moves every written key between index
entries. A query reads the committed entry and checks the unit of work's own writes on top, so it
costs what it finds plus what this unit of work wrote, never the size of the repository.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Collection, Hashable, Iterator, Mapping
from datetime import date, datetime
from types import MappingProxyType, TracebackType
from typing import Any, Generic, Self, TypeVar

import attrs

from o2c.adapters.indexing import INDEXES, IndexKeys
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
from o2c.domain.references import normalise_payer_name
from o2c.domain.reporting import (
    DEFAULT_AGING,
    AgingBasis,
    AgingReport,
    AgingSchedule,
    aging_report,
)
from o2c.domain.worklist import QueuedReceipt
from o2c.ports.carriers import Shipment
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest, NotFound
from o2c.ports.notifications import Notification
from o2c.ports.outbox import OutboxBacklog, OutboxMessage, OutboxRepository
from o2c.ports.persistence import (
    CustomerRepository,
    ExceptionQueueRepository,
    ExternalCallRepository,
    IdempotencyRecord,
    InvoiceRepository,
    NumberSequence,
    OpenItemQueries,
    OrderRepository,
    PaymentRepository,
    ReceiptRepository,
    Repository,
    ShipmentRepository,
    normalise_account,
)

__all__ = [
    "REPOSITORIES",
    "MemoryIdempotencyRecord",
    "MemoryNumberSequence",
    "MemoryOpenItems",
    "MemoryOutbox",
    "OUTBOXES",
    "MemoryRepository",
    "MemoryStore",
    "MemoryUnitOfWork",
]

T = TypeVar("T")

REPOSITORIES = (
    "customers",
    "credit_accounts",
    "quotes",
    "orders",
    "invoices",
    "credit_notes",
    "charges",
    "payments",
    "receipts",
    "allocations",
    "shipments",
    "dunning",
    "ledger_outbox",
    "calls",
    "exception_queue",
)
"""The repositories of a unit of work, by attribute name; the store keeps one table each."""

OUTBOXES = ("event_outbox", "notification_outbox")
"""The outboxes of a unit of work (messages waiting for delivery), one table each."""

_BY_STREAM: Mapping[str, IndexKeys] = MappingProxyType(
    {"stream": lambda message: (message.stream,)}
)

_MISSING: Any = object()
_REMOVED: Any = object()
"""What a write set holds for a key removed in the unit of work."""


class _Table:
    """One repository's committed values, the commit that last wrote (or removed) each key, and
    its indexes: index name → index key → the keys filed under it, in ``values`` order."""

    __slots__ = ("extract", "indexes", "last_position", "positions", "values", "versions")

    def __init__(self, extract: Mapping[str, IndexKeys]) -> None:
        self.values: dict[str, Any] = {}
        self.versions: dict[str, int] = {}
        self.extract = extract
        self.indexes: dict[str, dict[Hashable, dict[str, None]]] = {name: {} for name in extract}
        # Where each indexed key stands in ``values``, so index entries keep that order too.
        self.positions: dict[str, int] = {}
        self.last_position = 0

    def reindex(self, key: str, old: Any, new: Any) -> None:
        """File ``key`` under the index keys of ``new`` instead of those of ``old``."""
        positions = self.positions
        if new is _REMOVED:
            positions.pop(key, None)
        elif key not in positions:
            self.last_position += 1
            positions[key] = self.last_position
        for name, extract in self.extract.items():
            before = extract(old) if old is not _MISSING else ()
            after = extract(new) if new is not _REMOVED else ()
            if before == after:
                continue
            index = self.indexes[name]
            for gone in before:
                if gone not in after:
                    filed = index.get(gone)
                    if filed is not None:
                        filed.pop(key, None)
                        if not filed:
                            del index[gone]
            for came in after:
                if came not in before:
                    filed = index.setdefault(came, {})
                    if filed and positions[next(reversed(filed))] > positions[key]:
                        # Filed again after leaving (an item settled, then reopened): rare, so
                        # the entry is put back in order here and queries never sort.
                        filed[key] = None
                        index[came] = dict.fromkeys(sorted(filed, key=positions.__getitem__))
                    else:
                        filed[key] = None


class MemoryStore:
    """The durable state every unit of work reads and commits to.

    Share one store between the units of work of an application (``store.unit_of_work`` is the
    factory the services take); it lives as long as the process.
    """

    def __init__(self, *, name: str = "memory"):
        self.name = name
        self._tables: dict[str, _Table] = {
            table: _Table(INDEXES.get(table, {})) for table in REPOSITORIES
        }
        self._outboxes: dict[str, _Table] = {name: _Table(_BY_STREAM) for name in OUTBOXES}
        self._sequences: dict[str, int] = {}
        self._commands: dict[str, str] = {}
        self._commits = 0
        self._lock = threading.Lock()

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A fresh unit of work over this store."""
        return MemoryUnitOfWork(self)

    def sizes(self) -> Mapping[str, int]:
        """How many values each repository holds, committed."""
        return MappingProxyType({name: len(table.values) for name, table in self._tables.items()})

    def waiting(self) -> Mapping[str, int]:
        """How many messages wait in each outbox, committed."""
        return MappingProxyType({name: len(table.values) for name, table in self._outboxes.items()})

    def last_number(self, series: str) -> int:
        """The last number of ``series`` that was committed (0 if none)."""
        return self._sequences.get(series, 0)

    @property
    def commits(self) -> int:
        """How many units of work have committed."""
        return self._commits


class MemoryRepository(Generic[T]):
    """One repository seen through a unit of work: its write set in front of the store's values."""

    __slots__ = ("_adapter", "_added", "_name", "_removals", "_table", "_writes")

    def __init__(self, adapter: str, name: str, table: _Table):
        self._adapter = adapter
        self._name = name
        self._table = table
        self._writes: dict[str, T] = {}
        self._added: set[str] = set()
        self._removals = False

    def get(self, key: str) -> T:
        """The value under ``key``; ``NotFound`` if there is none."""
        value = self._writes.get(key, _MISSING)
        if value is _MISSING:
            value = self._table.values.get(key, _MISSING)
        if value is _MISSING or value is _REMOVED:
            raise NotFound(self._adapter, f"no {self._name} entry {key!r}", key)
        result: T = value
        return result

    def find(self, key: str) -> T | None:
        """The value under ``key``, or ``None``."""
        value = self._writes.get(key, _MISSING)
        if value is _MISSING:
            value = self._table.values.get(key)
        elif value is _REMOVED:
            value = None
        result: T | None = value
        return result

    def add(self, key: str, value: T) -> None:
        """Store a value under a new key; ``DuplicateRequest`` if the key is taken."""
        written = self._writes.get(key, _MISSING)
        if written is not _REMOVED and (written is not _MISSING or key in self._table.values):
            raise DuplicateRequest(
                self._adapter, f"{self._name} already holds an entry {key!r}", key
            )
        self._writes[key] = value
        self._added.add(key)

    def save(self, key: str, value: T) -> None:
        """Store a new version of the value under ``key`` (or a first one)."""
        self._writes[key] = value

    def remove(self, key: str) -> None:
        """Delete the value under ``key``; a missing key is a no-op."""
        if key in self._table.values:
            self._writes[key] = _REMOVED
            self._removals = True
        else:
            self._writes.pop(key, None)
        self._added.discard(key)

    def values(self) -> Iterator[T]:
        """Every value, committed or written here, in insertion order (newest version of each)."""
        committed: list[tuple[str, T]] = list(self._table.values.items())
        if not self._writes:
            return (value for _, value in committed)
        return self._merge(committed, dict(self._writes))

    @staticmethod
    def _merge(committed: list[tuple[str, T]], writes: dict[str, T]) -> Iterator[T]:
        for key, value in committed:
            newest = writes.pop(key, value)
            if newest is not _REMOVED:
                yield newest
        for value in writes.values():
            if value is not _REMOVED:
                yield value

    def _query(self, index: str, key: Hashable) -> tuple[T, ...]:
        """The values filed under ``key`` in ``index``, as this unit of work would commit them,
        in the order :meth:`values` lists them."""
        table = self._table
        filed = table.indexes[index].get(key, {})
        writes = self._writes
        if not writes:
            return tuple(table.values[k] for k in filed)
        extract = table.extract[index]
        committed: list[tuple[int, T]] = []
        for k in filed:
            value = writes.get(k, _MISSING)
            if value is _MISSING:
                committed.append((table.positions[k], table.values[k]))
            elif value is not _REMOVED and key in extract(value):
                committed.append((table.positions[k], value))
        added: list[T] = []
        refiled = False
        for k, value in writes.items():
            if k in filed or value is _REMOVED or key not in extract(value):
                continue
            position = table.positions.get(k)
            if position is None:
                added.append(value)
            else:  # committed elsewhere, filed here by this unit of work
                committed.append((position, value))
                refiled = True
        if refiled:
            committed.sort(key=lambda pair: pair[0])
        return (*(value for _, value in committed), *added)

    def __len__(self) -> int:
        committed = self._table.values
        size = len(committed)
        for key, value in self._writes.items():
            if value is _REMOVED:
                size -= key in committed
            else:
                size += key not in committed
        return size

    def __repr__(self) -> str:
        return f"MemoryRepository({self._name!r}, {len(self)} values)"


class MemoryCustomers(MemoryRepository[Customer]):
    """Customers, with the bank accounts they pay from indexed."""

    __slots__ = ()

    def by_payer_account(self, account: str) -> tuple[Customer, ...]:
        """The customers that pay from ``account`` (compared without spaces, upper case)."""
        return self._query("payer", normalise_account(account))

    def by_name(self, name: str) -> tuple[Customer, ...]:
        """The customers named ``name`` (case and spacing aside)."""
        return self._query("name", normalise_payer_name(name))


class MemoryOrders(MemoryRepository[Order]):
    """Orders, indexed by status and by the customer of those still to invoice."""

    __slots__ = ()

    def with_status(self, status: OrderStatus) -> tuple[Order, ...]:
        """Every order in ``status``."""
        return self._query("status", status)

    def awaiting_invoice(self, customer_id: str) -> tuple[Order, ...]:
        """The customer's orders with a positive uninvoiced gross."""
        return self._query("awaiting_invoice", customer_id)


class MemoryInvoices(MemoryRepository[Invoice]):
    """Invoices, indexed by the orders they bill and (issued, unsettled) as open items."""

    __slots__ = ()

    def of_order(self, order_id: str) -> tuple[Invoice, ...]:
        """The issued invoices billing a line of ``order_id``, in issue order."""
        return self._query("order", order_id)


class MemoryPayments(MemoryRepository[Payment]):
    """Card payments, indexed by order, gateway reference and unresolved authorisations."""

    __slots__ = ()

    def of_order(self, order_id: str) -> tuple[Payment, ...]:
        """The payments taken for ``order_id``."""
        return self._query("order", order_id)

    def by_gateway_reference(self, reference: str) -> Payment | None:
        """The payment the gateway knows by ``reference``, or ``None``."""
        found = self._query("gateway_reference", reference)
        return found[0] if found else None

    def awaiting_gateway_reference(self) -> tuple[Payment, ...]:
        """Pending payments without a gateway reference yet."""
        return self._query("unresolved", True)


class MemoryReceipts(MemoryRepository[Receipt]):
    """Receipts, indexed by source (statement line) and by card payment."""

    __slots__ = ()

    def by_source(self, source_id: str) -> Receipt | None:
        """The receipt recorded from ``source_id``, or ``None``."""
        found = self._query("source", source_id)
        return found[0] if found else None

    def of_payment(self, payment_id: str) -> tuple[Receipt, ...]:
        """The receipts recording money of card payment ``payment_id``."""
        return self._query("payment", payment_id)


class MemoryShipments(MemoryRepository[Shipment]):
    """Shipments, indexed by order."""

    __slots__ = ()

    def of_order(self, order_id: str) -> tuple[Shipment, ...]:
        """The shipments booked for ``order_id``."""
        return self._query("order", order_id)


class MemoryExternalCalls(MemoryRepository[ExternalCall]):
    """Calls to other systems, indexed by subject and while unsettled."""

    __slots__ = ()

    def unsettled(self) -> tuple[ExternalCall, ...]:
        """The calls whose outcome is open, oldest first."""
        return self._query("unsettled", True)

    def of_subject(self, subject: str) -> tuple[ExternalCall, ...]:
        """The calls made for ``subject``."""
        return self._query("subject", subject)


class MemoryExceptionQueue(MemoryRepository[QueuedReceipt]):
    """The exception queue, its open entries indexed by customer and currency."""

    __slots__ = ()

    def open_entries(
        self,
        *,
        customer_id: str | None = None,
        currency: str | None = None,
        arrived_by: date | None = None,
    ) -> tuple[QueuedReceipt, ...]:
        """The open entries of a customer, a currency, arrived by a date (whichever given)."""
        key: Hashable
        if customer_id is not None and currency is not None:
            key = ("open", customer_id, currency)
        elif customer_id is not None:
            key = ("open", "customer", customer_id)
        elif currency is not None:
            key = ("open", "currency", currency)
        else:
            key = ("open",)
        found = self._query("open", key)
        if arrived_by is None:
            return found
        return tuple(entry for entry in found if entry.value_date <= arrived_by)


class MemoryOpenItems:
    """Issued invoices and charges as open items, answered from both repositories' indexes."""

    __slots__ = ("_charges", "_invoices")

    def __init__(self, invoices: MemoryInvoices, charges: MemoryRepository[OpenItem]):
        self._invoices = invoices
        self._charges = charges

    def find(self, item_id: str) -> OpenItem | None:
        """The open item of invoice or charge ``item_id``, or ``None``."""
        invoice = self._invoices.find(item_id)
        if invoice is not None:
            return invoice.open_item
        return self._charges.find(item_id)

    def open(self) -> tuple[OpenItem, ...]:
        """Every unsettled item: invoices first, then charges."""
        return self._open(("open",))

    def open_of(self, customer_id: str, currency: str) -> tuple[OpenItem, ...]:
        """The customer's unsettled items in ``currency``."""
        return self._open(("open", customer_id, currency))

    def aging(
        self,
        as_of: date,
        schedule: AgingSchedule = DEFAULT_AGING,
        basis: AgingBasis = AgingBasis.DUE_DATE,
        *,
        split_instalments: bool = False,
    ) -> AgingReport:
        """The unsettled items aged as of ``as_of`` by the domain's own report."""
        return aging_report(
            self.open(), as_of, schedule=schedule, basis=basis, split_instalments=split_instalments
        )

    def _open(self, key: Hashable) -> tuple[OpenItem, ...]:
        items = [i.open_item for i in self._invoices._query("open", key) if i.open_item]
        items.extend(self._charges._query("open", key))
        return tuple(items)


class MemoryOutbox(Generic[T]):
    """An outbox seen through a unit of work: a repository of messages by id, filed by stream.

    Committed messages keep the order their units of work committed in (the store's dictionary
    order, applied under its lock), and delivered ones are forgotten, so every read costs what
    waits.
    """

    __slots__ = ("_messages",)

    def __init__(self, adapter: str, name: str, table: _Table):
        self._messages: MemoryRepository[OutboxMessage[T]] = MemoryRepository(adapter, name, table)

    def add(self, *messages: OutboxMessage[T]) -> None:
        """Store messages for delivery after commit (an id already waiting keeps its message)."""
        for message in messages:
            if self._messages.find(message.message_id) is None:
                self._messages.save(message.message_id, message)

    def find(self, message_id: str) -> OutboxMessage[T] | None:
        """The waiting message with this id, or ``None``."""
        return self._messages.find(message_id)

    def waiting(
        self, streams: Collection[str] | None = None, limit: int | None = None
    ) -> tuple[OutboxMessage[T], ...]:
        """Waiting messages in commit order, all or those of ``streams``; the oldest ``limit``."""
        messages = self._messages
        if streams is None:
            return tuple(itertools.islice(messages.values(), limit))
        positions = messages._table.positions
        unordered = {m.message_id: m for s in streams for m in messages._query("stream", s)}
        # Messages written in this unit of work come after every committed one, in write order.
        pending = {key: n for n, key in enumerate(messages._writes)}
        ordered = sorted(
            unordered,
            key=lambda key: (0, positions[key]) if key in positions else (1, pending.get(key, 0)),
        )
        return tuple(unordered[key] for key in ordered[:limit])

    def retry_later(self, message_id: str, not_before: datetime, error: str) -> None:
        """Record a failed delivery of a message still waiting."""
        message = self._messages.find(message_id)
        if message is None:
            return
        self._messages.save(
            message_id,
            attrs.evolve(
                message, attempts=message.attempts + 1, not_before=not_before, last_error=error
            ),
        )

    def delivered(self, *message_ids: str) -> None:
        """Remove delivered messages (a missing id is a no-op)."""
        for message_id in message_ids:
            self._messages.remove(message_id)

    def backlog(self) -> OutboxBacklog:
        """How many messages wait, how many failed before, and the oldest."""
        count = failing = 0
        oldest: OutboxMessage[T] | None = None
        for message in self._messages.values():
            count += 1
            failing += message.attempts > 0
            if oldest is None:
                oldest = message
        if oldest is None:
            return OutboxBacklog(0)
        return OutboxBacklog(count, oldest.enqueued_at, oldest.message_id, failing)

    def __len__(self) -> int:
        return len(self._messages)

    def __repr__(self) -> str:
        return f"MemoryOutbox({self._messages._name!r}, {len(self)} waiting)"


class MemoryNumberSequence:
    """Numbers drawn in one unit of work, on top of the last committed number of each series."""

    __slots__ = ("_adapter", "_base", "_drawn", "_store")

    def __init__(self, adapter: str, store: dict[str, int]):
        self._adapter = adapter
        self._store = store
        self._base: dict[str, int] = {}
        self._drawn: dict[str, int] = {}

    def next(self, series: str) -> int:
        """The next number of the series: 1 for a new series, then one more each time."""
        if not series:
            raise AdapterRejected(self._adapter, "a number series needs a name", "invalid_series")
        drawn = self._drawn.get(series)
        if drawn is None:
            drawn = self._base[series] = self._store.get(series, 0)
        self._drawn[series] = drawn + 1
        return drawn + 1


class MemoryIdempotencyRecord:
    """Idempotency records remembered in one unit of work, in front of the committed ones."""

    __slots__ = ("_adapter", "_remembered", "_store")

    def __init__(self, adapter: str, store: dict[str, str]):
        self._adapter = adapter
        self._store = store
        self._remembered: dict[str, str] = {}

    def recall(self, key: str) -> str | None:
        """The result recorded for ``key``, or ``None`` if the command never ran."""
        result = self._remembered.get(key)
        return self._store.get(key) if result is None else result

    def remember(self, key: str, result: str) -> None:
        """Record the command's result; ``DuplicateRequest`` if ``key`` holds another result."""
        known = self.recall(key)
        if known is not None:
            if known != result:
                raise DuplicateRequest(
                    self._adapter, f"command {key} already ran with another result", key
                )
            return
        self._remembered[key] = result


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore`, satisfying :class:`~o2c.ports.UnitOfWork`.

    Without a store it makes its own (handy in a test that needs one unit of work only).
    """

    def __init__(self, store: MemoryStore | None = None, *, name: str | None = None):
        self._store = store if store is not None else MemoryStore()
        self.name = name or self._store.name
        tables = self._store._tables
        adapter = self.name
        self._customers = MemoryCustomers(adapter, "customers", tables["customers"])
        self._credit_accounts: MemoryRepository[CreditAccount] = MemoryRepository(
            adapter, "credit_accounts", tables["credit_accounts"]
        )
        self._quotes: MemoryRepository[Quote] = MemoryRepository(
            adapter, "quotes", tables["quotes"]
        )
        self._orders = MemoryOrders(adapter, "orders", tables["orders"])
        self._invoices = MemoryInvoices(adapter, "invoices", tables["invoices"])
        self._credit_notes: MemoryRepository[CreditNote] = MemoryRepository(
            adapter, "credit_notes", tables["credit_notes"]
        )
        self._charges: MemoryRepository[OpenItem] = MemoryRepository(
            adapter, "charges", tables["charges"]
        )
        self._payments = MemoryPayments(adapter, "payments", tables["payments"])
        self._receipts = MemoryReceipts(adapter, "receipts", tables["receipts"])
        self._allocations: MemoryRepository[tuple[Allocation, ...]] = MemoryRepository(
            adapter, "allocations", tables["allocations"]
        )
        self._shipments = MemoryShipments(adapter, "shipments", tables["shipments"])
        self._dunning: MemoryRepository[DunningBook] = MemoryRepository(
            adapter, "dunning", tables["dunning"]
        )
        self._ledger_outbox: MemoryRepository[JournalEntry] = MemoryRepository(
            adapter, "ledger_outbox", tables["ledger_outbox"]
        )
        self._calls = MemoryExternalCalls(adapter, "calls", tables["calls"])
        self._event_outbox: MemoryOutbox[DomainEvent] = MemoryOutbox(
            adapter, "event_outbox", self._store._outboxes["event_outbox"]
        )
        self._notification_outbox: MemoryOutbox[Notification] = MemoryOutbox(
            adapter, "notification_outbox", self._store._outboxes["notification_outbox"]
        )
        self.event_outbox: OutboxRepository[DomainEvent] = self._event_outbox
        self.notification_outbox: OutboxRepository[Notification] = self._notification_outbox
        self._exception_queue = MemoryExceptionQueue(
            adapter, "exception_queue", tables["exception_queue"]
        )
        self.customers: CustomerRepository = self._customers
        self.credit_accounts: Repository[CreditAccount] = self._credit_accounts
        self.quotes: Repository[Quote] = self._quotes
        self.orders: OrderRepository = self._orders
        self.invoices: InvoiceRepository = self._invoices
        self.credit_notes: Repository[CreditNote] = self._credit_notes
        self.charges: Repository[OpenItem] = self._charges
        self.open_items: OpenItemQueries = MemoryOpenItems(self._invoices, self._charges)
        self.payments: PaymentRepository = self._payments
        self.receipts: ReceiptRepository = self._receipts
        self.allocations: Repository[tuple[Allocation, ...]] = self._allocations
        self.shipments: ShipmentRepository = self._shipments
        self.dunning: Repository[DunningBook] = self._dunning
        self.ledger_outbox: Repository[JournalEntry] = self._ledger_outbox
        self.calls: ExternalCallRepository = self._calls
        self.exception_queue: ExceptionQueueRepository = self._exception_queue
        self._repositories: tuple[MemoryRepository[Any], ...] = (
            self._customers,
            self._credit_accounts,
            self._quotes,
            self._orders,
            self._invoices,
            self._credit_notes,
            self._charges,
            self._payments,
            self._receipts,
            self._allocations,
            self._shipments,
            self._dunning,
            self._ledger_outbox,
            self._calls,
            self._event_outbox._messages,
            self._notification_outbox._messages,
            self._exception_queue,
        )
        self._sequences = MemoryNumberSequence(adapter, self._store._sequences)
        self._commands = MemoryIdempotencyRecord(adapter, self._store._commands)
        self.sequences: NumberSequence = self._sequences
        self.commands: IdempotencyRecord = self._commands
        self._began = self._store._commits

    @property
    def store(self) -> MemoryStore:
        """The store this unit of work commits to."""
        return self._store

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Apply every change of this unit of work to the store at once.

        ``DuplicateRequest`` if another unit of work added one of the keys added here first;
        ``AdapterUnavailable`` (retry the command) if it committed an overlapping change since this
        unit of work began. Either way nothing is applied, and the changes stay pending until
        rolled back.
        """
        store = self._store
        dirty = [repository for repository in self._repositories if repository._writes]
        with store._lock:
            if store._commits != self._began:
                self._check_conflicts(dirty)
            store._commits += 1
            commit = store._commits
            for repository in dirty:
                writes = repository._writes
                table = repository._table
                if table.extract:
                    for key, value in writes.items():
                        table.reindex(key, table.values.get(key, _MISSING), value)
                if repository._removals:
                    values, versions = table.values, table.versions
                    for key, value in writes.items():
                        if value is _REMOVED:
                            # Forget the key entirely, so stores that come and go (outboxes)
                            # do not grow.
                            values.pop(key, None)
                            versions.pop(key, None)
                        else:
                            values[key] = value
                            versions[key] = commit
                else:
                    table.values.update(writes)
                    table.versions.update(dict.fromkeys(writes, commit))
            store._sequences.update(self._sequences._drawn)
            store._commands.update(self._commands._remembered)
        self._forget()
        self._began = commit

    def rollback(self) -> None:
        """Drop every change since the unit of work began (or last committed)."""
        self._forget()
        self._began = self._store._commits

    def _forget(self) -> None:
        for repository in self._repositories:
            if repository._writes:
                repository._writes = {}
                repository._added = set()
                repository._removals = False
        if self._sequences._drawn:
            self._sequences._drawn = {}
            self._sequences._base = {}
        if self._commands._remembered:
            self._commands._remembered = {}

    def _check_conflicts(self, dirty: list[MemoryRepository[Any]]) -> None:
        store = self._store
        began = self._began
        for repository in dirty:
            table = repository._table
            for key in repository._added:
                if key in table.values and table.versions.get(key, 0) > began:
                    raise DuplicateRequest(
                        self.name, f"{repository._name} entry {key!r} was added meanwhile", key
                    )
        for repository in dirty:
            versions = repository._table.versions
            for key in repository._writes:
                if versions.get(key, 0) > began:
                    raise _conflict(self.name, f"{repository._name} entry {key!r}")
        for series, base in self._sequences._base.items():
            if store._sequences.get(series, 0) != base:
                raise _conflict(self.name, f"number series {series!r}")
        for key in self._commands._remembered:
            if key in store._commands:
                raise _conflict(self.name, f"command {key!r}")


def _conflict(adapter: str, what: str) -> AdapterUnavailable:
    return AdapterUnavailable(
        adapter, f"{what} was changed by another unit of work meanwhile; run the command again"
    )
