"""The RabbitMQ relay against a real broker: every committed event arrives, with its id, in
commit order per stream; a relay failure mid-batch leaves the rest in the outbox and a second run
delivers it without loss (a repeat only ever under the same message id)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pika
import pytest

import o2c
from o2c import codec
from o2c.adapters.rabbitmq import RabbitRelay
from o2c.domain.customers import Address, Customer
from o2c.domain.events import DomainEvent
from o2c.domain.money import money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.ports.errors import AdapterUnavailable
from o2c.ports.outbox import RelayedEvent
from o2c.services.outbox import event_stream

AT = "2026-03-02T09:00:00+00:00"


class Subscriber:
    """Another process's view: a queue bound to everything on the exchange."""

    def __init__(self, url: str, exchange: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.exchange = exchange
        self.queue = f"{exchange}.subscriber"
        self.bind()

    def bind(self) -> None:
        self.channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        self.channel.queue_declare(self.queue, auto_delete=False, exclusive=True)
        self.channel.queue_bind(self.queue, self.exchange, routing_key="#")

    def received(self) -> list[tuple[Any, Any, dict[str, Any]]]:
        """Every message waiting in the queue: method, properties and decoded body."""
        messages = []
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return messages
            messages.append((method, properties, json.loads(body)))

    def close(self) -> None:
        self.channel.exchange_delete(self.exchange)
        self.connection.close()


@pytest.fixture
def exchange() -> str:
    return f"o2c-test-{secrets.token_hex(6)}"


@pytest.fixture
def subscriber(rabbitmq_url: str, exchange: str) -> Iterator[Subscriber]:
    subscriber = Subscriber(rabbitmq_url, exchange)
    try:
        yield subscriber
    finally:
        subscriber.close()


class Journal:
    """The events the process's plugins heard, in order."""

    def __init__(self) -> None:
        self.heard: list[DomainEvent] = []

    @o2c.hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.heard.append(event)


def _config(relay: dict[str, Any]) -> dict[str, Any]:
    return {
        "adapters": {
            "clock": {"use": "fixed", "options": {"at": AT}},
            "inventory": {"use": "memory", "options": {"stock": {"DESK": 10}}},
            "relay": relay,
        },
        "plugins": {"entry_points": False},
    }


def _cycle(app: o2c.App) -> None:
    """A customer, two orders, shipped and invoiced, one paid: events on several streams."""
    s = app.services
    s.customers.register_customer(
        Customer(
            "ACME",
            "Acme",
            "EUR",
            PaymentTerms.parse("NET 30"),
            address=Address("Hafenstrasse 1", "Hamburg", "20457", "DE"),
        ),
        idempotency_key="c",
    )
    s.customers.approve_credit(
        "ACME", money("9000", "EUR"), date(2027, 3, 1), reviewer="r", reason="ok",
        idempotency_key="credit",
    )  # fmt: skip
    line = OrderLine(
        "1", "DESK", "Desk", 1, unit_price("450.00", "EUR"), TaxCategory.standard("19")
    )
    for order in ("SO-1", "SO-2"):
        s.orders.place_order(order, "ACME", [line], idempotency_key=f"place-{order}")
        s.orders.ship_order(order, [Parcel(Decimal(20))], idempotency_key=f"ship-{order}")
        s.billing.invoice_order(order, idempotency_key=f"invoice-{order}")
    receipt = Receipt(
        "BANK-1", money("535.50", "EUR"), date(2026, 3, 2), "statement/1", Payer(name="ACME"),
        remittance="INV-000001",
    )  # fmt: skip
    s.cash.import_receipts([receipt], idempotency_key="receipts")


def test_every_committed_event_reaches_the_broker_in_order_with_its_id(
    rabbitmq_url: str, exchange: str, subscriber: Subscriber
) -> None:
    journal = Journal()
    relay = {"use": "rabbitmq", "options": {"url": rabbitmq_url, "exchange": exchange}}
    app = o2c.bootstrap(_config(relay), plugins={"journal": journal})
    try:
        _cycle(app)
    finally:
        _close(app)
    assert app.services.outbox.backlog().count == 0

    messages = subscriber.received()

    assert len(journal.heard) > 10
    assert [codec.from_data(body["event"], DomainEvent) for _, _, body in messages] == (
        journal.heard
    )
    ids = [properties.message_id for _, properties, _ in messages]
    assert len(set(ids)) == len(ids)
    for method, properties, body in messages:
        assert body["event_id"] == properties.message_id
        assert method.routing_key == properties.type == body["type"]
        assert properties.delivery_mode == 2  # persistent
        assert properties.content_type == "application/json"
        assert properties.headers == {"stream": body["stream"]}
        assert body["committed_at"] == AT
        command, position = body["event_id"].rsplit("#", 1)
        assert command
        assert int(position) >= 1


class BreaksTheExchange:
    """Lets ``allowed`` events through the real relay, then deletes the exchange on the broker:
    the real relay's next publish meets a real broker error."""

    def __init__(self, relay: RabbitRelay, url: str, allowed: int) -> None:
        self.relay = relay
        self.name = relay.name
        self.url = url
        self.allowed = allowed

    def publish(self, event: RelayedEvent) -> None:
        if self.allowed == 0:
            admin = pika.BlockingConnection(pika.URLParameters(self.url))
            admin.channel().exchange_delete(self.relay.exchange)
            admin.close()
        self.allowed -= 1
        self.relay.publish(event)


def test_a_relay_failure_mid_batch_leaves_the_rest_and_a_rerun_loses_nothing(
    rabbitmq_url: str, exchange: str, subscriber: Subscriber
) -> None:
    journal = Journal()
    # The broker is unreachable while the business runs: everything waits in the outbox.
    down = {"use": "rabbitmq", "options": {"url": "amqp://guest:guest@127.0.0.1:1/%2F"}}
    app = o2c.bootstrap(_config(down), plugins={"journal": journal})
    try:
        _cycle(app)
    finally:
        _close(app)
    waiting = app.services.outbox.backlog().events
    assert waiting.count > 10
    assert "AdapterUnavailable" in _last_error(app)
    assert journal.heard == []  # nothing overtakes a waiting event, not even in the process
    with app.adapters.unit_of_work() as uow:
        committed = uow.event_outbox.waiting()

    relay = RabbitRelay(rabbitmq_url, exchange=exchange)
    breaking = BreaksTheExchange(relay, rabbitmq_url, allowed=5)
    second = o2c.bootstrap(  # a process started afresh on the same books
        _config({"use": "none"}),
        unit_of_work=app.adapters.unit_of_work,
        relay=breaking,
        plugins={"j": journal},
    )
    try:
        report = second.services.outbox.deliver(include_waiting=True)
        subscriber.bind()  # the exchange is back (the relay declares it again) and bound anew
        delivered = second.services.outbox.deliver(include_waiting=True)
    finally:
        relay.close()
    assert len(report.events_delivered) == 5
    assert len(report.failed) == 1
    assert report.waiting == waiting.count - 5  # the failed one and everything after it
    assert len(delivered.events_delivered) == waiting.count - 5
    assert second.services.outbox.backlog().count == 0

    messages = subscriber.received()
    seen: dict[str, dict[str, Any]] = {}
    for _, properties, body in messages:
        assert body["event_id"] == properties.message_id
        # A repeat carries the same id and the same event.
        assert seen.setdefault(properties.message_id, body) == body
    assert set(seen) == {m.message_id for m in committed}  # the first five were queued already
    expected_order = [m.message_id for m in committed if m.message_id in seen]
    for stream in {m.stream for m in committed}:
        of_stream = [i for i in expected_order if seen[i]["stream"] == stream]
        arrived = [i for i in dict.fromkeys(p.message_id for _, p, _ in messages) if i in of_stream]
        assert arrived == of_stream, stream
    assert journal.heard == [m.value for m in committed]
    assert all(event_stream(m.value) == m.stream for m in committed)


def _close(app: o2c.App) -> None:
    relay = app.adapters.relay
    assert isinstance(relay, RabbitRelay)
    relay.close()


def _last_error(app: o2c.App) -> str:
    with app.adapters.unit_of_work() as uow:
        return uow.event_outbox.waiting()[0].last_error


def test_an_unreachable_broker_is_a_retryable_error_naming_it() -> None:
    relay = RabbitRelay("amqp://guest:secret@127.0.0.1:1/%2F")
    event = RelayedEvent("e-1", "order:SO-1", _sample_event(), _now())
    with pytest.raises(AdapterUnavailable, match=r"127\.0\.0\.1:1") as caught:
        relay.publish(event)
    assert "secret" not in str(caught.value)


def _sample_event() -> DomainEvent:
    from o2c.domain.credit import CreditApplied  # noqa: PLC0415

    return CreditApplied("C-1", date(2026, 3, 2), requested_limit=None)


def _now() -> Any:
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime(2026, 3, 2, 9, tzinfo=UTC)
