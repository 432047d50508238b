"""A notifier that delivers into an outbox list: what a mail adapter would have sent, kept to read.

Sending is idempotent by notification id: a retried delivery of the same notification is recorded
once, and a different notification under a known id is refused. :meth:`OutboxNotifier.fail_next`
makes the next deliveries fail as an unreachable mail server would, to exercise retries.
"""

from __future__ import annotations

import threading

from o2c.ports.errors import AdapterUnavailable, DuplicateRequest
from o2c.ports.notifications import Notification

__all__ = ["OutboxNotifier"]


class OutboxNotifier:
    """Keeps every notification sent, satisfying :class:`~o2c.ports.Notifier`."""

    def __init__(self, *, name: str = "outbox"):
        self.name = name
        self._sent: dict[str, Notification] = {}
        self._by_customer: dict[str, list[Notification]] = {}
        self._failures = 0
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        """Put the notification in the outbox, once per notification id."""
        with self._lock:
            known = self._sent.get(notification.notification_id)
            if known is not None:
                if known != notification:
                    raise DuplicateRequest(
                        self.name,
                        f"notification {notification.notification_id} was sent with other content",
                        notification.notification_id,
                    )
                return
            if self._failures:
                self._failures -= 1
                raise AdapterUnavailable(self.name, "the outbox is unreachable (simulated)")
            self._sent[notification.notification_id] = notification
            self._by_customer.setdefault(notification.customer_id, []).append(notification)

    @property
    def sent(self) -> tuple[Notification, ...]:
        """Every notification delivered, in the order sent."""
        return tuple(self._sent.values())

    def for_customer(self, customer_id: str) -> tuple[Notification, ...]:
        """The notifications delivered to one customer, in the order sent."""
        return tuple(self._by_customer.get(customer_id, ()))

    def with_template(self, template: str) -> tuple[Notification, ...]:
        """The notifications of one kind (``"dunning.level_2"``), in the order sent."""
        return tuple(n for n in self._sent.values() if n.template == template)

    def fail_next(self, times: int = 1) -> None:
        """Make the next ``times`` new deliveries raise ``AdapterUnavailable``."""
        with self._lock:
            self._failures += times

    def __len__(self) -> int:
        return len(self._sent)
