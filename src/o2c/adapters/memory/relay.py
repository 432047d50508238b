"""Event relays in the process: one that publishes nowhere, and a broker kept in memory.

:class:`NoRelay` is the default: committed events reach the plugins only. :class:`MemoryRelay`
keeps what it was asked to publish, in order, with the ids a broker would carry, and can be told
to fail as an unreachable broker would, to exercise redelivery.
"""

from __future__ import annotations

import threading

from o2c.ports.errors import AdapterUnavailable
from o2c.ports.outbox import RelayedEvent

__all__ = ["MemoryRelay", "NoRelay"]


class NoRelay:
    """Publishes nothing: events stay in the process (plugins hear them)."""

    def __init__(self, *, name: str = "none") -> None:
        self.name = name

    def publish(self, event: RelayedEvent) -> None:
        """Drop the event."""


class MemoryRelay:
    """A broker in memory: keeps every event published, including repeats, in order."""

    def __init__(self, *, name: str = "memory") -> None:
        self.name = name
        self._published: list[RelayedEvent] = []
        self._failures = 0
        self._lock = threading.Lock()

    def publish(self, event: RelayedEvent) -> None:
        """Keep the event (or fail, when told to)."""
        with self._lock:
            if self._failures:
                self._failures -= 1
                raise AdapterUnavailable(self.name, "the broker is unreachable (simulated)")
            self._published.append(event)

    @property
    def published(self) -> tuple[RelayedEvent, ...]:
        """Every event published, repeats included, in the order published."""
        return tuple(self._published)

    def event_ids(self) -> tuple[str, ...]:
        """The ids of the events published, each once, in the order first published."""
        return tuple(dict.fromkeys(event.event_id for event in self._published))

    def fail_next(self, times: int = 1) -> None:
        """Make the next ``times`` publications raise ``AdapterUnavailable``."""
        with self._lock:
            self._failures += times

    def __len__(self) -> int:
        return len(self._published)
