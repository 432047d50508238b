"""The statement of account: a customer's lines over a period, a running balance and aging."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from o2c.domain.errors import InvalidAmount, InvalidInput
from o2c.domain.money import Money, is_exact, zero
from o2c.domain.receivables import OpenItem
from o2c.domain.references import format_creditor_reference
from o2c.domain.reporting._common import (
    add_exact,
    format_amount,
    money_sum,
    not_negative,
    same_currency,
    table,
)
from o2c.domain.reporting.aging import DEFAULT_AGING, AgingReport, AgingSchedule, aging_report
from o2c.domain.reporting.period import Period

__all__ = [
    "StatementKind",
    "StatementLine",
    "StatementEntry",
    "Statement",
    "statement_of_account",
]


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
    payment_reference: str | None = None
    """The structured reference to pay the document with (an invoice's ``RF…`` creditor
    reference), as printed on it."""

    def __attrs_post_init__(self) -> None:
        same_currency(self.debit, self.credit)
        if not (is_exact(self.debit) and is_exact(self.credit)):
            raise InvalidAmount(
                value=f"{self.debit} / {self.credit}", reason="must be exact in the currency"
            )
        not_negative("debit and credit", self.debit, self.credit)
        if (self.debit.amount > 0) == (self.credit.amount > 0):
            raise InvalidInput(
                field="statement line",
                value=self.reference,
                reason="exactly one of debit and credit must be positive",
            )

    @classmethod
    def entry(
        cls,
        on: date,
        kind: StatementKind,
        reference: str,
        amount: Money,
        payment_reference: str | None = None,
    ) -> StatementLine:
        """A line with a positive ``amount`` on the kind's usual side."""
        nothing = zero(amount.currency)
        if kind.is_debit:
            return cls(on, kind, reference, amount, nothing, payment_reference)
        return cls(on, kind, reference, nothing, amount, payment_reference)

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
        return money_sum((e.line.debit for e in self.entries), self.currency)

    @property
    def total_credits(self) -> Money:
        """The credits in the period."""
        return money_sum((e.line.credit for e in self.entries), self.currency)

    def render(self) -> str:
        """The statement as aligned text."""
        cur = self.currency
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        lines = [
            f"Statement of account: {self.customer_id}",
            f"Period {start} to {end}, amounts in {cur}",
            "",
        ]
        body = [[start, "", "Opening balance", "", "", format_amount(self.opening_balance, cur)]]
        for entry in self.entries:
            line = entry.line
            body.append(
                [
                    line.on.isoformat(),
                    line.kind.value.replace("_", " "),
                    line.reference,
                    format_amount(line.debit, cur) if line.debit.amount else "",
                    format_amount(line.credit, cur) if line.credit.amount else "",
                    format_amount(entry.balance, cur),
                ]
            )
        body.append(
            [
                end,
                "",
                "Closing balance",
                format_amount(self.total_debits, cur),
                format_amount(self.total_credits, cur),
                format_amount(self.closing_balance, cur),
            ]
        )
        lines += table(["Date", "Kind", "Reference", "Debit", "Credit", "Balance"], body, left=3)
        lines += ["", f"Open items as of {end}", ""]
        if self.open_items:
            items = [
                [
                    item.item_id,
                    item.document_date.isoformat(),
                    item.due_date.isoformat(),
                    str(item.days_past_due(self.period.end)),
                    format_amount(item.open, cur),
                    format_creditor_reference(item.reference) if item.reference else "",
                ]
                for item in self.open_items
            ]
            headers = ["Document", "Date", "Due", "Days late", "Open", "Pay with reference"]
            lines += table(headers, items, left=3)
        else:
            lines.append("None.")
        row = self.aging.row(self.customer_id, cur)
        summary = [*(format_amount(a, cur) for a in row.amounts), format_amount(row.total, cur)]
        lines += ["", *table([*self.aging.labels, "Total"], [summary], left=0)]
        return "\n".join(lines)


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
    same_currency(zero(currency), start)
    opening = start.amount
    in_period: list[StatementLine] = []
    for line in lines:
        same_currency(start, line.debit)
        if line.on < period.start:
            opening = add_exact(opening, line.net)
        elif line.on <= period.end:
            in_period.append(line)
    in_period.sort(key=lambda ln: ln.on)  # stable: same-day lines keep their order

    balance = opening
    entries: list[StatementEntry] = []
    for line in in_period:
        balance = add_exact(balance, line.net)
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
