"""The payment gateway contract: what every :class:`~o2c.ports.gateways.PaymentGatewayPort` does.

Subclass :class:`PaymentGatewayContract`, override ``make_gateway`` (a fresh gateway per call, in
test mode), ``gateway_tokens`` (a payment token the gateway approves and one it declines, like
the test cards of real gateways) and ``make_webhook`` (a delivery of one notice, signed as your
gateway signs, a given time ago). The gateway's own ``capabilities`` decide which tests run:
partial captures, several captures per authorisation, refunds, partial refunds, voids, signed
webhooks, and the currencies it takes.

Whatever the capabilities, every gateway must refuse webhook input that is not what a web
framework hands over (a ``str`` body, headers that are no mapping, a non-ASCII or missing
signature) with ``AdapterRejected``, never another exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from itertools import count

import attrs
import pytest
from hypothesis import strategies as st

from o2c.domain.money import Money, from_minor, to_minor
from o2c.ports.errors import AdapterRejected, DuplicateRequest, NotFound
from o2c.ports.gateways import (
    DEFAULT_WEBHOOK_TOLERANCE,
    GatewayCapabilities,
    GatewayNotice,
    GatewayResponse,
    PaymentGatewayPort,
    ResponseStatus,
)
from o2c.testing import strategies
from o2c.testing._kit import Contract, override_me, requires, run_property

__all__ = ["GatewayFactory", "GatewayTokens", "PaymentGatewayContract", "WebhookFactory"]

GatewayFactory = Callable[[], PaymentGatewayPort]
"""Builds a fresh gateway (a new sandbox account, say)."""

WebhookFactory = Callable[[PaymentGatewayPort, timedelta], tuple[bytes, Mapping[str, str]]]
"""``(gateway, age) -> (payload, headers)``: a delivery of at least one notice, signed as the
gateway under test verifies, ``age`` before the gateway's clock's now (a negative age: ahead)."""

APPROVED, DECLINED = ResponseStatus.APPROVED, ResponseStatus.DECLINED


@attrs.frozen
class GatewayTokens:
    """Payment tokens the gateway under test answers at once: one approved in full, one declined."""

    approve: str
    decline: str


class PaymentGatewayContract(Contract):
    """Idempotent calls, declines as answers, and never more money moved than allowed.

    Fixtures to override: ``make_gateway``, ``gateway_tokens`` and, unless the gateway declares
    ``webhooks=False``, ``make_webhook``; ``webhook_tolerance`` if your gateway accepts deliveries
    for longer or shorter than :data:`~o2c.ports.gateways.DEFAULT_WEBHOOK_TOLERANCE`. The
    ``capabilities`` fixture reads the gateway's declared :class:`GatewayCapabilities`.
    """

    @pytest.fixture
    def make_gateway(self) -> GatewayFactory:
        """Override: return a callable that builds a fresh gateway."""
        override_me("make_gateway", "payment gateway", "lambda: MyGateway(api_key=...)")

    @pytest.fixture
    def gateway_tokens(self) -> GatewayTokens:
        """Override: tokens your gateway approves and declines (its test cards)."""
        override_me("gateway_tokens", "payment gateway", 'GatewayTokens("tok_ok", "tok_no")')

    @pytest.fixture
    def make_webhook(self) -> WebhookFactory:
        """Override: sign a delivery of one notice ``age`` before the gateway's clock's now."""
        override_me(
            "make_webhook",
            "payment gateway",
            "lambda gateway, age: (payload, gateway_sign(payload, at=now - age))",
        )

    @pytest.fixture
    def webhook_tolerance(self) -> timedelta:
        """How old a signed delivery the gateway still accepts; override if not the default."""
        return DEFAULT_WEBHOOK_TOLERANCE

    @pytest.fixture
    def capabilities(self, make_gateway: GatewayFactory) -> GatewayCapabilities:
        """What the gateway declares it can do."""
        return make_gateway().capabilities

    @pytest.fixture
    def gateway(self, make_gateway: GatewayFactory) -> PaymentGatewayPort:
        return make_gateway()

    @pytest.fixture
    def currency(self, capabilities: GatewayCapabilities) -> str:
        """The currency most tests pay in: EUR if the gateway takes it."""
        taken = capabilities.currencies
        return "EUR" if "EUR" in taken else sorted(taken)[0]

    @pytest.fixture
    def keys(self) -> Callable[[], str]:
        """Fresh idempotency keys."""
        numbers = count(1)
        return lambda: f"contract-key-{next(numbers)}"

    def authorised(
        self, gateway: PaymentGatewayPort, tokens: GatewayTokens, amount: Money, key: str
    ) -> GatewayResponse:
        """An approved authorisation of ``amount`` (failing the test otherwise)."""
        response = gateway.authorise(
            payment_id=f"PAY-{key}",
            amount=amount,
            payment_token=tokens.approve,
            idempotency_key=key,
        )
        assert response.status is APPROVED, f"the approving token was not approved: {response}"
        assert response.gateway_reference, "an approved authorisation needs a gateway reference"
        return response

    def captured(
        self, gateway: PaymentGatewayPort, tokens: GatewayTokens, amount: Money, key: str
    ) -> str:
        """The gateway reference of an authorisation of ``amount`` captured in full."""
        reference = self.authorised(gateway, tokens, amount, f"{key}-auth").gateway_reference
        assert reference is not None
        capture = gateway.capture(
            gateway_reference=reference, amount=amount, idempotency_key=f"{key}-capture"
        )
        assert capture.status is APPROVED, capture
        return reference

    # --- authorisation ------------------------------------------------------------------------

    def test_an_approving_token_authorises_the_amount(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        response = self.authorised(gateway, gateway_tokens, amount, "K-1")
        assert response.amount == amount
        assert response.idempotency_key == "K-1"

    def test_a_decline_is_an_answer_not_an_exception(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        response = gateway.authorise(
            payment_id="PAY-1",
            amount=from_minor(10_000, currency),
            payment_token=gateway_tokens.decline,
            idempotency_key="K-1",
        )
        assert response.status is DECLINED
        assert response.decline_code

    def test_the_same_key_returns_the_first_response(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        first = self.authorised(gateway, gateway_tokens, amount, "K-1")
        again = gateway.authorise(
            payment_id="PAY-K-1",
            amount=amount,
            payment_token=gateway_tokens.approve,
            idempotency_key="K-1",
        )
        assert again == first

    def test_the_same_key_for_another_request_is_refused(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        self.authorised(gateway, gateway_tokens, from_minor(10_000, currency), "K-1")
        with pytest.raises(DuplicateRequest):
            gateway.authorise(
                payment_id="PAY-K-1",
                amount=from_minor(20_000, currency),
                payment_token=gateway_tokens.approve,
                idempotency_key="K-1",
            )

    def test_fetch_status_gives_the_outcome_of_a_call(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        response = self.authorised(gateway, gateway_tokens, amount, "K-1")
        assert gateway.fetch_status("K-1") == response
        assert response.gateway_reference is not None
        capture = gateway.capture(
            gateway_reference=response.gateway_reference, amount=amount, idempotency_key="K-2"
        )
        assert gateway.fetch_status("K-2") == capture

    def test_fetch_status_tells_a_decline_and_a_call_that_never_arrived(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        """The status lookup a janitor relies on: a declined call reads as declined, and a key
        the gateway never saw is ``NotFound`` (the call never left: nothing to undo)."""
        declined = gateway.authorise(
            payment_id="PAY-1",
            amount=from_minor(10_000, currency),
            payment_token=gateway_tokens.decline,
            idempotency_key="K-1",
        )
        assert gateway.fetch_status("K-1") == declined
        with pytest.raises(NotFound):
            gateway.fetch_status("K-NEVER-SENT")

    @requires("refunds")
    def test_fetch_status_gives_the_outcome_of_a_refund(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        reference = self.captured(gateway, gateway_tokens, amount, "K")
        refund = gateway.refund(gateway_reference=reference, amount=amount, idempotency_key="K-3")
        assert refund.status is APPROVED
        assert gateway.fetch_status("K-3") == refund

    # --- currencies ---------------------------------------------------------------------------

    def test_a_currency_it_does_not_take_is_rejected(
        self,
        gateway: PaymentGatewayPort,
        gateway_tokens: GatewayTokens,
        capabilities: GatewayCapabilities,
    ) -> None:
        candidates = (
            *strategies.COMMON_CURRENCIES,
            "SEK",
            "NOK",
            "BRL",
            *strategies.ALL_CURRENCIES,
        )
        foreign = next(c for c in candidates if c not in capabilities.currencies)
        with pytest.raises(AdapterRejected):
            gateway.authorise(
                payment_id="PAY-1",
                amount=from_minor(10_000, foreign),
                payment_token=gateway_tokens.approve,
                idempotency_key="K-1",
            )

    def test_every_declared_currency_is_taken_to_its_minor_unit(
        self,
        gateway: PaymentGatewayPort,
        gateway_tokens: GatewayTokens,
        capabilities: GatewayCapabilities,
    ) -> None:
        for code in sorted(capabilities.currencies):
            amount = from_minor(12_345, code)  # 123.45 EUR, 12345 JPY, 12.345 KWD
            response = self.authorised(gateway, gateway_tokens, amount, f"K-{code}")
            assert response.amount == amount
            assert response.gateway_reference is not None
            capture = gateway.capture(
                gateway_reference=response.gateway_reference,
                amount=amount,
                idempotency_key=f"K-{code}-capture",
            )
            assert (capture.status, capture.amount) == (APPROVED, amount)

    # --- capture ------------------------------------------------------------------------------

    def test_capture_beyond_the_authorisation_is_declined(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        reference = self.authorised(gateway, gateway_tokens, amount, "K-1").gateway_reference
        assert reference is not None
        over = gateway.capture(
            gateway_reference=reference, amount=from_minor(10_001, currency), idempotency_key="K-2"
        )
        assert over.status is DECLINED
        assert over.decline_code
        whole = gateway.capture(gateway_reference=reference, amount=amount, idempotency_key="K-3")
        assert whole.status is APPROVED

    def test_capturing_again_with_the_key_captures_once(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        reference = self.authorised(gateway, gateway_tokens, amount, "K-1").gateway_reference
        assert reference is not None
        first = gateway.capture(gateway_reference=reference, amount=amount, idempotency_key="K-2")
        again = gateway.capture(gateway_reference=reference, amount=amount, idempotency_key="K-2")
        assert first.status is APPROVED
        assert again == first
        more = gateway.capture(
            gateway_reference=reference, amount=from_minor(1, currency), idempotency_key="K-3"
        )
        assert more.status is DECLINED

    @requires("partial_capture", "multiple_captures")
    def test_partial_captures_add_up_to_the_authorisation_at_most(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount, part = from_minor(10_000, currency), from_minor(4_000, currency)
        reference = self.authorised(gateway, gateway_tokens, amount, "K-1").gateway_reference
        assert reference is not None
        first = gateway.capture(gateway_reference=reference, amount=part, idempotency_key="K-2")
        assert gateway.capture(gateway_reference=reference, amount=part, idempotency_key="K-2") == (
            first
        )
        second = gateway.capture(gateway_reference=reference, amount=part, idempotency_key="K-3")
        assert (first.status, second.status) == (APPROVED, APPROVED)
        rest = from_minor(2_000, currency)
        too_much = gateway.capture(
            gateway_reference=reference,
            amount=rest + from_minor(1, currency),
            idempotency_key="K-4",
        )
        assert too_much.status is DECLINED
        last = gateway.capture(gateway_reference=reference, amount=rest, idempotency_key="K-5")
        assert last.status is APPROVED

    @requires("partial_capture")
    def test_a_partial_capture_takes_part_of_the_authorisation(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        reference = self.authorised(
            gateway, gateway_tokens, from_minor(10_000, currency), "K-1"
        ).gateway_reference
        assert reference is not None
        part = from_minor(2_500, currency)
        response = gateway.capture(gateway_reference=reference, amount=part, idempotency_key="K-2")
        assert (response.status, response.amount) == (APPROVED, part)

    @requires("voids")
    def test_a_voided_authorisation_cannot_be_captured(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        reference = self.authorised(gateway, gateway_tokens, amount, "K-1").gateway_reference
        assert reference is not None
        voided = gateway.void(gateway_reference=reference, idempotency_key="K-2")
        assert voided.status is APPROVED
        assert gateway.void(gateway_reference=reference, idempotency_key="K-2") == voided
        capture = gateway.capture(gateway_reference=reference, amount=amount, idempotency_key="K-3")
        assert capture.status is DECLINED

    # --- refunds ------------------------------------------------------------------------------

    @requires("refunds")
    def test_refunds_never_exceed_the_capture(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        reference = self.captured(gateway, gateway_tokens, amount, "K-1")
        over = gateway.refund(
            gateway_reference=reference, amount=from_minor(10_001, currency), idempotency_key="R-1"
        )
        assert over.status is DECLINED
        assert over.decline_code
        whole = gateway.refund(gateway_reference=reference, amount=amount, idempotency_key="R-2")
        assert whole.status is APPROVED
        assert gateway.refund(
            gateway_reference=reference, amount=amount, idempotency_key="R-2"
        ) == (whole)
        more = gateway.refund(
            gateway_reference=reference, amount=from_minor(1, currency), idempotency_key="R-3"
        )
        assert more.status is DECLINED

    @requires("refunds")
    def test_an_uncaptured_authorisation_refunds_nothing(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        amount = from_minor(10_000, currency)
        reference = self.authorised(gateway, gateway_tokens, amount, "K-1").gateway_reference
        assert reference is not None
        refund = gateway.refund(gateway_reference=reference, amount=amount, idempotency_key="R-1")
        assert refund.status is DECLINED

    @requires("refunds", "partial_refunds")
    def test_partial_refunds_are_idempotent_and_add_up_to_the_capture(
        self, gateway: PaymentGatewayPort, gateway_tokens: GatewayTokens, currency: str
    ) -> None:
        reference = self.captured(gateway, gateway_tokens, from_minor(9_000, currency), "K-1")
        third = from_minor(3_000, currency)
        first = gateway.refund(gateway_reference=reference, amount=third, idempotency_key="R-1")
        again = gateway.refund(gateway_reference=reference, amount=third, idempotency_key="R-1")
        assert (first.status, again) == (APPROVED, first)
        rest = from_minor(6_000, currency)
        assert (
            gateway.refund(gateway_reference=reference, amount=rest, idempotency_key="R-2").status
            is APPROVED
        )
        one = from_minor(1, currency)
        last = gateway.refund(gateway_reference=reference, amount=one, idempotency_key="R-3")
        assert last.status is DECLINED

    # --- webhooks -----------------------------------------------------------------------------

    @requires("webhooks")
    def test_a_freshly_signed_webhook_is_read(
        self, gateway: PaymentGatewayPort, make_webhook: WebhookFactory
    ) -> None:
        payload, headers = make_webhook(gateway, timedelta(0))
        notices = gateway.parse_webhook(payload, headers)
        assert notices, "a signed delivery of a notice must be read"
        assert all(isinstance(notice, GatewayNotice) for notice in notices)
        assert all(notice.event_id for notice in notices), "every notice needs its event id"

    @requires("webhooks")
    def test_a_tampered_webhook_is_rejected(
        self, gateway: PaymentGatewayPort, make_webhook: WebhookFactory
    ) -> None:
        payload, headers = make_webhook(gateway, timedelta(0))
        with pytest.raises(AdapterRejected):
            gateway.parse_webhook(payload + b" ", headers)

    @requires("webhooks")
    def test_a_webhook_signed_before_the_tolerance_is_rejected(
        self,
        gateway: PaymentGatewayPort,
        make_webhook: WebhookFactory,
        webhook_tolerance: timedelta,
    ) -> None:
        payload, headers = make_webhook(gateway, webhook_tolerance + timedelta(minutes=1))
        with pytest.raises(AdapterRejected):
            gateway.parse_webhook(payload, headers)
        inside = webhook_tolerance - timedelta(seconds=30)
        payload, headers = make_webhook(gateway, max(inside, timedelta(0)))
        assert gateway.parse_webhook(payload, headers)

    @requires("webhooks")
    def test_a_webhook_body_given_as_text_is_rejected(
        self, gateway: PaymentGatewayPort, make_webhook: WebhookFactory
    ) -> None:
        payload, headers = make_webhook(gateway, timedelta(0))
        text: object = payload.decode("utf-8", "replace")
        with pytest.raises(AdapterRejected):
            gateway.parse_webhook(text, headers)  # type: ignore[arg-type]

    @requires("webhooks")
    def test_a_non_ascii_signature_is_rejected(
        self, gateway: PaymentGatewayPort, make_webhook: WebhookFactory
    ) -> None:
        payload, headers = make_webhook(gateway, timedelta(0))
        forged = {name: f"{value}\u00e9" for name, value in headers.items()}
        with pytest.raises(AdapterRejected):
            gateway.parse_webhook(payload, forged)

    @pytest.mark.parametrize(
        ("payload", "headers"),
        [
            (b'{"events": []}', {}),
            ('{"events": []}', {}),
            (b'{"events": []}', None),
            (b'{"events": []}', {"Signature": "\u00e9" * 64}),
            (None, {}),
        ],
    )
    def test_webhook_input_no_web_framework_sends_is_rejected(
        self, gateway: PaymentGatewayPort, payload: object, headers: object
    ) -> None:
        """Unsigned, mistyped or non-ASCII input: ``AdapterRejected``, never another exception."""
        with pytest.raises(AdapterRejected):
            gateway.parse_webhook(payload, headers)  # type: ignore[arg-type]

    # --- property -----------------------------------------------------------------------------

    def test_money_moved_never_exceeds_what_is_allowed(
        self,
        make_gateway: GatewayFactory,
        gateway_tokens: GatewayTokens,
        capabilities: GatewayCapabilities,
    ) -> None:
        """Any mix of captures and refunds, keys replayed and reused: approved captures never
        exceed the authorisation, approved refunds never exceed the captures, a replayed key
        answers as before and a reused one is refused."""
        currency = "EUR" if "EUR" in capabilities.currencies else sorted(capabilities.currencies)[0]
        call = st.tuples(
            st.sampled_from(("capture", "refund") if capabilities.refunds else ("capture",)),
            st.integers(1, 12_000),
            st.integers(0, 7),  # the idempotency key
        )

        def check(calls: Sequence[tuple[str, int, int]]) -> None:
            gateway = make_gateway()
            limit = 10_000
            reference = self.authorised(
                gateway, gateway_tokens, from_minor(limit, currency), "auth"
            ).gateway_reference
            assert reference is not None
            answers: dict[str, tuple[tuple[str, int], GatewayResponse]] = {}
            captured = refunded = 0
            for operation, units, key_number in calls:
                key, request = f"key-{key_number}", (operation, units)
                amount = from_minor(units, currency)
                method = gateway.capture if operation == "capture" else gateway.refund
                known = answers.get(key)
                if known is not None and known[0] != request:
                    with pytest.raises(DuplicateRequest):
                        method(gateway_reference=reference, amount=amount, idempotency_key=key)
                    continue
                try:
                    response = method(
                        gateway_reference=reference, amount=amount, idempotency_key=key
                    )
                except AdapterRejected:
                    continue  # a partial capture or refund the gateway does not offer
                if known is not None:
                    assert response == known[1], "a replayed key must answer as the first time"
                    continue
                answers[key] = (request, response)
                if response.status is APPROVED:
                    assert response.amount is not None
                    moved = to_minor(response.amount)
                    if operation == "capture":
                        captured += moved
                    else:
                        refunded += moved
                assert captured <= limit
                assert refunded <= captured

        run_property(st.lists(call, max_size=12), check)
