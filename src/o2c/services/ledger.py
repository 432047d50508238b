"""The ledger's use cases: gateway payouts, the trial balance, exports, period close, reversals.

Posting a payout runs as a command (an idempotency key, one unit of work, the entry posted after
commit through the ledger outbox). The rest works on the ledger adapter directly and needs one
that can do it: reading the journal back (exports, the trial balance by date, reversals) needs a
:class:`~o2c.ports.ledger.JournalReader`, periods and the lock date a
:class:`~o2c.ports.ledger.PeriodKeeper`. The memory and SQL ledgers are both; another ledger
raises :class:`LedgerCannot`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TextIO

import attrs

from o2c.domain.ledger import JournalEntry, TrialBalance
from o2c.domain.money import Money
from o2c.domain.payouts import PayoutReport
from o2c.domain.periods import (
    AccountingPeriod,
    PeriodEndReport,
    PostingPeriods,
    period_end_report,
    reversal_of,
)
from o2c.ports.ledger import JournalExporter, JournalReader, PeriodKeeper
from o2c.ports.persistence import UnitOfWork
from o2c.services._runtime import Runtime, Work
from o2c.services.errors import ApplicationError

__all__ = [
    "LedgerCannot",
    "LedgerService",
    "PayoutPosted",
    "PeriodChecksFailed",
    "UnknownJournalEntry",
]


@attrs.frozen
class LedgerCannot(ApplicationError):
    """The configured ledger adapter cannot do what was asked (read its journal, keep periods)."""

    ledger: str
    needs: str

    def describe(self) -> str:
        return f"the ledger {self.ledger!r} cannot {self.needs}"


@attrs.frozen
class UnknownJournalEntry(ApplicationError):
    """No journal entry is posted under this id."""

    entry_id: str

    def describe(self) -> str:
        return f"no journal entry is posted as {self.entry_id!r}"


@attrs.frozen
class PeriodChecksFailed(ApplicationError):
    """A period was not closed because its period-end checks failed (see ``report``)."""

    report: PeriodEndReport

    def describe(self) -> str:
        problems = [
            f"{r.check} {r.currency}: journal {r.ledger.amount:f}, books {r.books.amount:f}"
            for r in self.report.disagreements
        ]
        if self.report.waiting_entries:
            problems.append(f"{self.report.waiting_entries} journal entries wait to be posted")
        return f"period {self.report.period} was not closed: " + "; ".join(problems)


@attrs.frozen
class PayoutPosted:
    """What posting a gateway payout did."""

    payout_id: str
    entry_id: str
    """The journal entry that records the payout."""
    net: Money
    """What reached the bank."""
    fees: Money


class LedgerService:
    """Gateway payouts, the trial balance, exports, periods and reversals."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    # --- payouts --------------------------------------------------------------------------------

    def settle_payout(self, report: PayoutReport, *, idempotency_key: str) -> PayoutPosted:
        """Post a gateway payout: bank (net) and payment fees against gateway clearing (gross).

        The entry's id derives from the payout id, so a payout reported twice posts once, and a
        payout id reported again with other amounts is refused by the ledger.
        """

        def body(work: Work) -> PayoutPosted:
            work.record([report.settled()])
            return PayoutPosted(
                report.payout_id, f"{report.payout_id}:gateway_settled", report.net, report.fees
            )

        return self._runtime.execute("settle_payout", idempotency_key, report, PayoutPosted, body)

    # --- reading --------------------------------------------------------------------------------

    def trial_balance(self, start: date | None = None, end: date | None = None) -> TrialBalance:
        """The trial balance of the entries dated from ``start`` to ``end`` (both included)."""
        if start is None and end is None:
            return self._runtime.adapters.ledger.trial_balance()
        return self._reader("read a trial balance by date").trial_balance_between(start, end)

    def entries(self, start: date | None = None, end: date | None = None) -> Iterator[JournalEntry]:
        """The posted entries dated from ``start`` to ``end``, in posting order."""
        return self._reader("read its journal").entries(start, end)

    def export(
        self,
        exporter: JournalExporter,
        out: TextIO,
        *,
        start: date | None = None,
        end: date | None = None,
    ) -> int:
        """Write the entries dated from ``start`` to ``end`` with ``exporter``; return how many.

        An export that starts after the journal does carries the balances of the day before
        ``start`` as its opening balances (the Beancount export posts them).
        """
        reader = self._reader("read its journal")
        opening = None
        opening_date = None
        if start is not None:
            opening_date = start - timedelta(days=1)
            opening = reader.trial_balance_between(None, opening_date)
        return exporter.write(
            reader.entries(start, end),
            out,
            chart=self._runtime.settings.chart,
            opening=opening,
            opening_date=opening_date,
        )

    # --- periods --------------------------------------------------------------------------------

    def periods(self) -> PostingPeriods:
        """The closed periods and the lock date."""
        return self._keeper("keep periods").periods()

    def period_end_report(self, period: AccountingPeriod) -> PeriodEndReport:
        """The period-end checks: receivables against the open items, unapplied cash against the
        receipts, both as the books stand now, and the clearing balances at the period end."""
        reader = self._reader("read its journal")

        def books(uow: UnitOfWork) -> tuple[list[Money], list[Money], int]:
            return (
                [item.open for item in uow.open_items.open()],
                [receipt.unapplied for receipt in uow.receipts.values()],
                len(uow.ledger_outbox),
            )

        open_items, unapplied, waiting = self._runtime.query(books)
        return period_end_report(
            period,
            self._runtime.settings.chart,
            self._runtime.adapters.ledger.trial_balance(),
            open_items=open_items,
            unapplied_receipts=unapplied,
            clearing_trial_balance=reader.trial_balance_between(None, period.end),
            waiting_entries=waiting,
        )

    def close_period(self, period: AccountingPeriod, *, force: bool = False) -> PeriodEndReport:
        """Run the period-end checks and close ``period``; return the checks' report.

        When the checks fail the period stays open and :class:`PeriodChecksFailed` carries the
        report, unless ``force``. Closing a closed period again closes nothing new.
        """
        keeper = self._keeper("keep periods")
        report = self.period_end_report(period)
        if not report.passed and not force:
            raise PeriodChecksFailed(report)
        keeper.change_periods(lambda periods: periods.close(period))
        return report

    def reopen_period(self, period: AccountingPeriod) -> PostingPeriods:
        """Open ``period`` again (the lock date still applies)."""
        return self._keeper("keep periods").change_periods(lambda p: p.reopen(period))

    def lock_until(self, day: date | None) -> PostingPeriods:
        """Set the lock date: nothing dated before ``day`` posts (``None`` lifts the lock)."""
        return self._keeper("keep periods").change_periods(lambda p: p.lock_until(day))

    # --- reversals ------------------------------------------------------------------------------

    def reverse(self, entry_id: str, *, on: date | None = None, reason: str = "") -> JournalEntry:
        """Post the reversal of a posted entry instead of editing it; return the reversal.

        It is dated ``on`` (default: today), moved to the first day that may post when that day
        is in a closed period or before the lock date. Reversing an entry twice posts one
        reversal.
        """
        reader = self._reader("read its journal")
        original = reader.get(entry_id)
        if original is None:
            raise UnknownJournalEntry(entry_id)
        day = on or self._runtime.adapters.clock.today()
        ledger = self._runtime.adapters.ledger
        if isinstance(ledger, PeriodKeeper):
            day = ledger.periods().first_open_date(day)
        reversal = reversal_of(original, day, reason=reason)
        posted = reader.get(reversal.entry_id)
        if posted is not None:
            return posted
        ledger.post_batch([reversal])
        return reversal

    # --- the adapter's abilities ------------------------------------------------------------------

    def _reader(self, needs: str) -> JournalReader:
        ledger = self._runtime.adapters.ledger
        if not isinstance(ledger, JournalReader):
            raise LedgerCannot(ledger.name, needs)
        return ledger

    def _keeper(self, needs: str) -> PeriodKeeper:
        ledger = self._runtime.adapters.ledger
        if not isinstance(ledger, PeriodKeeper):
            raise LedgerCannot(ledger.name, needs)
        return ledger
