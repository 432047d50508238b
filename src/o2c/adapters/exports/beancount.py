"""The journal as a Beancount ledger: a plain-text file the Beancount tools check and report on.

The file holds

* an ``open`` directive for every account of the chart (and any other account posted to), on the
  first day of the export;
* an opening-balances transaction when the export starts after the journal does (the balance of
  every account on the day before the first day), so the file stands on its own;
* one transaction per journal entry, its metadata linking back to o2c (``o2c-entry``, the entry
  id; ``o2c-source``, the document or event it records; the entry's own metadata, such as
  ``kind`` and ``customer``), the documents it concerns as links (``^INV-1``), and each
  posting's document, customer and memo as posting metadata;
* a ``balance`` assertion of the receivables control account per currency at every month end
  the export covers (dated the first day of the next month, as Beancount checks balances at the
  start of the day).

Account names are ``<Type>:<code>-<Name>``, e.g. ``Assets:1200-AccountsReceivable``; the type
comes from the account's role in the chart (receivables, bank and clearing are assets; tax,
unapplied cash and customer credit liabilities; revenue and other income income; discounts given
up, write-offs, bad debt, fees and FX losses expenses), for other accounts from the first digit of
the code (1 assets, 2 liabilities, 3 equity, 4 income, 5 to 9 expenses), and may be given
per code with ``account_types``.

Beancount itself is not needed to write the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import TextIO

from o2c.domain.errors import InvalidInput
from o2c.domain.ledger import AccountRole, ChartOfAccounts, JournalEntry, TrialBalance
from o2c.domain.money import Money, from_minor, to_minor
from o2c.domain.periods import AccountingPeriod

__all__ = ["ACCOUNT_TYPES", "BeancountExport", "beancount_account"]

_EPOCH = date(1970, 1, 1)

ACCOUNT_TYPES = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
"""Beancount's five account types."""

_ROLE_TYPES: Mapping[AccountRole, str] = {
    AccountRole.BANK: "Assets",
    AccountRole.GATEWAY_CLEARING: "Assets",
    AccountRole.RECEIVABLE: "Assets",
    AccountRole.TAX_PAYABLE: "Liabilities",
    AccountRole.UNAPPLIED_CASH: "Liabilities",
    AccountRole.CUSTOMER_CREDIT: "Liabilities",
    AccountRole.REVENUE: "Income",
    AccountRole.FEE_INCOME: "Income",
    AccountRole.INTEREST_INCOME: "Income",
    AccountRole.FX_GAIN: "Income",
    AccountRole.SALES_DISCOUNTS: "Expenses",
    AccountRole.WRITE_OFF: "Expenses",
    AccountRole.BAD_DEBT: "Expenses",
    AccountRole.PAYMENT_FEES: "Expenses",
    AccountRole.FX_LOSS: "Expenses",
}

_BY_DIGIT = {
    "0": "Assets",
    "1": "Assets",
    "2": "Liabilities",
    "3": "Equity",
    "4": "Income",
}


def _component(text: str) -> str:
    """A Beancount account component: letters, digits and dashes, starting upper-case or digit."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    joined = "".join(word[:1].upper() + word[1:] for word in words)
    return joined if joined else "X"


def beancount_account(code: str, name: str, account_type: str) -> str:
    """The Beancount name of account ``code``: ``Assets:1200-AccountsReceivable``."""
    if account_type not in ACCOUNT_TYPES:
        raise InvalidInput(
            field="account type", value=account_type, reason=f"must be one of {ACCOUNT_TYPES}"
        )
    code_part = "-".join(re.findall(r"[A-Za-z0-9]+", code)) or "X"
    if not code_part[0].isdigit():
        code_part = code_part[0].upper() + code_part[1:]
    named = _component(name) if name and name != code else ""
    return f"{account_type}:{code_part}{'-' + named if named else ''}"


def _string(text: str) -> str:
    """A Beancount string literal: quotes and backslashes escaped, control characters spaced."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _meta_key(key: str) -> str:
    """A metadata key Beancount accepts: a lower-case letter, then at least one more letter,
    digit, dash or underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    return cleaned if re.fullmatch(r"[a-z][A-Za-z0-9_-]+", cleaned) else f"o2c-{cleaned}"


def _link(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_/.-]", "-", text)


def _amount(value: Money) -> str:
    return f"{value.amount:f} {value.currency.code}"


class BeancountExport:
    """Writes journal entries as a Beancount file that ``bean-check`` accepts.

    ``account_types`` gives the Beancount type (``Assets``, ``Liabilities``, ``Equity``,
    ``Income``, ``Expenses``) of account codes whose role or first digit would not say it.
    """

    name = "beancount"
    suffix = ".beancount"

    def __init__(self, account_types: Mapping[str, str] | None = None) -> None:
        self.account_types = dict(account_types or {})
        for code, account_type in self.account_types.items():
            beancount_account(code, code, account_type)  # refuses an unknown type early

    def account_type(self, code: str, chart: ChartOfAccounts) -> str:
        """The Beancount type of account ``code``."""
        if code in self.account_types:
            return self.account_types[code]
        for role, role_code in chart.roles:
            if role_code == code:
                return _ROLE_TYPES[role]
        return _BY_DIGIT.get(code[:1], "Expenses" if code[:1].isdigit() else "Assets")

    def write(
        self,
        entries: Iterable[JournalEntry],
        out: TextIO,
        *,
        chart: ChartOfAccounts | None = None,
        opening: TrialBalance | None = None,
        opening_date: date | None = None,
    ) -> int:
        """Write ``entries`` (with ``opening`` balances as of ``opening_date``) to ``out``.

        ``opening`` is the trial balance of everything before the export; its balances are
        posted on ``opening_date`` (by default the day before the first entry). Returns the
        number of entries written.
        """
        chart = chart or ChartOfAccounts.default()
        ordered = sorted(entries, key=lambda entry: entry.date)
        opening_rows = [r for r in (opening.rows if opening else ()) if r.balance.amount != 0]
        first = ordered[0].date if ordered else (opening_date or _EPOCH)
        if opening_rows:
            first = min(first, opening_date or first - timedelta(days=1))
        codes = dict.fromkeys(chart.names)
        for entry in ordered:
            codes.update(dict.fromkeys(p.account for p in entry.postings))
        names: dict[str, str] = {}
        for code in codes:
            name = beancount_account(code, chart.name(code), self.account_type(code, chart))
            while name in names.values():
                name += "-X"
            names[code] = name

        out.write('option "title" "o2c journal"\n\n')
        for code in codes:
            out.write(f"{first.isoformat()} open {names[code]}\n")
            out.write(f"  name: {_string(chart.name(code))}\n")
        out.write("\n")

        receivable = chart.code(AccountRole.RECEIVABLE) if _maps(chart) else None
        running: dict[str, int] = {}
        if opening_rows:
            out.write(f'{first.isoformat()} * "Opening balances"\n')
            for row in opening_rows:
                out.write(f"  {names[row.account]}  {_amount(row.balance)}\n")
                if row.account == receivable:
                    running[row.currency] = running.get(row.currency, 0) + to_minor(row.balance)
            out.write("\n")

        month_ends = _month_ends(ordered)
        for entry in ordered:
            while month_ends and month_ends[0] < entry.date:
                self._assert(out, month_ends.pop(0), receivable, names, running)
            self._transaction(out, entry, names)
            for posting in entry.postings:
                if posting.account == receivable:
                    running[posting.currency] = running.get(posting.currency, 0) + posting.units
        for day in month_ends:
            self._assert(out, day, receivable, names, running)
        return len(ordered)

    def _transaction(self, out: TextIO, entry: JournalEntry, names: Mapping[str, str]) -> None:
        documents = dict.fromkeys(
            _link(text) for text in (entry.source, *(p.document or "" for p in entry.postings))
        )
        links = "".join(f" ^{link}" for link in documents if link)
        out.write(f"{entry.date.isoformat()} * {_string(entry.description)}{links}\n")
        out.write(f"  o2c-entry: {_string(entry.entry_id)}\n")
        if entry.source:
            out.write(f"  o2c-source: {_string(entry.source)}\n")
        written = {"o2c-entry", "o2c-source"}
        for key, value in entry.metadata:
            meta = _meta_key(key)
            if meta not in written:
                written.add(meta)
                out.write(f"  {meta}: {_string(value)}\n")
        for posting in entry.postings:
            signed = from_minor(posting.units, posting.currency)
            out.write(f"  {names[posting.account]}  {_amount(signed)}\n")
            for label, text in (
                ("document", posting.document),
                ("customer", posting.party),
                ("memo", posting.memo),
            ):
                if text:
                    out.write(f"    {label}: {_string(text)}\n")
        out.write("\n")

    @staticmethod
    def _assert(
        out: TextIO,
        month_end: date,
        receivable: str | None,
        names: Mapping[str, str],
        running: Mapping[str, int],
    ) -> None:
        if receivable is None:
            return
        day = (month_end + timedelta(days=1)).isoformat()
        for currency, units in sorted(running.items()):
            balance = from_minor(units, currency)
            out.write(f"{day} balance {names[receivable]}  {_amount(balance)}\n")
        if running:
            out.write("\n")


def _maps(chart: ChartOfAccounts) -> bool:
    return any(role is AccountRole.RECEIVABLE for role, _ in chart.roles)


def _month_ends(entries: list[JournalEntry]) -> list[date]:
    """The last day of every month from the first entry's to the last entry's."""
    if not entries:
        return []
    period = AccountingPeriod.of(entries[0].date)
    last = AccountingPeriod.of(entries[-1].date)
    ends = []
    while period <= last:
        ends.append(period.end)
        period = period.following
    return ends
