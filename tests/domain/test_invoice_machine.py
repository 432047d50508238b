"""The invoice lifecycle as a hypothesis state machine: any sequence of operations keeps it sane.

Every operation is tried in every state. Where the lifecycle forbids it, it must raise
``IllegalTransition``; any refusal must leave the invoice exactly as it was. After every step the
open amount stays between zero and what is left to credit, the state agrees with the amounts, and
the invoice's running totals account for every minor unit that left the open item.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from o2c.domain.errors import DomainError, IllegalTransition
from o2c.domain.events import Changed
from o2c.domain.invoicing import (
    INVOICE_LIFECYCLE,
    CreditNote,
    Invoice,
    InvoiceableLine,
    InvoiceState,
    InvoiceTrigger,
    PriceBasis,
    TaxRounding,
    WriteOffKind,
)
from o2c.domain.money import Money, Rounding, money, quantize, unit_price, zero
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

START = date(2026, 3, 2)
S = InvoiceState
T = InvoiceTrigger
CATEGORIES = (TaxCategory.standard("19"), TaxCategory.standard("7"), TaxCategory.zero_rated())
fractions = st.integers(min_value=1, max_value=100)


def share(amount: Money, percent: int) -> Money:
    """``percent`` % of ``amount``, at least one minor unit when the amount has one."""
    part = quantize(amount.amount * percent / 100, Rounding.DOWN, amount.currency)
    if part.amount == 0:
        return amount
    return part


class InvoiceLifecycle(RuleBasedStateMachine):
    invoice: Invoice
    day: date
    counter: int

    @initialize(
        currency=st.sampled_from(("EUR", "JPY", "KWD")),
        prices=st.sampled_from(PriceBasis),
        rounding=st.sampled_from(TaxRounding),
        quantities=st.lists(st.integers(1, 5), min_size=1, max_size=3),
        terms=st.sampled_from(("NET 30", "2/10 NET 30", "30/60/90")),
    )
    def issue(
        self,
        currency: str,
        prices: PriceBasis,
        rounding: TaxRounding,
        quantities: list[int],
        terms: str,
    ) -> None:
        lines = [
            InvoiceableLine(
                order_id="SO-1",
                order_line_id=str(i),
                product_id=f"P-{i}",
                description="thing",
                quantity=Decimal(quantity),
                unit_price=unit_price("12.345" if currency != "JPY" else "1234", currency),
                tax_category=CATEGORIES[i % len(CATEGORIES)],
            )
            for i, quantity in enumerate(quantities)
        ]
        draft = Invoice.draft("D-1", "C-1", lines, prices=prices, tax_rounding=rounding)
        self.invoice, _ = draft.issue("INV-1", START, PaymentTerms.parse(terms))
        self.day = START
        self.counter = 0

    # -- running operations --

    def attempt(
        self, allowed: tuple[InvoiceTrigger, ...], operation: Callable[[], Changed[Invoice]]
    ) -> None:
        before = self.invoice
        legal = any(INVOICE_LIFECYCLE.can(before.state, trigger) for trigger in allowed)
        try:
            changed = operation()
        except IllegalTransition:
            assert self.invoice == before
            return
        except DomainError:
            assert legal, (
                "a refusal in a state that forbids the operation must be IllegalTransition"
            )
            assert self.invoice == before
            return
        assert legal, f"{before.state} allowed an operation the lifecycle forbids"
        self.invoice = changed.state
        for event in changed.events:
            assert getattr(event, "invoice_number", None) == "INV-1"

    def next_id(self) -> str:
        self.counter += 1
        return str(self.counter)

    @rule(days=st.integers(0, 20))
    def time_passes(self, days: int) -> None:
        self.day += timedelta(days=days)

    @rule(percent=fractions)
    def pay(self, percent: int) -> None:
        amount = share(self.invoice.open, percent) if self.invoice.open.amount else money(1, "EUR")
        self.attempt(
            (T.SETTLE_IN_PART, T.SETTLE),
            lambda: self.invoice.record_payment(amount, self.day, f"R-{self.next_id()}"),
        )

    @rule()
    def overpay(self) -> None:
        before = self.invoice
        amount = before.open + Money(Decimal(1), before.currency)
        try:
            self.invoice.record_payment(amount, self.day, "R-over")
        except DomainError:
            assert self.invoice == before
        else:
            raise AssertionError("a payment of more than is open was applied")

    @rule(percent=fractions)
    def reverse(self, percent: int) -> None:
        received = self.invoice.received
        amount = share(received, percent) if received.amount else self.invoice.gross
        self.attempt(
            (T.REOPEN_IN_PART, T.REOPEN),
            lambda: self.invoice.reverse_payment(amount, self.day, "R-bounced"),
        )

    @rule()
    def take_discount(self) -> None:
        item = self.invoice.open_item
        offer = item.discount_on(self.day) if item is not None else None
        amount = offer.discount if offer is not None else Money(Decimal(1), self.invoice.currency)
        self.attempt(
            (T.SETTLE_IN_PART, T.SETTLE),
            lambda: self.invoice.record_discount(amount, self.day),
        )

    @rule()
    def dispute(self) -> None:
        self.attempt((T.DISPUTE,), lambda: self.invoice.dispute(self.day, "wrong price"))

    @rule()
    def resolve(self) -> None:
        self.attempt(
            (T.RESOLVE_UNPAID, T.RESOLVE_PART_PAID),
            lambda: self.invoice.resolve_dispute(self.day, "agreed"),
        )

    @rule(percent=fractions)
    def write_off_bad_debt(self, percent: int) -> None:
        amount = (
            share(self.invoice.open, percent) if self.invoice.open.amount else self.invoice.gross
        )
        self.attempt(
            (T.SETTLE_IN_PART, T.WRITE_OFF),
            lambda: self.invoice.record_write_off(
                amount, self.day, "insolvent", WriteOffKind.BAD_DEBT
            ),
        )

    @rule()
    def write_off_small_difference(self) -> None:
        amount = self.invoice.open if self.invoice.open.amount else self.invoice.gross
        self.attempt(
            (T.SETTLE,),
            lambda: self.invoice.record_write_off(amount, self.day, "short payment"),
        )

    @rule(line=st.integers(1, 3), quantity=st.integers(1, 5))
    def credit_lines(self, line: int, quantity: int) -> None:
        number = f"CN-{self.next_id()}"
        self.attempt(
            (T.CREDIT_IN_PART, T.CREDIT),
            lambda: self.invoice.apply_credit_note(
                CreditNote.for_lines(
                    self.invoice, number, self.day, "returned", {line: Decimal(quantity)}
                )
            ),
        )

    @rule(percent=fractions)
    def credit_amount(self, percent: int) -> None:
        number = f"CN-{self.next_id()}"
        creditable = self.invoice.creditable
        amount = share(creditable, percent) if creditable.amount else self.invoice.gross
        self.attempt(
            (T.CREDIT_IN_PART, T.CREDIT),
            lambda: self.invoice.apply_credit_note(
                CreditNote.for_amount(self.invoice, number, self.day, "goodwill", amount)
            ),
        )

    @rule()
    def credit_in_full(self) -> None:
        number = f"CN-{self.next_id()}"
        self.attempt(
            (T.CREDIT,),
            lambda: self.invoice.apply_credit_note(
                CreditNote.full(self.invoice, number, self.day, "cancelled")
            ),
        )

    # -- invariants --

    @invariant()
    def open_stays_between_zero_and_what_is_left_to_credit(self) -> None:
        invoice = self.invoice
        nothing = zero(invoice.currency)
        assert nothing <= invoice.open <= invoice.creditable <= invoice.gross
        assert nothing <= invoice.credited <= invoice.gross
        assert nothing <= invoice.customer_credit

    @invariant()
    def every_minor_unit_off_the_open_item_is_accounted_for(self) -> None:
        invoice = self.invoice
        assert invoice.gross - invoice.open == invoice.settled_by_money + invoice.credit_applied
        assert invoice.received.amount >= 0

    @invariant()
    def the_state_agrees_with_the_amounts(self) -> None:
        invoice = self.invoice
        state, is_open = invoice.state, invoice.open.amount > 0
        assert invoice.open_item is not None
        assert invoice.open_item.disputed == (state is S.DISPUTED)
        assert (state is S.CREDITED) == (invoice.credited == invoice.gross)
        if state is S.ISSUED:
            assert is_open
            assert invoice.settled_by_money.amount == 0
        elif state is S.PARTIALLY_PAID:
            assert is_open
            assert invoice.settled_by_money.amount > 0
        elif state is S.DISPUTED:
            assert is_open
        else:
            assert state in (S.PAID, S.WRITTEN_OFF, S.CREDITED)
            assert not is_open
        if state is S.WRITTEN_OFF:
            assert invoice.bad_debt.amount > 0


InvoiceLifecycle.TestCase.settings = settings(
    InvoiceLifecycle.TestCase.settings, stateful_step_count=30
)
TestInvoiceLifecycle = InvoiceLifecycle.TestCase
