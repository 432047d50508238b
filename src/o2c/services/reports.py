"""Accounts-receivable measures read from the repositories through :mod:`o2c.domain.reporting`.

Aging and the cash forecast work on the open items as they are now. DSO, CEI and statements of
account need the account history; it is rebuilt from the stored documents: invoices and charges
(debits on their dates), credit notes, and the allocations of receipts (payments, discounts and
small-difference write-offs on the receipt's value date) and bad-debt write-offs on the date they
were decided.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from o2c.domain.ledger import TrialBalance
from o2c.domain.money import Money, Rounding, total
from o2c.domain.receipts import ReceiptState
from o2c.domain.receivables import OpenItem
from o2c.domain.reporting import (
    AgingReport,
    Backtest,
    BadDebtForecast,
    CashForecast,
    CreditSale,
    ForecastGrouping,
    InvoiceTiming,
    OrderAccuracy,
    OrderOutcome,
    PaidRecord,
    PaymentPrediction,
    Period,
    PredictedCashWeek,
    PredictionModel,
    ProcessingTime,
    Statement,
    StatementKind,
    StatementLine,
    average_days_delinquent,
    backtest,
    bad_debt_forecast,
    cash_forecast,
    collection_effectiveness_index,
    count_back_dso,
    credit_sales_in,
    dso,
    invoice_processing_time,
    likely_late,
    likely_late_events,
    order_accuracy,
    predict_payments,
    predicted_cash_by_week,
    statement_of_account,
)
from o2c.ports.persistence import UnitOfWork
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.results import LikelyLateFlagged

__all__ = ["ReportService"]


def _history(uow: UnitOfWork, currency: str, customer_id: str | None = None) -> list[StatementLine]:
    """Every dated movement of the receivables in ``currency`` (of one customer, or all)."""

    def mine(owner: str, code: str) -> bool:
        return code == currency and (customer_id is None or owner == customer_id)

    lines: list[StatementLine] = []
    for invoice in uow.invoices.values():
        if invoice.open_item is None or invoice.issue_date is None:
            continue
        if mine(invoice.customer_id, invoice.currency):
            number = invoice.number or invoice.invoice_id
            lines.append(
                StatementLine.entry(
                    invoice.issue_date,
                    StatementKind.INVOICE,
                    number,
                    invoice.gross,
                    invoice.payment_reference,
                )
            )
            lines.extend(
                StatementLine.entry(
                    written.on, StatementKind.WRITE_OFF, f"{number}/bad-debt", written.amount
                )
                for written in invoice.bad_debt_write_offs
            )
    lines.extend(
        StatementLine.entry(c.document_date, StatementKind.CHARGE, c.item_id, c.original)
        for c in uow.charges.values()
        if mine(c.customer_id, c.currency)
    )
    lines.extend(
        StatementLine.entry(n.issue_date, StatementKind.CREDIT_NOTE, n.number, n.gross)
        for n in uow.credit_notes.values()
        if mine(n.customer_id, n.currency)
    )
    owners = {item.item_id: item.customer_id for item in _all_items(uow)}
    for receipt in uow.receipts.values():
        if receipt.state is ReceiptState.REVERSED or receipt.currency != currency:
            continue
        for allocation in uow.allocations.find(receipt.receipt_id) or ():
            if not mine(owners.get(allocation.item_id, ""), currency):
                continue
            for kind, part in (
                (StatementKind.PAYMENT, allocation.applied),
                (StatementKind.DISCOUNT, allocation.discount),
                (StatementKind.WRITE_OFF, allocation.write_off),
            ):
                if part.amount > 0:
                    lines.append(
                        StatementLine.entry(
                            receipt.value_date,
                            kind,
                            f"{receipt.receipt_id}/{allocation.item_id}",
                            part,
                        )
                    )
    lines.sort(key=lambda line: line.on)
    return lines


def _all_items(uow: UnitOfWork) -> list[OpenItem]:
    found: list[OpenItem] = [i.open_item for i in uow.invoices.values() if i.open_item is not None]
    found.extend(uow.charges.values())
    return found


def _sales(history: list[StatementLine]) -> list[CreditSale]:
    return [
        CreditSale(line.on, line.debit)
        for line in history
        if line.kind in (StatementKind.INVOICE, StatementKind.CHARGE)
    ]


def _not_yet_due(uow: UnitOfWork, currency: str, on: date) -> Money:
    """What the open items in ``currency`` owe that falls due after ``on``."""
    return total(
        (
            part.open
            for item in uow.open_items.open()
            if item.currency == currency
            for part in item.instalments
            if part.due_date >= on
        ),
        currency,
    )


def _paid_history(uow: UnitOfWork) -> list[PaidRecord]:
    """Every item paid in full, with the value date of the receipt that finished paying it.

    Items closed without a payment (written off or credited in full) teach nothing about when
    a customer pays and are left out.
    """
    last_paid: dict[str, date] = {}
    for receipt in uow.receipts.values():
        if receipt.state is ReceiptState.REVERSED:
            continue
        for allocation in uow.allocations.find(receipt.receipt_id) or ():
            if allocation.applied.amount > 0:
                seen = last_paid.get(allocation.item_id)
                if seen is None or receipt.value_date > seen:
                    last_paid[allocation.item_id] = receipt.value_date
    return [
        PaidRecord(item.item_id, item.customer_id, item.original, item.due_date, paid_on)
        for item in _all_items(uow)
        if item.is_settled and (paid_on := last_paid.get(item.item_id)) is not None
    ]


def _balance(lines: list[StatementLine], upto: date, currency: str) -> Money:
    amount = sum((line.net for line in lines if line.on <= upto), Decimal(0))
    return Money(amount, currency)


class ReportService:
    """Aging, DSO, CEI, ADD, statements of account, forecasts and payment predictions."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def _today(self) -> date:
        return self._runtime.adapters.clock.today()

    def aging(self, as_of: date | None = None) -> AgingReport:
        """The open items aged per customer and currency (default: as of today)."""
        day = as_of or self._today()
        return self._runtime.query(lambda uow: uow.open_items.aging(day))

    def cash_forecast(
        self, as_of: date | None = None, grouping: ForecastGrouping = ForecastGrouping.MONTH
    ) -> CashForecast:
        """Expected collections from the open instalments' due dates."""
        day = as_of or self._today()
        return self._runtime.query(
            lambda uow: cash_forecast(uow.open_items.open(), day, grouping=grouping)
        )

    def credit_sales(self, period: Period, currency: str) -> Money:
        """Invoices and charges raised in the period."""

        def read(uow: UnitOfWork) -> Money:
            sales = _sales(_history(uow, currency))
            return credit_sales_in(period, sales, currency)

        return self._runtime.query(read)

    def dso(self, period: Period, currency: str) -> Decimal | None:
        """Days sales outstanding over ``period`` (receivables at its end from the history)."""

        def read(uow: UnitOfWork) -> Decimal | None:
            history = _history(uow, currency)
            sales = _sales(history)
            ending = _balance(history, period.end, currency)
            return dso(ending, credit_sales_in(period, sales, currency), period.days)

        return self._runtime.query(read)

    def cei(self, period: Period, currency: str) -> Decimal | None:
        """Collection effectiveness over ``period``, in percent.

        Opening and ending receivables come from the history; the current part of the ending
        receivables is what the open items have not yet due at the end of the period.
        """

        def read(uow: UnitOfWork) -> Decimal | None:
            history = _history(uow, currency)
            sales = _sales(history)
            opening = _balance([ln for ln in history if ln.on < period.start], period.end, currency)
            ending = _balance(history, period.end, currency)
            current = _not_yet_due(uow, currency, period.end)
            current = min(current, ending) if ending.amount >= 0 else Money(0, currency)
            return collection_effectiveness_index(
                opening,
                credit_sales_in(period, sales, currency),
                ending,
                current,
            )

        return self._runtime.query(read)

    def statement(self, customer_id: str, period: Period) -> Statement:
        """A customer's statement of account for a period, in the customer's currency."""

        def read(uow: UnitOfWork) -> Statement:
            customer = _common.customer(uow, customer_id)
            currency = customer.currency
            return statement_of_account(
                customer_id,
                period,
                currency,
                _history(uow, currency, customer_id),
                uow.open_items.open_of(customer_id, currency),
            )

        return self._runtime.query(read)

    def count_back_dso(self, currency: str, as_of: date | None = None) -> Decimal | None:
        """DSO by the count-back method: how many days of recent sales the receivables equal."""
        day = as_of or self._today()

        def read(uow: UnitOfWork) -> Decimal | None:
            history = [line for line in _history(uow, currency) if line.on <= day]
            return count_back_dso(_balance(history, day, currency), day, _sales(history))

        return self._runtime.query(read)

    def average_days_delinquent(self, period: Period, currency: str) -> Decimal | None:
        """Average days delinquent over ``period``: DSO minus the best possible DSO."""

        def read(uow: UnitOfWork) -> Decimal | None:
            history = _history(uow, currency)
            ending = _balance(history, period.end, currency)
            current = _not_yet_due(uow, currency, period.end)
            current = min(current, ending) if ending.amount >= 0 else Money(0, currency)
            sales = credit_sales_in(period, _sales(history), currency)
            return average_days_delinquent(ending, current, sales, period.days)

        return self._runtime.query(read)

    def monthly_dso(
        self, currency: str, first: date, last: date
    ) -> tuple[tuple[Period, Decimal | None], ...]:
        """DSO for each calendar month from the month of ``first`` to the month of ``last``."""

        def read(uow: UnitOfWork) -> tuple[tuple[Period, Decimal | None], ...]:
            history = _history(uow, currency)
            sales = _sales(history)
            months = []
            start = first.replace(day=1)
            while start <= last:
                following = (start + timedelta(days=32)).replace(day=1)
                period = Period(start, following - timedelta(days=1))
                ending = _balance(history, period.end, currency)
                months.append(
                    (period, dso(ending, credit_sales_in(period, sales, currency), period.days))
                )
                start = following
            return tuple(months)

        return self._runtime.query(read)

    def bad_debt_forecast(
        self,
        loss_rates: dict[str, Decimal | int | str],
        as_of: date | None = None,
        rounding: Rounding = Rounding.HALF_UP,
    ) -> BadDebtForecast:
        """Expected losses: each aging bucket's total times its loss rate (percent)."""
        return bad_debt_forecast(self.aging(as_of), loss_rates, rounding)

    def trial_balance(self) -> TrialBalance:
        """The ledger's trial balance: debits, credits and balance per account and currency."""
        return self._runtime.adapters.ledger.trial_balance()

    def payment_predictions(
        self, as_of: date | None = None, model: PredictionModel | None = None
    ) -> tuple[PaymentPrediction, ...]:
        """When each open item is expected to be paid, learned from the paid history."""
        day = as_of or self._today()
        return self._runtime.query(
            lambda uow: predict_payments(uow.open_items.open(), _paid_history(uow), day, model)
        )

    def predicted_cash(
        self, as_of: date | None = None, weeks: int = 13, model: PredictionModel | None = None
    ) -> tuple[PredictedCashWeek, ...]:
        """Collections expected per week from the payment predictions, with an interval."""
        day = as_of or self._today()
        return predicted_cash_by_week(self.payment_predictions(day, model), day, weeks)

    def likely_late(
        self, as_of: date | None = None, model: PredictionModel | None = None
    ) -> tuple[PaymentPrediction, ...]:
        """The collector's worklist: items not yet due that are expected to be paid late."""
        day = as_of or self._today()
        return likely_late(self.payment_predictions(day, model), day, model)

    def backtest(self, cutoff: date, model: PredictionModel | None = None) -> Backtest | None:
        """How the payment predictions made at ``cutoff`` fared against what was then paid.

        Compares the predicted dates of the items open at ``cutoff`` and paid in full since with
        their actual payment dates, and with the naive rule "paid on the due date".
        """

        def read(uow: UnitOfWork) -> Backtest | None:
            return backtest(_all_items(uow), _paid_history(uow), cutoff, model)

        return self._runtime.query(read)

    def flag_likely_late(
        self,
        as_of: date | None = None,
        model: PredictionModel | None = None,
        *,
        idempotency_key: str,
    ) -> LikelyLateFlagged:
        """Raise :class:`~o2c.domain.reporting.InvoiceLikelyLate` for today's worklist.

        Meant to run once a business day (a key per day makes a retry harmless): plugins hear
        of every item not yet due that is predicted to be paid late, so someone can call the
        customer before the due date.
        """

        def body(work: Work) -> LikelyLateFlagged:
            day = as_of if as_of is not None else work.today
            uow = work.uow
            predictions = predict_payments(uow.open_items.open(), _paid_history(uow), day, model)
            events = likely_late_events(likely_late(predictions, day, model), day)
            work.record(events)
            return LikelyLateFlagged(day, tuple(e.item_id for e in events))

        request = (as_of, model)
        return self._runtime.execute(
            "flag_likely_late", idempotency_key, request, LikelyLateFlagged, body
        )

    def invoice_processing_time(
        self, period: Period, percentile: int = 90
    ) -> ProcessingTime | None:
        """Days from fulfilment to invoice for the invoices issued in ``period``.

        An invoice is timed from the last shipment of its order sent on or before its issue
        date; invoices raised before anything shipped (on order, in advance) are not timed.
        """

        def read(uow: UnitOfWork) -> ProcessingTime | None:
            timings = []
            for order in uow.orders.values():
                shipped = [s.shipped_on for s in uow.shipments.of_order(order.order_id)]
                for invoice in uow.invoices.of_order(order.order_id):
                    issued = invoice.issue_date
                    if issued is None or not period.start <= issued <= period.end:
                        continue
                    before = [day for day in shipped if day <= issued]
                    if before:
                        timings.append(InvoiceTiming(order.order_id, max(before), issued))
            return invoice_processing_time(timings, percentile)

        return self._runtime.query(read)

    def order_accuracy(self, period: Period) -> OrderAccuracy:
        """The share of orders placed in ``period`` that went right the first time.

        An order is not accurate when its lines changed after the customer confirmed it, when a
        credit note was raised on one of its invoices, or when goods came back.
        """

        def read(uow: UnitOfWork) -> OrderAccuracy:
            outcomes = [
                OrderOutcome(
                    order.order_id,
                    amended_after_confirmation=order.amended_after_placement,
                    credit_noted=any(i.credit_notes for i in uow.invoices.of_order(order.order_id)),
                    returned=any(line.returned > 0 for line in order.lines),
                )
                for order in uow.orders.values()
                if order.placed_on is not None and period.start <= order.placed_on <= period.end
            ]
            return order_accuracy(outcomes)

        return self._runtime.query(read)
