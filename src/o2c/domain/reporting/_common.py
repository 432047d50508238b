"""What the reports share: exact sums, half-up ratios, input checks and text tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from o2c.domain.errors import CurrencyMismatch, InvalidAmount
from o2c.domain.money import EXACT, Money, Rounding, quantize


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact fraction to ``places`` decimals, halves away from zero."""
    scaled = abs(value) * 10**places
    units = int(scaled + Fraction(1, 2))  # floor of a non-negative number
    sign = "-" if value < 0 and units else ""
    return Decimal(f"{sign}{units}E-{places}")


def add_exact(left: Decimal, right: Decimal) -> Decimal:
    """The sum, never rounded: a sum that would lose a digit raises ``decimal.Inexact``."""
    return EXACT.add(left, right)


def same_currency(first: Money, *others: Money) -> str:
    """The currency code shared by all amounts; :class:`CurrencyMismatch` otherwise."""
    code = str(first.currency.code)
    for other in others:
        if other.currency.code != code:
            raise CurrencyMismatch(expected=code, actual=str(other.currency.code))
    return code


def not_negative(field: str, *amounts: Money) -> None:
    """Refuse a negative amount of ``field`` with :class:`InvalidAmount`."""
    for amount in amounts:
        if amount.amount < 0:
            raise InvalidAmount(value=str(amount), reason=f"{field} must not be negative")


def format_amount(amount: Money | Decimal, currency: str) -> str:
    """An amount as report text: the currency's decimals, thousands separated."""
    # Exact amounts only gain trailing zeros here, so the rounding mode never bites.
    value = quantize(amount, Rounding.HALF_UP, currency).amount
    return f"{value:,}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """Lay out rows as aligned text: the first ``left`` columns flush left, the rest right."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if index < left else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(header), rule, *(line(row) for row in rows)]


def money_sum(amounts: Iterable[Money], currency: str) -> Money:
    """The exact sum of amounts in ``currency`` (zero for none)."""
    value = Decimal(0)
    for amount in amounts:
        value = add_exact(value, amount.amount)
    return Money(value, currency)
