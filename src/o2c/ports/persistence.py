"""Persistence ports: repositories, gap-free number sequences and the unit of work.

Domain values are immutable, so a repository stores and returns whole values by key: loading,
changing with a domain operation and saving the returned value is the whole protocol. A
:class:`UnitOfWork` groups every change of one command (the entities, the numbers drawn, the
idempotency record) so that they become visible together at :meth:`UnitOfWork.commit`, or not at
all.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, Self, TypeVar, runtime_checkable

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

__all__ = ["IdempotencyRecord", "NumberSequence", "Repository", "UnitOfWork"]

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

    customers: Repository[Customer]
    credit_accounts: Repository[CreditAccount]
    quotes: Repository[Quote]
    orders: Repository[Order]
    invoices: Repository[Invoice]
    credit_notes: Repository[CreditNote]
    charges: Repository[OpenItem]
    """Dunning fees and interest: open items of kind ``CHARGE``, keyed by item id."""
    payments: Repository[Payment]
    receipts: Repository[Receipt]
    allocations: Repository[tuple[Allocation, ...]]
    """Every allocation made from a receipt, keyed by receipt id, in the order they were made.

    A bounced receipt is reversed by reopening exactly what these allocations settled.
    """
    shipments: Repository[Shipment]
    """Booked shipments by shipment id, so a delivery is recorded on the lines that travelled."""
    dunning: Repository[DunningBook]
    """What dunning remembers between runs, one book per key (``"default"``)."""
    ledger_outbox: Repository[JournalEntry]
    """Journal entries committed with their command and not yet confirmed by the ledger port.

    The ledger is another system, so entries travel through this outbox: stored in the same
    unit of work as the change they record, posted after commit, removed once posted. Entry ids
    are deterministic and posting is idempotent, so a retry never posts twice.
    """
    lookups: Repository[tuple[str, ...]]
    """Secondary keys, so that no command has to scan a whole repository.

    A lookup key (``"open-items:C-1"``, ``"order-invoices:SO-1"``) maps to the keys of the values
    it finds, in the order they were added. The application keeps them, in the same unit of work
    as the values they point to, so they are as consistent as those values.
    """
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
