"""Delivering the outboxes: committed events to the relay and the plugins, notices to the notifier.

The runner stores a command's events and notifications in the outboxes of its unit of work
(:meth:`Dispatcher.enqueue`); after the commit, and whenever asked, :meth:`Dispatcher.deliver`
sends what waits, oldest first, and removes each message once delivered. A message that fails
stays, with its attempt counted and a time before which it is not tried again (doubling from
:attr:`OutboxRetryPolicy.first_delay` up to :attr:`OutboxRetryPolicy.max_delay`); the rest of its
stream waits behind it, so every stream is delivered in commit order. A sink that is unreachable
(``AdapterUnavailable``) ends the run for its outbox: trying the next message would only fail too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from o2c.domain.events import DomainEvent
from o2c.ports.errors import AdapterUnavailable, PluginError
from o2c.ports.notifications import Notification
from o2c.ports.outbox import OutboxMessage, OutboxRepository, RelayedEvent
from o2c.ports.persistence import UnitOfWork
from o2c.services.context import Adapters

__all__ = [
    "DeliveryReport",
    "Dispatcher",
    "OutboxRetryPolicy",
    "event_id",
    "event_stream",
    "notification_stream",
]

_IDENTIFYING = ("_id", "_number")


def event_stream(event: DomainEvent) -> str:
    """The stream of an event: the entity it is about, named by its first id field.

    ``OrderPlaced("SO-1", ...)`` is of stream ``"order:SO-1"``, ``InvoiceIssued`` of
    ``"invoice:INV-000001"``, ``CreditApproved`` of ``"customer:C-1"``.
    """
    kind: Any = type(event)
    if attrs.has(kind):
        for field in attrs.fields(kind):
            for suffix in _IDENTIFYING:
                if field.name.endswith(suffix):
                    return f"{field.name.removesuffix(suffix)}:{getattr(event, field.name)}"
    return type(event).__name__


def notification_stream(notification: Notification) -> str:
    """The stream of a notification: the customer it goes to (``"customer:C-1"``)."""
    return f"customer:{notification.customer_id}"


def event_id(command_key: str, position: int) -> str:
    """The stable id of the ``position``-th event (from 1) of the command run under a key."""
    return f"{command_key}#{position}"


@attrs.frozen
class OutboxRetryPolicy:
    """How long a message that failed waits before a delivery run tries it again."""

    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=10)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: doubling, at most :attr:`max_delay`."""
        if attempts <= 1:
            return min(self.first_delay, self.max_delay)
        # Twenty doublings pass any sensible maximum; stop there before the numbers overflow.
        doubled: timedelta = self.first_delay * (1 << min(attempts - 1, 20))
        return min(doubled, self.max_delay)


@attrs.frozen
class DeliveryReport:
    """What one delivery run did."""

    events_delivered: tuple[str, ...] = ()
    """The ids of the events delivered, in delivery order."""
    notifications_delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    """The ids of the messages whose delivery failed in this run (they wait for a retry)."""
    waiting: int = 0
    """How many messages still wait in both outboxes after the run."""


@attrs.define
class _Run:
    """What a run decided, applied to the outbox in one unit of work at its end."""

    delivered: list[str] = attrs.field(factory=list)
    failed: list[tuple[str, datetime, str]] = attrs.field(factory=list)


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


class Dispatcher:
    """Stores a command's messages in its unit of work and delivers them after commit."""

    def __init__(self, adapters: Adapters, policy: OutboxRetryPolicy | None = None) -> None:
        self.adapters = adapters
        self.policy = policy if policy is not None else OutboxRetryPolicy()

    def enqueue(
        self,
        uow: UnitOfWork,
        command_key: str,
        at: datetime,
        events: Sequence[DomainEvent],
        notifications: Sequence[Notification],
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Store the command's events and notifications; returns the streams of each."""
        stored_events = [
            OutboxMessage(event_id(command_key, position), event_stream(event), event, at)
            for position, event in enumerate(events, start=1)
        ]
        stored_notices = [
            OutboxMessage(n.notification_id, notification_stream(n), n, at) for n in notifications
        ]
        uow.event_outbox.add(*stored_events)
        uow.notification_outbox.add(*stored_notices)
        return (
            frozenset(m.stream for m in stored_events),
            frozenset(m.stream for m in stored_notices),
        )

    def deliver(
        self,
        *,
        event_streams: Collection[str] | None = None,
        notification_streams: Collection[str] | None = None,
        include_waiting: bool = False,
        limit: int | None = None,
        count_waiting: bool = True,
    ) -> tuple[DeliveryReport, PluginError | None]:
        """Deliver what waits (of the given streams, or all); also the messages still in their
        backoff when ``include_waiting``. Returns the report (with what still waits when
        ``count_waiting``) and the first plugin failure.

        Failures of the store while recording the outcome propagate (the messages stay and are
        delivered again: at least once).
        """
        with self.adapters.unit_of_work() as uow:
            events, notices = self.waiting(uow, event_streams, notification_streams, limit)
        return self.send(
            events, notices, include_waiting=include_waiting, count_waiting=count_waiting
        )

    @staticmethod
    def waiting(
        uow: UnitOfWork,
        event_streams: Collection[str] | None = None,
        notification_streams: Collection[str] | None = None,
        limit: int | None = None,
    ) -> tuple[Sequence[OutboxMessage[DomainEvent]], Sequence[OutboxMessage[Notification]]]:
        """The waiting events and notifications (of the given streams, or all) in ``uow``."""
        events = (
            uow.event_outbox.waiting(event_streams, limit)
            if event_streams is None or event_streams
            else ()
        )
        notices = (
            uow.notification_outbox.waiting(notification_streams, limit)
            if notification_streams is None or notification_streams
            else ()
        )
        return events, notices

    def send(
        self,
        events: Sequence[OutboxMessage[DomainEvent]],
        notices: Sequence[OutboxMessage[Notification]],
        *,
        include_waiting: bool = False,
        count_waiting: bool = True,
    ) -> tuple[DeliveryReport, PluginError | None]:
        """Deliver these waiting messages and record the outcome in a unit of work of its own."""
        now = self.adapters.clock.now()
        notice_run = self._notifications(notices, now, include_waiting)
        event_run, plugin_failure = self._events(events, now, include_waiting)
        waiting = 0
        if events or notices:
            with self.adapters.unit_of_work() as uow:
                self._record(uow.event_outbox, event_run)
                self._record(uow.notification_outbox, notice_run)
                if count_waiting:
                    waiting = uow.event_outbox.backlog().count
                    waiting += uow.notification_outbox.backlog().count
                uow.commit()
        report = DeliveryReport(
            tuple(event_run.delivered),
            tuple(notice_run.delivered),
            tuple(message_id for message_id, _, _ in (*notice_run.failed, *event_run.failed)),
            waiting,
        )
        return report, plugin_failure

    @staticmethod
    def _record(outbox: OutboxRepository[Any], run: _Run) -> None:
        outbox.delivered(*run.delivered)
        for message_id, not_before, error in run.failed:
            outbox.retry_later(message_id, not_before, error)

    def _due(self, message: OutboxMessage[Any], now: datetime, include_waiting: bool) -> bool:
        return include_waiting or message.not_before is None or message.not_before <= now

    def _failed(self, run: _Run, message: OutboxMessage[Any], now: datetime, error: str) -> None:
        run.failed.append(
            (message.message_id, now + self.policy.delay(message.attempts + 1), error)
        )

    def _notifications(
        self,
        notices: Sequence[OutboxMessage[Notification]],
        now: datetime,
        include_waiting: bool,
    ) -> _Run:
        run = _Run()
        blocked: set[str] = set()
        for message in notices:
            if message.stream in blocked:
                continue
            if not self._due(message, now, include_waiting):
                blocked.add(message.stream)
                continue
            try:
                self.adapters.notifier.send(message.value)
            except Exception as error:  # any failure leaves the notice waiting, never "sent"
                blocked.add(message.stream)
                self._failed(run, message, now, _reason(error))
                if isinstance(error, AdapterUnavailable):
                    break
                continue
            run.delivered.append(message.message_id)
        return run

    def _events(
        self,
        events: Sequence[OutboxMessage[DomainEvent]],
        now: datetime,
        include_waiting: bool,
    ) -> tuple[_Run, PluginError | None]:
        run = _Run()
        relay = self.adapters.relay
        blocked: set[str] = set()
        relayed: list[OutboxMessage[DomainEvent]] = []
        for message in events:
            if message.stream in blocked:
                continue
            if not self._due(message, now, include_waiting):
                blocked.add(message.stream)
                continue
            if relay is not None:
                try:
                    relay.publish(
                        RelayedEvent(
                            message.message_id, message.stream, message.value, message.enqueued_at
                        )
                    )
                except Exception as error:  # the event waits for the next run
                    blocked.add(message.stream)
                    self._failed(run, message, now, _reason(error))
                    if isinstance(error, AdapterUnavailable):
                        break
                    continue
            relayed.append(message)
        plugin_failure: PluginError | None = None
        # Only a plugin's failure holds back the later events of a stream here: an event the
        # relay took before a later one of its stream failed goes on to the plugins, in order.
        held: set[str] = set()
        for index, message in enumerate(relayed):
            if message.stream in held:
                continue
            try:
                # One event at a time, so a plugin's failure is known per event.
                self.adapters.publish((message.value,))
            except PluginError as error:
                # A plugin that failed did not handle the event: it stays, with the rest of its
                # stream behind it, and every plugin hears it again (at least once, in order).
                held.add(message.stream)
                self._failed(run, message, now, _reason(error))
                plugin_failure = plugin_failure or error
                continue
            except Exception as error:
                # The publisher itself failed (not a plugin on this event): who heard this one
                # is unknown and the rest would fail too; all of them are delivered again.
                for rest in relayed[index:]:
                    if rest.stream not in held:
                        self._failed(run, rest, now, _reason(error))
                return run, plugin_failure
            run.delivered.append(message.message_id)
        return run, plugin_failure
