"""The general ledger kept in memory: the domain :class:`~o2c.domain.ledger.Ledger` behind the port.

The domain ledger already does the accounting (balanced entries, idempotent and atomic batches,
running balances); this adapter holds the newest ledger value, reports which entries of a batch
were new, and translates domain refusals into the adapter error family.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date

from o2c.domain.errors import DomainError, DuplicateEntry, UnknownAccount
from o2c.domain.ledger import ChartOfAccounts, JournalEntry, Ledger, TrialBalance
from o2c.domain.money import Money
from o2c.domain.periods import ClosedPeriodPolicy, PostingPeriodClosed, PostingPeriods
from o2c.ports.errors import AdapterRejected, DuplicateRequest
from o2c.ports.ledger import PeriodRefused, PostingResult

__all__ = ["MemoryLedger"]


class MemoryLedger:
    """A ledger in memory over ``chart``, satisfying :class:`~o2c.ports.LedgerPort`.

    It is also a :class:`~o2c.ports.ledger.JournalReader` and a
    :class:`~o2c.ports.ledger.PeriodKeeper`: entries dated where nothing may post are refused or
    moved according to ``policy``.
    """

    def __init__(
        self,
        chart: ChartOfAccounts | None = None,
        *,
        name: str = "memory",
        policy: ClosedPeriodPolicy = ClosedPeriodPolicy.REFUSE,
    ):
        self.name = name
        self.policy = ClosedPeriodPolicy(policy)
        self._ledger = Ledger.empty(chart)
        self._periods = PostingPeriods()
        self._lock = threading.Lock()

    @property
    def ledger(self) -> Ledger:
        """The ledger as posted so far: an immutable value, safe to keep and report on."""
        return self._ledger

    @property
    def chart(self) -> ChartOfAccounts:
        """The chart of accounts the ledger accepts."""
        return self._ledger.chart

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Post every new entry or none; report the new ids and those already posted.

        ``DuplicateRequest`` for a known id with other content, ``AdapterRejected`` for an account
        outside the chart; in both cases nothing of the batch is posted.
        """
        entries = tuple(entries)
        with self._lock:
            before = self._ledger
            try:
                admitted = self._periods.admit_batch(entries, self.policy, before.get)
                after = before.post_batch(admitted)
            except PostingPeriodClosed as error:
                raise PeriodRefused(
                    self.name, error.describe(), "period_closed", error.entry_id, error.entry_date
                ) from error
            except DuplicateEntry as error:
                raise DuplicateRequest(self.name, error.describe(), error.entry_id) from error
            except UnknownAccount as error:
                raise AdapterRejected(self.name, error.describe(), "unknown_account") from error
            except DomainError as error:
                raise AdapterRejected(self.name, error.describe(), "invalid_entry") from error
            self._ledger = after
        posted: dict[str, None] = {}
        already: dict[str, None] = {}
        for entry in entries:
            (already if entry.entry_id in before else posted)[entry.entry_id] = None
        return PostingResult(tuple(posted), tuple(already))

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """Debit minus credit of ``account`` in ``currency`` (``party``'s postings only if given).

        ``AdapterRejected`` for an account outside the chart or an unknown currency.
        """
        ledger = self._ledger
        if not ledger.chart.has(account):
            raise AdapterRejected(
                self.name, f"account {account!r} is not in the chart", "unknown_account"
            )
        try:
            return ledger.balance(account, currency, party)
        except DomainError as error:
            raise AdapterRejected(self.name, error.describe(), "invalid_currency") from error

    def trial_balance(self) -> TrialBalance:
        """Turnover and balance of every account per currency."""
        return self._ledger.trial_balance()

    # --- the journal read back ------------------------------------------------------------------

    def get(self, entry_id: str) -> JournalEntry | None:
        """The posted entry with ``entry_id``, if any."""
        return self._ledger.get(entry_id)

    def entries(self, start: date | None = None, end: date | None = None) -> Iterator[JournalEntry]:
        """The posted entries dated from ``start`` to ``end`` (both included), in posting order."""
        for entry in self._ledger:
            if (start is None or entry.date >= start) and (end is None or entry.date <= end):
                yield entry

    def trial_balance_between(
        self, start: date | None = None, end: date | None = None
    ) -> TrialBalance:
        """The trial balance of the entries dated from ``start`` to ``end`` (both included)."""
        return TrialBalance.of(self.entries(start, end), self._ledger.chart)

    # --- periods --------------------------------------------------------------------------------

    def periods(self) -> PostingPeriods:
        """The closed periods and the lock date."""
        return self._periods

    def change_periods(self, change: Callable[[PostingPeriods], PostingPeriods]) -> PostingPeriods:
        """Apply ``change`` to the periods while no batch posts; return the new periods."""
        with self._lock:
            self._periods = change(self._periods)
            return self._periods

    def __len__(self) -> int:
        return len(self._ledger)
