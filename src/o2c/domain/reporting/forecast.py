"""Forecasts: when open items are expected to be collected, and how much of them may be lost."""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money, Rounding, percent_of, zero
from o2c.domain.receivables import OpenItem
from o2c.domain.reporting._common import add_exact, money_sum, next_month
from o2c.domain.reporting.aging import AgingReport

__all__ = [
    "ForecastGrouping",
    "OverdueHandling",
    "ForecastPeriod",
    "CurrencyForecast",
    "CashForecast",
    "cash_forecast",
    "BadDebtLine",
    "BadDebtForecast",
    "bad_debt_forecast",
]


_NO_SHIFTS: Mapping[str, int] = MappingProxyType({})


class ForecastGrouping(enum.Enum):
    """How expected collections are grouped in time."""

    WEEK = "week"
    """ISO weeks, Monday to Sunday."""
    MONTH = "month"


class OverdueHandling(enum.Enum):
    """Where collections expected before the forecast date go."""

    SEPARATE = "separate"
    """Into their own ``overdue`` amount, apart from the periods."""
    FIRST_PERIOD = "first_period"
    """Into the first period (the one holding the forecast date)."""


@attrs.frozen
class ForecastPeriod:
    """The collections expected in one week or month."""

    label: str
    """``2026-W14`` or ``2026-04``."""
    start: date
    end: date
    amount: Money


@attrs.frozen
class CurrencyForecast:
    """Expected collections in one currency."""

    currency: str
    overdue: Money
    """What should have come in already and has not (zero with ``FIRST_PERIOD``)."""
    periods: tuple[ForecastPeriod, ...]
    """Consecutive periods from the one holding the forecast date to the last with collections."""

    @property
    def total(self) -> Money:
        """Overdue plus every period: the open total of the currency."""
        return money_sum((self.overdue, *(p.amount for p in self.periods)), self.currency)


@attrs.frozen
class CashForecast:
    """Expected collections from open items, per currency."""

    as_of: date
    grouping: ForecastGrouping
    overdue_handling: OverdueHandling
    currencies: tuple[CurrencyForecast, ...]

    def for_currency(self, currency: str) -> CurrencyForecast:
        """The forecast of one currency (empty when nothing is open in it)."""
        for forecast in self.currencies:
            if forecast.currency == currency:
                return forecast
        return CurrencyForecast(currency, zero(currency), ())

    def total(self, currency: str) -> Money:
        """Everything expected in a currency, overdue included."""
        return self.for_currency(currency).total


def _period_start(day: date, grouping: ForecastGrouping) -> date:
    if grouping is ForecastGrouping.WEEK:
        return day - timedelta(days=day.weekday())
    return date(day.year, day.month, 1)


def _period_after(start: date, grouping: ForecastGrouping) -> date:
    if grouping is ForecastGrouping.WEEK:
        return start + timedelta(days=7)
    return next_month(start)


def _period_label(start: date, grouping: ForecastGrouping) -> str:
    if grouping is ForecastGrouping.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def cash_forecast(
    items: Iterable[OpenItem],
    as_of: date,
    *,
    grouping: ForecastGrouping = ForecastGrouping.MONTH,
    average_days_late: Mapping[str, int] | None = None,
    overdue_handling: OverdueHandling = OverdueHandling.SEPARATE,
) -> CashForecast:
    """Expected collections per week or month from the open instalments' due dates.

    Each open instalment is expected on its due date shifted by the customer's average days late
    (``average_days_late``: customer id to days; negative for early payers; missing means 0).
    An instalment not yet due is never expected before ``as_of``. One whose expected date is
    before ``as_of`` is overdue: it goes to the separate overdue amount or into the first period,
    as ``overdue_handling`` says. The result adds up exactly to the open total per currency.
    """
    shifts = _NO_SHIFTS if average_days_late is None else average_days_late
    overdue: dict[str, Decimal] = {}
    by_period: dict[str, dict[date, Decimal]] = {}
    first = _period_start(as_of, grouping)
    for item in items:
        shift = timedelta(days=shifts.get(item.customer_id, 0))
        cur = item.currency
        periods = by_period.setdefault(cur, {})
        for part in item.instalments:
            if part.open.amount == 0:
                continue
            expected = part.due_date + shift
            if part.due_date >= as_of:
                expected = max(expected, as_of)
            if expected < as_of and overdue_handling is OverdueHandling.SEPARATE:
                overdue[cur] = add_exact(overdue.get(cur, Decimal(0)), part.open.amount)
                continue
            start = first if expected < as_of else _period_start(expected, grouping)
            periods[start] = add_exact(periods.get(start, Decimal(0)), part.open.amount)

    forecasts: list[CurrencyForecast] = []
    for cur in sorted(by_period):
        periods = by_period[cur]
        last = max(periods, default=first)
        laid_out: list[ForecastPeriod] = []
        start = first
        while start <= last:
            after = _period_after(start, grouping)
            laid_out.append(
                ForecastPeriod(
                    _period_label(start, grouping),
                    start,
                    after - timedelta(days=1),
                    Money(periods.get(start, Decimal(0)), cur),
                )
            )
            start = after
        if not periods:
            laid_out = []
        forecasts.append(
            CurrencyForecast(cur, Money(overdue.get(cur, Decimal(0)), cur), tuple(laid_out))
        )
    return CashForecast(as_of, grouping, overdue_handling, tuple(forecasts))


@attrs.frozen
class BadDebtLine:
    """The expected loss on one aging bucket of one currency."""

    currency: str
    label: str
    exposure: Money
    loss_rate: Decimal
    """Percent of the exposure expected to be lost."""
    expected_loss: Money


@attrs.frozen
class BadDebtForecast:
    """Expected losses per aging bucket and currency."""

    rounding: Rounding
    lines: tuple[BadDebtLine, ...]

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies forecast, in order."""
        return tuple(dict.fromkeys(line.currency for line in self.lines))

    def total(self, currency: str) -> Money:
        """The expected loss in a currency: the sum of its (already rounded) bucket losses."""
        return money_sum(
            (line.expected_loss for line in self.lines if line.currency == currency), currency
        )


def _loss_rate(label: str, value: object) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidInput(
            field="loss rate", value=f"{label}: {value!r}", reason="use a Decimal, int or str"
        )
    try:
        rate = Decimal(value)
    except decimal.InvalidOperation:
        raise InvalidInput(
            field="loss rate", value=f"{label}: {value!r}", reason="is not a number"
        ) from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise InvalidInput(
            field="loss rate", value=f"{label}: {value}", reason="must be between 0 and 100 %"
        )
    return rate


def bad_debt_forecast(
    aging: AgingReport,
    loss_rates: Mapping[str, Decimal | int | str],
    rounding: Rounding,
) -> BadDebtForecast:
    """Expected loss per bucket: the bucket's total x its loss rate (percent), rounded.

    ``loss_rates`` needs a rate between 0 and 100 for every bucket label of the report and no
    others. Each bucket's loss is rounded to the currency's minor unit with ``rounding``; with
    rates of at most 100 % no loss exceeds its bucket, so the total never exceeds the AR.
    """
    labels = aging.labels
    unknown = sorted(set(loss_rates) - set(labels))
    missing = [label for label in labels if label not in loss_rates]
    if unknown or missing:
        raise InvalidInput(
            field="loss rates",
            value=", ".join(unknown or missing),
            reason="not an aging bucket" if unknown else "no rate given for these buckets",
        )
    rates = {label: _loss_rate(label, loss_rates[label]) for label in labels}
    lines = [
        BadDebtLine(
            row.currency, label, amount, rates[label], percent_of(amount, rates[label], rounding)
        )
        for row in aging.totals
        for label, amount in zip(labels, row.amounts, strict=True)
    ]
    return BadDebtForecast(rounding, tuple(lines))
