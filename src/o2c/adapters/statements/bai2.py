"""BAI2 cash management files: one statement per account section (``03`` to ``49``).

Records end with ``/`` or at the end of a line, several may share a line, and ``88`` continues
the record before it. Every control total and record count in the trailers (``49``, ``98``,
``99``) is checked, so a cut or altered file is refused. Amounts are in minor units of the
account's currency (USD when the file names none).
"""

from __future__ import annotations

import re
from datetime import date

from o2c.adapters.statements._common import Reader, check_size, decode, refuse
from o2c.domain.errors import DomainError
from o2c.domain.money import Money, as_currency, from_minor
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    StatementEntry,
    StatementKind,
    Transaction,
)
from o2c.ports.statements import Progress, StatementLimits

__all__ = ["read_bai2"]

_SPLIT = re.compile(r"/\s+(?=(?:01|02|03|16|49|88|98|99),)")
_RECORD = re.compile(r"^\d\d,")
_OPENING_LEDGER = "010"
_CLOSING_LEDGER = "015"
_FEE_TYPES = frozenset({"698"})
"""Miscellaneous fees."""
_RETURN_TYPES = frozenset({"555", "557"})
"""Deposited item returned; ACH credit receipt return."""
_REASON = re.compile(r'Reason:\s*"?([A-Z0-9]+)"?')


def _records(text: str) -> list[tuple[int, str, int]]:
    """Each logical record: its line, its text with continuations joined, how many records."""
    records: list[tuple[int, str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for part in _SPLIT.split(line.strip()):
            if not part:
                continue
            if records and not _RECORD.match(part):
                # A line broken inside a record's text, with no 88 to say so.
                first, previous, count = records[-1]
                records[-1] = (first, previous + " " + part, count)
                continue
            if part.startswith("88,") and records:
                first, previous, count = records[-1]
                # A transaction's continuation goes on with its text; others with more fields.
                glue = " " if previous.startswith("16,") else ","
                records[-1] = (first, previous.removesuffix("/") + glue + part[3:], count + 1)
                continue
            records.append((number, part, 1))
    return records


def _int(text: str, source: str, where: str) -> int:
    value = text.strip()
    try:
        return int(value) if value not in ("", "+", "-") else 0
    except ValueError:
        refuse(source, where, f"{value!r} is not a whole number")


def _funds_extra(fields: list[str], at: int, source: str, where: str) -> int:
    """How many fields the funds type at ``at`` brings after itself."""
    funds = fields[at].strip() if at < len(fields) else ""
    if funds == "S":
        return 3
    if funds == "V":
        return 2
    if funds == "D":
        count = _int(fields[at + 1] if at + 1 < len(fields) else "", source, where)
        return 1 + 2 * count
    return 0


class _Account:
    def __init__(self, number: int, fields: list[str], currency: str, source: str) -> None:
        self.where = f"line {number}"
        self.number = fields[1].strip() if len(fields) > 1 else ""
        self.currency = (fields[2].strip() if len(fields) > 2 else "") or currency or "USD"
        self.balances: dict[str, int] = {}
        self.control = 0
        self.records = 1
        self.entries: list[StatementEntry] = []
        at = 3
        while at < len(fields):
            code = fields[at].strip()
            if not code:
                at += 4  # an empty summary slot
                continue
            amount = _int(fields[at + 1] if at + 1 < len(fields) else "", source, self.where)
            self.balances.setdefault(code, amount)
            self.control += amount
            extra = _funds_extra(fields, at + 3, source, self.where)
            at += 4 + extra


def read_bai2(  # noqa: PLR0915  (one pass over the records, one branch per record type)
    path: str,
    *,
    limits: StatementLimits | None = None,
    progress: Progress | None = None,
    encoding: str = "utf-8",
) -> tuple[BankStatement, ...]:
    """Every account section of a BAI2 file as a statement, or a refusal of the whole file."""
    limits = limits or StatementLimits()
    size = check_size(path, limits)
    with open(path, "rb") as handle:
        data = b"".join(Reader(handle, path, size, limits, progress).chunks())
    records = _records(decode(data, path, encoding))
    if not records or not records[0][1].startswith("01,"):
        where = f"line {records[0][0]}" if records else "file"
        refuse(path, where, "is not a BAI2 file (it must begin with a 01 file header)")
    statements: list[BankStatement] = []
    file_id = ""
    as_of: date | None = None
    group_currency = ""
    account: _Account | None = None
    group_total = file_total = 0
    group_accounts = 0
    groups = 0
    position = 0
    finished = False
    for number, record, physical in records:
        where = f"line {number}"
        fields = record.removesuffix("/").split(",")
        kind = fields[0]
        if finished:
            refuse(path, where, "records after the 99 file trailer")
        if kind == "01":
            file_id = fields[3].strip() if len(fields) > 3 else ""
        elif kind == "02":
            group_currency = fields[6].strip() if len(fields) > 6 else ""
            as_of = _date(fields[4] if len(fields) > 4 else "", path, where)
            group_total = group_accounts = 0
        elif kind == "03":
            if account is not None:
                refuse(path, where, "a new account before the 49 trailer of the last one")
            account = _Account(number, fields, group_currency, path)
            account.records = physical
        elif kind == "16":
            if account is None or as_of is None:
                refuse(path, where, "a transaction outside an account section")
            position += 1
            account.records += physical
            entry, amount = _entry(fields, account.currency, as_of, position, path, where=where)
            account.control += amount
            account.entries.append(entry)
        elif kind == "49":
            if account is None or as_of is None:
                refuse(path, where, "an account trailer without an account")
            account.records += 1
            total = _int(fields[1] if len(fields) > 1 else "", path, where)
            count = _int(fields[2] if len(fields) > 2 else "", path, where)
            if total != account.control:
                refuse(
                    path,
                    where,
                    f"account {account.number}: control total {total} but its amounts add up "
                    f"to {account.control}",
                )
            if count and count != account.records:
                refuse(
                    path,
                    where,
                    f"account {account.number}: {count} records said, {account.records} found",
                )
            statements.append(_statement(path, file_id, account, as_of))
            group_total += total
            group_accounts += 1
            account = None
        elif kind == "98":
            total = _int(fields[1] if len(fields) > 1 else "", path, where)
            if account is not None:
                refuse(path, where, "a group trailer inside an account section (no 49)")
            if total != group_total:
                refuse(
                    path,
                    where,
                    f"group control total {total} but its accounts add up to {group_total}",
                )
            file_total += total
            groups += 1
        elif kind == "99":
            total = _int(fields[1] if len(fields) > 1 else "", path, where)
            if total != file_total:
                refuse(
                    path, where, f"file control total {total} but its groups add up to {file_total}"
                )
            finished = True
        else:
            refuse(path, where, f"record type {kind!r} is not a BAI2 record")
    if not finished:
        refuse(path, "file", "is cut short: the 99 file trailer is missing")
    return tuple(statements)


def _date(text: str, source: str, where: str) -> date:
    value = text.strip()
    try:
        return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except (ValueError, IndexError):
        refuse(source, where, f"date {value!r} is not YYMMDD")


def _entry(
    fields: list[str], currency: str, as_of: date, position: int, source: str, *, where: str
) -> tuple[StatementEntry, int]:
    if len(fields) < 3:
        refuse(source, where, "a transaction needs a type code and an amount")
    code = fields[1].strip()
    if not code.isdigit():
        refuse(source, where, f"type code {code!r} is not a number")
    units = _int(fields[2], source, where)
    at = 3
    value_date: date | None = None
    funds = fields[at].strip() if at < len(fields) else ""
    if funds == "V" and at + 1 < len(fields) and fields[at + 1].strip():
        value_date = _date(fields[at + 1], source, where)
    at += 1 + _funds_extra(fields, at, source, where)
    bank_reference = fields[at].strip() if at < len(fields) else ""
    customer_reference = fields[at + 1].strip() if at + 1 < len(fields) else ""
    text = ",".join(fields[at + 2 :]).strip()
    number = int(code)
    # Type codes 100-399 (and 900-959) are credits, 400-699 (and 960-999) debits.
    debit = 400 <= number < 700 or number >= 960
    try:
        amount: Money = from_minor(abs(units), as_currency(currency.upper()))
        reason = _REASON.search(text)
        entry = StatementEntry(
            position=position,
            amount=amount,
            direction=Direction.DEBIT if debit else Direction.CREDIT,
            booking_date=as_of,
            value_date=value_date or as_of,
            bank_reference=bank_reference,
            entry_reference=customer_reference,
            code=BankTransactionCode(
                subfamily=(
                    "CHRG" if code in _FEE_TYPES else "RRTN" if code in _RETURN_TYPES else ""
                ),
                proprietary=code,
            ),
            transactions=(
                Transaction(
                    remittance=" ".join(text.split()),
                    end_to_end_id=customer_reference,
                    return_reason=reason[1] if reason else "",
                ),
            ),
        )
    except DomainError as error:
        refuse(source, where, str(error))
    return entry, units


def _statement(source: str, file_id: str, account: _Account, as_of: date) -> BankStatement:
    currency = as_currency(account.currency.upper())
    opening = account.balances.get(_OPENING_LEDGER)
    closing = account.balances.get(_CLOSING_LEDGER)
    return BankStatement(
        source=source,
        statement_id=f"{file_id}/{account.number}/{as_of.isoformat()}",
        account=account.number,
        currency=currency.code,
        kind=StatementKind.STATEMENT,
        entries=tuple(account.entries),
        opening=from_minor(opening, currency) if opening is not None else None,
        closing=from_minor(closing, currency) if closing is not None else None,
    )
