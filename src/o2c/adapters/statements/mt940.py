"""SWIFT MT940 statements and MT942 intraday reports.

The reader takes the statement body (the tags ``:20:`` to ``:62F:``, and ``:86:`` after each
``:61:``) with or without the SWIFT envelope or a bank's header lines. The ``:86:`` text is read
in the three layouts banks use: German field codes (``?20`` … ``?63`` with ``EREF+`` and
``SVWZ+``), slash keywords (``/EREF/``, ``/NAME/``, ``/REMI/``, ``/RTRN/``), or free text.
"""

from __future__ import annotations

import re
from datetime import date

from o2c.adapters.statements._common import Reader, amount_of, check_size, decode, refuse
from o2c.domain.errors import DomainError
from o2c.domain.money import Money
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    StatementEntry,
    StatementKind,
    Transaction,
)
from o2c.ports.statements import Progress, StatementLimits

__all__ = ["read_mt940"]

_TAG = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<ccy>[A-Z]{3})(?P<amount>[\d,]+)$")
_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|C|D|EC|ED)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]*)(?P<type>[A-Z][A-Z0-9]{3})(?P<ref>.*?)(?://(?P<bank>.*))?$"
)
_FLOOR = re.compile(r"^(?P<ccy>[A-Z]{3})")
_CHARGE_TYPES = frozenset({"CHG", "COM"})
_RETURN_TYPES = frozenset({"RTI", "RTR"})
_GERMAN = re.compile(r"\?(\d{2})")
_SLASH_KEYS = (
    "EREF", "ORDP", "BENM", "NAME", "REMI", "IBAN", "BIC", "ADDR", "RTRN", "MARF", "CSID",
    "PREF", "ISDT", "TRCD", "CDTRREF", "CDTRREFTP", "CD", "CREF", "USTD", "SVWZ", "ULTC", "ULTD",
    "PURP", "CNTP", "BUSP", "ACCW", "ID",
)  # fmt: skip
_SLASH = re.compile(r"/(" + "|".join(sorted(_SLASH_KEYS, key=len, reverse=True)) + r")/")
_SEPA = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC)\+")


def _ymd(text: str, source: str, where: str) -> date:
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        refuse(source, where, f"date {text!r} is not YYMMDD")


def _amount(text: str, currency: str, source: str, where: str) -> Money:
    # SWIFT asks for a decimal comma; some banks leave it out of whole amounts ("500").
    if text.count(",") > 1:
        refuse(source, where, f"amount {text!r} has more than one decimal comma")
    whole, _, fraction = text.partition(",")
    return amount_of(f"{whole or '0'}.{fraction or '0'}", currency, source, where)


def _german(text: str) -> Transaction:
    fields: dict[str, str] = {}
    parts = _GERMAN.split(text)
    for code, value in zip(parts[1::2], parts[2::2], strict=False):
        fields[code] = fields.get(code, "") + value
    purpose = "".join(fields.get(f"{n}", "") for n in [*range(20, 30), *range(60, 64)])
    sepa = dict(zip(*[iter(_SEPA.split(purpose)[1:])] * 2, strict=False))
    return Transaction(
        payer_name=(fields.get("32", "") + fields.get("33", "")).strip(),
        payer_account=fields.get("31", "").strip(),
        remittance=(sepa.get("SVWZ") or purpose).strip(),
        end_to_end_id=sepa.get("EREF", "").strip(),
        reference=sepa.get("KREF", "").strip(),
        return_reason=fields.get("38", "").strip() if fields.get("00", "").startswith("R") else "",
    )


def _slashed(text: str) -> Transaction:
    parts = _SLASH.split(text)
    fields: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=False):
        fields.setdefault(key, value.strip("/ ").strip())
    name = fields.get("NAME", "")
    return Transaction(
        payer_name=name,
        payer_account=fields.get("IBAN", ""),
        remittance=fields.get("REMI", "") or fields.get("USTD", ""),
        end_to_end_id=fields.get("EREF", ""),
        reference=fields.get("CDTRREF", ""),
        return_reason=fields.get("RTRN", ""),
    )


def _details(text: str) -> Transaction:
    joined = "".join(text.splitlines()) if "?" in text else " ".join(text.split())
    if re.match(r"^\s*\d{3}\?", joined):
        return _german(joined)
    if _SLASH.search(joined):
        return _slashed(joined)
    return Transaction(remittance=joined.strip())


class _Statement:
    def __init__(self, source: str, index: int) -> None:
        self.source = source
        self.index = index
        self.reference = ""
        self.account = ""
        self.number = ""
        self.currency = ""
        self.opening: Money | None = None
        self.closing: Money | None = None
        self.closed = False
        self.intraday = False
        self.lines: list[tuple[str, str]] = []
        """Each ``:61:`` with the ``:86:`` that follows it (empty when there is none)."""


def _balance(text: str, source: str, where: str) -> tuple[Money, str]:
    match = _BALANCE.match(text.strip())
    if match is None:
        refuse(source, where, f"balance {text.strip()!r} is not [C|D]YYMMDDCCYAMOUNT")
    amount = _amount(match["amount"], match["ccy"], source, where)
    return (-amount if match["mark"] == "D" else amount), match["ccy"]


def _split(text: str, source: str) -> list[_Statement]:
    statements: list[_Statement] = []
    current: _Statement | None = None
    tag = ""
    values: list[list[str]] = []
    tagged: list[tuple[str, list[str]]] = []

    def close() -> None:
        if current is None:
            return
        for name, lines in tagged:
            _take(current, name, "\n".join(lines), source)
        tagged.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        match = _TAG.match(line)
        if match is None:
            if line.strip() in ("-", "-}") or line.startswith(("-XXX", "{", "}")):
                tag = ""
                continue
            if tag:
                values[-1].append(line)
            elif line.strip() and current is not None and current.closed:
                continue  # a bank's header lines between statements
            continue
        tag = match[1]
        if tag == "20":
            close()
            current = _Statement(source, len(statements) + 1)
            statements.append(current)
        elif current is None:
            refuse(source, f"line {number}", f"tag :{tag}: before the statement's :20:")
        values.append([match[2]])
        tagged.append((tag, values[-1]))
    close()
    return statements


def _take(statement: _Statement, tag: str, value: str, source: str) -> None:
    where = f"statement {statement.index} :{tag}:"
    if tag == "20":
        statement.reference = value.strip()
    elif tag == "25":
        statement.account = value.strip()
    elif tag in ("28", "28C"):
        statement.number = value.strip()
    elif tag in ("60F", "60M"):
        statement.opening, statement.currency = _balance(value, source, where)
    elif tag in ("62F", "62M"):
        statement.closing, currency = _balance(value, source, where)
        statement.currency = statement.currency or currency
        statement.closed = True
    elif tag == "34F":
        statement.intraday = True
        floor = _FLOOR.match(value.strip())
        statement.currency = statement.currency or (floor[1] if floor else "")
    elif tag in ("13D", "90D", "90C"):
        statement.intraday = True
    elif tag == "61":
        statement.lines.append((value, ""))
    elif tag == "86" and statement.lines and not statement.lines[-1][1] and not statement.closed:
        # A :86: after the closing balance is about the statement (ING puts its debit and
        # credit totals there), not about the last line.
        statement.lines[-1] = (statement.lines[-1][0], value)


def _entry(statement: _Statement, position: int, line: str, info: str) -> StatementEntry:
    source = statement.source
    where = f"entry {position} (statement {statement.index})"
    first, _, supplement = line.partition("\n")
    match = _LINE.match(first.strip())
    if match is None:
        refuse(source, where, f":61: {first.strip()!r} is not a statement line")
    if not statement.currency:
        refuse(source, where, "no currency: the statement has no :60F: balance")
    value = _ymd(match["value"], source, where)
    booked = value
    if match["entry"]:
        # The entry date has no year: the value date's, or the next one's across New Year.
        month, day = int(match["entry"][:2]), int(match["entry"][2:])
        try:
            booked = date(value.year, month, day)
            if (booked - value).days < -180:
                booked = date(value.year + 1, month, day)
            elif (booked - value).days > 180:
                booked = date(value.year - 1, month, day)
        except ValueError:
            refuse(source, where, f"entry date {match['entry']!r} is not MMDD")
    mark = match["mark"]
    debit = mark in ("D", "RC", "ED")
    amount = _amount(match["amount"], statement.currency, source, where)
    kind = match["type"]
    details = _details(info)
    if supplement.strip() and not details.remittance:
        details = Transaction(remittance=" ".join(supplement.split()))
    bank_reference = (match["bank"] or "").strip()
    if bank_reference.upper() == "NONREF":
        bank_reference = ""
    customer_reference = match["ref"].strip()
    if customer_reference.upper() not in ("", "NONREF") and not details.end_to_end_id:
        details = Transaction(
            payer_name=details.payer_name,
            payer_account=details.payer_account,
            reference=details.reference,
            remittance=details.remittance,
            end_to_end_id=customer_reference if not debit else "",
            return_reason=details.return_reason,
        )
    code = BankTransactionCode(
        subfamily=(
            "CHRG" if kind[1:] in _CHARGE_TYPES else "RRTN" if kind[1:] in _RETURN_TYPES else ""
        ),
        proprietary=kind,
    )
    try:
        return StatementEntry(
            position=position,
            amount=amount,
            direction=Direction.DEBIT if debit else Direction.CREDIT,
            booking_date=booked,
            value_date=value,
            reversal=mark in ("RC", "RD"),
            bank_reference=bank_reference,
            code=code,
            transactions=(details,),
        )
    except DomainError as error:
        refuse(source, where, str(error))


def read_mt940(
    path: str,
    *,
    limits: StatementLimits | None = None,
    progress: Progress | None = None,
    encoding: str = "utf-8",
) -> tuple[BankStatement, ...]:
    """Every statement in an MT940 or MT942 file, or a refusal of the whole file."""
    limits = limits or StatementLimits()
    size = check_size(path, limits)
    with open(path, "rb") as handle:
        data = b"".join(Reader(handle, path, size, limits, progress).chunks())
    text = decode(data, path, encoding)
    parsed = _split(text, path)
    if not parsed:
        refuse(path, "file", "holds no MT940 statement (no :20: tag)")
    statements: list[BankStatement] = []
    position = 0
    for statement in parsed:
        where = f"statement {statement.index}"
        if not statement.account:
            refuse(path, where, "has no account (:25:)")
        if not statement.intraday and (statement.opening is None or statement.closing is None):
            refuse(
                path, where, "is cut short: it needs an opening (:60F:) and closing (:62F:) balance"
            )
        entries = []
        for line, info in statement.lines:
            position += 1
            entries.append(_entry(statement, position, line, info))
        statements.append(
            BankStatement(
                source=path,
                statement_id=f"{statement.reference}/{statement.number}".strip("/"),
                account=statement.account,
                currency=statement.currency,
                kind=StatementKind.INTRADAY if statement.intraday else StatementKind.STATEMENT,
                entries=tuple(entries),
                opening=statement.opening,
                closing=statement.closing,
            )
        )
    return tuple(statements)
