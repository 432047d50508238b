"""Accounts-receivable measures: pure functions from records to frozen results.

Every measure here takes plain data (open items, sales, statement lines, timings, outcomes) and the
business date it is computed for, and returns a frozen result. Nothing is read from a clock or a
store: the caller gathers the inputs.

Conventions shared by all measures:

* **Money stays exact.** Sums are exact; the only money that is rounded is an expected loss, and
  the caller names the rounding mode.
* **Ratios are :class:`~decimal.Decimal`, rounded once, half up.** Days (DSO, delinquency,
  processing times) to one decimal (:data:`DAYS_PLACES`), percentages (CEI, order accuracy) to two
  (:data:`PERCENT_PLACES`). They are computed exactly as fractions and rounded at the end, so the
  ambient :mod:`decimal` context never plays a part.
* **An undefined ratio is ``None``.** Zero credit sales make DSO undefined; a zero CEI denominator
  makes CEI undefined; an empty set of timings or outcomes has no average. ``None`` is returned in
  each case rather than raising, because a quiet month is not bad input.
* **Currencies never mix.** Aging, cash and bad-debt forecasts group by currency; a measure that
  takes several amounts (DSO, CEI) refuses amounts of different currencies with
  :class:`~o2c.domain.errors.CurrencyMismatch`.
"""

from __future__ import annotations

import decimal
import enum
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from types import MappingProxyType

import attrs

from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from o2c.domain.money import Money, Rounding, is_exact, percent_of, quantize, zero
from o2c.domain.receivables import OpenItem

__all__ = [
    "DAYS_PLACES",
    "PERCENT_PLACES",
    "Period",
    # aging
    "AgingBasis",
    "AgingBucket",
    "AgingSchedule",
    "DEFAULT_AGING",
    "AgingRow",
    "AgingReport",
    "aging_report",
    # sales-based measures
    "CreditSale",
    "MonthlySales",
    "credit_sales_in",
    "dso",
    "count_back_dso",
    "best_possible_dso",
    "average_days_delinquent",
    "collection_effectiveness_index",
    # statement of account
    "StatementKind",
    "StatementLine",
    "StatementEntry",
    "Statement",
    "statement_of_account",
    # forecasts
    "ForecastGrouping",
    "OverdueHandling",
    "ForecastPeriod",
    "CurrencyForecast",
    "CashForecast",
    "cash_forecast",
    "BadDebtLine",
    "BadDebtForecast",
    "bad_debt_forecast",
    # process measures
    "InvoiceTiming",
    "ProcessingTime",
    "invoice_processing_time",
    "OrderOutcome",
    "OrderAccuracy",
    "order_accuracy",
]

#: Days are reported to this many decimals (rounded half up).
DAYS_PLACES = 1
#: Percentages are reported to this many decimals (rounded half up).
PERCENT_PLACES = 2

# Sums of amounts must never lose a digit; a sum that would raises instead of rounding.
_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])


def _half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact fraction to ``places`` decimals, halves away from zero."""
    scaled = abs(value) * 10**places
    units = int(scaled + Fraction(1, 2))  # floor of a non-negative number
    sign = "-" if value < 0 and units else ""
    return Decimal(f"{sign}{units}E-{places}")


def _add(left: Decimal, right: Decimal) -> Decimal:
    return _EXACT.add(left, right)


def _same_currency(first: Money, *others: Money) -> str:
    code = str(first.currency.code)
    for other in others:
        if other.currency.code != code:
            raise CurrencyMismatch(expected=code, actual=str(other.currency.code))
    return code


def _not_negative(field: str, *amounts: Money) -> None:
    for amount in amounts:
        if amount.amount < 0:
            raise InvalidAmount(value=str(amount), reason=f"{field} must not be negative")


def _format_amount(amount: Money | Decimal, currency: str) -> str:
    # Exact amounts only gain trailing zeros here, so the rounding mode never bites.
    value = quantize(amount, Rounding.HALF_UP, currency).amount
    return f"{value:,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> list[str]:
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


@attrs.frozen
class Period:
    """A span of business days, both ends included."""

    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(
                field="period",
                value=f"{self.start.isoformat()}..{self.end.isoformat()}",
                reason="ends before it starts",
            )

    @property
    def days(self) -> int:
        """The number of days in the period, both ends counted."""
        return (self.end - self.start).days + 1

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


# --- aging ------------------------------------------------------------------------------------


class AgingBasis(enum.Enum):
    """What an item's age is counted from."""

    DUE_DATE = "due_date"
    """Days past due: negative or zero while not yet due."""
    DOCUMENT_DATE = "document_date"
    """Days since the invoice (document) date."""


@attrs.frozen
class AgingBucket:
    """A range of ages in days, both ends included; ``None`` leaves that end open."""

    label: str
    first_day: int | None
    last_day: int | None

    def __attrs_post_init__(self) -> None:
        if not self.label.strip():
            raise InvalidInput(field="aging bucket", value=self.label, reason="needs a label")
        if (
            self.first_day is not None
            and self.last_day is not None
            and self.first_day > self.last_day
        ):
            raise InvalidInput(
                field="aging bucket",
                value=self.label,
                reason=f"first day {self.first_day} is after last day {self.last_day}",
            )


@attrs.frozen
class AgingSchedule:
    """Aging buckets in ascending order that together cover every possible age exactly once.

    The first bucket is open below, the last open above, and each bucket starts the day after the
    previous one ends: no gaps, no overlaps, so every item lands in exactly one bucket.
    """

    buckets: tuple[AgingBucket, ...]
    _limits: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.buckets:
            raise InvalidInput(field="aging buckets", value="()", reason="need at least one")
        labels = [b.label for b in self.buckets]
        if len(set(labels)) != len(labels):
            raise InvalidInput(field="aging buckets", value=str(labels), reason="labels repeat")
        first, last = self.buckets[0], self.buckets[-1]
        if first.first_day is not None:
            raise InvalidInput(
                field="aging buckets", value=first.label, reason="the first must be open below"
            )
        if last.last_day is not None:
            raise InvalidInput(
                field="aging buckets", value=last.label, reason="the last must be open above"
            )
        for before, after in pairwise(self.buckets):
            if before.last_day is None or after.first_day is None:
                raise InvalidInput(
                    field="aging buckets",
                    value=f"{before.label}, {after.label}",
                    reason="only the first bucket may be open below and only the last above",
                )
            if after.first_day <= before.last_day:
                raise InvalidInput(
                    field="aging buckets",
                    value=f"{before.label}, {after.label}",
                    reason="overlap or are not in ascending order",
                )
            if after.first_day != before.last_day + 1:
                raise InvalidInput(
                    field="aging buckets",
                    value=f"{before.label}, {after.label}",
                    reason=f"leave days {before.last_day + 1}..{after.first_day - 1} uncovered",
                )
        limits = tuple(b.last_day for b in self.buckets[:-1] if b.last_day is not None)
        object.__setattr__(self, "_limits", limits)

    @classmethod
    def from_limits(
        cls, limits: Sequence[int], labels: Sequence[str] | None = None
    ) -> AgingSchedule:
        """Buckets ending at each limit plus one open-ended bucket after the last.

        ``from_limits((0, 30, 60, 90))`` gives ``current``, ``1-30``, ``31-60``, ``61-90`` and
        ``over 90``. Limits must ascend strictly; ``labels`` (one more than limits) replace the
        generated ones.
        """
        if list(limits) != sorted(set(limits)):
            raise InvalidInput(
                field="aging limits", value=str(list(limits)), reason="must ascend strictly"
            )
        bounds: list[tuple[int | None, int | None]] = []
        previous: int | None = None
        for limit in limits:
            bounds.append((None if previous is None else previous + 1, limit))
            previous = limit
        bounds.append((None if previous is None else previous + 1, None))
        if labels is None:
            labels = [_bucket_label(lo, hi) for lo, hi in bounds]
        elif len(labels) != len(bounds):
            raise InvalidInput(
                field="aging labels",
                value=str(list(labels)),
                reason=f"{len(bounds)} buckets need {len(bounds)} labels",
            )
        return cls(
            tuple(AgingBucket(lb, lo, hi) for lb, (lo, hi) in zip(labels, bounds, strict=True))
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """The bucket labels in order."""
        return tuple(b.label for b in self.buckets)

    def index_of(self, age: int) -> int:
        """The position of the bucket an age in days falls into."""
        return bisect_left(self._limits, age)


def _bucket_label(first: int | None, last: int | None) -> str:
    if first is None and last is None:
        return "all"
    if first is None:
        return "current" if last == 0 else f"up to {last}"
    if last is None:
        return f"over {first - 1}"
    return f"{first}-{last}"


#: Current (not yet due), 1-30, 31-60, 61-90 and over 90 days past due.
DEFAULT_AGING = AgingSchedule.from_limits((0, 30, 60, 90))


@attrs.frozen
class AgingRow:
    """One customer's (or a currency's total) open amounts and item counts per bucket."""

    customer_id: str | None
    """``None`` on the total row of a currency."""
    currency: str
    amounts: tuple[Money, ...]
    counts: tuple[int, ...]
    total: Money

    @property
    def items(self) -> int:
        """How many items (or instalments, when split) the row holds."""
        return sum(self.counts)


@attrs.frozen
class AgingReport:
    """Open receivables by age as of a date, per customer and in total, one currency at a time.

    Currencies are never added together: each currency has its own customer rows and its own
    total row, and every total is the exact sum of the open amounts it covers.
    """

    as_of: date
    basis: AgingBasis
    schedule: AgingSchedule
    rows: tuple[AgingRow, ...]
    """Customer rows, ordered by currency, then customer id."""
    totals: tuple[AgingRow, ...]
    """One total row per currency, ordered by currency."""
    split_instalments: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The bucket labels in order."""
        return self.schedule.labels

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies with open items, in order."""
        return tuple(row.currency for row in self.totals)

    def total_row(self, currency: str) -> AgingRow:
        """The total row of a currency (all zero when it has no open items)."""
        for row in self.totals:
            if row.currency == currency:
                return row
        return _empty_row(None, currency, len(self.labels))

    def total(self, currency: str) -> Money:
        """Everything open in a currency."""
        return self.total_row(currency).total

    def row(self, customer_id: str, currency: str) -> AgingRow:
        """A customer's row in a currency (all zero when the customer owes nothing in it)."""
        for row in self.rows:
            if row.customer_id == customer_id and row.currency == currency:
                return row
        return _empty_row(customer_id, currency, len(self.labels))

    def render(self) -> str:
        """The report as aligned text, one block per currency."""
        basis = "days past due" if self.basis is AgingBasis.DUE_DATE else "days since invoice"
        lines = [f"Aging as of {self.as_of.isoformat()} ({basis})"]
        if not self.totals:
            return "\n".join([*lines, "", "No open items."])
        header = ["Customer", "Cur", *self.labels, "Total"]
        for total_row in self.totals:
            cur = total_row.currency
            body = [
                _aging_cells(row.customer_id or "", row) for row in self.rows if row.currency == cur
            ]
            body.append(_aging_cells("Total", total_row))
            body.append(["Items", "", *(str(c) for c in total_row.counts), str(total_row.items)])
            lines += ["", *_table(header, body, left=2)]
        return "\n".join(lines)


def _aging_cells(name: str, row: AgingRow) -> list[str]:
    cur = row.currency
    return [
        name,
        cur,
        *(_format_amount(a, cur) for a in row.amounts),
        _format_amount(row.total, cur),
    ]


def _empty_row(customer_id: str | None, currency: str, width: int) -> AgingRow:
    nothing = zero(currency)
    return AgingRow(customer_id, currency, (nothing,) * width, (0,) * width, nothing)


def _row(
    customer_id: str | None, currency: str, sums: list[Decimal], counts: list[int]
) -> AgingRow:
    amounts = tuple(Money(s, currency) for s in sums)
    grand = Decimal(0)
    for s in sums:
        grand = _add(grand, s)
    return AgingRow(customer_id, currency, amounts, tuple(counts), Money(grand, currency))


def aging_report(
    items: Iterable[OpenItem],
    as_of: date,
    *,
    schedule: AgingSchedule = DEFAULT_AGING,
    basis: AgingBasis = AgingBasis.DUE_DATE,
    split_instalments: bool = False,
) -> AgingReport:
    """Age the open items as of a date.

    By default a whole item is aged by its oldest open instalment (the conservative view: a
    document is as late as its latest part), so each item lands in exactly one bucket. With
    ``split_instalments`` each open instalment is aged by its own due date and counted on its
    own, the way a payment plan is usually reported. Settled items are left out.
    """
    width = len(schedule.buckets)
    # (currency, customer) -> (sums, counts); sums accumulate exactly as Decimals.
    groups: dict[tuple[str, str], tuple[list[Decimal], list[int]]] = {}

    def book(item: OpenItem, age: int, amount: Decimal) -> None:
        key = (item.currency, item.customer_id)
        if key not in groups:
            groups[key] = ([Decimal(0)] * width, [0] * width)
        sums, counts = groups[key]
        index = schedule.index_of(age)
        sums[index] = _add(sums[index], amount)
        counts[index] += 1

    for item in items:
        if item.is_settled:
            continue
        by_document = basis is AgingBasis.DOCUMENT_DATE
        if split_instalments:
            for part in item.instalments:
                if part.open.amount > 0:
                    since = item.document_date if by_document else part.due_date
                    book(item, (as_of - since).days, part.open.amount)
        else:
            since = item.document_date if by_document else item.due_date
            book(item, (as_of - since).days, item.open.amount)

    rows: list[AgingRow] = []
    totals: list[AgingRow] = []
    for currency in sorted({cur for cur, _ in groups}):
        grand_sums = [Decimal(0)] * width
        grand_counts = [0] * width
        for (cur, customer), (sums, counts) in sorted(groups.items()):
            if cur != currency:
                continue
            rows.append(_row(customer, cur, sums, counts))
            grand_sums = [_add(g, s) for g, s in zip(grand_sums, sums, strict=True)]
            grand_counts = [g + c for g, c in zip(grand_counts, counts, strict=True)]
        totals.append(_row(None, currency, grand_sums, grand_counts))
    return AgingReport(as_of, basis, schedule, tuple(rows), tuple(totals), split_instalments)


# --- DSO, CEI and delinquency -----------------------------------------------------------------


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
        return _next_month(self.first_day) - timedelta(days=1)


SalesRecord = CreditSale | MonthlySales


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def credit_sales_in(period: Period, sales: Iterable[SalesRecord], currency: str) -> Money:
    """The credit sales that fall in a period; records outside it are not counted.

    A monthly total counts when its whole month lies in the period; one that straddles the
    period's start or end is refused, because it cannot be split without guessing.
    """
    nothing = zero(currency)
    value = Decimal(0)
    for record in sales:
        _same_currency(nothing, record.amount)
        _not_negative("credit sales", record.amount)
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
            value = _add(value, record.amount.amount)
    return Money(value, currency)


def _sales_ratio_days(ar: Money, credit_sales: Money, days: int) -> Fraction | None:
    _same_currency(ar, credit_sales)
    _not_negative("receivables and credit sales", ar, credit_sales)
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
    return None if ratio is None else _half_up(ratio, DAYS_PLACES)


def best_possible_dso(
    current_ar: Money, credit_sales: Money, days_in_period: int
) -> Decimal | None:
    """The DSO if every customer paid on time: current (not yet due) AR / credit sales x days."""
    ratio = _sales_ratio_days(current_ar, credit_sales, days_in_period)
    return None if ratio is None else _half_up(ratio, DAYS_PLACES)


def average_days_delinquent(
    ending_ar: Money, current_ar: Money, credit_sales: Money, days_in_period: int
) -> Decimal | None:
    """DSO minus best possible DSO: how many days, on average, payments run late.

    Computed exactly and rounded once, so it may differ by 0.1 from subtracting the two rounded
    figures. ``None`` when there were no credit sales.
    """
    _same_currency(ending_ar, current_ar)
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
    return _half_up(full - best, DAYS_PLACES)


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
    _not_negative("ending AR", ending_ar)
    per_month: dict[date, Decimal] = {}
    end_month = date(as_of.year, as_of.month, 1)
    for record in sales:
        _same_currency(ending_ar, record.amount)
        _not_negative("credit sales", record.amount)
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
        per_month[month] = _add(per_month.get(month, Decimal(0)), record.amount.amount)

    remaining = Fraction(ending_ar.amount)
    if remaining == 0:
        return _half_up(Fraction(0), DAYS_PLACES)
    if not per_month:
        return None
    earliest = min(per_month)
    days = Fraction(0)
    month = end_month
    while month >= earliest:
        month_days = as_of.day if month == end_month else (_next_month(month) - month).days
        month_sales = Fraction(per_month.get(month, Decimal(0)))
        if month_sales > 0 and remaining <= month_sales:
            days += remaining / month_sales * month_days
            return _half_up(days, DAYS_PLACES)
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
    _same_currency(opening_ar, credit_sales, ending_ar, ending_current_ar)
    _not_negative("receivables and credit sales", opening_ar, credit_sales, ending_ar)
    _not_negative("current AR", ending_current_ar)
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
    return _half_up(collected / denominator * 100, PERCENT_PLACES)


# --- statement of account ---------------------------------------------------------------------


class StatementKind(enum.Enum):
    """What a statement line records."""

    INVOICE = "invoice"
    CHARGE = "charge"
    """A dunning fee or interest."""
    REFUND = "refund"
    """Customer credit paid back out."""
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    DISCOUNT = "discount"
    """An early-payment discount taken."""
    WRITE_OFF = "write_off"

    @property
    def is_debit(self) -> bool:
        """Whether the kind normally increases what the customer owes."""
        return self in _DEBIT_KINDS


_DEBIT_KINDS = frozenset({StatementKind.INVOICE, StatementKind.CHARGE, StatementKind.REFUND})


@attrs.frozen
class StatementLine:
    """A transaction on a customer's account: exactly one of debit and credit is positive.

    Debits raise the balance (the customer owes more), credits lower it. A reversal (a bounced
    payment) is the kind it reverses on the other side.
    """

    on: date
    kind: StatementKind
    reference: str
    debit: Money
    credit: Money

    def __attrs_post_init__(self) -> None:
        _same_currency(self.debit, self.credit)
        if not (is_exact(self.debit) and is_exact(self.credit)):
            raise InvalidAmount(
                value=f"{self.debit} / {self.credit}", reason="must be exact in the currency"
            )
        _not_negative("debit and credit", self.debit, self.credit)
        if (self.debit.amount > 0) == (self.credit.amount > 0):
            raise InvalidInput(
                field="statement line",
                value=self.reference,
                reason="exactly one of debit and credit must be positive",
            )

    @classmethod
    def entry(cls, on: date, kind: StatementKind, reference: str, amount: Money) -> StatementLine:
        """A line with a positive ``amount`` on the kind's usual side."""
        nothing = zero(amount.currency)
        if kind.is_debit:
            return cls(on, kind, reference, amount, nothing)
        return cls(on, kind, reference, nothing, amount)

    @property
    def currency(self) -> str:
        """The ISO code of the line's currency."""
        return str(self.debit.currency.code)

    @property
    def net(self) -> Decimal:
        """Debit minus credit."""
        return self.debit.amount - self.credit.amount


@attrs.frozen
class StatementEntry:
    """A statement line with the account balance after it."""

    line: StatementLine
    balance: Money


@attrs.frozen
class Statement:
    """A customer's statement of account for a period in one currency."""

    customer_id: str
    period: Period
    currency: str
    opening_balance: Money
    entries: tuple[StatementEntry, ...]
    closing_balance: Money
    open_items: tuple[OpenItem, ...]
    """The customer's open items in the currency, oldest due date first."""
    aging: AgingReport
    """The open items aged as of the end of the period."""

    @property
    def total_debits(self) -> Money:
        """The debits in the period."""
        return _money_sum((e.line.debit for e in self.entries), self.currency)

    @property
    def total_credits(self) -> Money:
        """The credits in the period."""
        return _money_sum((e.line.credit for e in self.entries), self.currency)

    def render(self) -> str:
        """The statement as aligned text."""
        cur = self.currency
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        lines = [
            f"Statement of account: {self.customer_id}",
            f"Period {start} to {end}, amounts in {cur}",
            "",
        ]
        body = [[start, "", "Opening balance", "", "", _format_amount(self.opening_balance, cur)]]
        for entry in self.entries:
            line = entry.line
            body.append(
                [
                    line.on.isoformat(),
                    line.kind.value.replace("_", " "),
                    line.reference,
                    _format_amount(line.debit, cur) if line.debit.amount else "",
                    _format_amount(line.credit, cur) if line.credit.amount else "",
                    _format_amount(entry.balance, cur),
                ]
            )
        body.append(
            [
                end,
                "",
                "Closing balance",
                _format_amount(self.total_debits, cur),
                _format_amount(self.total_credits, cur),
                _format_amount(self.closing_balance, cur),
            ]
        )
        lines += _table(["Date", "Kind", "Reference", "Debit", "Credit", "Balance"], body, left=3)
        lines += ["", f"Open items as of {end}", ""]
        if self.open_items:
            items = [
                [
                    item.item_id,
                    item.document_date.isoformat(),
                    item.due_date.isoformat(),
                    str(item.days_past_due(self.period.end)),
                    _format_amount(item.open, cur),
                ]
                for item in self.open_items
            ]
            lines += _table(["Document", "Date", "Due", "Days late", "Open"], items, left=3)
        else:
            lines.append("None.")
        row = self.aging.row(self.customer_id, cur)
        summary = [*(_format_amount(a, cur) for a in row.amounts), _format_amount(row.total, cur)]
        lines += ["", *_table([*self.aging.labels, "Total"], [summary], left=0)]
        return "\n".join(lines)


def _money_sum(amounts: Iterable[Money], currency: str) -> Money:
    value = Decimal(0)
    for amount in amounts:
        value = _add(value, amount.amount)
    return Money(value, currency)


def statement_of_account(
    customer_id: str,
    period: Period,
    currency: str,
    lines: Iterable[StatementLine],
    open_items: Iterable[OpenItem],
    *,
    brought_forward: Money | None = None,
    schedule: AgingSchedule = DEFAULT_AGING,
) -> Statement:
    """Build a customer's statement of account for a period.

    ``lines`` is the customer's account history in ``currency``: lines before the period make up
    the opening balance (on top of ``brought_forward``, the balance before the oldest line given),
    lines in the period are listed in date order (input order on the same day) with a running
    balance, and lines after the period are left for the next statement. ``open_items`` may hold
    other customers' or other currencies' items; only this customer's items in this currency are
    shown and aged as of the end of the period.
    """
    start = zero(currency) if brought_forward is None else brought_forward
    _same_currency(zero(currency), start)
    opening = start.amount
    in_period: list[StatementLine] = []
    for line in lines:
        _same_currency(start, line.debit)
        if line.on < period.start:
            opening = _add(opening, line.net)
        elif line.on <= period.end:
            in_period.append(line)
    in_period.sort(key=lambda ln: ln.on)  # stable: same-day lines keep their order

    balance = opening
    entries: list[StatementEntry] = []
    for line in in_period:
        balance = _add(balance, line.net)
        entries.append(StatementEntry(line, Money(balance, currency)))

    mine = sorted(
        (
            item
            for item in open_items
            if item.customer_id == customer_id and item.currency == currency and not item.is_settled
        ),
        key=lambda item: (item.due_date, item.item_id),
    )
    aging = aging_report(mine, period.end, schedule=schedule)
    return Statement(
        customer_id,
        period,
        currency,
        Money(opening, currency),
        tuple(entries),
        Money(balance, currency),
        tuple(mine),
        aging,
    )


# --- cash forecast ----------------------------------------------------------------------------


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
        return _money_sum((self.overdue, *(p.amount for p in self.periods)), self.currency)


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
    return _next_month(start)


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
                overdue[cur] = _add(overdue.get(cur, Decimal(0)), part.open.amount)
                continue
            start = first if expected < as_of else _period_start(expected, grouping)
            periods[start] = _add(periods.get(start, Decimal(0)), part.open.amount)

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


# --- bad-debt forecast ------------------------------------------------------------------------


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
        return _money_sum(
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


# --- process measures -------------------------------------------------------------------------


@attrs.frozen
class InvoiceTiming:
    """When an order was fulfilled (shipped) and when its invoice was issued.

    Both are dates or both are datetimes (then both aware or both naive).
    """

    order_id: str
    fulfilled_at: date | datetime
    issued_at: date | datetime

    def __attrs_post_init__(self) -> None:
        fulfilled, issued = self.fulfilled_at, self.issued_at
        if isinstance(fulfilled, datetime) != isinstance(issued, datetime) or (
            isinstance(fulfilled, datetime)
            and isinstance(issued, datetime)
            and (fulfilled.tzinfo is None) != (issued.tzinfo is None)
        ):
            raise InvalidInput(
                field="invoice timing",
                value=self.order_id,
                reason="give both times as dates or both as datetimes of the same kind",
            )
        if issued < fulfilled:
            raise InvalidInput(
                field="invoice timing",
                value=self.order_id,
                reason="issued before fulfilment (an invoice on order is not timed here)",
            )

    @property
    def days(self) -> Fraction:
        """Exact days from fulfilment to issue."""
        delta: timedelta = self.issued_at - self.fulfilled_at
        return Fraction(delta // timedelta(microseconds=1), 86_400_000_000)


@attrs.frozen
class ProcessingTime:
    """Fulfilment-to-invoice times in days (one decimal, half up)."""

    count: int
    average: Decimal
    median: Decimal
    percentile: int
    """The percentile reported in ``at_percentile``, e.g. 90."""
    at_percentile: Decimal
    """Nearest-rank: the smallest time at or below which ``percentile`` % of the times lie."""
    minimum: Decimal
    maximum: Decimal


def invoice_processing_time(
    timings: Iterable[InvoiceTiming], percentile: int = 90
) -> ProcessingTime | None:
    """Average, median, a percentile, minimum and maximum of the days from fulfilment to invoice.

    The median of an even number of times is the mean of the middle two; the percentile uses the
    nearest-rank method. ``None`` when there are no timings.
    """
    if not 0 < percentile <= 100:
        raise InvalidInput(
            field="percentile", value=str(percentile), reason="must be between 1 and 100"
        )
    days = sorted(t.days for t in timings)
    if not days:
        return None
    count = len(days)
    middle = count // 2
    median = days[middle] if count % 2 else (days[middle - 1] + days[middle]) / 2
    rank = -(-percentile * count // 100)  # ceiling without floats
    return ProcessingTime(
        count=count,
        average=_half_up(sum(days, Fraction(0)) / count, DAYS_PLACES),
        median=_half_up(median, DAYS_PLACES),
        percentile=percentile,
        at_percentile=_half_up(days[max(rank, 1) - 1], DAYS_PLACES),
        minimum=_half_up(days[0], DAYS_PLACES),
        maximum=_half_up(days[-1], DAYS_PLACES),
    )


@attrs.frozen
class OrderOutcome:
    """How an order ended up: any of these marks it as not accurate."""

    order_id: str
    amended_after_confirmation: bool
    credit_noted: bool
    returned: bool

    @property
    def is_accurate(self) -> bool:
        """Completed without an amendment after confirmation, a credit note or a return."""
        return not (self.amended_after_confirmation or self.credit_noted or self.returned)


@attrs.frozen
class OrderAccuracy:
    """The share of orders completed right the first time."""

    orders: int
    accurate: int
    rate: Decimal | None
    """Percent, two decimals, half up; ``None`` when there are no orders."""


def order_accuracy(outcomes: Iterable[OrderOutcome]) -> OrderAccuracy:
    """The order accuracy rate; an order id given twice is refused (it would count twice)."""
    seen: set[str] = set()
    accurate = 0
    for outcome in outcomes:
        if outcome.order_id in seen:
            raise InvalidInput(field="order outcome", value=outcome.order_id, reason="given twice")
        seen.add(outcome.order_id)
        accurate += outcome.is_accurate
    orders = len(seen)
    rate = _half_up(Fraction(accurate * 100, orders), PERCENT_PLACES) if orders else None
    return OrderAccuracy(orders, accurate, rate)
