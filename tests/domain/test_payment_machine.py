"""Random operation sequences never over-capture or over-refund a payment.

A model tracks what the payment should hold from the events alone; every rule predicts whether the
gateway call must be accepted and which error refuses it, and every invariant is checked after
each step, including retries of earlier requests under their idempotency keys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from o2c.domain.errors import (
    DomainError,
    IdempotencyConflict,
    IllegalTransition,
    MultipleCapturesUnsupported,
    OverCapture,
    OverRefund,
    PaymentOutcomeUnknown,
)
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.money import Money, from_minor, to_minor
from o2c.domain.payments import (
    GatewayOutcome,
    OperationKind,
    OutcomeStatus,
    Payment,
    PaymentCaptured,
    PaymentChargedBack,
    PaymentRefunded,
    PaymentStatus,
    capturable,
    refundable,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CAPTURING = {PaymentStatus.AUTHORISED, PaymentStatus.PARTIALLY_CAPTURED}
HOLDING = {
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
}

cents = st.integers(min_value=1, max_value=12_000)


def eur(units: int) -> Money:
    return from_minor(units, "EUR")


class PaymentMachine(RuleBasedStateMachine):
    @rule(total=st.integers(min_value=1, max_value=10_000), multiple=st.booleans())
    @precondition(lambda self: not hasattr(self, "payment"))
    def create(self, total: int, multiple: bool) -> None:
        self.payment, _ = Payment.create(
            "PAY-1", "CUST-1", "INV-1", eur(total), at=START, multiple_captures=multiple
        )
        self.clock = START
        self.keys = 0
        self.captured_by_events = 0
        self.refunded_by_events = 0
        self.charged_back_by_events = 0
        self.requests: list[tuple[str, int, str]] = []

    def _key(self) -> str:
        self.keys += 1
        self.clock += timedelta(minutes=1)
        return f"k{self.keys}"

    def _record(self, events: tuple[DomainEvent, ...]) -> None:
        for event in events:
            if isinstance(event, PaymentCaptured):
                self.captured_by_events += to_minor(event.amount)
            elif isinstance(event, PaymentRefunded):
                self.refunded_by_events += to_minor(event.amount)
            elif isinstance(event, PaymentChargedBack):
                self.charged_back_by_events += to_minor(event.amount)

    def _attempt(self, kind: str, units: int, key: str, expected: type[DomainError] | None) -> None:
        before = self.payment
        amount = eur(units)
        changed: Changed[Payment] | None = None
        error: DomainError | None = None
        try:
            if kind == "authorise":
                changed = before.authorise(amount, at=self.clock, idempotency_key=key)
            elif kind == "purchase":
                changed = before.purchase(amount, at=self.clock, idempotency_key=key)
            elif kind == "capture":
                changed = before.capture(amount, at=self.clock, idempotency_key=key)
            elif kind == "refund":
                changed = before.refund(amount, at=self.clock, idempotency_key=key)
            else:
                changed = before.charge_back(amount, at=self.clock, idempotency_key=key)
        except DomainError as refused:
            error = refused
        if changed is None:
            assert expected is not None, f"{kind} {amount} refused unexpectedly: {error}"
            assert isinstance(error, expected), f"{kind}: {error!r}, expected {expected}"
            assert self.payment is before
            return
        assert expected is None, f"{kind} {amount} accepted, expected {expected}"
        self.payment, events = changed
        assert events
        self._record(events)
        self.requests.append((kind, units, key))

    def _created_outcome(self, units: int) -> type[DomainError] | None:
        if self.payment.status is PaymentStatus.PENDING:
            return PaymentOutcomeUnknown
        if self.payment.status is not PaymentStatus.CREATED:
            return IllegalTransition
        return DomainError if units > to_minor(self.payment.amount) else None

    @precondition(lambda self: hasattr(self, "payment"))
    @rule(units=cents)
    def authorise(self, units: int) -> None:
        self._attempt("authorise", units, self._key(), self._created_outcome(units))

    @precondition(lambda self: hasattr(self, "payment"))
    @rule(units=cents)
    def purchase(self, units: int) -> None:
        self._attempt("purchase", units, self._key(), self._created_outcome(units))

    @precondition(lambda self: hasattr(self, "payment"))
    @rule(units=cents)
    def capture(self, units: int) -> None:
        payment = self.payment
        expected: type[DomainError] | None
        if payment.status is PaymentStatus.PENDING:
            expected = PaymentOutcomeUnknown
        elif payment.status is PaymentStatus.PARTIALLY_CAPTURED and not payment.multiple_captures:
            expected = MultipleCapturesUnsupported
        elif payment.status not in CAPTURING:
            expected = IllegalTransition
        elif units > to_minor(capturable(payment)):
            expected = OverCapture
        else:
            expected = None
        self._attempt("capture", units, self._key(), expected)

    def _give_back_outcome(self, units: int) -> type[DomainError] | None:
        payment = self.payment
        if payment.status is PaymentStatus.PENDING:
            return PaymentOutcomeUnknown
        if payment.status not in HOLDING:
            return IllegalTransition
        return OverRefund if units > to_minor(refundable(payment)) else None

    @precondition(lambda self: hasattr(self, "payment"))
    @rule(units=cents)
    def refund(self, units: int) -> None:
        self._attempt("refund", units, self._key(), self._give_back_outcome(units))

    @precondition(lambda self: hasattr(self, "payment"))
    @rule(units=cents)
    def charge_back(self, units: int) -> None:
        self._attempt("charge_back", units, self._key(), self._give_back_outcome(units))

    @precondition(lambda self: hasattr(self, "payment"))
    @rule()
    def void(self) -> None:
        before = self.payment
        try:
            self.payment, _ = before.void(at=self.clock, idempotency_key=self._key())
        except IllegalTransition:
            assert before.status is not PaymentStatus.AUTHORISED
        except PaymentOutcomeUnknown:
            assert before.status is PaymentStatus.PENDING
        else:
            assert before.status is PaymentStatus.AUTHORISED

    @precondition(lambda self: hasattr(self, "payment"))
    @rule(units=cents, purchase=st.booleans())
    def time_out(self, units: int, purchase: bool) -> None:
        kind = OperationKind.PURCHASE if purchase else OperationKind.AUTHORISE
        before = self.payment
        try:
            self.payment, _ = before.mark_pending(
                kind, eur(units), at=self.clock, idempotency_key=self._key()
            )
        except DomainError:
            assert before.status is not PaymentStatus.CREATED or units > to_minor(before.amount)
        else:
            assert before.status is PaymentStatus.CREATED

    @precondition(lambda self: getattr(self, "payment", None) is not None)
    @rule(outcome=st.sampled_from(OutcomeStatus), data=st.data())
    def resolve(self, outcome: OutcomeStatus, data: st.DataObject) -> None:
        payment = self.payment
        if payment.pending is None:
            return
        limit = to_minor(payment.pending.amount)
        units = data.draw(st.integers(min_value=1, max_value=limit))
        try:
            self.payment, events = payment.resolve(
                GatewayOutcome(outcome, eur(units)), at=self.clock, idempotency_key=self._key()
            )
        except DomainError:
            fits = (
                OutcomeStatus.AUTHORISED
                if payment.pending.kind is OperationKind.AUTHORISE
                else (OutcomeStatus.CAPTURED)
            )
            assert outcome not in (fits, OutcomeStatus.DECLINED)
        else:
            self._record(events)

    @precondition(lambda self: bool(getattr(self, "requests", None)))
    @rule(data=st.data(), change=st.booleans())
    def retry(self, data: st.DataObject, change: bool) -> None:
        kind, units, key = data.draw(st.sampled_from(self.requests))
        before = self.payment
        if change:
            self._attempt(kind, units + 1, key, IdempotencyConflict)
            return
        self._attempt_retry(kind, units, key)
        assert self.payment is before

    def _attempt_retry(self, kind: str, units: int, key: str) -> None:
        amount = eur(units)
        call = {
            "authorise": self.payment.authorise,
            "purchase": self.payment.purchase,
            "capture": self.payment.capture,
            "refund": self.payment.refund,
            "charge_back": self.payment.charge_back,
        }[kind]
        _, events = call(amount, at=self.clock, idempotency_key=key)
        assert events == ()

    @invariant()
    def amounts_stay_within_bounds(self) -> None:
        payment = getattr(self, "payment", None)
        if payment is None:
            return
        assert payment.captured <= payment.authorised <= payment.amount
        assert payment.refunded + payment.charged_back <= payment.captured
        assert to_minor(payment.captured) == self.captured_by_events
        assert to_minor(payment.refunded) == self.refunded_by_events
        assert to_minor(payment.charged_back) == self.charged_back_by_events

    @invariant()
    def status_agrees_with_amounts(self) -> None:
        payment = getattr(self, "payment", None)
        if payment is None:
            return
        status = payment.status
        if status is PaymentStatus.CAPTURED:
            assert payment.captured == payment.authorised
            assert payment.refunded.amount == 0
        if status is PaymentStatus.PARTIALLY_CAPTURED:
            assert 0 < payment.captured.amount < payment.authorised.amount
        if status is PaymentStatus.REFUNDED:
            assert payment.refunded == payment.captured
        if status is PaymentStatus.PARTIALLY_REFUNDED:
            assert 0 < payment.refunded.amount < payment.captured.amount
        if status is PaymentStatus.CHARGED_BACK:
            assert payment.charged_back.amount > 0
        if status in (PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.FAILED):
            assert payment.captured.amount == 0


TestPaymentMachine = PaymentMachine.TestCase
TestPaymentMachine.settings = settings(stateful_step_count=20)
