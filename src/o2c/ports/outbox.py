"""The transactional outbox: events and notifications stored with their command, sent after it.

A command's domain events and notifications are messages to other systems (plugins, a message
broker, a mail server). They are stored in the command's unit of work, in an
:class:`OutboxRepository`, so they exist exactly when the command committed; a delivery run sends
them afterwards and removes each one once it was delivered. A process that dies after the commit
loses nothing: the next delivery run sends what is still there. Delivery is therefore *at least
once*: every message carries a stable ``message_id`` by which consumers recognise a repeat.

Messages belong to a ``stream`` (the aggregate they are about, ``"order:SO-1"``); the store lists
them in commit order, and delivery keeps that order within a stream. Everything the store keeps is
the backlog itself: delivered messages are removed, so reading the outbox never costs more than
what is waiting.

The :class:`EventRelay` port hands events on to a message broker so that other processes can
subscribe to them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable

import attrs

from o2c.domain.events import DomainEvent

__all__ = [
    "EventRelay",
    "OutboxBacklog",
    "OutboxMessage",
    "OutboxRepository",
    "RelayedEvent",
]

T = TypeVar("T")


@attrs.frozen
class OutboxMessage(Generic[T]):
    """One message waiting in an outbox: what to deliver and how its delivery went so far."""

    message_id: str
    """Stable id (an event id, a notification id): consumers drop a message they saw already."""
    stream: str
    """What the message is about (``"order:SO-1"``); delivery keeps commit order per stream."""
    value: T
    enqueued_at: datetime
    """When the command that stored it ran."""
    attempts: int = 0
    """Failed deliveries so far."""
    not_before: datetime | None = None
    """After a failure, the earliest time a delivery run tries again (the backoff)."""
    last_error: str = ""
    """Why the last delivery failed."""


@attrs.frozen
class OutboxBacklog:
    """How much waits in an outbox: the count and the oldest message."""

    count: int
    oldest_at: datetime | None = None
    """When the oldest waiting message was stored (``None`` when nothing waits)."""
    oldest_id: str | None = None
    failing: int = 0
    """How many waiting messages failed at least once."""


@runtime_checkable
class OutboxRepository(Protocol[T]):
    """Messages waiting for delivery, seen through the current unit of work.

    Contract: ``add`` stores messages in the unit of work (visible to others on commit); a
    ``message_id`` already waiting keeps its first message (adding is idempotent). ``waiting``
    lists messages in the order their units of work committed (for messages of one stream; a
    store whose concurrent commits could interleave differently must keep that true per stream).
    ``retry_later`` records a failed delivery of a message still waiting (a message removed
    meanwhile stays removed); ``delivered`` removes messages (a missing id is a no-op). Costs grow
    with what waits, never with what was ever delivered.
    """

    def add(self, *messages: OutboxMessage[T]) -> None:
        """Store messages for delivery after commit, in this order (an id already waiting keeps
        its first message)."""
        ...

    def find(self, message_id: str) -> OutboxMessage[T] | None:
        """The waiting message with this id, or ``None``."""
        ...

    def waiting(
        self, streams: Collection[str] | None = None, limit: int | None = None
    ) -> tuple[OutboxMessage[T], ...]:
        """Waiting messages in commit order: all of them, or those of ``streams``; at most
        ``limit`` (the oldest)."""
        ...

    def retry_later(self, message_id: str, not_before: datetime, error: str) -> None:
        """Record a failed delivery: one more attempt, the time to try again, the reason."""
        ...

    def delivered(self, *message_ids: str) -> None:
        """Remove delivered messages."""
        ...

    def backlog(self) -> OutboxBacklog:
        """How many messages wait and which is the oldest."""
        ...


@attrs.frozen
class RelayedEvent:
    """A committed domain event on its way to a broker."""

    event_id: str
    """Stable across redeliveries: brokers carry it as the message id."""
    stream: str
    event: DomainEvent
    committed_at: datetime

    @property
    def event_type(self) -> str:
        """The event's class name (``"OrderPlaced"``), which brokers route by."""
        return type(self.event).__name__


@runtime_checkable
class EventRelay(Protocol):
    """Publishes committed events to a message broker (RabbitMQ, Kafka, a webhook).

    Contract: ``publish`` returns only once the broker has taken the event for good (a publisher
    confirm); a failure that may pass raises ``AdapterUnavailable``, a refusal
    ``AdapterRejected``. Events of one stream are published in the order given. The same event
    may be published again after a failure; it carries the same ``event_id`` every time.
    """

    name: str

    def publish(self, event: RelayedEvent) -> None:
        """Publish one event and wait for the broker's confirmation."""
        ...
