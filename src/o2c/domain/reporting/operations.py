"""Process measures: how fast invoices follow fulfilment, and how many orders go right."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.reporting._common import half_up
from o2c.domain.reporting.measures import DAYS_PLACES, PERCENT_PLACES

__all__ = [
    "InvoiceTiming",
    "ProcessingTime",
    "invoice_processing_time",
    "OrderOutcome",
    "OrderAccuracy",
    "order_accuracy",
]


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
        average=half_up(sum(days, Fraction(0)) / count, DAYS_PLACES),
        median=half_up(median, DAYS_PLACES),
        percentile=percentile,
        at_percentile=half_up(days[max(rank, 1) - 1], DAYS_PLACES),
        minimum=half_up(days[0], DAYS_PLACES),
        maximum=half_up(days[-1], DAYS_PLACES),
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
    rate = half_up(Fraction(accurate * 100, orders), PERCENT_PLACES) if orders else None
    return OrderAccuracy(orders, accurate, rate)
