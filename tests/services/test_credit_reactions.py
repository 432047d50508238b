"""Placing an order and rechecking its credit react to a credit decision the same way."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest
from services_world import DUNNING, World, build_world, widget_line

from o2c.domain.credit import CreditContext, CreditOutcome, CreditPolicySet, Finding, Reason
from o2c.domain.events import DomainEvent
from o2c.domain.orders import (
    OrderApproved,
    OrderCancelled,
    OrderPutOnCreditHold,
    OrderSentToCreditReview,
    OrderStatus,
)
from o2c.services import Settings

_CREDIT_REACTIONS = (OrderApproved, OrderSentToCreditReview, OrderPutOnCreditHold, OrderCancelled)


@attrs.define
class Verdict:
    """A credit policy whose verdict the test sets: the decisions to compare, nothing else."""

    outcome: CreditOutcome = CreditOutcome.APPROVE
    message: str = "as the test says"

    def evaluate(self, context: CreditContext) -> Sequence[Finding]:
        return (Finding(self.outcome, Reason.of("test.verdict", self.message)),)


@attrs.frozen
class Seen:
    """What a credit decision did to an order, as the outside world sees it."""

    status: OrderStatus
    events: tuple[DomainEvent, ...]
    notices: tuple[tuple[str, str, str], ...]


def _world(verdict: Verdict) -> World:
    world = build_world(Settings(dunning_policy=DUNNING, credit_policy=CreditPolicySet.of(verdict)))
    world.customer("C-1")
    return world


def _seen_since(world: World, status: OrderStatus, events: int, notices: int) -> Seen:
    published = tuple(
        event for event in world.published[events:] if isinstance(event, _CREDIT_REACTIONS)
    )
    sent = tuple(
        (n.template, n.data.get("order_id", ""), n.data.get("reason", ""))
        for n in world.notifier.sent[notices:]
    )
    return Seen(status, published, sent)


def _on_placement(outcome: CreditOutcome, message: str) -> Seen:
    verdict = Verdict(outcome, message)
    world = _world(verdict)
    events, notices = len(world.published), len(world.notifier.sent)
    placed = world.services.orders.place_order(
        "SO-1", "C-1", [widget_line()], idempotency_key=world.key()
    )
    return _seen_since(world, placed.status, events, notices)


def _on_recheck(waiting: CreditOutcome, outcome: CreditOutcome, message: str) -> Seen:
    verdict = Verdict(waiting, "the first look")
    world = _world(verdict)
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    verdict.outcome, verdict.message = outcome, message
    events, notices = len(world.published), len(world.notifier.sent)
    rechecked = world.services.orders.recheck_credit("SO-1", idempotency_key=world.key())
    return _seen_since(world, rechecked.status, events, notices)


@pytest.mark.parametrize("outcome", list(CreditOutcome))
def test_a_recheck_of_an_order_in_review_reacts_as_placement_does(outcome: CreditOutcome) -> None:
    message = f"the policy says {outcome.value}"
    placed = _on_placement(outcome, message)
    rechecked = _on_recheck(CreditOutcome.REVIEW, outcome, message)
    if outcome is CreditOutcome.REVIEW:
        # already in review: it stays there, with nothing new to tell
        assert rechecked == Seen(OrderStatus.CREDIT_REVIEW, (), ())
    else:
        assert rechecked == placed


@pytest.mark.parametrize("outcome", list(CreditOutcome))
def test_a_recheck_of_a_held_order_reacts_as_placement_does(outcome: CreditOutcome) -> None:
    message = f"the policy says {outcome.value}"
    placed = _on_placement(outcome, message)
    rechecked = _on_recheck(CreditOutcome.HOLD, outcome, message)
    if outcome is CreditOutcome.HOLD:
        # already on hold: it stays held and the customer is not told twice
        assert rechecked == Seen(OrderStatus.CREDIT_HOLD, (), ())
    else:
        assert rechecked == placed


def test_a_hold_on_recheck_holds_the_order_and_asks_the_customer_to_pay() -> None:
    seen = _on_recheck(CreditOutcome.REVIEW, CreditOutcome.HOLD, "an invoice is overdue")
    assert seen.status is OrderStatus.CREDIT_HOLD
    assert [type(event) for event in seen.events] == [OrderPutOnCreditHold]
    assert seen.notices == (("order.payment_needed", "SO-1", "an invoice is overdue"),)


def test_a_denial_on_recheck_cancels_the_order_and_tells_the_customer_why() -> None:
    seen = _on_recheck(CreditOutcome.HOLD, CreditOutcome.DENY, "the customer is insolvent")
    assert seen.status is OrderStatus.CANCELLED
    assert [type(event) for event in seen.events] == [OrderCancelled]
    assert seen.notices == (("order.credit_denied", "SO-1", "the customer is insolvent"),)


def test_an_approval_on_recheck_reserves_the_stock_as_on_placement() -> None:
    world = _world(verdict := Verdict(CreditOutcome.HOLD, "pay first"))
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    assert world.inventory.stock("WIDGET").reserved == 0
    verdict.outcome = CreditOutcome.APPROVE
    rechecked = world.services.orders.recheck_credit("SO-1", idempotency_key=world.key())
    assert rechecked.status is OrderStatus.APPROVED
    assert world.inventory.stock("WIDGET").reserved == 10
