"""CSV exports read with a declared :class:`CsvMapping`: which column holds what, the date format,
the decimal separator, and how the sign of an amount is shown."""

from __future__ import annotations

import csv
import enum
import io
from datetime import date, datetime

import attrs

from o2c.adapters.statements._common import Reader, amount_of, check_size, decode, refuse
from o2c.domain.errors import DomainError
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    StatementEntry,
    StatementKind,
    Transaction,
)
from o2c.ports.statements import Progress, StatementLimits

__all__ = ["CsvMapping", "SignConvention", "read_csv"]


class SignConvention(enum.Enum):
    """How a CSV says which way money moved."""

    SIGNED = "signed"
    """One amount column: positive is a credit, negative a debit."""
    INVERTED = "inverted"
    """One amount column: positive is a debit (a card account's view)."""
    SPLIT = "split"
    """Two columns, ``debit_column`` and ``credit_column``; one of them is filled."""
    INDICATOR = "indicator"
    """One amount column and ``indicator_column`` holding ``credit_marks`` or anything else."""


@attrs.frozen
class CsvMapping:
    """Which column (by header name) holds what, and how values are written."""

    account: str
    """The account the export is for (CSV files rarely say)."""
    currency: str
    date_column: str
    amount_column: str = "amount"
    value_date_column: str = ""
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    """``1.234,56`` instead of ``1,234.56``."""
    sign: SignConvention = SignConvention.SIGNED
    debit_column: str = ""
    credit_column: str = ""
    indicator_column: str = ""
    credit_marks: tuple[str, ...] = ("C", "CR", "CRDT", "H")
    payer_column: str = ""
    payer_account_column: str = ""
    reference_column: str = ""
    remittance_column: str = ""
    bank_reference_column: str = ""
    end_to_end_column: str = ""
    code_column: str = ""
    charge_codes: tuple[str, ...] = ()
    """Values of ``code_column`` that mean bank charges."""
    delimiter: str = ","
    encoding: str = "utf-8"
    statement_id: str = ""


def _number(text: str, mapping: CsvMapping) -> str:
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if mapping.decimal_comma:
        return value.replace(".", "").replace(",", ".")
    return value.replace(",", "")


def _day(text: str, mapping: CsvMapping, source: str, where: str) -> date:
    try:
        return datetime.strptime(text.strip(), mapping.date_format).date()  # noqa: DTZ007
    except ValueError:
        refuse(source, where, f"date {text.strip()!r} is not {mapping.date_format}")


def read_csv(
    path: str,
    mapping: CsvMapping,
    *,
    limits: StatementLimits | None = None,
    progress: Progress | None = None,
) -> tuple[BankStatement, ...]:
    """The CSV export as one statement (no balances), or a refusal of the whole file."""
    limits = limits or StatementLimits()
    size = check_size(path, limits)
    with open(path, "rb") as handle:
        data = b"".join(Reader(handle, path, size, limits, progress).chunks())
    rows = csv.DictReader(
        io.StringIO(decode(data, path, mapping.encoding)), delimiter=mapping.delimiter
    )
    needed = [mapping.date_column]
    if mapping.sign is SignConvention.SPLIT:
        needed += [mapping.debit_column, mapping.credit_column]
    else:
        needed.append(mapping.amount_column)
    if mapping.sign is SignConvention.INDICATOR:
        needed.append(mapping.indicator_column)
    missing = [c for c in needed if c not in (rows.fieldnames or ())]
    if missing:
        refuse(path, "line 1", f"no column {', '.join(map(repr, missing))} in the header")
    entries: list[StatementEntry] = []
    for position, row in enumerate(rows, start=1):
        where = f"entry {position} (line {position + 1})"
        if None in row:
            refuse(path, where, "more fields than the header names")

        def cell(column: str, row: dict[str, str] = row) -> str:
            return (row.get(column) or "").strip() if column else ""

        if mapping.sign is SignConvention.SPLIT:
            debit_text, credit_text = cell(mapping.debit_column), cell(mapping.credit_column)
            if bool(debit_text) == bool(credit_text):
                refuse(path, where, "needs exactly one of the debit and credit columns filled")
            text = _number(debit_text or credit_text, mapping).lstrip("-")
            debit = bool(debit_text)
        else:
            text = _number(cell(mapping.amount_column), mapping)
            negative = text.startswith("-")
            text = text.lstrip("+-")
            if mapping.sign is SignConvention.INDICATOR:
                debit = cell(mapping.indicator_column).upper() not in mapping.credit_marks
            else:
                debit = negative != (mapping.sign is SignConvention.INVERTED)
        amount = amount_of(text, mapping.currency, path, where)
        booked = _day(cell(mapping.date_column), mapping, path, where)
        valued = cell(mapping.value_date_column)
        code = cell(mapping.code_column)
        try:
            entries.append(
                StatementEntry(
                    position=position,
                    amount=amount,
                    direction=Direction.DEBIT if debit else Direction.CREDIT,
                    booking_date=booked,
                    value_date=_day(valued, mapping, path, where) if valued else booked,
                    bank_reference=cell(mapping.bank_reference_column),
                    code=BankTransactionCode(
                        subfamily="CHRG" if code and code in mapping.charge_codes else "",
                        proprietary=code,
                    ),
                    transactions=(
                        Transaction(
                            payer_name=cell(mapping.payer_column),
                            payer_account=cell(mapping.payer_account_column),
                            reference=cell(mapping.reference_column),
                            remittance=cell(mapping.remittance_column),
                            end_to_end_id=cell(mapping.end_to_end_column),
                        ),
                    ),
                )
            )
        except DomainError as error:
            refuse(path, where, str(error))
    return (
        BankStatement(
            source=path,
            statement_id=mapping.statement_id or path.rsplit("/", 1)[-1],
            account=mapping.account,
            currency=mapping.currency,
            kind=StatementKind.STATEMENT,
            entries=tuple(entries),
        ),
    )
