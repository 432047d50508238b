"""Gateway payments: every lifecycle move, the amount guards, pending outcomes and idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from o2c.domain.errors import (
    AuthorisationExpired,
    CurrencyMismatch,
    ExcessPrecision,
    IdempotencyConflict,
    IllegalTransition,
    InvalidAmount,
    InvalidInput,
    MultipleCapturesUnsupported,
    OverCapture,
    OverRefund,
    PaymentOutcomeUnknown,
)
from o2c.domain.money import Money, money
from o2c.domain.payments import (
    PAYMENT_LIFECYCLE,
    GatewayOutcome,
    OperationKind,
    OutcomeStatus,
    Payment,
    PaymentAuthorisationExpired,
    PaymentAuthorised,
    PaymentCaptured,
    PaymentChargedBack,
    PaymentCreated,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentResolved,
    PaymentStatus,
    PaymentVoided,
    capturable,
    refundable,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def a_payment(amount: str = "100.00", *, multiple_captures: bool = False) -> Payment:
    payment, _ = Payment.create(
        "PAY-1", "CUST-1", "INV-1", money(amount, "EUR"), at=AT, multiple_captures=multiple_captures
    )
    return payment


def authorised(amount: str = "100.00", *, multiple_captures: bool = False) -> Payment:
    payment, _ = a_payment(amount, multiple_captures=multiple_captures).authorise(
        money(amount, "EUR"), at=AT, idempotency_key="auth", gateway_reference="pi_1"
    )
    return payment


def captured(amount: str = "100.00") -> Payment:
    payment, _ = authorised(amount).capture(money(amount, "EUR"), at=AT, idempotency_key="cap")
    return payment


def test_create_opens_a_payment_and_says_so() -> None:
    payment, events = Payment.create("PAY-1", "CUST-1", "INV-1", money("100.00", "EUR"), at=AT)
    assert payment.status is PaymentStatus.CREATED
    assert payment.captured == money("0", "EUR")
    assert events == (PaymentCreated("PAY-1", "CUST-1", "INV-1", money("100.00", "EUR"), AT),)


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_a_payment_needs_a_positive_amount(amount: str) -> None:
    with pytest.raises(InvalidAmount):
        Payment.create("PAY-1", "CUST-1", "INV-1", money(amount, "EUR"), at=AT)


def test_a_payment_needs_ids() -> None:
    with pytest.raises(InvalidInput):
        Payment.create("", "CUST-1", "INV-1", money("1.00", "EUR"), at=AT)


def test_authorise_reserves_the_amount() -> None:
    payment, events = a_payment().authorise(
        money("100.00", "EUR"), at=AT, idempotency_key="auth", gateway_reference="pi_1"
    )
    assert payment.status is PaymentStatus.AUTHORISED
    assert payment.authorised == money("100.00", "EUR")
    assert payment.gateway_reference == "pi_1"
    assert events == (PaymentAuthorised("PAY-1", money("100.00", "EUR"), AT, "pi_1"),)
    assert payment.operations[-1].kind is OperationKind.AUTHORISE


def test_authorise_more_than_the_payment_amount_is_refused() -> None:
    with pytest.raises(InvalidInput):
        a_payment().authorise(money("100.01", "EUR"), at=AT, idempotency_key="auth")


def test_capture_in_full() -> None:
    payment, events = authorised().capture(money("100.00", "EUR"), at=AT, idempotency_key="cap")
    assert payment.status is PaymentStatus.CAPTURED
    assert capturable(payment) == money("0", "EUR")
    (event,) = events
    assert isinstance(event, PaymentCaptured)
    assert event.amount == event.captured_total == money("100.00", "EUR")
    assert (event.customer_id, event.reference) == ("CUST-1", "INV-1")


def test_capture_in_part_then_in_full_when_the_gateway_allows_several_captures() -> None:
    payment = authorised(multiple_captures=True)
    payment, _ = payment.capture(money("30.00", "EUR"), at=AT, idempotency_key="c1")
    assert payment.status is PaymentStatus.PARTIALLY_CAPTURED
    payment, _ = payment.capture(money("50.00", "EUR"), at=AT, idempotency_key="c2")
    assert payment.status is PaymentStatus.PARTIALLY_CAPTURED
    payment, events = payment.capture(money("20.00", "EUR"), at=AT, idempotency_key="c3")
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.captured == money("100.00", "EUR")
    assert events[0] == PaymentCaptured(
        "PAY-1", "CUST-1", "INV-1", money("20.00", "EUR"), money("100.00", "EUR"), AT, None
    )


def test_a_second_capture_needs_a_gateway_that_allows_it() -> None:
    payment, _ = authorised().capture(money("30.00", "EUR"), at=AT, idempotency_key="c1")
    with pytest.raises(MultipleCapturesUnsupported):
        payment.capture(money("10.00", "EUR"), at=AT, idempotency_key="c2")


def test_over_capture_is_refused_cumulatively() -> None:
    payment, _ = authorised(multiple_captures=True).capture(
        money("60.00", "EUR"), at=AT, idempotency_key="c1"
    )
    with pytest.raises(OverCapture) as refused:
        payment.capture(money("40.01", "EUR"), at=AT, idempotency_key="c2")
    assert refused.value.captured == str(money("60.00", "EUR"))
    assert refused.value.requested == str(money("40.01", "EUR"))
    assert "cannot capture" in str(refused.value)


def test_capture_before_authorisation_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        a_payment().capture(money("1.00", "EUR"), at=AT, idempotency_key="cap")


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (money("10.00", "USD"), CurrencyMismatch),
        (money("0", "EUR"), InvalidAmount),
        (money("-1.00", "EUR"), InvalidAmount),
    ],
)
def test_capture_amount_must_be_positive_in_the_payment_currency(
    amount: Money, error: type[Exception]
) -> None:
    with pytest.raises(error):
        authorised().capture(amount, at=AT, idempotency_key="cap")


def test_amounts_beyond_the_minor_unit_never_reach_a_payment() -> None:
    with pytest.raises(ExcessPrecision):
        money("1.005", "EUR")


def test_purchase_authorises_and_captures_at_once() -> None:
    payment, events = a_payment().purchase(money("100.00", "EUR"), at=AT, idempotency_key="buy")
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.authorised == payment.captured == money("100.00", "EUR")
    assert isinstance(events[0], PaymentCaptured)


def test_void_releases_the_authorisation() -> None:
    payment, events = authorised().void(at=AT, idempotency_key="void")
    assert payment.status is PaymentStatus.VOIDED
    assert events == (PaymentVoided("PAY-1", money("100.00", "EUR"), AT),)
    with pytest.raises(IllegalTransition):
        payment.capture(money("1.00", "EUR"), at=AT, idempotency_key="cap")


def test_void_after_a_capture_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        captured().void(at=AT, idempotency_key="void")


def test_refund_in_part_then_in_full() -> None:
    payment, events = captured().refund(money("40.00", "EUR"), at=AT, idempotency_key="r1")
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert events == (
        PaymentRefunded(
            "PAY-1", "CUST-1", "INV-1", money("40.00", "EUR"), money("40.00", "EUR"), AT, None
        ),
    )
    payment, _ = payment.refund(money("60.00", "EUR"), at=AT, idempotency_key="r2")
    assert payment.status is PaymentStatus.REFUNDED
    assert refundable(payment) == money("0", "EUR")


def test_refund_of_a_partial_capture_counts_only_what_was_captured() -> None:
    payment, _ = authorised().capture(money("30.00", "EUR"), at=AT, idempotency_key="c1")
    with pytest.raises(OverRefund) as refused:
        payment.refund(money("30.01", "EUR"), at=AT, idempotency_key="r1")
    assert refused.value.refundable == str(money("30.00", "EUR"))
    payment, _ = payment.refund(money("30.00", "EUR"), at=AT, idempotency_key="r1")
    assert payment.status is PaymentStatus.REFUNDED


def test_over_refund_is_refused_cumulatively() -> None:
    payment, _ = captured().refund(money("70.00", "EUR"), at=AT, idempotency_key="r1")
    with pytest.raises(OverRefund):
        payment.refund(money("30.01", "EUR"), at=AT, idempotency_key="r2")


def test_refund_before_capture_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        authorised().refund(money("1.00", "EUR"), at=AT, idempotency_key="r1")


def test_chargeback_takes_what_is_left_by_default() -> None:
    payment, _ = captured().refund(money("25.00", "EUR"), at=AT, idempotency_key="r1")
    payment, events = payment.charge_back(at=AT, idempotency_key="cb", gateway_reference="dp_1")
    assert payment.status is PaymentStatus.CHARGED_BACK
    assert payment.charged_back == money("75.00", "EUR")
    assert events == (
        PaymentChargedBack("PAY-1", "CUST-1", "INV-1", money("75.00", "EUR"), AT, "dp_1"),
    )
    with pytest.raises(IllegalTransition):
        payment.refund(money("1.00", "EUR"), at=AT, idempotency_key="r2")


def test_chargeback_cannot_exceed_what_the_customer_paid_net() -> None:
    payment, _ = captured().refund(money("25.00", "EUR"), at=AT, idempotency_key="r1")
    with pytest.raises(OverRefund):
        payment.charge_back(money("75.01", "EUR"), at=AT, idempotency_key="cb")


def test_a_fully_refunded_payment_cannot_be_charged_back() -> None:
    payment, _ = captured().refund(money("100.00", "EUR"), at=AT, idempotency_key="r1")
    with pytest.raises(IllegalTransition):
        payment.charge_back(at=AT, idempotency_key="cb")


@pytest.mark.parametrize("start", ["created", "authorised"])
def test_decline_fails_the_payment(start: str) -> None:
    payment = a_payment() if start == "created" else authorised()
    failed, events = payment.decline("insufficient funds", at=AT, idempotency_key="d")
    assert failed.status is PaymentStatus.FAILED
    assert events == (PaymentFailed("PAY-1", "insufficient funds", AT),)


def test_a_captured_payment_cannot_be_declined() -> None:
    with pytest.raises(IllegalTransition):
        captured().decline("late", at=AT, idempotency_key="d")


# --- pending outcomes -------------------------------------------------------------------------


def pending(kind: OperationKind = OperationKind.AUTHORISE) -> Payment:
    payment, _ = a_payment().mark_pending(
        kind, money("100.00", "EUR"), at=AT, idempotency_key="timeout"
    )
    return payment


def test_a_timeout_leaves_the_payment_pending() -> None:
    payment, events = a_payment().mark_pending(
        OperationKind.PURCHASE, money("100.00", "EUR"), at=AT, idempotency_key="timeout"
    )
    assert payment.status is PaymentStatus.PENDING
    assert events == (PaymentPending("PAY-1", OperationKind.PURCHASE, money("100.00", "EUR"), AT),)


def test_only_authorise_or_purchase_can_be_pending() -> None:
    with pytest.raises(InvalidInput):
        a_payment().mark_pending(
            OperationKind.REFUND, money("1.00", "EUR"), at=AT, idempotency_key="t"
        )


def test_a_pending_authorisation_resolves_to_authorised() -> None:
    later = AT + timedelta(minutes=5)
    outcome = GatewayOutcome(OutcomeStatus.AUTHORISED, gateway_reference="pi_9")
    payment, events = pending().resolve(outcome, at=later, idempotency_key="fetch-1")
    assert payment.status is PaymentStatus.AUTHORISED
    assert payment.pending is None
    assert payment.authorised == money("100.00", "EUR")
    assert events == (
        PaymentResolved("PAY-1", OutcomeStatus.AUTHORISED, money("100.00", "EUR"), later),
        PaymentAuthorised("PAY-1", money("100.00", "EUR"), later, "pi_9"),
    )


def test_a_pending_purchase_resolves_to_captured_with_a_partial_amount() -> None:
    outcome = GatewayOutcome(OutcomeStatus.CAPTURED, money("80.00", "EUR"))
    payment, events = pending(OperationKind.PURCHASE).resolve(outcome, at=AT, idempotency_key="f")
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.captured == payment.authorised == money("80.00", "EUR")
    assert isinstance(events[1], PaymentCaptured)


def test_a_pending_call_resolves_to_failed() -> None:
    outcome = GatewayOutcome(OutcomeStatus.DECLINED, reason="do not honour")
    payment, events = pending().resolve(outcome, at=AT, idempotency_key="f")
    assert payment.status is PaymentStatus.FAILED
    assert events[1] == PaymentFailed("PAY-1", "do not honour", AT)


def test_resolution_must_fit_the_pending_call() -> None:
    with pytest.raises(InvalidInput):
        pending().resolve(GatewayOutcome(OutcomeStatus.CAPTURED), at=AT, idempotency_key="f")
    with pytest.raises(InvalidInput):
        pending().resolve(
            GatewayOutcome(OutcomeStatus.AUTHORISED, money("100.01", "EUR")),
            at=AT,
            idempotency_key="f",
        )


def test_nothing_else_happens_while_the_outcome_is_unknown() -> None:
    with pytest.raises(PaymentOutcomeUnknown) as refused:
        pending().capture(money("1.00", "EUR"), at=AT, idempotency_key="cap")
    assert refused.value.attempted == "capture"
    with pytest.raises(PaymentOutcomeUnknown):
        pending().decline("no", at=AT, idempotency_key="d")


def test_only_a_pending_payment_resolves() -> None:
    with pytest.raises(IllegalTransition):
        authorised().resolve(GatewayOutcome(OutcomeStatus.AUTHORISED), at=AT, idempotency_key="f")


# --- expiry -----------------------------------------------------------------------------------


def expiring() -> Payment:
    payment, _ = a_payment().authorise(
        money("100.00", "EUR"), at=AT, idempotency_key="auth", expires_at=AT + timedelta(days=7)
    )
    return payment


def test_capture_after_expiry_is_refused() -> None:
    with pytest.raises(AuthorisationExpired):
        expiring().capture(money("1.00", "EUR"), at=AT + timedelta(days=7), idempotency_key="c")
    payment, _ = expiring().capture(
        money("1.00", "EUR"), at=AT + timedelta(days=6), idempotency_key="c"
    )
    assert payment.status is PaymentStatus.PARTIALLY_CAPTURED


def test_an_authorisation_expires_at_its_time_not_before() -> None:
    with pytest.raises(AuthorisationExpired):
        expiring().expire(at=AT + timedelta(days=6))
    payment, events = expiring().expire(at=AT + timedelta(days=7))
    assert payment.status is PaymentStatus.EXPIRED
    assert events == (
        PaymentAuthorisationExpired("PAY-1", money("100.00", "EUR"), AT + timedelta(days=7)),
    )
    again, events = payment.expire(at=AT + timedelta(days=8))
    assert again is payment
    assert events == ()


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_request_twice_is_a_no_op() -> None:
    payment = authorised(multiple_captures=True)
    once, _ = payment.capture(money("30.00", "EUR"), at=AT, idempotency_key="c1")
    twice, events = once.capture(
        money("30.00", "EUR"), at=AT + timedelta(seconds=3), idempotency_key="c1"
    )
    assert twice is once
    assert events == ()
    assert twice.captured == money("30.00", "EUR")


def test_a_retry_after_the_payment_moved_on_is_still_a_no_op() -> None:
    payment = captured()
    again, events = payment.authorise(
        money("100.00", "EUR"), at=AT, idempotency_key="auth", gateway_reference="pi_1"
    )
    assert again is payment
    assert events == ()


def test_the_same_key_for_a_different_request_is_a_conflict() -> None:
    payment, _ = authorised(multiple_captures=True).capture(
        money("30.00", "EUR"), at=AT, idempotency_key="c1"
    )
    with pytest.raises(IdempotencyConflict) as refused:
        payment.capture(money("31.00", "EUR"), at=AT, idempotency_key="c1")
    assert refused.value.key == "c1"
    with pytest.raises(IdempotencyConflict):
        payment.refund(money("30.00", "EUR"), at=AT, idempotency_key="c1")


def test_a_resolution_repeated_is_a_no_op_and_a_contrary_one_a_conflict() -> None:
    payment, _ = pending().resolve(
        GatewayOutcome(OutcomeStatus.AUTHORISED), at=AT, idempotency_key="hook-1"
    )
    same, events = payment.resolve(
        GatewayOutcome(OutcomeStatus.AUTHORISED), at=AT, idempotency_key="hook-1"
    )
    assert (same, events) == (payment, ())
    with pytest.raises(IdempotencyConflict):
        payment.resolve(GatewayOutcome(OutcomeStatus.DECLINED), at=AT, idempotency_key="hook-1")


def test_an_idempotency_key_is_required() -> None:
    with pytest.raises(InvalidInput):
        authorised().capture(money("1.00", "EUR"), at=AT, idempotency_key="")


# --- the lifecycle ----------------------------------------------------------------------------


def test_final_states() -> None:
    assert set(PAYMENT_LIFECYCLE.final_states) == {
        PaymentStatus.REFUNDED,
        PaymentStatus.VOIDED,
        PaymentStatus.EXPIRED,
        PaymentStatus.FAILED,
        PaymentStatus.CHARGED_BACK,
    }


def test_every_state_is_reachable_from_created() -> None:
    reached = {PAYMENT_LIFECYCLE.initial}
    frontier = [PAYMENT_LIFECYCLE.initial]
    while frontier:
        state = frontier.pop()
        for trigger in PAYMENT_LIFECYCLE.allowed(state):
            target = PAYMENT_LIFECYCLE.next_state(state, trigger)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(PaymentStatus)


def test_the_constructor_refuses_impossible_amounts() -> None:
    with pytest.raises(InvalidAmount):
        Payment(
            "PAY-1",
            "CUST-1",
            "INV-1",
            money("100.00", "EUR"),
            AT,
            authorised=money("50.00", "EUR"),
            captured=money("60.00", "EUR"),
        )
