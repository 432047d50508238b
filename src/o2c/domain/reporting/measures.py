"""Sales-based measures: credit sales, DSO (simple, best possible, count-back), ADD and CEI.

Days are rounded half up to :data:`DAYS_PLACES` decimals and percentages to
:data:`PERCENT_PLACES`, once, after an exact computation with fractions. A ratio over zero sales
(or a zero CEI denominator) is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money, zero
from o2c.domain.reporting._common import (
    add_exact,
    half_up,
    next_month,
    not_negative,
    same_currency,
)
from o2c.domain.reporting.period import Period

__all__ = [
    "DAYS_PLACES",
    "PERCENT_PLACES",
    "CreditSale",
    "MonthlySales",
    "credit_sales_in",
    "dso",
    "count_back_dso",
    "best_possible_dso",
    "average_days_delinquent",
    "collection_effectiveness_index",
]

#: Days are reported to this many decimals (rounded half up).
DAYS_PLACES = 1
#: Percentages are reported to this many decimals (rounded half up).
PERCENT_PLACES = 2


@attrs.frozen
class CreditSale:
    """A sale on credit (an invoice's gross amount) on a business date."""

    on: date
    amount: Money


@attrs.frozen
class MonthlySales:
    """The credit sales of one calendar month, when only monthly totals are at hand."""

    year: int
    month: int = attrs.field()
    amount: Money

    @month.validator
    def _check_month(self, _: attrs.Attribute[int], value: int) -> None:
        if not 1 <= value <= 12:
            raise InvalidInput(field="month", value=str(value), reason="must be 1 to 12")

    @property
    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the month."""
        return next_month(self.first_day) - timedelta(days=1)


SalesRecord = CreditSale | MonthlySales


def credit_sales_in(period: Period, sales: Iterable[SalesRecord], currency: str) -> Money:
    """The credit sales that fall in a period; records outside it are not counted.

    A monthly total counts when its whole month lies in the period; one that straddles the
    period's start or end is refused, because it cannot be split without guessing.
    """
    nothing = zero(currency)
    value = Decimal(0)
    for record in sales:
        same_currency(nothing, record.amount)
        not_negative("credit sales", record.amount)
        if isinstance(record, CreditSale):
            inside = record.on in period
        else:
            starts_in, ends_in = record.first_day in period, record.last_day in period
            if starts_in != ends_in or (
                record.first_day < period.start and record.last_day > period.end
            ):
                raise InvalidInput(
                    field="monthly sales",
                    value=f"{record.year}-{record.month:02d}",
                    reason="the month straddles the period; give individual sales instead",
                )
            inside = starts_in
        if inside:
            value = add_exact(value, record.amount.amount)
    return Money(value, currency)


def _sales_ratio_days(ar: Money, credit_sales: Money, days: int) -> Fraction | None:
    same_currency(ar, credit_sales)
    not_negative("receivables and credit sales", ar, credit_sales)
    if days <= 0:
        raise InvalidInput(field="days in period", value=str(days), reason="must be positive")
    if credit_sales.amount == 0:
        return None
    return Fraction(ar.amount) / Fraction(credit_sales.amount) * days


def dso(ending_ar: Money, credit_sales: Money, days_in_period: int) -> Decimal | None:
    """Days sales outstanding: ending AR / credit sales in the period x days in the period.

    ``None`` when there were no credit sales in the period.
    """
    ratio = _sales_ratio_days(ending_ar, credit_sales, days_in_period)
    return None if ratio is None else half_up(ratio, DAYS_PLACES)


def best_possible_dso(
    current_ar: Money, credit_sales: Money, days_in_period: int
) -> Decimal | None:
    """The DSO if every customer paid on time: current (not yet due) AR / credit sales x days."""
    ratio = _sales_ratio_days(current_ar, credit_sales, days_in_period)
    return None if ratio is None else half_up(ratio, DAYS_PLACES)


def average_days_delinquent(
    ending_ar: Money, current_ar: Money, credit_sales: Money, days_in_period: int
) -> Decimal | None:
    """DSO minus best possible DSO: how many days, on average, payments run late.

    Computed exactly and rounded once, so it may differ by 0.1 from subtracting the two rounded
    figures. ``None`` when there were no credit sales.
    """
    same_currency(ending_ar, current_ar)
    if current_ar.amount > ending_ar.amount:
        raise InvalidInput(
            field="current AR",
            value=str(current_ar),
            reason=f"exceeds the ending AR {ending_ar}",
        )
    full = _sales_ratio_days(ending_ar, credit_sales, days_in_period)
    best = _sales_ratio_days(current_ar, credit_sales, days_in_period)
    if full is None or best is None:
        return None
    return half_up(full - best, DAYS_PLACES)


def count_back_dso(ending_ar: Money, as_of: date, sales: Iterable[SalesRecord]) -> Decimal | None:
    """DSO by the count-back method: how many days of recent sales the ending AR amounts to.

    Walk back month by month from the month of ``as_of``. While the AR left is larger than the
    month's credit sales, take the whole month: subtract its sales and add its days. In the month
    where the AR left is covered, add the covered share of that month's days and stop. The month
    of ``as_of`` counts the days up to and including ``as_of``; earlier months count all their
    days. Individual sales are added up per month; months with no records count as zero sales.

    History reaches back to the earliest month in ``sales``: ``None`` when the AR is still not
    covered there (the history is too short to say). Sales after ``as_of`` are refused.
    """
    not_negative("ending AR", ending_ar)
    per_month: dict[date, Decimal] = {}
    end_month = date(as_of.year, as_of.month, 1)
    for record in sales:
        same_currency(ending_ar, record.amount)
        not_negative("credit sales", record.amount)
        if isinstance(record, CreditSale):
            if record.on > as_of:
                raise InvalidInput(
                    field="credit sale",
                    value=record.on.isoformat(),
                    reason=f"after the as-of date {as_of.isoformat()}",
                )
            month = date(record.on.year, record.on.month, 1)
        else:
            month = record.first_day
            if month > end_month:
                raise InvalidInput(
                    field="monthly sales",
                    value=f"{record.year}-{record.month:02d}",
                    reason=f"after the as-of date {as_of.isoformat()}",
                )
        per_month[month] = add_exact(per_month.get(month, Decimal(0)), record.amount.amount)

    remaining = Fraction(ending_ar.amount)
    if remaining == 0:
        return half_up(Fraction(0), DAYS_PLACES)
    if not per_month:
        return None
    earliest = min(per_month)
    days = Fraction(0)
    month = end_month
    while month >= earliest:
        month_days = as_of.day if month == end_month else (next_month(month) - month).days
        month_sales = Fraction(per_month.get(month, Decimal(0)))
        if month_sales > 0 and remaining <= month_sales:
            days += remaining / month_sales * month_days
            return half_up(days, DAYS_PLACES)
        remaining -= month_sales
        days += month_days
        month = (
            date(month.year - 1, 12, 1)
            if month.month == 1
            else month.replace(month=month.month - 1)
        )
    return None


def collection_effectiveness_index(
    opening_ar: Money, credit_sales: Money, ending_ar: Money, ending_current_ar: Money
) -> Decimal | None:
    """CEI in percent: what share of the collectable receivables was collected in the period.

    (opening AR + credit sales - ending AR) / (opening AR + credit sales - ending current AR) x 100.
    ``None`` when the denominator is zero (nothing was collectable).
    """
    same_currency(opening_ar, credit_sales, ending_ar, ending_current_ar)
    not_negative("receivables and credit sales", opening_ar, credit_sales, ending_ar)
    not_negative("current AR", ending_current_ar)
    if ending_current_ar.amount > ending_ar.amount:
        raise InvalidInput(
            field="ending current AR",
            value=str(ending_current_ar),
            reason=f"exceeds the ending AR {ending_ar}",
        )
    available = Fraction(opening_ar.amount) + Fraction(credit_sales.amount)
    denominator = available - Fraction(ending_current_ar.amount)
    if denominator == 0:
        return None
    collected = available - Fraction(ending_ar.amount)
    return half_up(collected / denominator * 100, PERCENT_PLACES)
