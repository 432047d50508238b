"""Rules moved out of the application services into the domain: credit exposure of an order,
what a cash-in-advance invoice asks before shipping, settling by allocation, dated bad debt,
what may ship now, whether an order waits for credit, bringing a credit account to review."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.credit import CreditAccount, CreditApplied, CreditReviewStarted, CreditStatus
from o2c.domain.invoicing import Invoice, InvoiceState, WriteOffKind
from o2c.domain.money import money, unit_price
from o2c.domain.orders import Order, OrderLine
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

DAY = date(2026, 3, 2)
VAT = TaxCategory.standard("19")


def _order() -> Order:
    line = OrderLine("1", "P", "Widget", 10, unit_price("10.00", "EUR"), VAT)
    order, _ = Order.create("SO-1", "C-1", [line], on=DAY)
    order, _ = order.place(on=DAY)
    return order


def _invoice(terms: str = "2/10 NET 30") -> Invoice:
    order, _ = _order().approve(on=DAY)
    order, _ = order.fulfil({"1": 10}, on=DAY)
    invoice, _ = Invoice.from_order(order, "draft").issue("INV-1", DAY, PaymentTerms.parse(terms))
    return invoice


def test_an_order_counts_toward_exposure_only_while_accepted_and_not_invoiced() -> None:
    placed = _order()
    assert placed.uninvoiced_gross == money("0.00", "EUR")
    approved, _ = placed.approve(on=DAY)
    assert approved.uninvoiced_gross == money("119.00", "EUR")
    shipped, _ = approved.fulfil({"1": 4}, on=DAY)
    billed, _ = shipped.record_invoice({"1": 4}, invoice_id="INV-1", on=DAY)
    assert billed.uninvoiced_gross == money("71.40", "EUR")
    cancelled, _ = approved.cancel(on=DAY)
    assert cancelled.uninvoiced_gross == money("0.00", "EUR")


def test_a_cash_in_advance_invoice_asks_everything_on_its_date() -> None:
    ahead = _invoice("CIA")
    assert ahead.due_on_issue == money("119.00", "EUR")
    paid, _ = ahead.record_payment(money("119.00", "EUR"), DAY, "R-1")
    assert paid.due_on_issue == money("0.00", "EUR")
    assert _invoice("NET 30").due_on_issue == money("0.00", "EUR")


def test_a_settlement_takes_the_discount_before_the_payment() -> None:
    invoice = _invoice()
    settled, events = invoice.record_settlement(
        DAY + timedelta(days=5),
        "R-1",
        paid=money("116.62", "EUR"),
        discount=money("2.38", "EUR"),
    )
    assert settled.state is InvoiceState.PAID
    assert settled.discounted == money("2.38", "EUR")
    assert [type(e).__name__ for e in events][:2] == [
        "InvoiceDiscountGranted",
        "InvoicePaymentRecorded",
    ]


def test_a_prepayment_settles_on_the_invoice_date() -> None:
    invoice = _invoice()
    settled, _ = invoice.record_settlement(
        DAY - timedelta(days=3), "R-1", paid=money("119.00", "EUR")
    )
    assert settled.state is InvoiceState.PAID


def test_a_short_payment_is_closed_by_its_write_off() -> None:
    invoice = _invoice("NET 30")
    settled, _ = invoice.record_settlement(
        DAY, "R-1", paid=money("118.50", "EUR"), write_off=money("0.50", "EUR")
    )
    assert settled.state is InvoiceState.PAID
    assert settled.written_off == money("0.50", "EUR")


def test_bad_debt_write_offs_keep_their_dates() -> None:
    invoice = _invoice("NET 30")
    later = DAY + timedelta(days=120)
    part, _ = invoice.record_write_off(
        money("19.00", "EUR"), later, "partial", WriteOffKind.BAD_DEBT
    )
    rest, _ = part.record_write_off(
        money("100.00", "EUR"), later + timedelta(days=1), "insolvent", WriteOffKind.BAD_DEBT
    )
    assert [(w.on, w.amount) for w in rest.bad_debt_write_offs] == [
        (later, money("19.00", "EUR")),
        (later + timedelta(days=1), money("100.00", "EUR")),
    ]
    assert rest.state is InvoiceState.WRITTEN_OFF


def test_shippable_is_what_is_open_and_not_back_ordered() -> None:
    order, _ = _order().approve(on=DAY)
    assert order.shippable_quantities() == {"1": Decimal(10)}
    order, _ = order.fulfil({"1": 4}, on=DAY)
    order, _ = order.back_order("1", 2, on=DAY)
    line = order.line("1")
    assert line.shippable_quantity == Decimal(4) == line.open_quantity - line.back_ordered
    assert order.shippable_quantities() == {"1": Decimal(4)}
    order, _ = order.back_order("1", 4, on=DAY)
    assert order.line("1").shippable_quantity == 0
    assert order.shippable_quantities() == {}


@given(
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=0, max_value=50),
)
def test_shippable_never_exceeds_open_and_never_goes_negative(
    ordered: int, shipped: int, waiting: int
) -> None:
    line = OrderLine("1", "P", "Widget", ordered, unit_price("10.00", "EUR"), VAT)
    order, _ = Order.create("SO-1", "C-1", [line], on=DAY)
    order, _ = order.place(on=DAY)
    order, _ = order.approve(on=DAY)
    if 0 < shipped < ordered:
        order, _ = order.fulfil({"1": shipped}, on=DAY)
    open_now = order.line("1").open_quantity
    if 0 < waiting <= open_now:
        order, _ = order.back_order("1", waiting, on=DAY)
    line = order.line("1")
    assert 0 <= line.shippable_quantity <= line.open_quantity
    assert line.shippable_quantity + line.back_ordered == line.open_quantity
    assert order.shippable_quantities() == (
        {"1": line.shippable_quantity} if line.shippable_quantity else {}
    )


def test_an_order_waits_for_credit_only_in_review_or_on_hold() -> None:
    placed = _order()
    assert not placed.waits_for_credit
    reviewed, _ = placed.send_to_credit_review(on=DAY)
    held, _ = placed.put_on_credit_hold(on=DAY)
    approved, _ = placed.approve(on=DAY)
    assert reviewed.waits_for_credit
    assert held.waits_for_credit
    assert not approved.waits_for_credit


def test_an_account_is_brought_to_review_from_wherever_a_review_can_follow() -> None:
    new = CreditAccount.new("C-1", "EUR")
    reviewing, events = new.bring_to_review(DAY)
    assert reviewing.status is CreditStatus.UNDER_REVIEW
    assert events == (CreditApplied("C-1", DAY, None), CreditReviewStarted("C-1", DAY))
    applied, _ = new.apply(DAY)
    assert applied.bring_to_review(DAY) == (reviewing, (CreditReviewStarted("C-1", DAY),))
    assert reviewing.bring_to_review(DAY) == (reviewing, ())
    approved, _ = reviewing.approve(
        money("100", "EUR"), DAY + timedelta(days=365), "ana", "ok", DAY
    )
    assert approved.bring_to_review(DAY) == (approved, ())
