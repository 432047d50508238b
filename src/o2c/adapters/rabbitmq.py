"""An event relay to RabbitMQ: committed domain events on a topic exchange, for other processes.

:class:`RabbitRelay` publishes each event as one persistent message on a durable topic exchange
(``o2c.events`` by default), with publisher confirms: :meth:`RabbitRelay.publish` returns once
the broker has taken the message. The message is the event as JSON::

    {"event_id": "invoice_order:inv-SO-1#1", "type": "InvoiceIssued",
     "stream": "invoice:INV-000001", "committed_at": "2026-03-02T09:00:00+00:00",
     "event": {...the event in o2c.codec's form...}}

The event id is also the AMQP ``message_id`` (a consumer drops a message id it has seen: delivery
is at least once), the event type the ``type`` property and the routing key (after an optional
prefix), so a consumer binds a queue to ``InvoiceIssued`` or ``Invoice*``-like patterns
(``#`` for everything). One connection and one channel publish in the order they are given,
which keeps each stream in commit order.

The broker is connected on first use; a broker that is down, a connection lost or a message the
broker did not confirm raises the retryable ``AdapterUnavailable`` (the event stays in the outbox
and goes with the next delivery run; the next publish connects again). Needs the ``broker``
extra: ``pip install 'o2c[broker]'``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import threading
from types import TracebackType
from typing import Any, Self

from o2c import codec
from o2c.domain.events import DomainEvent
from o2c.ports.errors import AdapterRejected, AdapterUnavailable
from o2c.ports.outbox import RelayedEvent

__all__ = ["INSTALL_HINT", "RabbitRelay", "message_body"]

INSTALL_HINT = (
    "the RabbitMQ relay needs the 'broker' extra; install it with: pip install 'o2c[broker]'"
)

if importlib.util.find_spec("pika") is None:
    raise AdapterRejected("rabbitmq", INSTALL_HINT, "missing_extra")

import pika  # type: ignore[import-untyped]  # noqa: E402
from pika import exceptions as amqp  # noqa: E402


def message_body(event: RelayedEvent) -> bytes:
    """The JSON body of an event's message (see the module doc)."""
    document = {
        "event_id": event.event_id,
        "type": event.event_type,
        "stream": event.stream,
        "committed_at": event.committed_at.isoformat(),
        "event": codec.to_data(event.event, DomainEvent),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _shown(url: str) -> str:
    """The URL without its password, as messages show it."""
    parameters = pika.URLParameters(url)
    vhost = parameters.virtual_host
    return f"amqp://{parameters.host}:{parameters.port}/{'' if vhost == '/' else vhost}"


class RabbitRelay:
    """Publishes committed events to a RabbitMQ topic exchange, satisfying
    :class:`~o2c.ports.outbox.EventRelay`."""

    def __init__(
        self,
        url: str = "amqp://guest:guest@127.0.0.1:5672/%2F",
        *,
        exchange: str = "o2c.events",
        routing_prefix: str = "",
        name: str = "rabbitmq",
    ) -> None:
        self.name = name
        try:
            self._parameters = pika.URLParameters(url)
        except Exception as error:  # pika raises several kinds for a malformed URL
            raise AdapterRejected(name, f"not an AMQP URL: {error}", "bad_url") from error
        self.where = _shown(url)
        """The broker's address without credentials, as messages show it."""
        self.exchange = exchange
        self.routing_prefix = routing_prefix
        self._connection: Any = None
        self._channel: Any = None
        self._lock = threading.Lock()

    def routing_key(self, event: RelayedEvent) -> str:
        """The routing key of an event: the prefix and the event type (``InvoiceIssued``)."""
        return f"{self.routing_prefix}{event.event_type}"

    def publish(self, event: RelayedEvent) -> None:
        """Publish one event as a persistent message and wait for the broker's confirmation."""
        properties = pika.BasicProperties(
            message_id=event.event_id,
            type=event.event_type,
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            timestamp=int(event.committed_at.timestamp()),
            headers={"stream": event.stream},
        )
        body = message_body(event)
        with self._lock:
            try:
                channel = self._open()
                channel.basic_publish(
                    self.exchange, self.routing_key(event), body, properties=properties
                )
            except (amqp.ProbableAuthenticationError, amqp.ProbableAccessDeniedError) as error:
                self._drop()
                raise AdapterRejected(
                    self.name, f"{self.where} refused the login: {error!r}", "access_refused"
                ) from error
            except amqp.NackError as error:
                raise AdapterUnavailable(
                    self.name, f"{self.where} did not take event {event.event_id!r}; try again"
                ) from error
            except (amqp.AMQPError, OSError) as error:
                # Lost, refused or closed by the broker: the next publish connects afresh.
                self._drop()
                raise AdapterUnavailable(
                    self.name,
                    f"{self.where} is unreachable or closed the channel ({error!r}); "
                    f"event {event.event_id!r} waits for the next delivery",
                ) from error

    def _open(self) -> Any:
        channel = self._channel
        if channel is not None and channel.is_open:
            return channel
        self._drop()
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        except BaseException:
            connection.close()
            raise
        self._connection, self._channel = connection, channel
        return channel

    def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            # Closing a broken connection: nothing is left to save.
            with contextlib.suppress(amqp.AMQPError, OSError):
                connection.close()

    def close(self) -> None:
        """Close the connection to the broker (the next publish opens a new one)."""
        with self._lock:
            self._drop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RabbitRelay({self.where!r}, exchange={self.exchange!r})"
