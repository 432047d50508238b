"""The adapter registry: the names under which adapters can be chosen in configuration.

Plugins fill it through the ``o2c_register_adapters`` hook; the composition root reads it to build
the adapter configured for each port. A factory receives the adapter's own configuration (a
mapping, possibly empty) and returns the adapter.

Each registration records the plugin that made it, and that name comes from the plugin manager,
never from the plugin: the hook hands every plugin a view of the registry bound to its own name,
so a plugin cannot register an adapter in another plugin's name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from o2c.domain.errors import O2CError

__all__ = ["AdapterFactory", "AdapterRegistry", "DuplicateAdapter", "PortName", "UnknownAdapter"]

AdapterFactory = Callable[[Mapping[str, Any]], Any]
"""Builds an adapter from its configuration."""


class PortName(enum.Enum):
    """The ports an adapter can serve, by the name configuration uses."""

    INVENTORY = "inventory"
    CARRIER = "carrier"
    PAYMENT_GATEWAY = "payment_gateway"
    LEDGER = "ledger"
    UNIT_OF_WORK = "unit_of_work"
    NOTIFIER = "notifier"
    CLOCK = "clock"
    RELAY = "relay"
    """Where committed events go besides the plugins: a message broker (default: nowhere)."""


@attrs.frozen
class DuplicateAdapter(O2CError):
    """Two adapters registered under one name for one port."""

    port: str
    name: str
    first_plugin: str
    second_plugin: str

    def __str__(self) -> str:
        return (
            f"{self.port} adapter {self.name!r} is registered by both {self.first_plugin!r} "
            f"and {self.second_plugin!r}"
        )


@attrs.frozen
class UnknownAdapter(O2CError):
    """Configuration names an adapter that no plugin registered."""

    port: str
    name: str
    known: tuple[str, ...]

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return f"no {self.port} adapter named {self.name!r}; registered: {known}"


@attrs.frozen
class RegisteredAdapter:
    """One registration: the factory and the plugin that contributed it."""

    port: PortName
    name: str
    factory: AdapterFactory
    plugin: str
    description: str = ""


class AdapterRegistry:
    """Adapters by port and name. Registration refuses a name taken for the same port.

    Registrations made on the registry itself (by an application, outside any plugin) are
    attributed to ``o2c``; the plugin manager gives each plugin a view bound to its name.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[PortName, str], RegisteredAdapter] = {}
        self._plugin = "o2c"

    def _bound_to(self, plugin: str) -> AdapterRegistry:
        """A view sharing these registrations whose own are attributed to ``plugin``.

        For the plugin manager only: it knows which plugin it is calling.
        """
        view = AdapterRegistry.__new__(AdapterRegistry)
        view._entries = self._entries
        view._plugin = plugin
        return view

    def _snapshot(self) -> dict[tuple[PortName, str], RegisteredAdapter]:
        return dict(self._entries)

    def _changed_since(
        self, before: Mapping[tuple[PortName, str], RegisteredAdapter]
    ) -> list[RegisteredAdapter]:
        """Registrations added or replaced since ``before`` (a :meth:`_snapshot`)."""
        return [entry for key, entry in self._entries.items() if before.get(key) is not entry]

    @property
    def plugin(self) -> str:
        """The plugin this registry (or view of it) attributes registrations to."""
        return self._plugin

    def register(
        self, port: PortName, name: str, factory: AdapterFactory, description: str = ""
    ) -> None:
        """Make ``factory`` available as adapter ``name`` for ``port``."""
        key = (port, name)
        existing = self._entries.get(key)
        if existing is not None:
            raise DuplicateAdapter(port.value, name, existing.plugin, self._plugin)
        self._entries[key] = RegisteredAdapter(port, name, factory, self._plugin, description)

    def add_inventory(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register an inventory adapter."""
        self.register(PortName.INVENTORY, name, factory, description)

    def add_carrier(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register a carrier adapter."""
        self.register(PortName.CARRIER, name, factory, description)

    def add_payment_gateway(
        self, name: str, factory: AdapterFactory, description: str = ""
    ) -> None:
        """Register a payment gateway adapter."""
        self.register(PortName.PAYMENT_GATEWAY, name, factory, description)

    def add_ledger(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register a ledger adapter."""
        self.register(PortName.LEDGER, name, factory, description)

    def add_unit_of_work(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register a persistence adapter (a unit-of-work factory)."""
        self.register(PortName.UNIT_OF_WORK, name, factory, description)

    def add_notifier(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register a notifier adapter."""
        self.register(PortName.NOTIFIER, name, factory, description)

    def add_clock(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register a clock."""
        self.register(PortName.CLOCK, name, factory, description)

    def add_relay(self, name: str, factory: AdapterFactory, description: str = "") -> None:
        """Register an event relay (a message broker that committed events are published to)."""
        self.register(PortName.RELAY, name, factory, description)

    def get(self, port: PortName, name: str) -> RegisteredAdapter:
        """The registration of adapter ``name`` for ``port``, or :class:`UnknownAdapter`."""
        entry = self._entries.get((port, name))
        if entry is None:
            raise UnknownAdapter(port.value, name, self.names(port))
        return entry

    def names(self, port: PortName) -> tuple[str, ...]:
        """The adapter names registered for ``port``, sorted."""
        return tuple(sorted(name for (p, name) in self._entries if p is port))

    def entries(self) -> tuple[RegisteredAdapter, ...]:
        """Every registration, in registration order."""
        return tuple(self._entries.values())
