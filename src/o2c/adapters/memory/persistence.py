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
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, Generic, Self, TypeVar

from o2c.domain.cash import Allocation
from o2c.domain.credit import CreditAccount
from o2c.domain.customers import Customer
from o2c.domain.dunning import DunningBook
from o2c.domain.invoicing import CreditNote, Invoice
from o2c.domain.ledger import JournalEntry
from o2c.domain.orders import Order
from o2c.domain.payments import Payment
from o2c.domain.quotes import Quote
from o2c.domain.receipts import Receipt
from o2c.domain.receivables import OpenItem
from o2c.ports.carriers import Shipment
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest, NotFound
from o2c.ports.persistence import IdempotencyRecord, NumberSequence, Repository

__all__ = [
    "REPOSITORIES",
    "MemoryIdempotencyRecord",
    "MemoryNumberSequence",
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
    "lookups",
)
"""The repositories of a unit of work, by attribute name; the store keeps one table each."""

_MISSING: Any = object()
_REMOVED: Any = object()
"""What a write set holds for a key removed in the unit of work."""


class _Table:
    """One repository's committed values, and the commit that last wrote (or removed) each key."""

    __slots__ = ("values", "versions")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.versions: dict[str, int] = {}


class MemoryStore:
    """The durable state every unit of work reads and commits to.

    Share one store between the units of work of an application (``store.unit_of_work`` is the
    factory the services take); it lives as long as the process.
    """

    def __init__(self, *, name: str = "memory"):
        self.name = name
        self._tables: dict[str, _Table] = {table: _Table() for table in REPOSITORIES}
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
        self._customers: MemoryRepository[Customer] = MemoryRepository(
            adapter, "customers", tables["customers"]
        )
        self._credit_accounts: MemoryRepository[CreditAccount] = MemoryRepository(
            adapter, "credit_accounts", tables["credit_accounts"]
        )
        self._quotes: MemoryRepository[Quote] = MemoryRepository(
            adapter, "quotes", tables["quotes"]
        )
        self._orders: MemoryRepository[Order] = MemoryRepository(
            adapter, "orders", tables["orders"]
        )
        self._invoices: MemoryRepository[Invoice] = MemoryRepository(
            adapter, "invoices", tables["invoices"]
        )
        self._credit_notes: MemoryRepository[CreditNote] = MemoryRepository(
            adapter, "credit_notes", tables["credit_notes"]
        )
        self._charges: MemoryRepository[OpenItem] = MemoryRepository(
            adapter, "charges", tables["charges"]
        )
        self._payments: MemoryRepository[Payment] = MemoryRepository(
            adapter, "payments", tables["payments"]
        )
        self._receipts: MemoryRepository[Receipt] = MemoryRepository(
            adapter, "receipts", tables["receipts"]
        )
        self._allocations: MemoryRepository[tuple[Allocation, ...]] = MemoryRepository(
            adapter, "allocations", tables["allocations"]
        )
        self._shipments: MemoryRepository[Shipment] = MemoryRepository(
            adapter, "shipments", tables["shipments"]
        )
        self._dunning: MemoryRepository[DunningBook] = MemoryRepository(
            adapter, "dunning", tables["dunning"]
        )
        self._ledger_outbox: MemoryRepository[JournalEntry] = MemoryRepository(
            adapter, "ledger_outbox", tables["ledger_outbox"]
        )
        self._lookups: MemoryRepository[tuple[str, ...]] = MemoryRepository(
            adapter, "lookups", tables["lookups"]
        )
        self.customers: Repository[Customer] = self._customers
        self.credit_accounts: Repository[CreditAccount] = self._credit_accounts
        self.quotes: Repository[Quote] = self._quotes
        self.orders: Repository[Order] = self._orders
        self.invoices: Repository[Invoice] = self._invoices
        self.credit_notes: Repository[CreditNote] = self._credit_notes
        self.charges: Repository[OpenItem] = self._charges
        self.payments: Repository[Payment] = self._payments
        self.receipts: Repository[Receipt] = self._receipts
        self.allocations: Repository[tuple[Allocation, ...]] = self._allocations
        self.shipments: Repository[Shipment] = self._shipments
        self.dunning: Repository[DunningBook] = self._dunning
        self.ledger_outbox: Repository[JournalEntry] = self._ledger_outbox
        self.lookups: Repository[tuple[str, ...]] = self._lookups
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
            self._lookups,
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
