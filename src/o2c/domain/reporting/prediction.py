"""When will each open item be paid? Learned from how each customer paid before.

The model is deliberately plain, so a collector can check any prediction by hand:

* **What is learned**: for every item paid in full, how many days after its due date it was paid
  (negative when early), with its customer and amount.
* **Recent counts more**: each paid item weighs ``0.5 ** (age / half_life_days)``, its age being
  the days from its payment to the prediction date.
* **Only what is still possible**: an item still open on the prediction date was not paid
  before it, so only histories that paid at least that late are used (for an overdue item,
  payments at least as late as it already is).
* **From the customer, else the amount band, else everyone**: the customer's own history when
  it holds at least ``min_customer_records`` such payments; otherwise the history of items in the
  same amount band; otherwise all customers'; with no history at all the due date is the answer.
* **Quantiles, not averages**: the predicted delay is the weighted median; the interval runs
  from the weighted 10th to the 90th percentile. The median is what minimises the absolute error
  in days, which is how the model is judged.

Every :class:`PaymentPrediction` says which history it came from and how many payments it used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money, total
from o2c.domain.receivables import OpenItem

__all__ = [
    "Backtest",
    "PaidRecord",
    "PaymentPrediction",
    "PredictedCashWeek",
    "PredictionModel",
    "backtest",
    "likely_late",
    "predict_payments",
    "predicted_cash_by_week",
]


@attrs.frozen
class PaidRecord:
    """One item paid in full: when it was due and when its last payment arrived."""

    item_id: str
    customer_id: str
    amount: Money
    due_date: date
    paid_on: date

    @property
    def currency(self) -> str:
        """The currency of the item."""
        return self.amount.currency.code

    @property
    def days_late(self) -> int:
        """Days after the due date the item was paid in full (negative: early)."""
        return (self.paid_on - self.due_date).days


@attrs.frozen
class PredictionModel:
    """The settings of the payment-date model (see the module docs)."""

    half_life_days: int = 180
    min_customer_records: int = 3
    min_band_records: int = 5
    min_spread_records: int = 12
    """Below this many payments, a customer's interval borrows the spread of all customers."""
    amount_bands: tuple[Decimal, ...] = (Decimal(1000), Decimal(10000))
    """Upper bounds of the amount bands, in the item's currency (the last band is open-ended)."""
    late_after_days: int = 7
    """An item is flagged as likely late when its predicted delay exceeds this many days."""

    def __attrs_post_init__(self) -> None:
        for name in (
            "half_life_days",
            "min_customer_records",
            "min_band_records",
            "min_spread_records",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidInput(field=name, value=str(value), reason="must be a positive int")
        if list(self.amount_bands) != sorted(set(self.amount_bands)):
            raise InvalidInput(
                field="amount_bands",
                value=", ".join(map(str, self.amount_bands)),
                reason="must rise strictly",
            )

    def band(self, amount: Money) -> int:
        """The index of the amount band ``amount`` falls in."""
        for index, bound in enumerate(self.amount_bands):
            if amount.amount < bound:
                return index
        return len(self.amount_bands)


@attrs.frozen
class PaymentPrediction:
    """When an open item is expected to be paid, with an interval and where that came from."""

    item_id: str
    customer_id: str
    open: Money
    due_date: date
    expected_on: date
    """The weighted median payment date (never before the prediction date)."""
    earliest_on: date
    """The 10th percentile: one in ten such items was paid by then."""
    latest_on: date
    """The 90th percentile: nine in ten such items were paid by then."""
    expected_days_late: int
    basis: str
    """The history used: ``customer``, ``amount band``, ``all`` or ``none``."""
    records_used: int


def _weighted_quantile(samples: Sequence[tuple[int, Fraction]], share: Fraction) -> int:
    """The smallest delay whose cumulative weight reaches ``share`` of the total."""
    ordered = sorted(samples)
    whole = sum(weight for _, weight in ordered)
    running = Fraction(0)
    for delay, weight in ordered:
        running += weight
        if running >= share * whole:
            return delay
    return ordered[-1][0]


def _samples(
    records: Sequence[PaidRecord], as_of: date, model: PredictionModel
) -> list[tuple[int, Fraction]]:
    return [(r.days_late, _weight((as_of - r.paid_on).days, model.half_life_days)) for r in records]


def _weight(age_days: int, half_life_days: int) -> Fraction:
    # Exact halving per half-life; between half-lives a linear step keeps this exact and monotone.
    halvings, rest = divmod(max(age_days, 0), half_life_days)
    step = Fraction(1, 2**halvings)
    return step - step * Fraction(rest, 2 * half_life_days)


def predict_payments(
    items: Iterable[OpenItem],
    history: Iterable[PaidRecord],
    as_of: date,
    model: PredictionModel | None = None,
) -> tuple[PaymentPrediction, ...]:
    """A payment-date prediction for every open item (see the module docs for the method)."""
    settings = model or PredictionModel()
    paid = [record for record in history if record.paid_on <= as_of]
    by_customer: dict[str, list[PaidRecord]] = defaultdict(list)
    by_band: dict[tuple[str, int], list[PaidRecord]] = defaultdict(list)
    by_currency: dict[str, list[PaidRecord]] = defaultdict(list)
    for record in paid:
        currency = record.currency
        by_customer[record.customer_id].append(record)
        by_band[(currency, settings.band(record.amount))].append(record)
        by_currency[currency].append(record)

    predictions = []
    for item in items:
        if item.is_settled:
            continue
        due = min(part.due_date for part in item.instalments if part.open.amount > 0)
        already = (as_of - due).days  # days late so far (negative: not due yet)
        currency = item.currency
        pools = [
            ("customer", by_customer.get(item.customer_id, []), settings.min_customer_records),
            (
                "amount band",
                by_band.get((currency, settings.band(item.open)), []),
                settings.min_band_records,
            ),
            ("all", by_currency.get(currency, []), 1),
        ]
        usable = [
            (name, [r for r in pool if r.currency == currency and r.days_late >= already], needed)
            for name, pool, needed in pools
        ]
        found = [(name, records) for name, records, needed in usable if len(records) >= needed]
        chosen: list[PaidRecord] = found[0][1] if found else []
        basis = found[0][0] if found else "none"
        if chosen:
            middle = _weighted_quantile(_samples(chosen, as_of, settings), Fraction(1, 2))
            # A short history says little about its own spread: the interval then takes the
            # spread of the widest pool around its median, centred on this median.
            spread_from = chosen if len(chosen) >= settings.min_spread_records else found[-1][1]
            spread = _samples(spread_from, as_of, settings)
            centre = _weighted_quantile(spread, Fraction(1, 2))
            low = middle + _weighted_quantile(spread, Fraction(1, 10)) - centre
            high = middle + _weighted_quantile(spread, Fraction(9, 10)) - centre
            low, high = max(low, min(already, middle)), max(high, middle)
        else:
            low = middle = high = max(already, 0)

        def on(delay: int, due: date = due) -> date:
            return max(due + timedelta(days=delay), as_of)

        predictions.append(
            PaymentPrediction(
                item.item_id,
                item.customer_id,
                item.open,
                due,
                on(middle),
                on(low),
                on(high),
                middle,
                basis,
                len(chosen),
            )
        )
    return tuple(predictions)


def likely_late(
    predictions: Iterable[PaymentPrediction], as_of: date, model: PredictionModel | None = None
) -> tuple[PaymentPrediction, ...]:
    """Items not yet due that are expected more than ``late_after_days`` late, largest first."""
    settings = model or PredictionModel()
    flagged = [
        p
        for p in predictions
        if p.due_date >= as_of and p.expected_days_late > settings.late_after_days
    ]
    return tuple(sorted(flagged, key=lambda p: (-p.open.amount, p.due_date, p.item_id)))


@attrs.frozen
class PredictedCashWeek:
    """Collections expected in one week (Monday to Sunday), in one currency.

    ``expected`` counts each item in the week of its median date; ``if_early`` and ``if_late`` in
    the week of its 10th and 90th percentile dates, which bound what the history makes likely.
    """

    week_of: date
    currency: str
    expected: Money
    if_early: Money
    if_late: Money


def predicted_cash_by_week(
    predictions: Sequence[PaymentPrediction], as_of: date, weeks: int = 13
) -> tuple[PredictedCashWeek, ...]:
    """Expected collections per week for ``weeks`` weeks from the week of ``as_of``.

    Items expected after the last week are left out of every column alike, so the columns stay
    comparable; the totals are exact.
    """
    if weeks <= 0:
        raise InvalidInput(field="weeks", value=str(weeks), reason="must be positive")
    first = as_of - timedelta(days=as_of.weekday())
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    currencies = sorted({p.open.currency.code for p in predictions})

    def in_week(start: date, currency: str, day_of: str) -> Money:
        end = start + timedelta(days=7)
        return total(
            (
                p.open
                for p in predictions
                if p.open.currency.code == currency and start <= getattr(p, day_of) < end
            ),
            currency,
        )

    return tuple(
        PredictedCashWeek(
            start,
            currency,
            in_week(start, currency, "expected_on"),
            in_week(start, currency, "earliest_on"),
            in_week(start, currency, "latest_on"),
        )
        for currency in currencies
        for start in starts
    )


@attrs.frozen
class Backtest:
    """How well the model predicted payments that then happened, against a naive rule."""

    cutoff: date
    items: int
    """Items open at the cutoff and paid in full after it: the ones judged."""
    model_error_days: Decimal
    """Mean absolute error of the predicted (median) date, in days."""
    naive_error_days: Decimal
    """The same for "paid on the due date" (or on the cutoff when already overdue)."""
    coverage_percent: Decimal
    """Share of actual payment dates inside the predicted 10th-90th percentile interval."""


def backtest(
    items: Iterable[OpenItem],
    history: Sequence[PaidRecord],
    cutoff: date,
    model: PredictionModel | None = None,
) -> Backtest | None:
    """Predict, as of ``cutoff``, the items that were then open and were paid later; compare.

    ``items`` are the items as they stand now, ``history`` every payment in full up to now. The
    model learns only from payments up to the cutoff; each judged item is put back to what it
    owed before any payment (partial payments before the cutoff are not replayed). ``None`` when
    no item qualifies.
    """
    paid_on = {record.item_id: record.paid_on for record in history}
    judged = []
    for item in items:
        paid = paid_on.get(item.item_id)
        if item.document_date <= cutoff and paid is not None and paid > cutoff:
            reopened = tuple(attrs.evolve(part, open=part.amount) for part in item.instalments)
            judged.append(attrs.evolve(item, instalments=reopened))
    if not judged:
        return None
    predictions = predict_payments(judged, history, cutoff, model)
    model_error = naive_error = inside = 0
    for prediction in predictions:
        actual = paid_on[prediction.item_id]
        naive = max(prediction.due_date, cutoff)
        model_error += abs((actual - prediction.expected_on).days)
        naive_error += abs((actual - naive).days)
        inside += prediction.earliest_on <= actual <= prediction.latest_on
    count = len(predictions)

    def mean(value: int, places: str = "0.1") -> Decimal:
        return (Decimal(value) / count).quantize(Decimal(places))

    return Backtest(cutoff, count, mean(model_error), mean(naive_error), mean(100 * inside, "0.1"))
