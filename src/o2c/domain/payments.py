"""Card and wallet payments through a payment gateway.

A :class:`Payment` follows the life of one payment the way gateways report it: it is authorised
(money reserved on the customer's card), captured once or several times up to the authorised amount,
refunded in parts or in full, or charged back by the card issuer. An authorisation that is never
captured is voided or expires. A declined call fails the payment. When a gateway call times out the
outcome is unknown: the payment is *pending* until a status fetch (or a webhook) tells which outcome
it had, and :meth:`Payment.resolve` records it.

Every operation carries an idempotency key, as gateways require: repeating an operation with a key
already used for the same request is a no-op that returns no events (a retried webhook, a
double-clicked button), while reusing a key for a different request raises
:class:`~o2c.domain.errors.IdempotencyConflict`. The key is checked before the lifecycle, so a retry
that arrives after the payment has moved on is still recognised as a retry.

Amount guards are plain functions (:func:`ensure_capturable`, :func:`ensure_refundable`): the
cumulative captured amount never exceeds the authorised amount, and the refunded plus charged-back
amount never exceeds the captured amount. The moves themselves are the :data:`PAYMENT_LIFECYCLE`
table. Whether a capture or refund is *partial* is decided by the amounts, and the table has one
trigger for each case, so the table alone says which state every move leads to.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from o2c.domain.errors import (
    AuthorisationExpired,
    CurrencyMismatch,
    IdempotencyConflict,
    InvalidAmount,
    InvalidInput,
    MultipleCapturesUnsupported,
    OverCapture,
    OverRefund,
    PaymentOutcomeUnknown,
)
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Money, is_exact, zero

__all__ = [
    "PAYMENT_LIFECYCLE",
    "PaymentStatus",
    "PaymentTrigger",
    "OperationKind",
    "PaymentOperation",
    "OutcomeStatus",
    "GatewayOutcome",
    "PendingOperation",
    "Payment",
    "capturable",
    "refundable",
    "ensure_capturable",
    "ensure_refundable",
    "PaymentCreated",
    "PaymentAuthorised",
    "PaymentCaptured",
    "PaymentVoided",
    "PaymentAuthorisationExpired",
    "PaymentRefunded",
    "PaymentChargedBack",
    "PaymentFailed",
    "PaymentPending",
    "PaymentResolved",
]


class PaymentStatus(enum.Enum):
    """Where a gateway payment stands."""

    CREATED = "created"
    PENDING = "pending"
    """A gateway call whose outcome is not known yet (a timeout, an asynchronous method)."""
    AUTHORISED = "authorised"
    PARTIALLY_CAPTURED = "partially_captured"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    EXPIRED = "expired"
    FAILED = "failed"
    CHARGED_BACK = "charged_back"


class PaymentTrigger(enum.Enum):
    """What moves a payment; partial and full captures and refunds are separate triggers."""

    AUTHORISE = "authorise"
    PURCHASE = "purchase"
    """Authorise and capture in one gateway call (a sale)."""
    MARK_PENDING = "mark_pending"
    RESOLVE_AS_AUTHORISED = "resolve_as_authorised"
    RESOLVE_AS_CAPTURED = "resolve_as_captured"
    RESOLVE_AS_FAILED = "resolve_as_failed"
    CAPTURE_IN_PART = "capture_in_part"
    CAPTURE_IN_FULL = "capture_in_full"
    VOID = "void"
    EXPIRE = "expire"
    REFUND_IN_PART = "refund_in_part"
    REFUND_IN_FULL = "refund_in_full"
    CHARGE_BACK = "charge_back"
    DECLINE = "decline"


_S = PaymentStatus
_T = PaymentTrigger
_CAPTURING = (_S.AUTHORISED, _S.PARTIALLY_CAPTURED)
_HOLDING_CAPTURED_MONEY = (_S.CAPTURED, _S.PARTIALLY_CAPTURED, _S.PARTIALLY_REFUNDED)

PAYMENT_LIFECYCLE: Lifecycle[PaymentStatus, PaymentTrigger] = Lifecycle.of(
    "payment",
    _S.CREATED,
    [
        (_S.CREATED, _T.AUTHORISE, _S.AUTHORISED),
        (_S.CREATED, _T.PURCHASE, _S.CAPTURED),
        (_S.CREATED, _T.MARK_PENDING, _S.PENDING),
        (_S.PENDING, _T.RESOLVE_AS_AUTHORISED, _S.AUTHORISED),
        (_S.PENDING, _T.RESOLVE_AS_CAPTURED, _S.CAPTURED),
        (_S.PENDING, _T.RESOLVE_AS_FAILED, _S.FAILED),
        (_CAPTURING, _T.CAPTURE_IN_PART, _S.PARTIALLY_CAPTURED),
        (_CAPTURING, _T.CAPTURE_IN_FULL, _S.CAPTURED),
        (_S.AUTHORISED, _T.VOID, _S.VOIDED),
        (_S.AUTHORISED, _T.EXPIRE, _S.EXPIRED),
        (_HOLDING_CAPTURED_MONEY, _T.REFUND_IN_PART, _S.PARTIALLY_REFUNDED),
        (_HOLDING_CAPTURED_MONEY, _T.REFUND_IN_FULL, _S.REFUNDED),
        (_HOLDING_CAPTURED_MONEY, _T.CHARGE_BACK, _S.CHARGED_BACK),
        ((_S.CREATED, _S.AUTHORISED), _T.DECLINE, _S.FAILED),
    ],
)
"""The gateway payment lifecycle."""


class OperationKind(enum.Enum):
    """The kind of a request recorded in a payment's history."""

    AUTHORISE = "authorise"
    PURCHASE = "purchase"
    MARK_PENDING = "mark_pending"
    RESOLVE = "resolve"
    CAPTURE = "capture"
    VOID = "void"
    EXPIRE = "expire"
    REFUND = "refund"
    CHARGE_BACK = "charge_back"
    DECLINE = "decline"


@attrs.frozen
class PaymentOperation:
    """One accepted request in a payment's history, with the key that makes it idempotent.

    ``amount`` is the money the operation moved (for a void or an expiry: the authorisation it
    released; for a decline: the amount that was refused). ``detail`` holds what else identifies
    the request: the outcome of a resolution, the reason of a decline, the kind of a pending call.
    """

    kind: OperationKind
    amount: Money
    at: datetime
    gateway_reference: str | None
    idempotency_key: str
    detail: str | None = None


class OutcomeStatus(enum.Enum):
    """What the gateway says a pending call ended as."""

    AUTHORISED = "authorised"
    CAPTURED = "captured"
    DECLINED = "declined"


@attrs.frozen
class GatewayOutcome:
    """The outcome of a pending call, as a status fetch or webhook reports it.

    ``amount`` defaults to the pending amount; a gateway may approve less (a partial authorisation),
    never more.
    """

    status: OutcomeStatus
    amount: Money | None = None
    gateway_reference: str | None = None
    reason: str | None = None


@attrs.frozen
class PendingOperation:
    """The gateway call whose outcome a pending payment waits for."""

    kind: OperationKind
    """:attr:`OperationKind.AUTHORISE` or :attr:`OperationKind.PURCHASE`."""
    amount: Money


# --- events -----------------------------------------------------------------------------------


@attrs.frozen
class PaymentCreated(DomainEvent):
    """A payment was opened for a customer's order or invoice."""

    payment_id: str
    customer_id: str
    reference: str
    amount: Money
    at: datetime


@attrs.frozen
class PaymentAuthorised(DomainEvent):
    """The gateway reserved ``amount`` on the customer's card or wallet."""

    payment_id: str
    amount: Money
    at: datetime
    gateway_reference: str | None


@attrs.frozen
class PaymentCaptured(DomainEvent):
    """Money was taken: ``amount`` now, ``captured_total`` so far. Cash application listens."""

    payment_id: str
    customer_id: str
    reference: str
    amount: Money
    captured_total: Money
    at: datetime
    gateway_reference: str | None


@attrs.frozen
class PaymentVoided(DomainEvent):
    """An authorisation was cancelled before capture; ``released`` is what the card gets back."""

    payment_id: str
    released: Money
    at: datetime


@attrs.frozen
class PaymentAuthorisationExpired(DomainEvent):
    """An authorisation lapsed uncaptured."""

    payment_id: str
    released: Money
    at: datetime


@attrs.frozen
class PaymentRefunded(DomainEvent):
    """``amount`` went back to the customer; ``refunded_total`` so far."""

    payment_id: str
    customer_id: str
    reference: str
    amount: Money
    refunded_total: Money
    at: datetime
    gateway_reference: str | None


@attrs.frozen
class PaymentChargedBack(DomainEvent):
    """The card issuer took ``amount`` back for the customer (a dispute lost or accepted)."""

    payment_id: str
    customer_id: str
    reference: str
    amount: Money
    at: datetime
    gateway_reference: str | None


@attrs.frozen
class PaymentFailed(DomainEvent):
    """The gateway declined the payment."""

    payment_id: str
    reason: str
    at: datetime


@attrs.frozen
class PaymentPending(DomainEvent):
    """A gateway call ended without a known outcome; the payment waits for a status fetch."""

    payment_id: str
    operation: OperationKind
    amount: Money
    at: datetime


@attrs.frozen
class PaymentResolved(DomainEvent):
    """A pending call's outcome became known. The event of the outcome itself follows it."""

    payment_id: str
    outcome: OutcomeStatus
    amount: Money
    at: datetime


# --- guards -----------------------------------------------------------------------------------


def _require_positive_exact(amount: Money, currency: str) -> None:
    if amount.currency.code != currency:
        raise CurrencyMismatch(expected=currency, actual=amount.currency.code)
    if amount.amount <= 0 or not is_exact(amount):
        raise InvalidAmount(value=str(amount), reason="must be positive and exact in its currency")


def capturable(payment: Payment) -> Money:
    """What can still be captured: the authorised amount less everything captured."""
    return payment.authorised - payment.captured


def refundable(payment: Payment) -> Money:
    """What can still be given back: captured, less refunded and charged back."""
    return payment.captured - payment.refunded - payment.charged_back


def ensure_capturable(payment: Payment, amount: Money) -> None:
    """Refuse a capture that is not a positive exact amount of the payment's currency, or that
    would take the cumulative captured amount beyond the authorised amount (:class:`OverCapture`).
    """
    _require_positive_exact(amount, payment.currency)
    if amount > capturable(payment):
        raise OverCapture(
            payment_id=payment.payment_id,
            authorised=str(payment.authorised),
            captured=str(payment.captured),
            requested=str(amount),
        )


def ensure_refundable(payment: Payment, amount: Money) -> None:
    """Refuse a refund or chargeback beyond what was captured and not yet given back
    (:class:`OverRefund`), or of an amount that is not positive and exact in the currency.
    """
    _require_positive_exact(amount, payment.currency)
    if amount > refundable(payment):
        raise OverRefund(
            payment_id=payment.payment_id,
            refundable=str(refundable(payment)),
            requested=str(amount),
        )


# --- the payment ------------------------------------------------------------------------------


def _zero_like_amount(payment: Payment) -> Money:
    return zero(payment.amount.currency)


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise InvalidInput(field=attribute.name, value=value, reason="must not be empty")


@attrs.frozen
class Payment:
    """One card or wallet payment through a gateway, with its full operation history.

    Amounts obey ``captured <= authorised <= amount`` and ``refunded + charged_back <= captured``;
    the constructor checks them, so no operation can produce a payment that breaks them.
    """

    payment_id: str = attrs.field(validator=_non_empty)
    customer_id: str = attrs.field(validator=_non_empty)
    reference: str
    """The order or invoice this payment pays (its structured reference)."""
    amount: Money
    """The amount the customer is asked to pay."""
    created_at: datetime
    multiple_captures: bool = False
    """Whether the gateway allows several captures against one authorisation."""
    status: PaymentStatus = PaymentStatus.CREATED
    authorised: Money = attrs.field(default=attrs.Factory(_zero_like_amount, takes_self=True))
    captured: Money = attrs.field(default=attrs.Factory(_zero_like_amount, takes_self=True))
    refunded: Money = attrs.field(default=attrs.Factory(_zero_like_amount, takes_self=True))
    charged_back: Money = attrs.field(default=attrs.Factory(_zero_like_amount, takes_self=True))
    gateway_reference: str | None = None
    """The gateway's id for the payment (a PaymentIntent or transaction id), once known."""
    authorisation_expires_at: datetime | None = None
    pending: PendingOperation | None = None
    operations: tuple[PaymentOperation, ...] = ()

    def __attrs_post_init__(self) -> None:
        currency = self.currency
        _require_positive_exact(self.amount, currency)
        for part in (self.authorised, self.captured, self.refunded, self.charged_back):
            if part.currency.code != currency:
                raise CurrencyMismatch(expected=currency, actual=part.currency.code)
        if not (
            0 <= self.captured.amount <= self.authorised.amount <= self.amount.amount
            and self.refunded.amount >= 0
            and self.charged_back.amount >= 0
            and self.refunded.amount + self.charged_back.amount <= self.captured.amount
        ):
            raise InvalidAmount(
                value=f"authorised {self.authorised}, captured {self.captured}, "
                f"refunded {self.refunded}, charged back {self.charged_back}",
                reason="needs captured <= authorised <= amount and "
                "refunded + charged back <= captured",
            )
        if (self.status is PaymentStatus.PENDING) != (self.pending is not None):
            raise InvalidInput(
                field="pending",
                value=str(self.pending),
                reason="a payment has a pending call exactly when its status is pending",
            )

    @classmethod
    def create(
        cls,
        payment_id: str,
        customer_id: str,
        reference: str,
        amount: Money,
        *,
        at: datetime,
        multiple_captures: bool = False,
    ) -> Changed[Payment]:
        """Open a payment of ``amount`` for the order or invoice ``reference``."""
        payment = cls(
            payment_id, customer_id, reference, amount, at, multiple_captures=multiple_captures
        )
        return Changed(payment, (PaymentCreated(payment_id, customer_id, reference, amount, at),))

    @property
    def currency(self) -> str:
        """The ISO code of the payment's currency."""
        return str(self.amount.currency.code)

    @property
    def awaits_gateway_reference(self) -> bool:
        """Pending, and the gateway never named it: its authorisation answer was lost."""
        return self.status is PaymentStatus.PENDING and not self.gateway_reference

    def operation(self, idempotency_key: str) -> PaymentOperation | None:
        """The operation recorded under ``idempotency_key``, if any."""
        for recorded in self.operations:
            if recorded.idempotency_key == idempotency_key:
                return recorded
        return None

    # --- operations ---------------------------------------------------------------------------

    def authorise(
        self,
        amount: Money,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
        expires_at: datetime | None = None,
    ) -> Changed[Payment]:
        """Record an authorisation of ``amount`` (at most the payment amount)."""
        if self._is_retry(OperationKind.AUTHORISE, amount, idempotency_key, gateway_reference):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.AUTHORISE)
        status = self._next(PaymentTrigger.AUTHORISE)
        self._check_upto_amount(amount)
        op = PaymentOperation(
            OperationKind.AUTHORISE, amount, at, gateway_reference, idempotency_key
        )
        payment = attrs.evolve(
            self,
            status=status,
            authorised=amount,
            gateway_reference=gateway_reference or self.gateway_reference,
            authorisation_expires_at=expires_at,
            operations=(*self.operations, op),
        )
        return Changed(
            payment, (PaymentAuthorised(self.payment_id, amount, at, gateway_reference),)
        )

    def purchase(
        self,
        amount: Money,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
    ) -> Changed[Payment]:
        """Record an authorisation and capture of ``amount`` in one gateway call."""
        if self._is_retry(OperationKind.PURCHASE, amount, idempotency_key, gateway_reference):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.PURCHASE)
        status = self._next(PaymentTrigger.PURCHASE)
        self._check_upto_amount(amount)
        op = PaymentOperation(
            OperationKind.PURCHASE, amount, at, gateway_reference, idempotency_key
        )
        payment = attrs.evolve(
            self,
            status=status,
            authorised=amount,
            captured=amount,
            gateway_reference=gateway_reference or self.gateway_reference,
            operations=(*self.operations, op),
        )
        return Changed(payment, (self._captured_event(payment, amount, at, gateway_reference),))

    def mark_pending(
        self,
        operation: OperationKind,
        amount: Money,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
    ) -> Changed[Payment]:
        """Record that an authorise or purchase call ended without a known outcome."""
        if self._is_retry(
            OperationKind.MARK_PENDING, amount, idempotency_key, gateway_reference, operation.value
        ):
            return Changed(self, ())
        if operation not in (OperationKind.AUTHORISE, OperationKind.PURCHASE):
            raise InvalidInput(
                field="pending operation",
                value=operation.value,
                reason="only an authorise or purchase call can be left pending",
            )
        self._refuse_while_pending(OperationKind.MARK_PENDING)
        status = self._next(PaymentTrigger.MARK_PENDING)
        self._check_upto_amount(amount)
        op = PaymentOperation(
            OperationKind.MARK_PENDING,
            amount,
            at,
            gateway_reference,
            idempotency_key,
            operation.value,
        )
        payment = attrs.evolve(
            self,
            status=status,
            pending=PendingOperation(operation, amount),
            gateway_reference=gateway_reference or self.gateway_reference,
            operations=(*self.operations, op),
        )
        return Changed(payment, (PaymentPending(self.payment_id, operation, amount, at),))

    def resolve(
        self, outcome: GatewayOutcome, *, at: datetime, idempotency_key: str
    ) -> Changed[Payment]:
        """Record the outcome of the pending call: authorised, captured or declined.

        Emits :class:`PaymentResolved` followed by the event of the outcome itself
        (:class:`PaymentAuthorised`, :class:`PaymentCaptured` or :class:`PaymentFailed`), so that
        listeners of captures need not know the capture was once pending.
        """
        reference = outcome.gateway_reference
        detail = outcome.status.value
        if self._is_retry(
            OperationKind.RESOLVE, outcome.amount, idempotency_key, reference, detail
        ):
            return Changed(self, ())
        status = self._next(_RESOLUTIONS[outcome.status])
        pending = self.pending
        assert pending is not None  # the constructor ties a pending call to the pending status
        amount = pending.amount if outcome.amount is None else outcome.amount
        expected = (
            OutcomeStatus.AUTHORISED
            if pending.kind is OperationKind.AUTHORISE
            else OutcomeStatus.CAPTURED
        )
        if outcome.status not in (expected, OutcomeStatus.DECLINED):
            raise InvalidInput(
                field="outcome",
                value=outcome.status.value,
                reason=f"a pending {pending.kind.value} can only end {expected.value} or declined",
            )
        if outcome.status is not OutcomeStatus.DECLINED:
            _require_positive_exact(amount, self.currency)
            if amount > pending.amount:
                raise InvalidInput(
                    field="outcome amount",
                    value=str(amount),
                    reason=f"more than the {pending.amount} that was requested",
                )
        op = PaymentOperation(OperationKind.RESOLVE, amount, at, reference, idempotency_key, detail)
        declined = outcome.status is OutcomeStatus.DECLINED
        capturing = outcome.status is OutcomeStatus.CAPTURED
        payment = attrs.evolve(
            self,
            status=status,
            pending=None,
            gateway_reference=reference or self.gateway_reference,
            authorised=self.authorised if declined else amount,
            captured=amount if capturing else self.captured,
            operations=(*self.operations, op),
        )
        resolved = PaymentResolved(self.payment_id, outcome.status, amount, at)
        follow: DomainEvent
        if outcome.status is OutcomeStatus.AUTHORISED:
            follow = PaymentAuthorised(self.payment_id, amount, at, reference)
        elif outcome.status is OutcomeStatus.CAPTURED:
            follow = self._captured_event(payment, amount, at, reference)
        else:
            follow = PaymentFailed(self.payment_id, outcome.reason or "declined", at)
        return Changed(payment, (resolved, follow))

    def capture(
        self,
        amount: Money,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
    ) -> Changed[Payment]:
        """Capture ``amount`` of the authorisation; captures add up to at most the authorised
        amount, and only gateways with ``multiple_captures`` allow a second one.
        """
        if self._is_retry(OperationKind.CAPTURE, amount, idempotency_key, gateway_reference):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.CAPTURE)
        if self.status is PaymentStatus.PARTIALLY_CAPTURED and not self.multiple_captures:
            raise MultipleCapturesUnsupported(payment_id=self.payment_id)
        if self.status in _CAPTURING:
            ensure_capturable(self, amount)
            self._check_not_expired(at)
        full = self.status in _CAPTURING and amount == capturable(self)
        status = self._next(
            PaymentTrigger.CAPTURE_IN_FULL if full else PaymentTrigger.CAPTURE_IN_PART
        )
        op = PaymentOperation(OperationKind.CAPTURE, amount, at, gateway_reference, idempotency_key)
        payment = attrs.evolve(
            self, status=status, captured=self.captured + amount, operations=(*self.operations, op)
        )
        return Changed(payment, (self._captured_event(payment, amount, at, gateway_reference),))

    def void(
        self, *, at: datetime, idempotency_key: str, gateway_reference: str | None = None
    ) -> Changed[Payment]:
        """Cancel an uncaptured authorisation, releasing the reserved money."""
        if self._is_retry(OperationKind.VOID, None, idempotency_key, gateway_reference):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.VOID)
        status = self._next(PaymentTrigger.VOID)
        released = self.authorised
        op = PaymentOperation(OperationKind.VOID, released, at, gateway_reference, idempotency_key)
        payment = attrs.evolve(self, status=status, operations=(*self.operations, op))
        return Changed(payment, (PaymentVoided(self.payment_id, released, at),))

    def expire(self, *, at: datetime, idempotency_key: str | None = None) -> Changed[Payment]:
        """Record that the uncaptured authorisation lapsed (not before its expiry time, if known).

        The default idempotency key is derived from the payment, since a payment expires once.
        """
        key = idempotency_key or f"{self.payment_id}:expiry"
        if self._is_retry(OperationKind.EXPIRE, None, key, None):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.EXPIRE)
        status = self._next(PaymentTrigger.EXPIRE)
        expires_at = self.authorisation_expires_at
        if expires_at is not None and at < expires_at:
            raise AuthorisationExpired(
                payment_id=self.payment_id, expires_at=expires_at.isoformat(), at=at.isoformat()
            )
        released = self.authorised
        op = PaymentOperation(OperationKind.EXPIRE, released, at, None, key)
        payment = attrs.evolve(self, status=status, operations=(*self.operations, op))
        return Changed(payment, (PaymentAuthorisationExpired(self.payment_id, released, at),))

    def refund(
        self,
        amount: Money,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
    ) -> Changed[Payment]:
        """Give ``amount`` back to the customer; refunds add up to at most what was captured."""
        if self._is_retry(OperationKind.REFUND, amount, idempotency_key, gateway_reference):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.REFUND)
        holding = self.status in _HOLDING_CAPTURED_MONEY
        if holding:
            ensure_refundable(self, amount)
        full = holding and amount == refundable(self)
        status = self._next(
            PaymentTrigger.REFUND_IN_FULL if full else PaymentTrigger.REFUND_IN_PART
        )
        op = PaymentOperation(OperationKind.REFUND, amount, at, gateway_reference, idempotency_key)
        payment = attrs.evolve(
            self, status=status, refunded=self.refunded + amount, operations=(*self.operations, op)
        )
        event = PaymentRefunded(
            self.payment_id,
            self.customer_id,
            self.reference,
            amount,
            payment.refunded,
            at,
            gateway_reference,
        )
        return Changed(payment, (event,))

    def charge_back(
        self,
        amount: Money | None = None,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
    ) -> Changed[Payment]:
        """Record a chargeback of ``amount`` (default: everything captured and not refunded)."""
        if self._is_retry(OperationKind.CHARGE_BACK, amount, idempotency_key, gateway_reference):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.CHARGE_BACK)
        taken = refundable(self) if amount is None else amount
        if self.status in _HOLDING_CAPTURED_MONEY:
            ensure_refundable(self, taken)
        status = self._next(PaymentTrigger.CHARGE_BACK)
        op = PaymentOperation(
            OperationKind.CHARGE_BACK, taken, at, gateway_reference, idempotency_key
        )
        payment = attrs.evolve(
            self,
            status=status,
            charged_back=self.charged_back + taken,
            operations=(*self.operations, op),
        )
        event = PaymentChargedBack(
            self.payment_id, self.customer_id, self.reference, taken, at, gateway_reference
        )
        return Changed(payment, (event,))

    def decline(
        self,
        reason: str,
        *,
        at: datetime,
        idempotency_key: str,
        gateway_reference: str | None = None,
    ) -> Changed[Payment]:
        """Record that the gateway declined the payment (before or at authorisation)."""
        if self._is_retry(OperationKind.DECLINE, None, idempotency_key, gateway_reference, reason):
            return Changed(self, ())
        self._refuse_while_pending(OperationKind.DECLINE)
        status = self._next(PaymentTrigger.DECLINE)
        refused = self.authorised if self.authorised.amount > 0 else self.amount
        op = PaymentOperation(
            OperationKind.DECLINE, refused, at, gateway_reference, idempotency_key, reason
        )
        payment = attrs.evolve(self, status=status, operations=(*self.operations, op))
        return Changed(payment, (PaymentFailed(self.payment_id, reason, at),))

    # --- helpers ------------------------------------------------------------------------------

    def _next(self, trigger: PaymentTrigger) -> PaymentStatus:
        return PAYMENT_LIFECYCLE.next_state(self.status, trigger, entity_id=self.payment_id)

    def _is_retry(
        self,
        kind: OperationKind,
        amount: Money | None,
        key: str,
        gateway_reference: str | None,
        detail: str | None = None,
    ) -> bool:
        """Whether ``key`` was already used for this very request; refuse it for another one."""
        if not key:
            raise InvalidInput(field="idempotency key", value=key, reason="must not be empty")
        recorded = self.operation(key)
        if recorded is None:
            return False
        same = (
            recorded.kind is kind
            and (amount is None or recorded.amount == amount)
            and recorded.gateway_reference == gateway_reference
            and recorded.detail == detail
        )
        if not same:
            raise IdempotencyConflict(
                entity="payment",
                entity_id=self.payment_id,
                key=key,
                recorded=_describe(
                    recorded.kind, recorded.amount, recorded.gateway_reference, recorded.detail
                ),
                attempted=_describe(kind, amount, gateway_reference, detail),
            )
        return True

    def _refuse_while_pending(self, attempted: OperationKind) -> None:
        if self.pending is not None:
            raise PaymentOutcomeUnknown(
                payment_id=self.payment_id,
                pending=f"{self.pending.kind.value} of {self.pending.amount}",
                attempted=attempted.value,
            )

    def _check_upto_amount(self, amount: Money) -> None:
        _require_positive_exact(amount, self.currency)
        if amount > self.amount:
            raise InvalidInput(
                field="amount",
                value=str(amount),
                reason=f"more than the payment amount {self.amount}",
            )

    def _check_not_expired(self, at: datetime) -> None:
        expires_at = self.authorisation_expires_at
        if expires_at is not None and at >= expires_at:
            raise AuthorisationExpired(
                payment_id=self.payment_id, expires_at=expires_at.isoformat(), at=at.isoformat()
            )

    def _captured_event(
        self, payment: Payment, amount: Money, at: datetime, gateway_reference: str | None
    ) -> PaymentCaptured:
        return PaymentCaptured(
            self.payment_id,
            self.customer_id,
            self.reference,
            amount,
            payment.captured,
            at,
            gateway_reference,
        )


_RESOLUTIONS: Mapping[OutcomeStatus, PaymentTrigger] = MappingProxyType(
    {
        OutcomeStatus.AUTHORISED: PaymentTrigger.RESOLVE_AS_AUTHORISED,
        OutcomeStatus.CAPTURED: PaymentTrigger.RESOLVE_AS_CAPTURED,
        OutcomeStatus.DECLINED: PaymentTrigger.RESOLVE_AS_FAILED,
    }
)


def _describe(
    kind: OperationKind, amount: Money | None, gateway_reference: str | None, detail: str | None
) -> str:
    parts = [kind.value]
    if amount is not None:
        parts.append(str(amount))
    if detail:
        parts.append(f"({detail})")
    if gateway_reference:
        parts.append(f"ref {gateway_reference}")
    return " ".join(parts)
