"""Secrets stay secret: card numbers, webhook secrets and stale webhooks.

* no card number is echoed in an error, whoever raises it;
* the webhook secret shows in no ``repr`` (gateway, configuration, application);
* a default application accepts no webhook signed with a constant from the source;
* a webhook signed longer ago than the tolerance is refused, by the gateway's own clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from services_world import World, widget_line

import o2c
from o2c.adapters.memory import FixedClock, SandboxGateway
from o2c.adapters.memory.gateway import SIGNATURE_HEADER
from o2c.config import Config, ConfigError
from o2c.domain.redaction import mask_card_numbers
from o2c.ports.errors import AdapterRejected, PluginError
from o2c.ports.gateways import DEFAULT_WEBHOOK_TOLERANCE, WebhookSecret
from o2c.services.errors import GatewayDeclined

CARD = "4111 1111 1111 1111"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "whsec_do_not_print_me"


def _digits_shown(text: str) -> bool:
    return "411111111111" in text.replace(" ", "").replace("-", "")


# --- card numbers ---------------------------------------------------------------------------


def test_a_card_number_sent_as_a_token_is_never_echoed(world: World) -> None:
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="o")
    before = world.snapshot()
    with pytest.raises(AdapterRejected) as caught:
        world.services.cards.authorise("SO-1", CARD, idempotency_key="a")
    for shown in (str(caught.value), repr(caught.value), repr(caught.value.args)):
        assert not _digits_shown(shown)
        assert "1111" in shown
    assert world.snapshot() == before


def test_errors_carrying_outside_words_mask_card_numbers() -> None:
    declined = GatewayDeclined("P-1", "capture", "do_not_honor", f"card {CARD} declined")
    plugin = PluginError("acme", "o2c_domain_event", "ValueError: bad card 5555555555554444")
    for error in (declined, plugin):
        assert not _digits_shown(str(error))
        assert "5555555555554444" not in repr(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", "************1111"),
        ("pan 4111-1111-1111-1111.", "pan ************1111."),
        ("two 4242424242424242 and 5555555555554444", "two ************4242 and ************4444"),
        ("4111111111111112", "4111111111111112"),  # fails the Luhn check: not a card
        ("INV-000001 and order 123456", "INV-000001 and order 123456"),
        ("DE89370400440532013000", "DE89370400440532013000"),
    ],
)
def test_card_numbers_are_masked_to_their_last_four(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


# --- the webhook secret in every repr -------------------------------------------------------


def test_the_webhook_secret_shows_in_no_repr() -> None:
    config = Config.from_mapping(
        {"adapters": {"payment_gateway": {"use": "sandbox", "options": {"secret": SECRET}}}}
    )
    app = o2c.bootstrap(config, load_entry_points=False)
    gateway = app.adapters.payment_gateway
    for shown in (repr(gateway), str(gateway), repr(config), repr(app), repr(app.adapters)):
        assert SECRET not in shown
    assert repr(WebhookSecret(SECRET)) == "WebhookSecret('<redacted>')"
    # the configured secret is the one that signs
    assert isinstance(gateway, SandboxGateway)
    payload = b'{"events": []}'
    timestamp = int(app.adapters.clock.now().timestamp())
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    headers = {SIGNATURE_HEADER: f"t={timestamp},v1={mac.hexdigest()}"}
    assert gateway.parse_webhook(payload, headers) == ()


def test_a_database_password_shows_in_no_repr_of_the_configuration() -> None:
    config = Config.from_mapping(
        {"adapters": {"persistence": {"use": "sql", "options": {"url": "postgresql://a:pw9@h/x"}}}}
    )
    assert "pw9" not in repr(config)
    assert "postgresql://a:<redacted>@h/x" in repr(config)


def test_a_refused_secret_option_is_not_echoed() -> None:
    config = {"adapters": {"payment_gateway": {"use": "sandbox", "options": {"secret": 12345678}}}}
    with pytest.raises(ConfigError) as caught:
        o2c.bootstrap(config, load_entry_points=False)
    assert "12345678" not in str(caught.value)
    assert "secret" in str(caught.value)


# --- no constant secret by default ----------------------------------------------------------

OLD_CONSTANT = b"sandbox-webhook-secret"


def _signed_with(secret: bytes, payload: bytes, at: datetime) -> dict[str, str]:
    timestamp = int(at.timestamp())
    mac = hmac.new(secret, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={timestamp},v1={mac}"}


def _chargeback(reference: str, at: datetime) -> bytes:
    event = {
        "id": "evt_forged",
        "type": "charged_back",
        "created": at.isoformat(),
        "gateway_reference": reference,
        "amount": "119.00",
        "currency": "EUR",
    }
    return json.dumps({"events": [event]}).encode()


def test_a_default_application_refuses_webhooks_signed_with_a_constant() -> None:
    app = o2c.bootstrap(load_entry_points=False)
    now = app.adapters.clock.now()
    payload = _chargeback("sbx_pay_000001", now)
    for secret in (OLD_CONSTANT, b"", b"sandbox", b"secret"):
        with pytest.raises(AdapterRejected) as caught:
            app.services.cards.handle_webhook(payload, _signed_with(secret, payload, now))
        assert caught.value.code == "bad_signature"


def test_each_default_gateway_signs_with_a_secret_of_its_own() -> None:
    clock = FixedClock(NOW)
    first, second = SandboxGateway(clock), SandboxGateway(clock)
    payload = _chargeback("sbx_pay_000001", NOW)
    assert first.parse_webhook(payload, first.sign(payload))
    with pytest.raises(AdapterRejected):
        second.parse_webhook(payload, first.sign(payload))


def test_a_default_application_still_takes_its_own_gateways_webhooks(world: World) -> None:
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="o")
    world.services.cards.authorise("SO-1", "tok_pending", idempotency_key="a")
    (delivery,) = world.gateway.pending_webhooks()
    result = world.services.cards.handle_webhook(delivery.payload, delivery.headers)
    assert result.handled == (delivery.event_id,)


# --- timestamps -----------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def gateway(clock: FixedClock) -> SandboxGateway:
    return SandboxGateway(clock, secret=SECRET)


def test_the_default_tolerance_is_five_minutes(gateway: SandboxGateway) -> None:
    assert timedelta(minutes=5) == DEFAULT_WEBHOOK_TOLERANCE
    assert gateway.webhook_tolerance == DEFAULT_WEBHOOK_TOLERANCE


@pytest.mark.parametrize(
    ("signed", "accepted"),
    [
        (NOW, True),
        (NOW - timedelta(minutes=5), True),
        (NOW - timedelta(minutes=5, seconds=1), False),
        (NOW - timedelta(days=30), False),
        (NOW + timedelta(minutes=4), True),
        (NOW + timedelta(minutes=6), False),
    ],
)
def test_a_webhook_signed_outside_the_tolerance_is_refused(
    gateway: SandboxGateway, signed: datetime, accepted: bool
) -> None:
    payload = _chargeback("sbx_pay_000001", NOW)
    headers = gateway.sign(payload, at=signed)
    if accepted:
        assert len(gateway.parse_webhook(payload, headers)) == 1
        return
    with pytest.raises(AdapterRejected) as caught:
        gateway.parse_webhook(payload, headers)
    assert caught.value.code == "stale_signature"


def test_a_captured_delivery_replayed_later_is_refused_by_the_clock(
    world: World,
) -> None:
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="o")
    world.services.cards.authorise("SO-1", "tok_pending", idempotency_key="a")
    (delivery,) = world.gateway.pending_webhooks()
    world.clock.advance(minutes=6)
    before = world.snapshot()
    with pytest.raises(AdapterRejected) as caught:
        world.services.cards.handle_webhook(delivery.payload, delivery.headers)
    assert caught.value.code == "stale_signature"
    assert world.snapshot() == before
    (redelivered,) = world.gateway.webhook_payloads()  # the gateway signs a redelivery afresh
    result = world.services.cards.handle_webhook(redelivered.payload, redelivered.headers)
    assert result.handled == (delivery.event_id,)


def test_the_timestamp_is_part_of_what_is_signed(gateway: SandboxGateway) -> None:
    payload = _chargeback("sbx_pay_000001", NOW)
    old = dict(gateway.sign(payload, at=NOW - timedelta(hours=1)))
    fresh_time = str(int(NOW.timestamp()))
    moved = {SIGNATURE_HEADER: f"t={fresh_time}," + old[SIGNATURE_HEADER].split(",", 1)[1]}
    with pytest.raises(AdapterRejected) as caught:
        gateway.parse_webhook(payload, moved)
    assert caught.value.code == "bad_signature"


def test_a_rotated_secret_may_sign_alongside_the_old_one(clock: FixedClock) -> None:
    old, new = SandboxGateway(clock, secret="old"), SandboxGateway(clock, secret="new")
    payload = _chargeback("sbx_pay_000001", NOW)
    both = f"{new.sign(payload)[SIGNATURE_HEADER]},v1={'0' * 64}"
    assert new.parse_webhook(payload, {SIGNATURE_HEADER: both})
    with pytest.raises(AdapterRejected):
        old.parse_webhook(payload, {SIGNATURE_HEADER: both})


@pytest.mark.parametrize(
    "value",
    [
        "sha256=" + "0" * 64,  # the old format: no time
        "t=abc,v1=" + "0" * 64,
        "t=1,t=2,v1=" + "0" * 64,
        "t=1",
        "v1=" + "0" * 64,
        "t=1,v1=xyz",
        "",
    ],
)
def test_a_malformed_signature_header_is_refused(gateway: SandboxGateway, value: str) -> None:
    with pytest.raises(AdapterRejected) as caught:
        gateway.parse_webhook(b"{}", {SIGNATURE_HEADER: value})
    assert caught.value.code == "malformed_signature"


def test_the_tolerance_is_configurable() -> None:
    config = {
        "adapters": {
            "clock": {"use": "fixed", "options": {"at": NOW.isoformat()}},
            "payment_gateway": {
                "use": "sandbox",
                "options": {"secret": SECRET, "webhook_tolerance_seconds": 60},
            },
        }
    }
    app = o2c.bootstrap(config, load_entry_points=False)
    gateway = app.adapters.payment_gateway
    assert isinstance(gateway, SandboxGateway)
    assert gateway.webhook_tolerance == timedelta(seconds=60)
    payload = _chargeback("sbx_pay_000001", NOW)
    with pytest.raises(AdapterRejected, match="replay"):
        gateway.parse_webhook(payload, gateway.sign(payload, at=NOW - timedelta(seconds=61)))
    with pytest.raises(ConfigError, match="webhook_tolerance_seconds"):
        o2c.bootstrap(
            {
                "adapters": {
                    "payment_gateway": {
                        "use": "sandbox",
                        "options": {"webhook_tolerance_seconds": 0},
                    }
                }
            },
            load_entry_points=False,
        )
