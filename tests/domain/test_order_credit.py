"""How an order reacts to a credit decision, and what cash-in-advance terms ask of it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.credit import CreditDecision, CreditOutcome, Reason
from o2c.domain.errors import IllegalTransition
from o2c.domain.invoicing import Invoice
from o2c.domain.money import money, unit_price
from o2c.domain.order_credit import (
    CREDIT_REACTIONS,
    DECIDING_STATES,
    apply_credit_decision,
    invoicing_policy_for,
    prepayment_awaited,
)
from o2c.domain.orders import (
    ORDER_LIFECYCLE,
    InvoicingPolicy,
    Order,
    OrderApproved,
    OrderCancelled,
    OrderLine,
    OrderPutOnCreditHold,
    OrderSentToCreditReview,
    OrderStatus,
)
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

DAY = date(2026, 3, 2)
VAT = TaxCategory.standard("19")

# where each outcome leaves an order awaiting a decision
_LANDS_IN = {
    CreditOutcome.APPROVE: OrderStatus.APPROVED,
    CreditOutcome.REVIEW: OrderStatus.CREDIT_REVIEW,
    CreditOutcome.HOLD: OrderStatus.CREDIT_HOLD,
    CreditOutcome.DENY: OrderStatus.CANCELLED,
}


def _placed(invoicing_policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT) -> Order:
    line = OrderLine("1", "P", "Widget", 10, unit_price("10.00", "EUR"), VAT)
    order, _ = Order.create("SO-1", "C-1", [line], on=DAY, invoicing_policy=invoicing_policy)
    order, _ = order.place(on=DAY)
    return order


def _in(state: OrderStatus) -> Order:
    """A placed order brought into ``state`` the way credit or a person would."""
    order = _placed()
    if state is OrderStatus.CREDIT_REVIEW:
        order, _ = order.send_to_credit_review(on=DAY, reason="first order")
    elif state is OrderStatus.CREDIT_HOLD:
        order, _ = order.put_on_credit_hold(on=DAY, reason="overdue invoice")
    elif state is OrderStatus.APPROVED:
        order, _ = order.approve(on=DAY)
    elif state is OrderStatus.CANCELLED:
        order, _ = order.cancel(on=DAY)
    elif state is OrderStatus.FULFILLED:
        order, _ = order.approve(on=DAY)
        order, _ = order.fulfil({"1": 10}, on=DAY)
    return order


def _decision(outcome: CreditOutcome, *messages: str) -> CreditDecision:
    return CreditDecision(outcome, tuple(Reason.of(f"test.{i}", m) for i, m in enumerate(messages)))


reasons = st.lists(st.text(min_size=1, max_size=20), max_size=3)


def test_every_credit_outcome_has_a_reaction() -> None:
    assert set(CREDIT_REACTIONS) == set(CreditOutcome)


def test_every_reaction_is_a_move_of_the_order_lifecycle() -> None:
    for reaction in CREDIT_REACTIONS.values():
        assert any(ORDER_LIFECYCLE.can(state, reaction.trigger) for state in DECIDING_STATES)


@given(
    st.sampled_from(sorted(DECIDING_STATES, key=lambda s: s.value)),
    st.sampled_from(CreditOutcome),
    reasons,
)
def test_every_outcome_moves_an_order_awaiting_a_decision_legally(
    state: OrderStatus, outcome: CreditOutcome, messages: list[str]
) -> None:
    order = _in(state)
    reaction = CREDIT_REACTIONS[outcome]
    response = apply_credit_decision(order, _decision(outcome, *messages), on=DAY)

    assert response.order.status is _LANDS_IN[outcome]
    stays = state is reaction.waits_in
    assert stays or ORDER_LIFECYCLE.can(state, reaction.trigger)
    if stays:
        # already where the decision sends it: nothing happens and nobody is told twice
        assert response.order == order
        assert response.events == ()
        assert response.notice is None
        return
    assert ORDER_LIFECYCLE.next_state(state, reaction.trigger) is response.order.status
    assert len(response.events) == 1
    assert response.approved is (outcome is CreditOutcome.APPROVE)
    why = "; ".join(messages)
    if reaction.notice is None:
        assert response.notice is None
    else:
        assert response.notice is not None
        assert (response.notice.template, response.notice.reason) == (
            reaction.notice.template,
            why,
        )
    event = response.events[0]
    if isinstance(event, OrderSentToCreditReview | OrderPutOnCreditHold | OrderCancelled):
        assert event.reason == why
    else:
        assert event == OrderApproved("SO-1", DAY)


@given(
    st.sampled_from(
        [OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.FULFILLED, OrderStatus.CANCELLED]
    ),
    st.sampled_from(CreditOutcome),
)
def test_an_order_not_awaiting_a_decision_refuses_one(
    state: OrderStatus, outcome: CreditOutcome
) -> None:
    if state is OrderStatus.DRAFT:
        line = OrderLine("1", "P", "Widget", 1, unit_price("10.00", "EUR"), VAT)
        order, _ = Order.create("SO-1", "C-1", [line], on=DAY)
    else:
        order = _in(state)
    with pytest.raises(IllegalTransition) as refused:
        apply_credit_decision(order, _decision(outcome, "why"), on=DAY)
    assert refused.value.state == state.value
    assert refused.value.trigger == CREDIT_REACTIONS[outcome].trigger.value


def test_a_hold_holds_the_order_and_tells_the_customer_why() -> None:
    decision = _decision(CreditOutcome.HOLD, "an invoice is 20 days overdue")
    response = apply_credit_decision(_in(OrderStatus.CREDIT_REVIEW), decision, on=DAY)
    assert response.order.status is OrderStatus.CREDIT_HOLD
    assert response.events == (OrderPutOnCreditHold("SO-1", "an invoice is 20 days overdue", DAY),)
    assert response.notice is not None
    assert response.notice.template == "order.payment_needed"
    assert response.notice.reason == "an invoice is 20 days overdue"


def test_a_denial_cancels_the_order_with_an_event_and_a_notice_that_say_why() -> None:
    decision = _decision(CreditOutcome.DENY, "insolvent", "fraud suspected")
    response = apply_credit_decision(_in(OrderStatus.CREDIT_HOLD), decision, on=DAY)
    assert response.order.status is OrderStatus.CANCELLED
    assert response.events == (OrderCancelled("SO-1", "insolvent; fraud suspected", DAY),)
    assert response.notice is not None
    assert response.notice.template == "order.credit_denied"
    assert response.notice.reason == "insolvent; fraud suspected"


def test_a_review_and_an_approval_tell_the_customer_nothing() -> None:
    review = apply_credit_decision(
        _placed(), _decision(CreditOutcome.REVIEW, "over the limit"), on=DAY
    )
    assert review.events == (OrderSentToCreditReview("SO-1", "over the limit", DAY),)
    assert review.notice is None
    approval = apply_credit_decision(
        _in(OrderStatus.CREDIT_HOLD), _decision(CreditOutcome.APPROVE), on=DAY
    )
    assert approval.events == (OrderApproved("SO-1", DAY),)
    assert approval.approved
    assert approval.notice is None


def test_cash_in_advance_terms_invoice_on_order_whatever_the_default() -> None:
    for default in InvoicingPolicy:
        assert invoicing_policy_for(PaymentTerms.parse("CIA"), default) is InvoicingPolicy.ON_ORDER
        assert invoicing_policy_for(PaymentTerms.parse("NET 30"), default) is default


def test_a_cash_in_advance_order_waits_for_its_gross_then_for_what_its_invoices_ask() -> None:
    order = _placed(InvoicingPolicy.ON_ORDER)
    assert prepayment_awaited(order, ()) == money("119.00", "EUR")
    order, _ = order.approve(on=DAY)
    invoice, _ = Invoice.from_order(order, "draft").issue("INV-1", DAY, PaymentTerms.parse("CIA"))
    assert prepayment_awaited(order, (invoice,)) == money("119.00", "EUR")
    paid, _ = invoice.record_payment(money("119.00", "EUR"), DAY, "R-1")
    assert prepayment_awaited(order, (paid,)) is None
