"""How credit shapes an order: its reaction to a credit decision, and cash-in-advance terms.

:data:`CREDIT_REACTIONS` is the one table from a :class:`~o2c.domain.credit.CreditOutcome` to what
the order does: which :class:`~o2c.domain.orders.OrderTrigger` moves it and whether the customer
is told. :func:`apply_credit_decision` applies it, whether the decision is the first one (when
the order is placed) or a later one (a recheck after the customer paid), so both behave the same:

========  ==========================  ==========================================================
outcome   order                       customer
========  ==========================  ==========================================================
approve   approved (stock may go)     not told here (a stock shortfall is told separately)
review    waits for a person          not told (the person's decision is)
hold      on credit hold              told to pay first (``order.payment_needed``), with why
deny      cancelled                   told that credit was denied (``order.credit_denied``), why
========  ==========================  ==========================================================

An order already waiting where the decision sends it (on hold and held again, in review and
reviewed again) stays as it is: no new event and no second notice.

Cash-in-advance terms extend no credit: the order is invoiced on order
(:func:`invoicing_policy_for`) and ships once what its invoices ask in advance is paid
(:func:`prepayment_awaited`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import TypeAlias

import attrs

from o2c.domain.credit import CreditDecision, CreditOutcome
from o2c.domain.errors import IllegalTransition
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.invoicing import Invoice
from o2c.domain.money import Money, total
from o2c.domain.orders import ORDER_LIFECYCLE, InvoicingPolicy, Order, OrderStatus, OrderTrigger
from o2c.domain.terms import PaymentTerms

__all__ = [
    "CREDIT_REACTIONS",
    "DECIDING_STATES",
    "CreditNotice",
    "CreditReaction",
    "CreditResponse",
    "apply_credit_decision",
    "invoicing_policy_for",
    "prepayment_awaited",
]


@attrs.frozen
class CreditNotice:
    """What the customer is told about a credit decision on their order."""

    template: str
    """The notification template: ``"order.payment_needed"``, ``"order.credit_denied"``."""
    key: str
    """Names the notice among the order's notifications (``"credit_hold"``), for a stable id."""
    reason: str = ""
    """Why, in words: the decisive reasons of the credit decision."""


@attrs.frozen
class CreditReaction:
    """What an order does on one credit outcome."""

    trigger: OrderTrigger
    waits_in: OrderStatus | None = None
    """The state in which the order waits after this reaction, if it waits; an order already
    there stays."""
    notice: CreditNotice | None = None
    """What the customer is told (the reason is filled in from the decision), if anything."""


#: The states in which an order awaits a credit decision: placed, or waiting after an earlier one.
DECIDING_STATES = frozenset(
    {OrderStatus.PLACED, OrderStatus.CREDIT_REVIEW, OrderStatus.CREDIT_HOLD}
)

#: The order's reaction to each credit outcome; every outcome has one.
CREDIT_REACTIONS: Mapping[CreditOutcome, CreditReaction] = MappingProxyType(
    {
        CreditOutcome.APPROVE: CreditReaction(OrderTrigger.APPROVE),
        CreditOutcome.REVIEW: CreditReaction(
            OrderTrigger.SEND_TO_CREDIT_REVIEW, waits_in=OrderStatus.CREDIT_REVIEW
        ),
        CreditOutcome.HOLD: CreditReaction(
            OrderTrigger.PUT_ON_CREDIT_HOLD,
            waits_in=OrderStatus.CREDIT_HOLD,
            notice=CreditNotice("order.payment_needed", "credit_hold"),
        ),
        CreditOutcome.DENY: CreditReaction(
            OrderTrigger.CANCEL, notice=CreditNotice("order.credit_denied", "credit_denied")
        ),
    }
)


_Step: TypeAlias = Callable[[Order, date, str], Changed[Order]]

# The order operation behind each trigger the table uses, given the date and the reason.
_STEPS: Mapping[OrderTrigger, _Step] = MappingProxyType(
    {
        OrderTrigger.APPROVE: lambda order, on, _: order.approve(on=on),
        OrderTrigger.SEND_TO_CREDIT_REVIEW: lambda order, on, why: order.send_to_credit_review(
            on=on, reason=why
        ),
        OrderTrigger.PUT_ON_CREDIT_HOLD: lambda order, on, why: order.put_on_credit_hold(
            on=on, reason=why
        ),
        OrderTrigger.CANCEL: lambda order, on, why: order.cancel(on=on, reason=why),
    }
)


@attrs.frozen
class CreditResponse:
    """The order after a credit decision, its events and what to tell the customer."""

    order: Order
    events: tuple[DomainEvent, ...]
    notice: CreditNotice | None = None

    @property
    def approved(self) -> bool:
        """Whether credit let the order go ahead: its stock may be reserved now."""
        return self.order.status is OrderStatus.APPROVED


def apply_credit_decision(order: Order, decision: CreditDecision, *, on: date) -> CreditResponse:
    """Move ``order`` as :data:`CREDIT_REACTIONS` says for ``decision``.

    The order must be in one of the :data:`DECIDING_STATES`; in any other state (say, approved
    already, or cancelled) :class:`~o2c.domain.errors.IllegalTransition` is raised and nothing
    changes.
    """
    reaction = CREDIT_REACTIONS[decision.outcome]
    if order.status not in DECIDING_STATES:
        raise IllegalTransition(
            entity="order",
            entity_id=order.order_id,
            state=order.status.value,
            trigger=reaction.trigger.value,
            allowed=tuple(trigger.value for trigger in ORDER_LIFECYCLE.allowed(order.status)),
        )
    if order.status is reaction.waits_in:
        return CreditResponse(order, ())
    why = "; ".join(reason.message for reason in decision.reasons)
    order, events = _STEPS[reaction.trigger](order, on, why)
    notice = reaction.notice
    return CreditResponse(
        order, events, attrs.evolve(notice, reason=why) if notice is not None else None
    )


def invoicing_policy_for(terms: PaymentTerms, default: InvoicingPolicy) -> InvoicingPolicy:
    """When an order on ``terms`` is invoiced: on order for cash in advance, else ``default``."""
    return InvoicingPolicy.ON_ORDER if terms.requires_prepayment else default


def prepayment_awaited(order: Order, invoices: Iterable[Invoice]) -> Money | None:
    """What a cash-in-advance order waits for before it ships, or ``None`` once it may ship.

    Its estimated gross total while nothing is invoiced; otherwise what its invoices ask on
    their date and is still open, until that is paid.
    """
    asked = tuple(invoice.due_on_issue for invoice in invoices)
    if not asked:
        return order.gross_total
    owed = total(asked, order.currency.code)
    return owed if owed.amount > 0 else None
