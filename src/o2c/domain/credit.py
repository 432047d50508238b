"""Credit management: credit accounts, exposure, and composable credit policies.

A customer who orders on credit has a :class:`CreditAccount`. It moves through the
:data:`CREDIT_ACCOUNT_LIFECYCLE`: a customer applies, an application is decided automatically
(clear cases) or after a person's review, an approval carries a credit limit and an expiry date,
and an approved account goes on hold when an invoice lapses into overdue and is released once
paid. Every decision a person (or an automatic rule) takes is kept in the account's history.

Whether one order may go ahead on credit is a separate question, answered by *credit policies*:
small objects, each looking at a :class:`CreditContext` (the account, the customer's open items,
the business date and the order's :class:`CreditExposure`) and returning :class:`Finding` values.
A :class:`CreditPolicySet` combines them; the decision is the most severe finding
(deny > hold > review > approve). :func:`default_credit_policy` embodies the house rules:

* an account on hold, or a customer with an invoice past due, blocks the order until paid;
* a customer without a current approval (new, previously denied, or with an expired approval)
  goes to review;
* credit is exposure based: open receivables + orders accepted but not yet invoiced + this order
  must stay within the credit limit, otherwise the order goes to review;
* cash-in-advance terms extend no credit, so approval and limit checks are skipped, but shipment
  waits for the payment.

Nothing here knows what an order is: the caller passes the order amount, the open items and the
total of orders accepted but not yet invoiced, all in the account's currency.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol

import attrs

from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Money, as_currency, ensure_same_currency, is_exact, total, zero
from o2c.domain.receivables import OpenItem

__all__ = [
    # account and its lifecycle
    "CreditStatus",
    "CreditTrigger",
    "CREDIT_ACCOUNT_LIFECYCLE",
    "APPROVAL_STATES",
    "ReviewDecision",
    "CreditReview",
    "CreditAccount",
    # events
    "CreditApplied",
    "CreditReviewStarted",
    "CreditApproved",
    "CreditDenied",
    "CreditHoldPlaced",
    "CreditHoldReleased",
    "CreditApprovalExpired",
    "CreditLimitChanged",
    "CreditDecisionMade",
    # exposure, context and decisions
    "CreditExposure",
    "CreditContext",
    "CreditOutcome",
    "Reason",
    "Finding",
    "CreditDecision",
    # reason codes
    "LIMIT_EXCEEDED",
    "WITHIN_LIMIT",
    "FIRST_TIME_CUSTOMER",
    "PREVIOUSLY_DENIED",
    "APPROVAL_EXPIRED",
    "OVERDUE",
    "ACCOUNT_ON_HOLD",
    "PREPAYMENT_REQUIRED",
    "MANUAL_HOLD",
    # policies
    "CreditPolicy",
    "CreditPolicySet",
    "LimitCheck",
    "OverdueHold",
    "FirstTimeCustomerReview",
    "PrepaymentRequired",
    "AccountOnHold",
    "default_credit_policy",
    "decide",
    # hold and release
    "hold_if_overdue",
    "release_if_settled",
]

# --- reason codes -------------------------------------------------------------------------------

LIMIT_EXCEEDED = "credit.limit_exceeded"
WITHIN_LIMIT = "credit.within_limit"
FIRST_TIME_CUSTOMER = "credit.first_time_customer"
PREVIOUSLY_DENIED = "credit.previously_denied"
APPROVAL_EXPIRED = "credit.approval_expired"
OVERDUE = "credit.overdue"
ACCOUNT_ON_HOLD = "credit.account_on_hold"
PREPAYMENT_REQUIRED = "credit.prepayment_required"
MANUAL_HOLD = "credit.manual_hold"

_PAYMENT_FIRST = "payment of the overdue items is needed before new orders are accepted"


def _text(value: object) -> str:
    """Machine-readable text for reason data: money as ``"<amount> <code>"``, dates ISO."""
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


# --- the account's lifecycle --------------------------------------------------------------------


class CreditStatus(enum.Enum):
    """Where a customer's credit account stands."""

    UNKNOWN = "unknown"
    APPLIED = "applied"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    DENIED = "denied"
    ON_HOLD = "on_hold"
    RELEASED = "released"
    """Approved again after a hold; behaves exactly as approved."""
    EXPIRED = "expired"


class CreditTrigger(enum.Enum):
    """What moves a credit account."""

    APPLY = "apply"
    START_REVIEW = "start_review"
    APPROVE = "approve"
    DENY = "deny"
    HOLD = "hold"
    RELEASE = "release"
    EXPIRE = "expire"
    CHANGE_LIMIT = "change_limit"


_S = CreditStatus
_T = CreditTrigger

#: The credit account lifecycle. An application is decided straight away when the case is clear
#: (``applied`` → ``approved`` | ``denied``) or after a person's review (``under_review``).
CREDIT_ACCOUNT_LIFECYCLE: Lifecycle[CreditStatus, CreditTrigger] = Lifecycle.of(
    "credit account",
    CreditStatus.UNKNOWN,
    [
        ((_S.UNKNOWN, _S.DENIED, _S.EXPIRED), _T.APPLY, _S.APPLIED),
        (_S.APPLIED, _T.START_REVIEW, _S.UNDER_REVIEW),
        ((_S.APPLIED, _S.UNDER_REVIEW), _T.APPROVE, _S.APPROVED),
        ((_S.APPLIED, _S.UNDER_REVIEW), _T.DENY, _S.DENIED),
        ((_S.APPROVED, _S.RELEASED), _T.HOLD, _S.ON_HOLD),
        (_S.ON_HOLD, _T.RELEASE, _S.RELEASED),
        ((_S.APPROVED, _S.RELEASED), _T.EXPIRE, _S.EXPIRED),
        (_S.APPROVED, _T.CHANGE_LIMIT, _S.APPROVED),
        (_S.ON_HOLD, _T.CHANGE_LIMIT, _S.ON_HOLD),
        (_S.RELEASED, _T.CHANGE_LIMIT, _S.RELEASED),
    ],
)

#: States in which the account holds an approval (a limit and an expiry date).
APPROVAL_STATES = frozenset({CreditStatus.APPROVED, CreditStatus.ON_HOLD, CreditStatus.RELEASED})


class ReviewDecision(enum.Enum):
    """What a credit decision recorded in the account's history decided."""

    APPROVED = "approved"
    DENIED = "denied"
    LIMIT_CHANGED = "limit_changed"


def _non_empty(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise InvalidInput(field=attribute.name, value=value, reason="must not be empty")


@attrs.frozen
class CreditReview:
    """One credit decision in an account's history: who decided what, when and why."""

    reviewer: str = attrs.field(validator=_non_empty)
    reason: str = attrs.field(validator=_non_empty)
    decision: ReviewDecision
    on: date
    limit: Money | None = None
    """The limit granted (approval, limit change); ``None`` for a denial."""
    expires_on: date | None = None


# --- events -------------------------------------------------------------------------------------


@attrs.frozen
class CreditApplied(DomainEvent):
    """A customer applied for credit."""

    customer_id: str
    on: date
    requested_limit: Money | None


@attrs.frozen
class CreditReviewStarted(DomainEvent):
    """A credit application went to a person for review."""

    customer_id: str
    on: date


@attrs.frozen
class CreditApproved(DomainEvent):
    """Credit was granted up to ``limit`` until ``expires_on``."""

    customer_id: str
    on: date
    limit: Money
    expires_on: date
    reviewer: str
    reason: str


@attrs.frozen
class CreditDenied(DomainEvent):
    """A credit application was denied."""

    customer_id: str
    on: date
    reviewer: str
    reason: str


@attrs.frozen
class CreditHoldPlaced(DomainEvent):
    """The account went on credit hold: new orders are blocked until it is released."""

    customer_id: str
    on: date
    reason: Reason


@attrs.frozen
class CreditHoldReleased(DomainEvent):
    """A credit hold was lifted."""

    customer_id: str
    on: date
    reason: str


@attrs.frozen
class CreditApprovalExpired(DomainEvent):
    """A credit approval ran out; the customer must apply again."""

    customer_id: str
    on: date
    expired_on: date


@attrs.frozen
class CreditLimitChanged(DomainEvent):
    """The credit limit of an approved account was changed."""

    customer_id: str
    on: date
    old_limit: Money
    new_limit: Money
    reviewer: str
    reason: str


@attrs.frozen
class CreditDecisionMade(DomainEvent):
    """The credit policies decided on an order."""

    customer_id: str
    order_id: str | None
    on: date
    outcome: CreditOutcome
    reason_codes: tuple[str, ...]


# --- the account --------------------------------------------------------------------------------


def _check_currency(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    code = as_currency(value).code
    if code != value:
        raise InvalidInput(field=attribute.name, value=value, reason=f"write it as {code!r}")


@attrs.frozen
class CreditAccount:
    """A customer's credit standing: status, limit, approval period, hold and review history.

    Outside the approval states (approved, on hold, released) the limit is zero and there are no
    approval dates: an expired or denied account grants nothing. Every operation takes the business
    date it happens on, refuses dates before the account's last change, and returns
    ``Changed(account, events)``.
    """

    customer_id: str = attrs.field(validator=_non_empty)
    currency: str = attrs.field(validator=_check_currency)
    status: CreditStatus = CreditStatus.UNKNOWN
    credit_limit: Money = attrs.field(
        default=attrs.Factory(lambda self: zero(self.currency), takes_self=True)
    )
    """The limit in force; zero when the account grants no credit."""
    approved_on: date | None = None
    expires_on: date | None = None
    """The last day (inclusive) on which the approval is current."""
    requested_limit: Money | None = None
    reviews: tuple[CreditReview, ...] = ()
    hold_reason: Reason | None = None
    held_on: date | None = None
    changed_on: date | None = None
    """The business date of the last change, so no later change can be dated before it."""

    def __attrs_post_init__(self) -> None:
        approved = self.status in APPROVAL_STATES
        if approved != (self.approved_on is not None and self.expires_on is not None):
            raise InvalidInput(
                field="approval dates",
                value=f"{self.approved_on}..{self.expires_on}",
                reason=f"an account {self.status.value} "
                + ("needs" if approved else "has no")
                + " approval dates",
            )
        if (
            self.approved_on is not None
            and self.expires_on is not None
            and self.expires_on <= self.approved_on
        ):
            raise InvalidInput(
                field="expires_on",
                value=self.expires_on.isoformat(),
                reason="an approval must run beyond the day it is given",
            )
        _check_limit(self.currency, self.credit_limit, allow_zero=not approved)
        if not approved and self.credit_limit.amount != 0:
            raise InvalidInput(
                field="credit limit",
                value=_text(self.credit_limit),
                reason=f"an account {self.status.value} grants no credit",
            )
        if self.requested_limit is not None:
            _check_limit(self.currency, self.requested_limit, allow_zero=False)
        on_hold = self.status is CreditStatus.ON_HOLD
        if on_hold != (self.hold_reason is not None and self.held_on is not None):
            raise InvalidInput(
                field="hold reason",
                value=str(self.hold_reason),
                reason="a hold reason and date go with the on-hold status, and only with it",
            )

    @classmethod
    def new(cls, customer_id: str, currency: str) -> CreditAccount:
        """The account of a customer that has never applied for credit."""
        return cls(customer_id, as_currency(currency).code)

    # -- reading -------------------------------------------------------------------------------

    @property
    def is_on_hold(self) -> bool:
        """Whether new orders are blocked until the hold is released."""
        return self.status is CreditStatus.ON_HOLD

    @property
    def was_ever_approved(self) -> bool:
        """Whether the history holds an approval."""
        return any(r.decision is ReviewDecision.APPROVED for r in self.reviews)

    @property
    def last_decision(self) -> CreditReview | None:
        """The latest approval or denial in the history (limit changes aside)."""
        for review in reversed(self.reviews):
            if review.decision is not ReviewDecision.LIMIT_CHANGED:
                return review
        return None

    def has_current_approval(self, as_of: date) -> bool:
        """Whether the account holds an approval that has not run out on ``as_of``.

        An account on hold still holds its approval; the hold is a separate check.
        """
        return (
            self.status in APPROVAL_STATES
            and self.expires_on is not None
            and as_of <= self.expires_on
        )

    # -- operations ----------------------------------------------------------------------------

    def apply(self, on: date, requested_limit: Money | None = None) -> Changed[CreditAccount]:
        """Apply for credit (first time, after a denial, or after the approval expired)."""
        status = self._next(CreditTrigger.APPLY, on)
        if requested_limit is not None:
            _check_limit(self.currency, requested_limit, allow_zero=False)
        account = attrs.evolve(self, status=status, requested_limit=requested_limit, changed_on=on)
        return Changed(account, (CreditApplied(self.customer_id, on, requested_limit),))

    def start_review(self, on: date) -> Changed[CreditAccount]:
        """Hand the application to a person for review."""
        status = self._next(CreditTrigger.START_REVIEW, on)
        account = attrs.evolve(self, status=status, changed_on=on)
        return Changed(account, (CreditReviewStarted(self.customer_id, on),))

    def bring_to_review(self, on: date) -> Changed[CreditAccount]:
        """Put the account before a person, so the history shows that a person decided.

        A customer who never applied (or may apply again) applies now, and an application nobody
        has picked up is put under review; an account already under review, or in a state no
        review can follow, is returned as it is (the decision itself refuses what it must).
        """
        account = self
        events: list[DomainEvent] = []
        if CREDIT_ACCOUNT_LIFECYCLE.can(account.status, CreditTrigger.APPLY):
            account, applied = account.apply(on)
            events += applied
        if CREDIT_ACCOUNT_LIFECYCLE.can(account.status, CreditTrigger.START_REVIEW):
            account, started = account.start_review(on)
            events += started
        return Changed(account, tuple(events))

    def approve(
        self, limit: Money, expires_on: date, reviewer: str, reason: str, on: date
    ) -> Changed[CreditAccount]:
        """Grant credit up to ``limit``, current through ``expires_on``; kept in the history."""
        status = self._next(CreditTrigger.APPROVE, on)
        _check_limit(self.currency, limit, allow_zero=False)
        if expires_on <= on:
            raise InvalidInput(
                field="expires_on",
                value=expires_on.isoformat(),
                reason=f"an approval must run beyond the day it is given ({on.isoformat()})",
            )
        review = CreditReview(reviewer, reason, ReviewDecision.APPROVED, on, limit, expires_on)
        account = attrs.evolve(
            self,
            status=status,
            credit_limit=limit,
            approved_on=on,
            expires_on=expires_on,
            reviews=(*self.reviews, review),
            changed_on=on,
        )
        event = CreditApproved(self.customer_id, on, limit, expires_on, reviewer, reason)
        return Changed(account, (event,))

    def deny(self, reviewer: str, reason: str, on: date) -> Changed[CreditAccount]:
        """Refuse credit; kept in the history. The customer may apply again later."""
        status = self._next(CreditTrigger.DENY, on)
        review = CreditReview(reviewer, reason, ReviewDecision.DENIED, on)
        account = attrs.evolve(self, status=status, reviews=(*self.reviews, review), changed_on=on)
        return Changed(account, (CreditDenied(self.customer_id, on, reviewer, reason),))

    def hold(self, reason: Reason | str, on: date) -> Changed[CreditAccount]:
        """Put the account on credit hold: new orders are blocked until it is released.

        A plain text reason is recorded as a manual hold (code ``credit.manual_hold``).
        """
        status = self._next(CreditTrigger.HOLD, on)
        if isinstance(reason, str):
            if not reason.strip():
                raise InvalidInput(field="reason", value=reason, reason="must not be empty")
            reason = Reason(MANUAL_HOLD, reason)
        account = attrs.evolve(self, status=status, hold_reason=reason, held_on=on, changed_on=on)
        return Changed(account, (CreditHoldPlaced(self.customer_id, on, reason),))

    def release(self, on: date, reason: str) -> Changed[CreditAccount]:
        """Lift the credit hold (typically: the overdue items were paid)."""
        status = self._next(CreditTrigger.RELEASE, on)
        if not reason.strip():
            raise InvalidInput(field="reason", value=reason, reason="must not be empty")
        account = attrs.evolve(self, status=status, hold_reason=None, held_on=None, changed_on=on)
        return Changed(account, (CreditHoldReleased(self.customer_id, on, reason),))

    def expire(self, on: date) -> Changed[CreditAccount]:
        """End an approval whose expiry date has passed; the customer must apply again."""
        status = self._next(CreditTrigger.EXPIRE, on)
        expired_on = self.expires_on
        assert expired_on is not None  # guaranteed by the approval-state invariant
        if on <= expired_on:
            raise InvalidInput(
                field="on",
                value=on.isoformat(),
                reason=f"the approval is current through {expired_on.isoformat()}",
            )
        account = attrs.evolve(
            self,
            status=status,
            credit_limit=zero(self.currency),
            approved_on=None,
            expires_on=None,
            changed_on=on,
        )
        return Changed(account, (CreditApprovalExpired(self.customer_id, on, expired_on),))

    def change_limit(
        self, limit: Money, reviewer: str, reason: str, on: date
    ) -> Changed[CreditAccount]:
        """Raise or lower the limit of an approved account; kept in the history."""
        status = self._next(CreditTrigger.CHANGE_LIMIT, on)
        _check_limit(self.currency, limit, allow_zero=False)
        old = self.credit_limit
        if limit == old:
            raise InvalidInput(
                field="credit limit", value=_text(limit), reason="is already the limit"
            )
        review = CreditReview(
            reviewer, reason, ReviewDecision.LIMIT_CHANGED, on, limit, self.expires_on
        )
        account = attrs.evolve(
            self, credit_limit=limit, reviews=(*self.reviews, review), status=status, changed_on=on
        )
        event = CreditLimitChanged(self.customer_id, on, old, limit, reviewer, reason)
        return Changed(account, (event,))

    def _next(self, trigger: CreditTrigger, on: date) -> CreditStatus:
        status = CREDIT_ACCOUNT_LIFECYCLE.next_state(
            self.status, trigger, entity_id=self.customer_id
        )
        if self.changed_on is not None and on < self.changed_on:
            raise InvalidInput(
                field="on",
                value=on.isoformat(),
                reason=f"before the account's last change on {self.changed_on.isoformat()}",
            )
        return status


def _check_limit(
    currency: str, limit: Money, *, allow_zero: bool, what: str = "a credit limit"
) -> None:
    ensure_same_currency(currency, limit)
    if not is_exact(limit) or limit.amount < 0 or (limit.amount == 0 and not allow_zero):
        sign = "non-negative" if allow_zero else "positive"
        raise InvalidAmount(
            value=_text(limit), reason=f"{what} must be {sign} and exact in its currency"
        )


# --- exposure -----------------------------------------------------------------------------------


def _non_negative_exact(_: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if value.amount < 0 or not is_exact(value):
        raise InvalidAmount(
            value=_text(value), reason=f"{attribute.name} must be non-negative and exact"
        )


@attrs.frozen
class CreditExposure:
    """What a customer would owe if this order were accepted, against the credit limit.

    ``total`` = open receivables + orders accepted but not yet invoiced + this order;
    ``headroom`` = limit - total (negative when the order would go over the limit).
    """

    open_receivables: Money = attrs.field(validator=_non_negative_exact)
    accepted_not_invoiced: Money = attrs.field(validator=_non_negative_exact)
    this_order: Money = attrs.field(validator=_non_negative_exact)
    limit: Money = attrs.field(validator=_non_negative_exact)

    def __attrs_post_init__(self) -> None:
        ensure_same_currency(
            self.open_receivables.currency,
            self.accepted_not_invoiced,
            self.this_order,
            self.limit,
        )

    @classmethod
    def compute(
        cls,
        *,
        open_items: Iterable[OpenItem],
        accepted_not_invoiced: Money,
        order_amount: Money,
        limit: Money,
    ) -> CreditExposure:
        """Sum the open items and assemble the exposure; all in the order's currency."""
        currency = order_amount.currency
        receivables = total((item.open for item in open_items), currency)
        return cls(receivables, accepted_not_invoiced, order_amount, limit)

    @property
    def currency(self) -> str:
        """The ISO code of the exposure's currency."""
        return str(self.this_order.currency.code)

    @property
    def total(self) -> Money:
        """Open receivables + accepted-not-invoiced orders + this order."""
        return Money(
            self.open_receivables.amount
            + self.accepted_not_invoiced.amount
            + self.this_order.amount,
            self.this_order.currency,
        )

    @property
    def headroom(self) -> Money:
        """Limit - total; negative when the order would go over the limit."""
        return Money(self.limit.amount - self.total.amount, self.limit.currency)

    @property
    def within_limit(self) -> bool:
        """Whether the total stays within the limit."""
        return self.total.amount <= self.limit.amount


# --- context, outcomes, decisions ---------------------------------------------------------------


class CreditOutcome(enum.Enum):
    """What credit says about an order, from least to most severe."""

    APPROVE = "approve"
    REVIEW = "review"
    """A person decides."""
    HOLD = "hold"
    """Blocked until the customer pays what is overdue."""
    DENY = "deny"

    @property
    def severity(self) -> int:
        """Rank for combining outcomes: approve 0 < review 1 < hold 2 < deny 3."""
        return _SEVERITY[self]


_SEVERITY = MappingProxyType({outcome: rank for rank, outcome in enumerate(CreditOutcome)})


@attrs.frozen
class Reason:
    """Why a policy found what it found: a stable code, a sentence, and machine-readable data."""

    code: str = attrs.field(validator=_non_empty)
    message: str
    data: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: str, message: str, **data: object) -> Reason:
        """Build a reason; data values become text (money as ``"<amount> <code>"``)."""
        return cls(code, message, tuple((key, _text(value)) for key, value in data.items()))

    def get(self, key: str) -> str | None:
        """The value of one data entry, or ``None``."""
        for name, value in self.data:
            if name == key:
                return value
        return None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@attrs.frozen
class Finding:
    """One policy's verdict on an order: an outcome and the reason for it."""

    outcome: CreditOutcome
    reason: Reason


@attrs.frozen
class CreditDecision:
    """The combined verdict: the most severe outcome found, and why.

    ``reasons`` are the reasons of the findings that decided the outcome; ``notes`` are the other
    findings' reasons (less severe), kept so nothing a policy said is lost.
    """

    outcome: CreditOutcome
    reasons: tuple[Reason, ...] = ()
    notes: tuple[Reason, ...] = ()

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> CreditDecision:
        """The most severe outcome among ``findings`` (approve when there are none)."""
        found = tuple(findings)
        outcome = max(
            (f.outcome for f in found),
            key=lambda o: o.severity,
            default=CreditOutcome.APPROVE,
        )
        ranked = sorted(found, key=lambda f: -f.outcome.severity)
        return cls(
            outcome,
            tuple(f.reason for f in ranked if f.outcome is outcome),
            tuple(f.reason for f in ranked if f.outcome is not outcome),
        )

    @property
    def codes(self) -> tuple[str, ...]:
        """Every reason code, decisive ones first."""
        return tuple(r.code for r in (*self.reasons, *self.notes))

    @property
    def blocks_order(self) -> bool:
        """Whether the order must not proceed (hold or deny)."""
        return self.outcome in (CreditOutcome.HOLD, CreditOutcome.DENY)

    @property
    def shipment_waits_for_payment(self) -> bool:
        """Whether the order goes ahead on cash-in-advance terms: ship only once paid."""
        return PREPAYMENT_REQUIRED in self.codes


def _item_tuple(items: Iterable[OpenItem]) -> tuple[OpenItem, ...]:
    return tuple(items)


@attrs.frozen
class CreditContext:
    """Everything a credit policy looks at for one order."""

    account: CreditAccount
    exposure: CreditExposure
    open_items: tuple[OpenItem, ...] = attrs.field(converter=_item_tuple)
    as_of: date
    prepayment_required: bool = False
    """The order's terms are cash in advance: no credit is extended."""
    order_id: str | None = None

    def __attrs_post_init__(self) -> None:
        account = self.account
        if self.exposure.currency != account.currency:
            raise CurrencyMismatch(expected=account.currency, actual=self.exposure.currency)
        if self.exposure.limit != account.credit_limit:
            raise InvalidInput(
                field="exposure limit",
                value=_text(self.exposure.limit),
                reason=f"the account's limit is {_text(account.credit_limit)}",
            )
        _check_items(account, self.open_items)
        receivables = total((item.open for item in self.open_items), account.currency)
        if receivables != self.exposure.open_receivables:
            raise InvalidInput(
                field="open receivables",
                value=_text(self.exposure.open_receivables),
                reason=f"the open items add up to {_text(receivables)}",
            )

    @classmethod
    def build(
        cls,
        account: CreditAccount,
        *,
        order_amount: Money,
        as_of: date,
        open_items: Iterable[OpenItem] = (),
        accepted_not_invoiced: Money | None = None,
        prepayment_required: bool = False,
        order_id: str | None = None,
    ) -> CreditContext:
        """Compute the exposure against the account's limit and assemble the context."""
        items = tuple(open_items)
        ensure_same_currency(account.currency, order_amount)
        exposure = CreditExposure.compute(
            open_items=items,
            accepted_not_invoiced=(
                accepted_not_invoiced
                if accepted_not_invoiced is not None
                else zero(account.currency)
            ),
            order_amount=order_amount,
            limit=account.credit_limit,
        )
        return cls(account, exposure, items, as_of, prepayment_required, order_id)


def _check_items(account: CreditAccount, items: Iterable[OpenItem]) -> None:
    for item in items:
        if item.customer_id != account.customer_id:
            raise InvalidInput(
                field="open item",
                value=item.item_id,
                reason=f"belongs to customer {item.customer_id}, not {account.customer_id}",
            )
        if item.currency != account.currency:
            raise CurrencyMismatch(expected=account.currency, actual=item.currency)


# --- policies -----------------------------------------------------------------------------------


class CreditPolicy(Protocol):
    """A credit rule: looks at the context, returns its findings (none when it has no say)."""

    def evaluate(self, context: CreditContext) -> Sequence[Finding]:
        """The findings of this rule for the order in ``context``."""
        ...


def _policy_tuple(policies: Iterable[CreditPolicy]) -> tuple[CreditPolicy, ...]:
    return tuple(policies)


@attrs.frozen
class CreditPolicySet:
    """Several policies as one: their findings together; the decision is the most severe."""

    policies: tuple[CreditPolicy, ...] = attrs.field(converter=_policy_tuple)

    @classmethod
    def of(cls, *policies: CreditPolicy) -> CreditPolicySet:
        """Combine policies, in the order their findings should be listed."""
        return cls(policies)

    def evaluate(self, context: CreditContext) -> tuple[Finding, ...]:
        """Every policy's findings, in policy order."""
        return tuple(finding for p in self.policies for finding in p.evaluate(context))

    def decide(self, context: CreditContext) -> CreditDecision:
        """The combined decision for the order in ``context``."""
        return CreditDecision.from_findings(self.evaluate(context))


def _not_approve(
    _: object, attribute: attrs.Attribute[CreditOutcome], value: CreditOutcome
) -> None:
    if value is CreditOutcome.APPROVE:
        raise InvalidInput(field=attribute.name, value=value.value, reason="must be a sanction")


def _percent(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool | float):
        raise InvalidAmount(value=repr(value), reason="a percent must be exact, not a float")
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise InvalidAmount(value=str(value), reason="a percent must be a number") from None
    if not result.is_finite() or result < 0:
        raise InvalidAmount(value=str(value), reason="a percent must be finite and non-negative")
    return result


@attrs.frozen
class LimitCheck:
    """Exposure over the credit limit (plus a tolerance) → review, or deny if so configured.

    Only an account with a current approval has a limit to check; without one, the first-time
    customer rule decides. Compose two checks for tiers, e.g. review above the limit and deny
    above the limit plus 50 %.
    """

    over_limit: CreditOutcome = attrs.field(default=CreditOutcome.REVIEW, validator=_not_approve)
    tolerance_percent: Decimal = attrs.field(default=Decimal(0), converter=_percent)
    """How far (percent of the limit) the exposure may exceed the limit before the rule fires."""

    def evaluate(self, context: CreditContext) -> tuple[Finding, ...]:
        """Findings for the order's exposure against the limit."""
        if not context.account.has_current_approval(context.as_of):
            return ()
        exposure = context.exposure
        data = {
            "total": exposure.total,
            "limit": exposure.limit,
            "headroom": exposure.headroom,
        }
        # Compared multiplied out, so no division (and no rounding) is involved.
        if exposure.total.amount * 100 > exposure.limit.amount * (100 + self.tolerance_percent):
            message = (
                f"exposure {_text(exposure.total)} exceeds the credit limit {_text(exposure.limit)}"
            )
            if self.tolerance_percent:
                message += f" by more than {self.tolerance_percent} %"
            reason = Reason.of(LIMIT_EXCEEDED, message, **data)
            return (Finding(self.over_limit, reason),)
        message = f"exposure {_text(exposure.total)} within the limit {_text(exposure.limit)}"
        return (Finding(CreditOutcome.APPROVE, Reason.of(WITHIN_LIMIT, message, **data)),)


@attrs.frozen
class OverdueHold:
    """Overdue receivables → hold: the order waits until the customer pays.

    Fires when an open item is more than ``grace_days`` past due, or when the overdue total
    exceeds ``overdue_limit``; either rule may be switched off with ``None``. Disputed items are
    left out unless ``include_disputed`` (a dispute pauses collection).
    """

    grace_days: int | None = 0
    overdue_limit: Money | None = None
    include_disputed: bool = False

    def __attrs_post_init__(self) -> None:
        grace = self.grace_days
        if grace is not None and (isinstance(grace, bool) or grace < 0):
            raise InvalidInput(field="grace_days", value=str(grace), reason="must be 0 or more")
        if self.grace_days is None and self.overdue_limit is None:
            raise InvalidInput(
                field="overdue hold", value="None", reason="needs a grace period or an amount"
            )
        if self.overdue_limit is not None:
            _check_limit(
                self.overdue_limit.currency.code,
                self.overdue_limit,
                allow_zero=True,
                what="an overdue limit",
            )

    def evaluate(self, context: CreditContext) -> tuple[Finding, ...]:
        """A hold finding when the customer's open items are overdue under this rule."""
        reason = self.check(context.open_items, context.as_of, context.account.currency)
        return () if reason is None else (Finding(CreditOutcome.HOLD, reason),)

    def check(self, open_items: Iterable[OpenItem], as_of: date, currency: str) -> Reason | None:
        """Why ``open_items`` are overdue on ``as_of`` under this rule, or ``None``."""
        counted = [i for i in open_items if self.include_disputed or not i.disputed]
        overdue = total((i.overdue_amount(as_of) for i in counted), currency)
        late = (
            []
            if self.grace_days is None
            else [i for i in counted if i.days_past_due(as_of) > self.grace_days]
        )
        over_amount = False
        if self.overdue_limit is not None:
            ensure_same_currency(currency, self.overdue_limit)
            over_amount = overdue > self.overdue_limit
        if not late and not over_amount:
            return None
        days = max((i.days_past_due(as_of) for i in counted), default=0)
        return Reason.of(
            OVERDUE,
            f"{_text(overdue)} overdue; {_PAYMENT_FIRST}",
            overdue=overdue,
            days_past_due=days,
            items=",".join(i.item_id for i in counted if i.is_overdue(as_of)),
        )


@attrs.frozen
class FirstTimeCustomerReview:
    """No current approval → review: new customers, those denied before, expired approvals."""

    def evaluate(self, context: CreditContext) -> tuple[Finding, ...]:
        """A review finding unless the account holds a current approval."""
        account = context.account
        if account.has_current_approval(context.as_of):
            return ()
        last = account.last_decision
        if last is not None and last.decision is ReviewDecision.DENIED:
            reason = Reason.of(
                PREVIOUSLY_DENIED,
                "credit was denied before; the customer is reviewed as a new one",
                denied_on=last.on,
            )
        elif account.was_ever_approved:
            expired = account.expires_on or (last.expires_on if last else None)
            reason = Reason.of(
                APPROVAL_EXPIRED,
                "the credit approval has expired; the customer is reviewed as a new one",
                expired_on=expired or "",
            )
        else:
            reason = Reason.of(
                FIRST_TIME_CUSTOMER,
                "a first order on credit needs a credit approval",
                status=account.status,
            )
        return (Finding(CreditOutcome.REVIEW, reason),)


@attrs.frozen
class PrepaymentRequired:
    """Cash in advance extends no credit: the wrapped credit checks are skipped.

    The order is approved as far as these checks go, with a note that shipment waits for the
    payment. Holds for overdue items stay outside this wrapper, so they still apply.
    """

    credit_checks: CreditPolicy

    def evaluate(self, context: CreditContext) -> Sequence[Finding]:
        """The note for cash-in-advance orders, or the wrapped checks' findings otherwise."""
        if not context.prepayment_required:
            return self.credit_checks.evaluate(context)
        reason = Reason.of(
            PREPAYMENT_REQUIRED,
            "cash in advance: no credit is extended; shipment waits for payment",
            amount=context.exposure.this_order,
        )
        return (Finding(CreditOutcome.APPROVE, reason),)


@attrs.frozen
class AccountOnHold:
    """An account on credit hold → hold: no new order until the customer has paid."""

    def evaluate(self, context: CreditContext) -> tuple[Finding, ...]:
        """A hold finding while the account is on hold."""
        account = context.account
        if not account.is_on_hold:
            return ()
        held = account.hold_reason
        reason = Reason.of(
            ACCOUNT_ON_HOLD,
            f"the account is on credit hold; {_PAYMENT_FIRST}",
            held_on=account.held_on or "",
            hold_code=held.code if held else "",
        )
        return (Finding(CreditOutcome.HOLD, reason),)


def default_credit_policy(*, overdue: OverdueHold | None = None) -> CreditPolicySet:
    """The house rules: holds first, then (unless cash in advance) approval and limit checks."""
    return CreditPolicySet.of(
        AccountOnHold(),
        overdue if overdue is not None else OverdueHold(),
        PrepaymentRequired(CreditPolicySet.of(FirstTimeCustomerReview(), LimitCheck())),
    )


def decide(context: CreditContext, policy: CreditPolicy | None = None) -> Changed[CreditDecision]:
    """Decide on the order in ``context`` (default policy unless given), with the event."""
    chosen = policy if policy is not None else default_credit_policy()
    decision = CreditDecision.from_findings(chosen.evaluate(context))
    event = CreditDecisionMade(
        context.account.customer_id,
        context.order_id,
        context.as_of,
        decision.outcome,
        decision.codes,
    )
    return Changed(decision, (event,))


# --- overdue → hold, paid → release -------------------------------------------------------------


def hold_if_overdue(
    account: CreditAccount,
    open_items: Iterable[OpenItem],
    as_of: date,
    rule: OverdueHold | None = None,
) -> Changed[CreditAccount]:
    """Put an approved account on hold when its open items are overdue (nothing otherwise).

    Accounts without an approval are left alone: the credit policies review or hold their orders
    anyway, from the open items themselves.
    """
    items = tuple(open_items)
    _check_items(account, items)
    if not CREDIT_ACCOUNT_LIFECYCLE.can(account.status, CreditTrigger.HOLD):
        return Changed(account, ())
    reason = (rule or OverdueHold()).check(items, as_of, account.currency)
    if reason is None:
        return Changed(account, ())
    return account.hold(reason, as_of)


def release_if_settled(
    account: CreditAccount,
    open_items: Iterable[OpenItem],
    as_of: date,
    rule: OverdueHold | None = None,
) -> Changed[CreditAccount]:
    """Release an overdue hold once nothing is overdue under ``rule`` any more.

    Manual holds (any code other than ``credit.overdue``) are left for a person to release.
    """
    items = tuple(open_items)
    _check_items(account, items)
    held = account.hold_reason
    if not account.is_on_hold or held is None or held.code != OVERDUE:
        return Changed(account, ())
    if (rule or OverdueHold()).check(items, as_of, account.currency) is not None:
        return Changed(account, ())
    return account.release(as_of, "overdue items paid")
