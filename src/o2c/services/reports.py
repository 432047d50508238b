"""Accounts-receivable measures read from the repositories through :mod:`o2c.domain.reporting`.

Aging and the cash forecast work on the open items as they are now. DSO, CEI and statements of
account need the account history; it is rebuilt from the stored documents: invoices and charges
(debits on their dates), credit notes, and the allocations of receipts (payments, discounts and
small-difference write-offs on the receipt's value date) and bad-debt write-offs on the date they
were decided.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from o2c.domain.money import Money, total
from o2c.domain.receipts import ReceiptState
from o2c.domain.receivables import OpenItem
from o2c.domain.reporting import (
    AgingReport,
    CashForecast,
    CreditSale,
    ForecastGrouping,
    Period,
    Statement,
    StatementKind,
    StatementLine,
    cash_forecast,
    collection_effectiveness_index,
    credit_sales_in,
    dso,
    statement_of_account,
)
from o2c.ports.persistence import UnitOfWork
from o2c.services import _common
from o2c.services._runtime import Runtime

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


def _balance(lines: list[StatementLine], upto: date, currency: str) -> Money:
    amount = sum((line.net for line in lines if line.on <= upto), Decimal(0))
    return Money(amount, currency)


class ReportService:
    """Aging, DSO, CEI, statements of account and cash forecasts."""

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
            sales = [
                CreditSale(line.on, line.debit)
                for line in _history(uow, currency)
                if line.kind in (StatementKind.INVOICE, StatementKind.CHARGE)
            ]
            return credit_sales_in(period, sales, currency)

        return self._runtime.query(read)

    def dso(self, period: Period, currency: str) -> Decimal | None:
        """Days sales outstanding over ``period`` (receivables at its end from the history)."""

        def read(uow: UnitOfWork) -> Decimal | None:
            history = _history(uow, currency)
            sales = [
                CreditSale(line.on, line.debit)
                for line in history
                if line.kind in (StatementKind.INVOICE, StatementKind.CHARGE)
            ]
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
            sales = [
                CreditSale(line.on, line.debit)
                for line in history
                if line.kind in (StatementKind.INVOICE, StatementKind.CHARGE)
            ]
            opening = _balance([ln for ln in history if ln.on < period.start], period.end, currency)
            ending = _balance(history, period.end, currency)
            items = [i for i in uow.open_items.open() if i.currency == currency]
            current = total(
                (
                    part.open
                    for item in items
                    for part in item.instalments
                    if part.due_date >= period.end
                ),
                currency,
            )
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
