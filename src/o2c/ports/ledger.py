"""The ledger port: where journal entries are posted and balances read back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Protocol, TextIO, runtime_checkable

import attrs

from o2c.domain.ledger import ChartOfAccounts, JournalEntry, TrialBalance
from o2c.domain.money import Money
from o2c.domain.periods import ClosedPeriodPolicy, PostingPeriods
from o2c.ports.errors import AdapterRejected

__all__ = [
    "JournalExporter",
    "JournalReader",
    "LedgerPort",
    "PeriodKeeper",
    "PeriodRefused",
    "PostingResult",
]


@attrs.frozen
class PeriodRefused(AdapterRejected):
    """A ledger refused a batch because an entry is dated where nothing may post.

    The cause is the domain's :class:`~o2c.domain.periods.PostingPeriodClosed`; nothing of the
    batch was posted.
    """

    entry_id: str = ""
    entry_date: date | None = None


@attrs.frozen
class PostingResult:
    """Which entries of a batch were posted now and which were already there."""

    posted: tuple[str, ...]
    already_posted: tuple[str, ...]


@runtime_checkable
class LedgerPort(Protocol):
    """A general ledger (in memory, a file, an accounting system).

    Contract:

    * ``post_batch`` is atomic: either every new entry of the batch is posted or none is.
    * It is idempotent by entry id: an entry already posted with the same content is reported in
      ``already_posted`` and not posted again; the same id with different content raises
      ``DuplicateRequest`` and posts nothing.
    * Entries arrive balanced per currency (``JournalEntry`` guarantees it); an account the
      ledger does not know raises ``AdapterRejected`` and posts nothing.
    * Balances are debit minus credit.
    """

    name: str

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Post the entries atomically and idempotently."""
        ...

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """An account's balance in a currency, for one party or all."""
        ...

    def trial_balance(self) -> TrialBalance:
        """Every account's debits, credits and balance per currency."""
        ...


@runtime_checkable
class JournalReader(Protocol):
    """A ledger whose journal can be read back: entries, and balances up to a date.

    The memory and SQL ledgers are journal readers; exports and period-end checks need one.
    """

    def get(self, entry_id: str) -> JournalEntry | None:
        """The posted entry with ``entry_id``, if any."""
        ...

    def entries(self, start: date | None = None, end: date | None = None) -> Iterator[JournalEntry]:
        """The posted entries dated from ``start`` to ``end`` (both included), in posting order."""
        ...

    def trial_balance_between(
        self, start: date | None = None, end: date | None = None
    ) -> TrialBalance:
        """The trial balance of the entries dated from ``start`` to ``end`` (both included)."""
        ...


@runtime_checkable
class PeriodKeeper(Protocol):
    """A ledger that keeps accounting periods and a lock date and applies them when posting.

    ``post_batch`` admits every entry it has not posted yet through
    :meth:`~o2c.domain.periods.PostingPeriods.admit_batch` under ``policy``; a refusal raises
    :class:`PeriodRefused` and posts nothing of the batch.
    """

    policy: ClosedPeriodPolicy

    def periods(self) -> PostingPeriods:
        """The closed periods and the lock date as they stand."""
        ...

    def change_periods(self, change: Callable[[PostingPeriods], PostingPeriods]) -> PostingPeriods:
        """Apply ``change`` to the periods atomically (no batch posts meanwhile); the result."""
        ...


class JournalExporter(Protocol):
    """Writes journal entries in one file format (Beancount, CSV...), for other tools to read."""

    name: str
    """The name the format is chosen by."""
    suffix: str
    """The usual file name suffix, e.g. ``.beancount``."""

    def write(
        self,
        entries: Iterable[JournalEntry],
        out: TextIO,
        *,
        chart: ChartOfAccounts | None = None,
        opening: TrialBalance | None = None,
        opening_date: date | None = None,
    ) -> int:
        """Write ``entries`` to ``out`` (``opening``: balances before them); return how many."""
        ...
