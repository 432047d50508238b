"""Accounting periods, the lock date, reversals and the checks made before a period is closed.

The rules are pure; a ledger adapter keeps the :class:`PostingPeriods` value and applies it to
every entry it has not posted yet.

* An :class:`AccountingPeriod` is a calendar month (``2026-03``). It is open until it is closed;
  a closed period may be reopened.
* The **lock date** is the first day that may post: nothing dated before it posts, whatever the
  state of its period.
* A posting dated where posting is not allowed is refused with :class:`PostingPeriodClosed`, or,
  under :attr:`ClosedPeriodPolicy.MOVE_TO_FIRST_OPEN_DATE`, moved to the first day that may post
  (the entry keeps its own date in the metadata under ``original_date``).
* Posted entries are never edited: :func:`reversal_of` gives the entry that undoes one, dated in
  an open period.
* :func:`period_end_report` compares the control accounts with the sub-ledgers (receivables with
  the open items, unapplied cash with the receipts) and lists the clearing accounts' balances.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta

import attrs

from o2c.domain.errors import DomainError, InvalidInput
from o2c.domain.ledger import AccountRole, ChartOfAccounts, JournalEntry, TrialBalance
from o2c.domain.money import Money, from_minor, to_minor

__all__ = [
    "ORIGINAL_DATE",
    "AccountingPeriod",
    "ClearingBalance",
    "ClosedPeriodPolicy",
    "PeriodEndReport",
    "PeriodState",
    "PostingPeriodClosed",
    "PostingPeriods",
    "Reconciliation",
    "period_end_report",
    "reversal_of",
]

ORIGINAL_DATE = "original_date"
"""The metadata key under which a moved entry keeps the date it was made for."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@attrs.frozen
class PostingPeriodClosed(DomainError):
    """An entry dated where nothing may post: in a closed period or before the lock date."""

    entry_id: str
    entry_date: date
    reason: str

    def describe(self) -> str:
        return (
            f"journal entry {self.entry_id} is dated {self.entry_date.isoformat()}, {self.reason};"
            " post a reversal or an adjustment in an open period instead"
        )


class PeriodState(enum.Enum):
    """Whether a period still takes postings."""

    OPEN = "open"
    CLOSED = "closed"


class ClosedPeriodPolicy(enum.Enum):
    """What a ledger does with an entry dated where nothing may post."""

    REFUSE = "refuse"
    """Refuse the batch with :class:`PostingPeriodClosed` (the default)."""
    MOVE_TO_FIRST_OPEN_DATE = "move"
    """Post the entry on the first day that may post, keeping its own date in the metadata."""


@attrs.frozen(order=True)
class AccountingPeriod:
    """A calendar month of the books, named ``YYYY-MM``."""

    year: int
    month: int = attrs.field()

    @month.validator
    def _check_month(self, attribute: attrs.Attribute[int], value: int) -> None:
        if not 1 <= value <= 12 or not 1 <= self.year <= 9998:
            raise InvalidInput(
                field="accounting period", value=f"{self.year}-{value}", reason="no such month"
            )

    @classmethod
    def parse(cls, text: str) -> AccountingPeriod:
        """The period named ``YYYY-MM`` (``2026-03``)."""
        found = _MONTH.match(text.strip())
        if found is None:
            raise InvalidInput(
                field="accounting period", value=text, reason="write it as YYYY-MM, e.g. 2026-03"
            )
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date) -> AccountingPeriod:
        """The period ``day`` falls in."""
        return cls(day.year, day.month)

    @property
    def name(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """Its last day."""
        return self.following.start - timedelta(days=1)

    @property
    def following(self) -> AccountingPeriod:
        """The next month."""
        if self.month == 12:
            return AccountingPeriod(self.year + 1, 1)
        return AccountingPeriod(self.year, self.month + 1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return self.name


def _sorted_periods(value: Iterable[AccountingPeriod]) -> tuple[AccountingPeriod, ...]:
    return tuple(sorted(set(value)))


@attrs.frozen
class PostingPeriods:
    """Which periods are closed and the lock date: where entries may post.

    A value: :meth:`close`, :meth:`reopen` and :meth:`lock_until` return new ones.
    """

    closed: tuple[AccountingPeriod, ...] = attrs.field(converter=_sorted_periods, default=())
    """The closed periods, in order."""
    lock_date: date | None = None
    """The first day that may post; ``None``: no lock."""

    def state(self, period: AccountingPeriod) -> PeriodState:
        """Whether ``period`` is open or closed (the lock date aside)."""
        return PeriodState.CLOSED if period in self.closed else PeriodState.OPEN

    def refusal(self, day: date) -> str | None:
        """Why nothing dated ``day`` may post, or ``None`` when it may."""
        if self.lock_date is not None and day < self.lock_date:
            return f"before the lock date {self.lock_date.isoformat()}"
        if AccountingPeriod.of(day) in self.closed:
            return f"in the closed period {AccountingPeriod.of(day)}"
        return None

    def may_post_on(self, day: date) -> bool:
        """Whether an entry dated ``day`` may post."""
        return self.refusal(day) is None

    def first_open_date(self, on_or_after: date) -> date:
        """The first day, ``on_or_after`` or later, that may post."""
        day = on_or_after
        if self.lock_date is not None and day < self.lock_date:
            day = self.lock_date
        while AccountingPeriod.of(day) in self.closed:
            day = AccountingPeriod.of(day).following.start
        return day

    def close(self, period: AccountingPeriod) -> PostingPeriods:
        """These periods with ``period`` closed (closing it again changes nothing)."""
        return attrs.evolve(self, closed=(*self.closed, period))

    def reopen(self, period: AccountingPeriod) -> PostingPeriods:
        """These periods with ``period`` open again (the lock date still applies)."""
        return attrs.evolve(self, closed=tuple(p for p in self.closed if p != period))

    def lock_until(self, day: date | None) -> PostingPeriods:
        """These periods with the lock date ``day`` (``None`` lifts it)."""
        return attrs.evolve(self, lock_date=day)

    # --- admitting entries -------------------------------------------------------------------

    def admit(self, entry: JournalEntry, policy: ClosedPeriodPolicy) -> JournalEntry:
        """``entry`` as it may post: itself, moved to the first open date, or refused.

        Raises :class:`PostingPeriodClosed` under :attr:`ClosedPeriodPolicy.REFUSE`.
        """
        reason = self.refusal(entry.date)
        if reason is None:
            return entry
        if policy is ClosedPeriodPolicy.REFUSE:
            raise PostingPeriodClosed(entry.entry_id, entry.date, reason)
        return moved(entry, self.first_open_date(entry.date))

    def admit_batch(
        self,
        entries: Sequence[JournalEntry],
        policy: ClosedPeriodPolicy,
        posted: Callable[[str], JournalEntry | None],
    ) -> tuple[JournalEntry, ...]:
        """The batch as a ledger should post it, given ``posted`` (an entry id's stored entry).

        An entry already posted is kept as posted when it is the same entry, moved or not, so
        sending it again after its period closed stays idempotent. New entries are admitted.
        """
        admitted: list[JournalEntry] = []
        for entry in entries:
            stored = posted(entry.entry_id)
            if stored is not None:
                admitted.append(stored if same_posting(stored, entry) else entry)
            else:
                admitted.append(self.admit(entry, policy))
        return tuple(admitted)


def moved(entry: JournalEntry, to: date) -> JournalEntry:
    """``entry`` dated ``to``, its own date kept under :data:`ORIGINAL_DATE`."""
    if to == entry.date:
        return entry
    metadata = {**dict(entry.metadata), ORIGINAL_DATE: entry.date.isoformat()}
    return attrs.evolve(entry, date=to, metadata=metadata)


def same_posting(stored: JournalEntry, entry: JournalEntry) -> bool:
    """Whether ``stored`` is ``entry`` as posted: the same, or the same moved to an open date."""
    if stored == entry:
        return True
    return stored.meta(ORIGINAL_DATE) == entry.date.isoformat() and stored == moved(
        entry, stored.date
    )


# --- reversals --------------------------------------------------------------------------------


def reversal_of(
    entry: JournalEntry, on: date, *, reason: str = "", entry_id: str | None = None
) -> JournalEntry:
    """The entry that undoes ``entry``: every posting on the other side, dated ``on``.

    Its id is ``f"{entry.entry_id}:reversal"`` unless given, so asking twice gives one reversal;
    its metadata names the entry it reverses (``reverses``) and the ``reason``.
    """
    postings = tuple(attrs.evolve(p, side=p.side.opposite) for p in entry.postings)
    metadata = {**dict(entry.metadata), "reverses": entry.entry_id, "kind": "reversal"}
    if reason:
        metadata["reason"] = reason
    metadata.pop(ORIGINAL_DATE, None)
    return JournalEntry(
        entry_id or f"{entry.entry_id}:reversal",
        on,
        f"Reversal of {entry.entry_id}: {entry.description}" if entry.description else "Reversal",
        postings,
        entry.source,
        metadata,
    )


# --- period-end checks ------------------------------------------------------------------------


@attrs.frozen
class Reconciliation:
    """A control account's balance next to what its sub-ledger says it should be."""

    check: str
    """``receivables`` (AR control against the open items) or ``unapplied_cash``."""
    account: str
    currency: str
    ledger: Money
    """What the journal says, as a positive amount for the account's normal side."""
    books: Money
    """What the sub-ledger (open items, receipts) adds up to."""

    @property
    def difference(self) -> Money:
        """The journal minus the sub-ledger: zero when they agree."""
        return self.ledger - self.books

    @property
    def agrees(self) -> bool:
        """Whether the journal and the sub-ledger agree."""
        return self.difference.amount == 0


@attrs.frozen
class ClearingBalance:
    """What a clearing account holds at the period end: money on its way somewhere."""

    account: str
    name: str
    currency: str
    balance: Money


@attrs.frozen
class PeriodEndReport:
    """The checks made before closing a period.

    It passes when every reconciliation agrees and no journal entry is still waiting to post.
    Clearing balances are listed for a person to look at; they need not be zero.
    """

    period: AccountingPeriod
    reconciliations: tuple[Reconciliation, ...]
    clearing: tuple[ClearingBalance, ...]
    waiting_entries: int = 0
    """Journal entries the services made that the ledger has not taken yet."""

    @property
    def passed(self) -> bool:
        """Whether the books agree with the journal and nothing waits to post."""
        return self.waiting_entries == 0 and all(r.agrees for r in self.reconciliations)

    @property
    def disagreements(self) -> tuple[Reconciliation, ...]:
        """The reconciliations that do not agree."""
        return tuple(r for r in self.reconciliations if not r.agrees)

    def render(self) -> str:
        """The report as lines of text, at most 80 columns wide."""
        lines = [f"Period {self.period}: {'checks passed' if self.passed else 'CHECKS FAILED'}"]
        for r in self.reconciliations:
            mark = "ok" if r.agrees else "DIFFERENT"
            lines.append(
                f"  {r.check:<15} {r.account:<6} {r.currency} journal {_plain(r.ledger):>14}"
                f" books {_plain(r.books):>14}  {mark}"
            )
        lines.extend(
            f"  clearing {c.account} {c.name[:30]:<30} {c.currency} {_plain(c.balance)}"
            for c in self.clearing
        )
        if self.waiting_entries:
            lines.append(f"  {self.waiting_entries} journal entries wait to be posted")
        return "\n".join(lines)


def _plain(amount: Money) -> str:
    return f"{amount.amount:f}"


def period_end_report(
    period: AccountingPeriod,
    chart: ChartOfAccounts,
    trial_balance: TrialBalance,
    *,
    open_items: Iterable[Money],
    unapplied_receipts: Iterable[Money],
    clearing_trial_balance: TrialBalance | None = None,
    waiting_entries: int = 0,
) -> PeriodEndReport:
    """Compare the journal with the sub-ledgers, per currency, and list the clearing balances.

    ``trial_balance`` is the journal the sub-ledgers are compared with (the whole journal when
    they are the books as they stand now); ``open_items`` are the open amounts of the open items
    and ``unapplied_receipts`` what each receipt holds unapplied. The clearing balances are read
    from ``clearing_trial_balance`` (the journal up to the period end), or from
    ``trial_balance``. A currency that appears on either side is compared.
    """
    balances = {(row.account, row.currency): row.balance for row in trial_balance.rows}

    def compare(
        check: str, role: AccountRole, sign: int, amounts: Iterable[Money]
    ) -> list[Reconciliation]:
        account = chart.code(role)
        books: dict[str, int] = {}
        for amount in amounts:
            code = str(amount.currency.code)
            books[code] = books.get(code, 0) + to_minor(amount)
        currencies = {c for (a, c) in balances if a == account} | set(books)
        found = []
        for currency in sorted(currencies):
            journal = balances.get((account, currency))
            units = 0 if journal is None else sign * to_minor(journal)
            found.append(
                Reconciliation(
                    check,
                    account,
                    currency,
                    from_minor(units, currency),
                    from_minor(books.get(currency, 0), currency),
                )
            )
        return found

    reconciliations = [
        *compare("receivables", AccountRole.RECEIVABLE, 1, open_items),
        # Unapplied cash is a liability: its credit balance is what the receipts hold.
        *compare("unapplied_cash", AccountRole.UNAPPLIED_CASH, -1, unapplied_receipts),
    ]
    clearing_accounts = _clearing_accounts(chart)
    source = clearing_trial_balance or trial_balance
    clearing = tuple(
        ClearingBalance(row.account, row.name, row.currency, row.balance)
        for row in source.rows
        if row.account in clearing_accounts
    )
    return PeriodEndReport(period, tuple(reconciliations), clearing, waiting_entries)


_CLEARING_ROLES = (AccountRole.GATEWAY_CLEARING, AccountRole.UNAPPLIED_CASH)


def _clearing_accounts(chart: ChartOfAccounts) -> Mapping[str, AccountRole]:
    return {code: role for role, code in chart.roles if role in _CLEARING_ROLES}
