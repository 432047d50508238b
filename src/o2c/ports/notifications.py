"""The notifier port: messages to customers (alerts, credit holds, dunning notices)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import attrs

__all__ = ["Notification", "Notifier"]


def _read_only(values: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(values))


@attrs.frozen
class Notification:
    """A message for a customer: a template key and the values it needs."""

    notification_id: str
    """Stable id, so a retried delivery can be recognised and sent once."""
    customer_id: str
    template: str
    """What kind of message: ``"order.line_out_of_stock"``, ``"dunning.level_2"``, …"""
    at: datetime
    data: Mapping[str, str] = attrs.field(factory=dict, converter=_read_only)


@runtime_checkable
class Notifier(Protocol):
    """Delivers notifications (by mail, a portal, a message queue).

    Contract: ``send`` is idempotent by ``notification_id``; a delivery failure that may succeed
    later raises ``AdapterUnavailable``.
    """

    name: str

    def send(self, notification: Notification) -> None:
        """Deliver one notification."""
        ...
