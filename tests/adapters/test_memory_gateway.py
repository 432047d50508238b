"""The sandbox gateway: outcomes by test token, idempotency, limits, and signed webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from o2c.adapters.memory import Fault, FixedClock, SandboxGateway, SandboxToken
from o2c.domain.money import Money, money
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest, NotFound
from o2c.ports.gateways import GatewayCapabilities, NoticeKind, ResponseStatus

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
EUR_100 = money("100.00", "EUR")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def gateway(clock: FixedClock) -> SandboxGateway:
    return SandboxGateway(clock, secret="s3cret")


def authorise(
    gateway: SandboxGateway, token: str, amount: Money = EUR_100, key: str = "auth-1"
) -> str | None:
    response = gateway.authorise(
        payment_id="PAY-1", amount=amount, payment_token=token, idempotency_key=key
    )
    return response.gateway_reference


def approved_reference(gateway: SandboxGateway, token: str = "tok_approve") -> str:
    reference = authorise(gateway, token)
    assert reference is not None
    return reference


# --- tokens ------------------------------------------------------------------------------------


def test_approve(gateway: SandboxGateway) -> None:
    response = gateway.authorise(
        payment_id="PAY-1", amount=EUR_100, payment_token="tok_approve", idempotency_key="k"
    )
    assert response.status is ResponseStatus.APPROVED
    assert response.amount == EUR_100
    assert response.idempotency_key == "k"
    assert response.gateway_reference is not None
    assert gateway.payment(response.gateway_reference).authorised == EUR_100


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_decline", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds"),
        ("tok_expired_card", "expired_card"),
    ],
)
def test_declines_are_responses_with_a_code(gateway: SandboxGateway, token: str, code: str) -> None:
    response = gateway.authorise(
        payment_id="PAY-1", amount=EUR_100, payment_token=token, idempotency_key="k"
    )
    assert response.status is ResponseStatus.DECLINED
    assert response.decline_code == code
    assert gateway.pending_webhooks() == ()


def test_partial_authorisation_approves_half(gateway: SandboxGateway) -> None:
    response = gateway.authorise(
        payment_id="PAY-1",
        amount=money("10.01", "EUR"),
        payment_token="tok_partial",
        idempotency_key="k",
    )
    assert response.status is ResponseStatus.APPROVED
    assert response.amount == money("5.00", "EUR")


def test_timeout_fails_before_the_request_leaves(gateway: SandboxGateway) -> None:
    with pytest.raises(AdapterUnavailable) as caught:
        authorise(gateway, "tok_timeout")
    assert caught.value.retryable
    assert caught.value.adapter == "sandbox"
    with pytest.raises(NotFound):
        gateway.fetch_status("auth-1")
    # Nothing was recorded, so the same key may carry a different request afterwards.
    assert authorise(gateway, "tok_approve") is not None


def test_unknown_token_is_rejected(gateway: SandboxGateway) -> None:
    with pytest.raises(AdapterRejected) as caught:
        authorise(gateway, "tok_unheard_of")
    assert caught.value.code == "invalid_token"


@pytest.mark.parametrize("card", ["4242424242424242", "4242 4242 4242 4242", "5555-5555-5555-4444"])
def test_a_card_number_sent_as_a_token_is_refused_and_never_echoed(
    gateway: SandboxGateway, card: str
) -> None:
    with pytest.raises(AdapterRejected) as caught:
        authorise(gateway, card)
    assert caught.value.code == "card_number_as_token"
    digits = card.replace(" ", "").replace("-", "")
    for shown in (str(caught.value), repr(caught.value), repr(caught.value.args)):
        assert digits[:12] not in shown.replace(" ", "").replace("-", "")
        assert digits[-4:] in shown


def test_every_token_is_documented() -> None:
    assert {token.value for token in SandboxToken} >= {
        "tok_approve",
        "tok_decline",
        "tok_insufficient_funds",
        "tok_pending",
        "tok_timeout",
        "tok_chargeback",
    }


# --- pending then settles ---------------------------------------------------------------------


def test_pending_then_settles_as_approved(clock: FixedClock) -> None:
    gateway = SandboxGateway(clock, pending_settles_after=timedelta(minutes=10))
    first = gateway.authorise(
        payment_id="PAY-1", amount=EUR_100, payment_token="tok_pending", idempotency_key="k"
    )
    assert first.status is ResponseStatus.UNKNOWN
    assert first.gateway_reference is None
    assert gateway.fetch_status("k").status is ResponseStatus.UNKNOWN
    assert gateway.pending_webhooks() == ()
    clock.advance(minutes=10)
    settled = gateway.fetch_status("k")
    assert settled.status is ResponseStatus.APPROVED
    assert settled.amount == EUR_100
    assert settled.idempotency_key == "k"
    # Repeating the call with its key gives the settled answer too, and moves no money.
    again = gateway.authorise(
        payment_id="PAY-1", amount=EUR_100, payment_token="tok_pending", idempotency_key="k"
    )
    assert again == settled
    (delivery,) = gateway.pending_webhooks()
    (notice,) = gateway.parse_webhook(delivery.payload, delivery.headers)
    assert notice.kind is NoticeKind.AUTHORISED
    assert notice.gateway_reference == settled.gateway_reference
    assert notice.amount == EUR_100
    assert notice.at == NOW + timedelta(minutes=10)


def test_pending_settles_at_once_by_default(gateway: SandboxGateway) -> None:
    first = gateway.authorise(
        payment_id="PAY-1", amount=EUR_100, payment_token="tok_pending", idempotency_key="k"
    )
    assert first.status is ResponseStatus.UNKNOWN
    assert gateway.fetch_status("k").status is ResponseStatus.APPROVED


def test_pending_decline_settles_as_declined(gateway: SandboxGateway) -> None:
    first = gateway.authorise(
        payment_id="PAY-1", amount=EUR_100, payment_token="tok_pending_decline", idempotency_key="k"
    )
    assert first.status is ResponseStatus.UNKNOWN
    final = gateway.fetch_status("k")
    assert (final.status, final.decline_code) == (ResponseStatus.DECLINED, "card_declined")
    (delivery,) = gateway.pending_webhooks()
    assert gateway.parse_webhook(delivery.payload, delivery.headers)[0].kind is NoticeKind.FAILED


def test_injected_faults(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    gateway.inject(Fault.UNAVAILABLE)
    with pytest.raises(AdapterUnavailable):
        gateway.capture(gateway_reference=reference, amount=EUR_100, idempotency_key="cap")
    assert gateway.payment(reference).captured == money(0, "EUR")
    gateway.inject(Fault.LOST_RESPONSE)
    lost = gateway.capture(gateway_reference=reference, amount=EUR_100, idempotency_key="cap")
    assert lost.status is ResponseStatus.UNKNOWN
    assert gateway.payment(reference).captured == EUR_100  # the gateway did act
    assert gateway.fetch_status("cap").status is ResponseStatus.APPROVED


# --- idempotency ------------------------------------------------------------------------------


def test_same_key_same_request_returns_the_first_response(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    first = gateway.capture(gateway_reference=reference, amount=EUR_100, idempotency_key="c1")
    second = gateway.capture(gateway_reference=reference, amount=EUR_100, idempotency_key="c1")
    assert first == second
    assert first.status is ResponseStatus.APPROVED
    assert gateway.payment(reference).captured == EUR_100
    assert gateway.fetch_status("c1") == first


def test_same_key_different_request_is_a_duplicate(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    gateway.capture(gateway_reference=reference, amount=money(40, "EUR"), idempotency_key="c1")
    with pytest.raises(DuplicateRequest) as caught:
        gateway.capture(gateway_reference=reference, amount=money(50, "EUR"), idempotency_key="c1")
    assert caught.value.key == "c1"
    with pytest.raises(DuplicateRequest):
        gateway.refund(gateway_reference=reference, amount=money(40, "EUR"), idempotency_key="c1")
    assert gateway.payment(reference).captured == money(40, "EUR")


def test_a_repeated_decline_is_the_same_decline(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    over = money("100.01", "EUR")
    first = gateway.capture(gateway_reference=reference, amount=over, idempotency_key="c")
    assert first == gateway.capture(gateway_reference=reference, amount=over, idempotency_key="c")


# --- limits -----------------------------------------------------------------------------------


def test_capture_never_exceeds_the_authorisation(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    response = gateway.capture(
        gateway_reference=reference, amount=money("100.01", "EUR"), idempotency_key="c"
    )
    assert response.status is ResponseStatus.DECLINED
    assert response.decline_code == "amount_exceeds_authorisation"
    assert gateway.payment(reference).captured == money(0, "EUR")


def test_partial_capture_then_no_second_capture_by_default(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    partial = gateway.capture(
        gateway_reference=reference, amount=money(60, "EUR"), idempotency_key="c1"
    )
    assert partial.status is ResponseStatus.APPROVED
    second = gateway.capture(
        gateway_reference=reference, amount=money(10, "EUR"), idempotency_key="c2"
    )
    assert second.decline_code == "already_captured"
    assert not gateway.capabilities.multiple_captures
    assert gateway.capabilities.partial_capture


def test_multiple_captures_up_to_the_authorisation(clock: FixedClock) -> None:
    capabilities = GatewayCapabilities(frozenset({"EUR"}), multiple_captures=True)
    gateway = SandboxGateway(clock, capabilities=capabilities)
    reference = approved_reference(gateway)
    for key in ("c1", "c2"):
        response = gateway.capture(
            gateway_reference=reference, amount=money(50, "EUR"), idempotency_key=key
        )
        assert response.status is ResponseStatus.APPROVED
    third = gateway.capture(
        gateway_reference=reference, amount=money("0.01", "EUR"), idempotency_key="c3"
    )
    assert third.decline_code == "amount_exceeds_authorisation"


def test_partial_capture_refused_when_not_supported(clock: FixedClock) -> None:
    capabilities = GatewayCapabilities(frozenset({"EUR"}), partial_capture=False)
    gateway = SandboxGateway(clock, capabilities=capabilities)
    reference = approved_reference(gateway)
    with pytest.raises(AdapterRejected):
        gateway.capture(gateway_reference=reference, amount=money(1, "EUR"), idempotency_key="c")


def test_refunds_never_exceed_what_was_captured(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    gateway.capture(gateway_reference=reference, amount=money(80, "EUR"), idempotency_key="c")
    ok = gateway.refund(gateway_reference=reference, amount=money(30, "EUR"), idempotency_key="r1")
    assert ok.status is ResponseStatus.APPROVED
    too_much = gateway.refund(
        gateway_reference=reference, amount=money("50.01", "EUR"), idempotency_key="r2"
    )
    assert (too_much.status, too_much.decline_code) == (
        ResponseStatus.DECLINED,
        "amount_exceeds_capture",
    )
    rest = gateway.refund(
        gateway_reference=reference, amount=money(50, "EUR"), idempotency_key="r3"
    )
    assert rest.status is ResponseStatus.APPROVED
    assert gateway.payment(reference).refunded == money(80, "EUR")


def test_refund_before_capture_is_declined(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    response = gateway.refund(gateway_reference=reference, amount=EUR_100, idempotency_key="r")
    assert response.decline_code == "amount_exceeds_capture"


def test_void_before_capture_only(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    assert gateway.void(gateway_reference=reference, idempotency_key="v1").status is (
        ResponseStatus.APPROVED
    )
    assert gateway.void(gateway_reference=reference, idempotency_key="v2").decline_code == (
        "already_voided"
    )
    capture = gateway.capture(gateway_reference=reference, amount=EUR_100, idempotency_key="c")
    assert capture.decline_code == "authorisation_voided"
    other = SandboxGateway(FixedClock(NOW))
    captured = approved_reference(other)
    other.capture(gateway_reference=captured, amount=EUR_100, idempotency_key="c")
    assert other.void(gateway_reference=captured, idempotency_key="v").decline_code == (
        "already_captured"
    )


def test_currency_outside_capabilities_is_rejected(gateway: SandboxGateway) -> None:
    assert {"EUR", "USD", "GBP", "JPY"} <= gateway.capabilities.currencies
    with pytest.raises(AdapterRejected) as caught:
        authorise(gateway, "tok_approve", money(100, "BRL"))
    assert caught.value.code == "unsupported_currency"
    with pytest.raises(NotFound):
        gateway.fetch_status("auth-1")


def test_zero_decimal_currency(gateway: SandboxGateway) -> None:
    reference = authorise(gateway, "tok_approve", money(1500, "JPY"))
    assert reference is not None
    response = gateway.capture(
        gateway_reference=reference, amount=money(1500, "JPY"), idempotency_key="c"
    )
    assert response.amount == money(1500, "JPY")


def test_capture_in_another_currency_or_unknown_reference(gateway: SandboxGateway) -> None:
    reference = approved_reference(gateway)
    with pytest.raises(AdapterRejected) as caught:
        gateway.capture(gateway_reference=reference, amount=money(1, "USD"), idempotency_key="c")
    assert caught.value.code == "currency_mismatch"
    with pytest.raises(NotFound):
        gateway.capture(gateway_reference="nope", amount=EUR_100, idempotency_key="c")


def test_non_positive_amounts_are_rejected(gateway: SandboxGateway) -> None:
    with pytest.raises(AdapterRejected) as caught:
        authorise(gateway, "tok_approve", money(0, "EUR"))
    assert caught.value.code == "invalid_amount"


# --- chargeback later, signed webhooks ---------------------------------------------------------


def test_chargeback_arrives_later_as_a_signed_webhook(clock: FixedClock) -> None:
    gateway = SandboxGateway(clock, secret=b"whsec", chargeback_after=timedelta(days=2))
    reference = approved_reference(gateway, "tok_chargeback")
    gateway.capture(gateway_reference=reference, amount=money(70, "EUR"), idempotency_key="c")
    gateway.refund(gateway_reference=reference, amount=money(20, "EUR"), idempotency_key="r")
    clock.advance(days=1)
    assert gateway.pending_webhooks() == ()
    clock.advance(days=1)
    (delivery,) = gateway.pending_webhooks()
    assert gateway.pending_webhooks() == ()  # delivered once
    (notice,) = gateway.parse_webhook(delivery.payload, delivery.headers)
    assert notice.kind is NoticeKind.CHARGED_BACK
    assert notice.gateway_reference == reference
    assert notice.amount == money(50, "EUR")
    assert notice.at == NOW + timedelta(days=2)
    assert notice.event_id == delivery.event_id
    assert gateway.payment(reference).charged_back
    refund = gateway.refund(
        gateway_reference=reference, amount=money(1, "EUR"), idempotency_key="r2"
    )
    assert refund.decline_code == "charged_back"
    # A redelivery carries the same event id, so a consumer can recognise it.
    (again,) = gateway.webhook_payloads()
    assert gateway.parse_webhook(again.payload, again.headers) == (notice,)


def test_no_chargeback_without_a_capture(gateway: SandboxGateway, clock: FixedClock) -> None:
    approved_reference(gateway, "tok_chargeback")
    clock.advance(days=30)
    assert gateway.pending_webhooks() == ()


def test_forged_or_unsigned_webhooks_are_rejected(
    gateway: SandboxGateway, clock: FixedClock
) -> None:
    reference = approved_reference(gateway, "tok_chargeback")
    gateway.capture(gateway_reference=reference, amount=EUR_100, idempotency_key="c")
    clock.advance(days=1)
    (delivery,) = gateway.pending_webhooks()
    forged = delivery.payload.replace(b"100.00", b"999.00")
    with pytest.raises(AdapterRejected) as caught:
        gateway.parse_webhook(forged, delivery.headers)
    assert caught.value.code == "bad_signature"
    with pytest.raises(AdapterRejected) as caught:
        gateway.parse_webhook(delivery.payload, {})
    assert caught.value.code == "missing_signature"
    other_secret = SandboxGateway(FixedClock(NOW), secret="another")
    with pytest.raises(AdapterRejected):
        other_secret.parse_webhook(delivery.payload, delivery.headers)
    lower = {key.lower(): value for key, value in delivery.headers.items()}
    assert gateway.parse_webhook(delivery.payload, lower)[0].amount == EUR_100


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"{}",
        json.dumps({"events": [{"id": "evt_1"}]}).encode(),
        json.dumps(
            {
                "events": [
                    {
                        "id": "e",
                        "type": "exploded",
                        "created": NOW.isoformat(),
                        "gateway_reference": "r",
                        "amount": "1.00",
                        "currency": "EUR",
                    }
                ]
            }
        ).encode(),
        json.dumps(
            {
                "events": [
                    {
                        "id": "e",
                        "type": "captured",
                        "created": NOW.isoformat(),
                        "gateway_reference": "r",
                        "amount": "1.001",
                        "currency": "EUR",
                    }
                ]
            }
        ).encode(),
    ],
)
def test_malformed_but_signed_payloads_are_rejected(
    gateway: SandboxGateway, payload: bytes
) -> None:
    with pytest.raises(AdapterRejected) as caught:
        gateway.parse_webhook(payload, gateway.sign(payload))
    assert caught.value.code == "malformed_payload"
