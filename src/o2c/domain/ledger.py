"""Double-entry bookkeeping: journal entries, a chart of accounts and the ledger.

The model follows the classic shape of plain-text accounting: immutable records all the way down.

* A :class:`Posting` moves a positive, exact amount to one side (debit or credit) of an account. A
  posting to the receivables (or unapplied cash) account names the customer it concerns as its
  ``party`` and the document as its ``document``, so the customer sub-ledger can be reconciled with
  the open items.
* A :class:`JournalEntry` is a dated group of at least two postings that balances in every
  currency. Its constructor checks that, so an unbalanced entry cannot exist.
* A :class:`ChartOfAccounts` maps each :class:`AccountRole` (receivable, revenue, tax payable...)
  to an account code the user configures; :meth:`ChartOfAccounts.default` is a sensible start.
* :class:`~o2c.domain.posting.PostingRules` (in :mod:`o2c.domain.posting`) turns each business
  event of the cycle into a journal entry. Entry ids are derived from the source
  (``"INV-1:invoice_issued"``), so posting an event twice posts it once.
* A :class:`Ledger` is an immutable value holding the posted entries and the running balances.
  :meth:`Ledger.post` returns a new ledger; posting an entry already there is a no-op, posting
  different content under a known id raises :class:`~o2c.domain.errors.DuplicateEntry`, and
  :meth:`Ledger.post_batch` posts all of its entries or none.

Balances are kept in integer minor units. Each ledger value shares an append-only store with the
ledger it was posted from, so posting to the newest ledger costs time proportional to the entry
alone (amortised constant per posting), not to the size of the ledger. Posting to an *older* ledger
value (one that already has a successor) first copies the store up to that version, which costs
time proportional to the ledger's size; the older value itself never changes.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from types import MappingProxyType

import attrs

from o2c.domain.errors import (
    DuplicateEntry,
    InvalidAmount,
    InvalidInput,
    UnbalancedEntry,
    UnknownAccount,
    UnmappedAccountRole,
)
from o2c.domain.money import Money, from_minor, is_exact, to_minor, total

__all__ = [
    "Side",
    "Posting",
    "JournalEntry",
    "AccountRole",
    "Account",
    "ChartOfAccounts",
    "Ledger",
    "TrialBalance",
    "TrialBalanceRow",
]


class Side(enum.Enum):
    """The side of an account a posting goes to."""

    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        """Credit for debit, debit for credit."""
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise InvalidInput(field=attribute.name, value=value, reason="must not be empty")


@attrs.frozen
class Posting:
    """One line of a journal entry: a positive exact ``amount`` on one ``side`` of ``account``."""

    account: str = attrs.field(validator=_non_empty)
    """The account code, e.g. ``"1200"``."""
    side: Side
    amount: Money
    party: str | None = None
    """The customer a receivable, unapplied-cash or customer-credit posting concerns."""
    document: str | None = None
    """The document (invoice, credit note, charge) a receivable posting concerns."""
    memo: str | None = None
    """What distinguishes this line from its neighbours, e.g. the tax category ``S 19%``."""
    units: int = attrs.field(init=False, eq=False, repr=False)
    """The amount in minor units, signed: positive for a debit, negative for a credit."""

    def __attrs_post_init__(self) -> None:
        if self.amount.amount <= 0 or not is_exact(self.amount):
            raise InvalidAmount(
                value=str(self.amount),
                reason="a posting needs a positive amount, exact in its currency",
            )
        units = to_minor(self.amount)
        object.__setattr__(self, "units", units if self.side is Side.DEBIT else -units)

    @property
    def currency(self) -> str:
        """The ISO code of the posting's currency."""
        return str(self.amount.currency.code)


def _freeze_metadata(
    value: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in pairs))


@attrs.frozen
class JournalEntry:
    """A dated, balanced group of postings.

    Refused at construction: fewer than two postings (:class:`InvalidInput`) and debits that differ
    from credits in any currency (:class:`UnbalancedEntry`, naming the currency and both sides).
    """

    entry_id: str = attrs.field(validator=_non_empty)
    date: date
    description: str
    postings: tuple[Posting, ...]
    source: str = ""
    """The id of the document or event the entry records (an invoice number, a receipt id)."""
    metadata: tuple[tuple[str, str], ...] = attrs.field(converter=_freeze_metadata, default=())
    """Key/value pairs, sorted by key; pass a mapping or pairs."""

    def __attrs_post_init__(self) -> None:
        if len(self.postings) < 2:
            raise InvalidInput(
                field="journal entry",
                value=self.entry_id,
                reason="needs at least two postings",
            )
        sums: dict[str, list[int]] = {}
        for posting in self.postings:
            debit_credit = sums.setdefault(posting.currency, [0, 0])
            if posting.units > 0:
                debit_credit[0] += posting.units
            else:
                debit_credit[1] -= posting.units
        for currency, (debits, credits) in sums.items():
            if debits != credits:
                raise UnbalancedEntry(
                    entry_id=self.entry_id,
                    currency=currency,
                    debits=str(from_minor(debits, currency).amount),
                    credits=str(from_minor(credits, currency).amount),
                )

    def meta(self, key: str) -> str | None:
        """The metadata value under ``key``, if any."""
        for name, value in self.metadata:
            if name == key:
                return value
        return None

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies the entry posts in, in order of first appearance."""
        return tuple(dict.fromkeys(p.currency for p in self.postings))


# --- chart of accounts ------------------------------------------------------------------------


class AccountRole(enum.Enum):
    """What an account is for, as the posting rules see it."""

    RECEIVABLE = "receivable"
    REVENUE = "revenue"
    TAX_PAYABLE = "tax_payable"
    BANK = "bank"
    GATEWAY_CLEARING = "gateway_clearing"
    """Captured card money on its way from the gateway to the bank."""
    UNAPPLIED_CASH = "unapplied_cash"
    CUSTOMER_CREDIT = "customer_credit"
    SALES_DISCOUNTS = "sales_discounts"
    WRITE_OFF = "write_off"
    """Small differences written off within tolerance (short payments)."""
    BAD_DEBT = "bad_debt"
    """Bad-debt expense, or the allowance for doubtful accounts if you map it there."""
    FEE_INCOME = "fee_income"
    INTEREST_INCOME = "interest_income"
    PAYMENT_FEES = "payment_fees"
    """What the gateway keeps of a settlement."""
    FX_GAIN = "fx_gain"
    FX_LOSS = "fx_loss"


@attrs.frozen
class Account:
    """An account of the chart: its code and its name."""

    code: str = attrs.field(validator=_non_empty)
    name: str


def _freeze_roles(
    value: Mapping[AccountRole, str] | Iterable[tuple[AccountRole, str]],
) -> tuple[tuple[AccountRole, str], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple(pairs)


_DEFAULT_ACCOUNTS = (
    (AccountRole.BANK, "1000", "Bank"),
    (AccountRole.GATEWAY_CLEARING, "1050", "Payment gateway clearing"),
    (AccountRole.RECEIVABLE, "1200", "Accounts receivable"),
    (AccountRole.TAX_PAYABLE, "2200", "Tax payable"),
    (AccountRole.UNAPPLIED_CASH, "2400", "Unapplied cash"),
    (AccountRole.CUSTOMER_CREDIT, "2410", "Customer credit"),
    (AccountRole.REVENUE, "4000", "Revenue"),
    (AccountRole.SALES_DISCOUNTS, "4100", "Sales discounts"),
    (AccountRole.FEE_INCOME, "4800", "Dunning fee income"),
    (AccountRole.INTEREST_INCOME, "4810", "Interest income"),
    (AccountRole.FX_GAIN, "4900", "Realised FX gain"),
    (AccountRole.WRITE_OFF, "6800", "Small differences written off"),
    (AccountRole.BAD_DEBT, "6810", "Bad-debt expense"),
    (AccountRole.PAYMENT_FEES, "6820", "Payment fees"),
    (AccountRole.FX_LOSS, "6900", "Realised FX loss"),
)


@attrs.frozen
class ChartOfAccounts:
    """The accounts a ledger accepts and which of them plays each :class:`AccountRole`.

    Several roles may share one account (bad debt and write-off in one expense account, say); an
    account may play no role at all (a second revenue account that some lines post to).
    """

    accounts: tuple[Account, ...]
    roles: tuple[tuple[AccountRole, str], ...] = attrs.field(converter=_freeze_roles, default=())
    _by_code: Mapping[str, Account] = attrs.field(init=False, repr=False, eq=False)
    _by_role: Mapping[AccountRole, str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_code: dict[str, Account] = {}
        for account in self.accounts:
            if account.code in by_code:
                raise InvalidInput(
                    field="account code", value=account.code, reason="appears twice in the chart"
                )
            by_code[account.code] = account
        by_role: dict[AccountRole, str] = {}
        for role, code in self.roles:
            if role in by_role:
                raise InvalidInput(field="account role", value=role.value, reason="mapped twice")
            if code not in by_code:
                raise InvalidInput(
                    field="account code", value=code, reason=f"role {role.value} maps to no account"
                )
            by_role[role] = code
        # Private indexes, never handed out; plain dicts keep the chart picklable.
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_by_role", by_role)

    @classmethod
    def default(cls) -> ChartOfAccounts:
        """A small chart with one account per role (``1200 Accounts receivable``, ...)."""
        return cls(
            tuple(Account(code, name) for _, code, name in _DEFAULT_ACCOUNTS),
            tuple((role, code) for role, code, _ in _DEFAULT_ACCOUNTS),
        )

    def code(self, role: AccountRole) -> str:
        """The account code playing ``role``, or :class:`UnmappedAccountRole`."""
        code = self._by_role.get(role)
        if code is None:
            raise UnmappedAccountRole(role=role.value)
        return code

    def name(self, code: str) -> str:
        """The name of the account ``code`` (the code itself if unknown)."""
        account = self._by_code.get(code)
        return code if account is None else account.name

    def has(self, code: str) -> bool:
        """Whether ``code`` is an account of this chart."""
        return code in self._by_code

    @property
    def names(self) -> Mapping[str, str]:
        """Account names by code."""
        return MappingProxyType({code: a.name for code, a in self._by_code.items()})

    def with_account(
        self, code: str, name: str, role: AccountRole | None = None
    ) -> ChartOfAccounts:
        """A chart with one more account, optionally playing ``role`` (replacing the old one)."""
        roles = self.roles
        if role is not None:
            roles = (*((r, c) for r, c in roles if r is not role), (role, code))
        return ChartOfAccounts((*self.accounts, Account(code, name)), roles)

    def assign(self, role: AccountRole, code: str) -> ChartOfAccounts:
        """A chart where ``role`` is played by the existing account ``code``."""
        return ChartOfAccounts(
            self.accounts, (*((r, c) for r, c in self.roles if r is not role), (role, code))
        )

    def without_role(self, role: AccountRole) -> ChartOfAccounts:
        """A chart where no account plays ``role`` (the rules that need it will refuse)."""
        return ChartOfAccounts(self.accounts, tuple((r, c) for r, c in self.roles if r is not role))


# --- the ledger -------------------------------------------------------------------------------

_BalanceKey = tuple[str, str, str | None]
"""Account code, currency code, party (``None``: all parties together)."""

_Mark = tuple[int, int, int]
"""Entries posted so far, cumulative debit units, cumulative credit units."""


class _Store:
    """Append-only storage shared by a ledger and the ledgers posted from it.

    A ledger value sees the first ``count`` entries. Running balances keep one mark per entry
    that touched them, so any version's balance is a binary search away and the newest version's
    is the last mark.

    Each version is extended at most once: a poster first claims its version (:meth:`claim`), and
    whoever loses the claim continues on a private copy. Readers of older versions never see a
    half-appended entry, because they only look at the first ``count`` entries and marks.
    """

    __slots__ = ("claims", "entries", "first_seen", "marks", "positions")

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []
        self.positions: dict[str, int] = {}
        self.marks: dict[_BalanceKey, list[_Mark]] = {}
        self.first_seen: list[tuple[int, _BalanceKey]] = []
        """Every balance key with the entry count that created it, in order of creation."""
        self.claims: dict[int, object] = {}
        """Which poster extends each version; a version is only ever extended once."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_Store.of, (tuple(self.entries),))

    @classmethod
    def of(cls, entries: Iterable[JournalEntry]) -> _Store:
        store = cls()
        for entry in entries:
            store.append(entry)
        return store

    def claim(self, count: int) -> bool:
        """Whether the caller may extend the version of ``count`` entries; true once per version.

        ``dict.setdefault`` is a single atomic step on a built-in dict, so of two posters racing
        for one version exactly one wins, without a lock in the domain.
        """
        token = object()
        return self.claims.setdefault(count, token) is token

    def append(self, entry: JournalEntry) -> None:
        count = len(self.entries) + 1
        self.positions[entry.entry_id] = count - 1
        self.entries.append(entry)
        for posting in entry.postings:
            currency = posting.currency
            self._mark((posting.account, currency, None), count, posting.units)
            if posting.party is not None:
                self._mark((posting.account, currency, posting.party), count, posting.units)

    def _mark(self, key: _BalanceKey, count: int, units: int) -> None:
        marks = self.marks.get(key)
        if marks is None:
            debit = credit = 0
        else:
            _, debit, credit = marks[-1]
        if units > 0:
            debit += units
        else:
            credit -= units
        if marks is None:
            # Published complete, so a reader never finds a key without marks.
            self.marks[key] = [(count, debit, credit)]
            self.first_seen.append((count, key))
        elif marks[-1][0] == count:
            marks[-1] = (count, debit, credit)
        else:
            marks.append((count, debit, credit))

    def turnover(self, key: _BalanceKey, count: int) -> tuple[int, int]:
        """Debit and credit units of ``key`` after the first ``count`` entries."""
        marks = self.marks.get(key)
        if not marks:
            return 0, 0
        last = marks[-1]
        if last[0] <= count:
            return last[1], last[2]
        index = bisect_right(marks, count, key=lambda mark: mark[0])
        if index == 0:
            return 0, 0
        _, debit, credit = marks[index - 1]
        return debit, credit

    def keys(self, count: int) -> list[_BalanceKey]:
        """The balance keys that exist after the first ``count`` entries."""
        # An append-only list may grow while it is read; keys created later are simply skipped.
        return [key for created, key in self.first_seen if created <= count]


@attrs.frozen
class TrialBalanceRow:
    """Debit and credit turnover of one account in one currency, and its balance."""

    account: str
    name: str
    currency: str
    debit: Money
    credit: Money

    @property
    def balance(self) -> Money:
        """Debit minus credit: positive for a debit balance, negative for a credit balance."""
        return self.debit - self.credit


@attrs.frozen
class TrialBalance:
    """Every account's turnover and balance per currency; debits equal credits per currency."""

    rows: tuple[TrialBalanceRow, ...]

    @classmethod
    def of(cls, entries: Iterable[JournalEntry], chart: ChartOfAccounts) -> TrialBalance:
        """The trial balance of ``entries``, sorted by currency and account."""
        sums: dict[tuple[str, str], list[int]] = {}
        for entry in entries:
            for posting in entry.postings:
                turnover = sums.setdefault((posting.currency, posting.account), [0, 0])
                if posting.units > 0:
                    turnover[0] += posting.units
                else:
                    turnover[1] -= posting.units
        return cls(
            tuple(
                TrialBalanceRow(
                    account,
                    chart.name(account),
                    currency,
                    from_minor(debit, currency),
                    from_minor(credit, currency),
                )
                for (currency, account), (debit, credit) in sorted(sums.items())
            )
        )

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies that appear, sorted."""
        return tuple(sorted({row.currency for row in self.rows}))

    def totals(self, currency: str) -> tuple[Money, Money]:
        """Total debits and total credits in ``currency``."""
        rows = [row for row in self.rows if row.currency == currency]
        return (
            total((row.debit for row in rows), currency),
            total((row.credit for row in rows), currency),
        )

    @property
    def is_balanced(self) -> bool:
        """Whether total debits equal total credits in every currency."""
        return all(debit == credit for debit, credit in map(self.totals, self.currencies))

    def render(self) -> str:
        """The trial balance as aligned text, one block of rows and a total per currency."""
        table = [("account", "currency", "debit", "credit", "balance")]
        for currency in self.currencies:
            table.extend(
                (
                    f"{row.account} {row.name}".strip(),
                    currency,
                    _amount(row.debit),
                    _amount(row.credit),
                    _amount(row.balance),
                )
                for row in self.rows
                if row.currency == currency
            )
            debit, credit = self.totals(currency)
            table.append(
                ("total", currency, _amount(debit), _amount(credit), _amount(debit - credit))
            )
        widths = [max(len(line[i]) for line in table) for i in range(5)]
        lines = []
        for line in table:
            left = f"{line[0].ljust(widths[0])}  {line[1].ljust(widths[1])}"
            right = "  ".join(line[i].rjust(widths[i]) for i in range(2, 5))
            lines.append(f"{left}  {right}")
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)


def _amount(value: Money) -> str:
    return f"{value.amount:f}"


@attrs.frozen(eq=False)
class Ledger:
    """An immutable journal of posted entries with running balances per account and currency.

    Build one with :meth:`Ledger.empty`; every :meth:`post` returns a new ledger and leaves this one
    as it was. Only accounts of the ledger's chart may be posted to (:class:`UnknownAccount`).
    Balances are debit minus credit: receivables show positive, revenue negative.
    """

    chart: ChartOfAccounts
    _store: _Store = attrs.field(repr=False)
    _count: int = 0

    @classmethod
    def empty(cls, chart: ChartOfAccounts | None = None) -> Ledger:
        """A ledger with no entries over ``chart`` (default: :meth:`ChartOfAccounts.default`)."""
        return cls(chart or ChartOfAccounts.default(), _Store())

    # --- entries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[JournalEntry]:
        entries = self._store.entries
        return (entries[i] for i in range(self._count))

    @property
    def entries(self) -> tuple[JournalEntry, ...]:
        """The posted entries in posting order."""
        return tuple(self._store.entries[: self._count])

    def get(self, entry_id: str) -> JournalEntry | None:
        """The posted entry with ``entry_id``, if any."""
        position = self._store.positions.get(entry_id)
        if position is None or position >= self._count:
            return None
        return self._store.entries[position]

    def __contains__(self, entry_id: object) -> bool:
        return isinstance(entry_id, str) and self.get(entry_id) is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ledger):
            return NotImplemented
        return self.chart == other.chart and self.entries == other.entries

    def __hash__(self) -> int:
        last = self._store.entries[self._count - 1].entry_id if self._count else ""
        return hash((self._count, last))

    # --- posting ------------------------------------------------------------------------------

    def post(self, entry: JournalEntry) -> Ledger:
        """This ledger with ``entry`` posted; itself if the very same entry is already there.

        Raises :class:`DuplicateEntry` for a known id with different content and
        :class:`UnknownAccount` for an account outside the chart.
        """
        return self.post_batch((entry,))

    def post_batch(self, entries: Iterable[JournalEntry]) -> Ledger:
        """This ledger with all ``entries`` posted, or an error and nothing posted.

        Entries already posted (same id, same content) are skipped, as are repeats within the batch.
        """
        fresh: dict[str, JournalEntry] = {}
        for entry in entries:
            known = fresh.get(entry.entry_id) or self.get(entry.entry_id)
            if known is not None:
                if known != entry:
                    raise DuplicateEntry(entry_id=entry.entry_id)
                continue
            for posting in entry.postings:
                if not self.chart.has(posting.account):
                    raise UnknownAccount(account=posting.account, entry_id=entry.entry_id)
            fresh[entry.entry_id] = entry
        if not fresh:
            return self
        store = self._store
        if len(store.entries) != self._count or not store.claim(self._count):
            # Someone already posted from this version: continue on a private copy.
            store = _Store.of(store.entries[: self._count])
        for entry in fresh.values():
            store.append(entry)
        return Ledger(self.chart, store, self._count + len(fresh))

    # --- balances -----------------------------------------------------------------------------

    def turnover(
        self, account: str, currency: str, party: str | None = None
    ) -> tuple[Money, Money]:
        """Total debits and credits of ``account`` in ``currency`` (only ``party``'s if given)."""
        debit, credit = self._store.turnover((account, currency, party), self._count)
        return from_minor(debit, currency), from_minor(credit, currency)

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """Debit minus credit of ``account`` in ``currency``; only ``party``'s postings if given."""
        debit, credit = self._store.turnover((account, currency, party), self._count)
        return from_minor(debit - credit, currency)

    def role_balance(self, role: AccountRole, currency: str, party: str | None = None) -> Money:
        """The balance of the account that plays ``role`` in the ledger's chart."""
        return self.balance(self.chart.code(role), currency, party)

    def receivable_balance(self, currency: str, party: str | None = None) -> Money:
        """What customers (or the customer ``party``) owe in ``currency``: the AR control balance.

        It must equal the sum of the open items in that currency (or that customer's).
        """
        return self.role_balance(AccountRole.RECEIVABLE, currency, party)

    def balances_by_party(self, account: str, currency: str) -> Mapping[str, Money]:
        """The balance of ``account`` in ``currency`` per party, for every party ever posted."""
        balances: dict[str, Money] = {}
        for key in sorted(self._store.keys(self._count), key=_sort_key):
            posted_account, posted_currency, party = key
            if posted_account == account and posted_currency == currency and party is not None:
                debit, credit = self._store.turnover(key, self._count)
                balances[party] = from_minor(debit - credit, currency)
        return MappingProxyType(balances)

    def trial_balance(self) -> TrialBalance:
        """Turnover and balance of every account per currency, sorted by currency and account."""
        keys = sorted(
            (key for key in self._store.keys(self._count) if key[2] is None),
            key=lambda key: (key[1], key[0]),
        )
        rows = []
        for key in keys:
            account, currency, _ = key
            debit, credit = self._store.turnover(key, self._count)
            rows.append(
                TrialBalanceRow(
                    account,
                    self.chart.name(account),
                    currency,
                    from_minor(debit, currency),
                    from_minor(credit, currency),
                )
            )
        return TrialBalance(tuple(rows))


def _sort_key(key: _BalanceKey) -> tuple[str, str, str]:
    return key[0], key[1], key[2] or ""
