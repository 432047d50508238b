"""The outboxes as a service: how much waits for delivery, and a delivery run.

Every command stores its domain events and notifications in the outboxes of its own unit of work
and delivers them right after it commits. What could not be delivered then (a notifier or broker
down, a process that died after its commit) waits there; :meth:`OutboxService.deliver` sends it,
and :meth:`OutboxService.backlog` shows how much waits and since when. Run ``deliver`` on a
schedule (``o2c outbox deliver``) to drain what commands left behind.
"""

from __future__ import annotations

import attrs

from o2c.ports.outbox import OutboxBacklog
from o2c.services._dispatch import (
    DeliveryReport,
    OutboxRetryPolicy,
    event_id,
    event_stream,
    notification_stream,
)
from o2c.services._runtime import Runtime

__all__ = [
    "DeliveryReport",
    "OutboxRetryPolicy",
    "OutboxService",
    "OutboxStatus",
    "event_id",
    "event_stream",
    "notification_stream",
]


@attrs.frozen
class OutboxStatus:
    """The backlog of both outboxes."""

    events: OutboxBacklog
    notifications: OutboxBacklog

    @property
    def count(self) -> int:
        """How many messages wait in all."""
        return self.events.count + self.notifications.count


class OutboxService:
    """The backlog of the event and notification outboxes, and delivery runs over them."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def backlog(self) -> OutboxStatus:
        """How many events and notifications wait for delivery, and the oldest of each."""
        return self._runtime.query(
            lambda uow: OutboxStatus(uow.event_outbox.backlog(), uow.notification_outbox.backlog())
        )

    def deliver(self, *, include_waiting: bool = False, limit: int | None = None) -> DeliveryReport:
        """Deliver what waits: notifications to the notifier, events to the relay (if one is
        configured) and then to the plugins, oldest first and in commit order per stream.

        A message that fails stays, and is not tried again before its backoff has passed
        (doubling with each failure); ``include_waiting`` tries those too, now. ``limit`` caps
        how many messages of each outbox this run reads. Safe to run at any time and in several
        processes: a message may then be delivered twice, always under the same id. A plugin's
        failure on an event is raised (``EventDeliveryFailed``) after every plugin heard the
        event; that event waits (with the rest of its stream) and every plugin hears it again
        on a later run: plugins hear each event at least once and must be idempotent.
        """
        return self._runtime.deliver_outbox(include_waiting=include_waiting, limit=limit)
