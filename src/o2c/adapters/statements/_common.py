"""What every statement reader shares: refusing files, reading them within limits, amounts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, NoReturn

from o2c.domain.errors import DomainError
from o2c.domain.money import Currency, Money, as_currency, decimals_of
from o2c.domain.statements import UnreadableStatement
from o2c.ports.statements import Progress, StatementLimits

__all__ = [
    "Reader",
    "amount_of",
    "check_size",
    "decode",
    "refuse",
]

CHUNK = 1 << 20


def refuse(source: str, where: str, reason: str) -> NoReturn:
    """Raise the refusal of a whole file."""
    raise UnreadableStatement(source, where, reason)


def check_size(path: str, limits: StatementLimits) -> int:
    """The file's size; refuse a file larger than the limits allow, before reading any of it."""
    try:
        size = os.stat(path).st_size
    except OSError as error:
        refuse(path, "file", f"cannot be read ({error.strerror or error})")
    if size > limits.max_bytes:
        refuse(
            path,
            "file",
            f"{size} bytes is more than the {limits.max_bytes} bytes allowed "
            "(raise StatementLimits.max_bytes for larger files)",
        )
    return size


class Reader:
    """A binary file read in chunks that counts what it read: it reports progress and refuses
    to read past the limit (a file that grows while it is read)."""

    def __init__(
        self,
        handle: BinaryIO,
        source: str,
        size: int,
        limits: StatementLimits,
        progress: Progress | None,
    ) -> None:
        self._handle = handle
        self._source = source
        self._size = size
        self._limits = limits
        self._progress = progress
        self.read_so_far = 0

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (a chunk when ``n`` is negative)."""
        data = self._handle.read(CHUNK if n < 0 else n)
        self.read_so_far += len(data)
        if self.read_so_far > self._limits.max_bytes:
            refuse(self._source, "file", f"more than the {self._limits.max_bytes} bytes allowed")
        if self._progress is not None and data:
            self._progress(self.read_so_far, max(self._size, self.read_so_far))
        return data

    def chunks(self) -> Iterator[bytes]:
        """The whole file, chunk by chunk."""
        while chunk := self.read():
            yield chunk


def decode(data: bytes, source: str, encoding: str) -> str:
    """Text of a file in a declared encoding; refuse bytes that are not of it."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        refuse(source, f"line {line}", f"not {encoding} text (byte {error.start})")
    except LookupError:
        refuse(source, "file", f"unknown encoding {encoding!r}")
    return text.removeprefix("\ufeff")


_KNOWN_CURRENCIES: dict[str, tuple[Currency, int, Decimal]] = {}
"""Each currency code read so far, with its decimals and its smallest unit: a statement names
the same currency on every line, and looking it up again is a good part of reading a line."""


def _currency(text: str, source: str, where: str) -> tuple[Currency, int, Decimal]:
    known = _KNOWN_CURRENCIES.get(text)
    if known is None:
        try:
            code = as_currency(text.strip().upper())
            places = decimals_of(code)
        except DomainError as error:
            refuse(source, where, str(error))
        known = (code, places, Decimal(1).scaleb(-places))
        if len(_KNOWN_CURRENCIES) < 1024:  # bounded: codes come from untrusted files
            _KNOWN_CURRENCIES[text] = known
    return known


def amount_of(text: str, currency: str, source: str, where: str) -> Money:
    """An exact amount from its decimal text (a point as decimal separator).

    Refuses text that is no number, an unknown currency and more decimals than the currency has.
    """
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        refuse(source, where, f"amount {text.strip()!r} is not a number")
    if not value.is_finite():
        refuse(source, where, f"amount {text.strip()!r} is not a number")
    code, places, unit = _currency(currency, source, where)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        # Trailing zeros ("18.150 EUR") are allowed: the schema permits them and the value is
        # exact.
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            refuse(
                source,
                where,
                f"amount {text.strip()} has more decimals than {code.code} allows ({places})",
            )
    return Money(value.quantize(unit), code)


_DAYS: dict[str, date] = {}
"""Dates read so far: a statement's lines share a handful of days."""


def ymd(text: str, source: str, where: str) -> date:
    """A date from ``YYYY-MM-DD`` (a time after it is ignored)."""
    key = text.strip()[:10]
    day = _DAYS.get(key)
    if day is not None:
        return day
    try:
        day = date.fromisoformat(key)
    except ValueError:
        refuse(source, where, f"date {text.strip()!r} is not YYYY-MM-DD")
    if len(_DAYS) < 100_000:
        _DAYS[key] = day
    return day
