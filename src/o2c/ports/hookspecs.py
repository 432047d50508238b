"""The pluggy hook specifications of o2c.

A plugin is any module or object with functions named like these hooks and marked with
``o2c.hookimpl``; installed packages expose theirs through the ``o2c`` entry-point group. Every
hook is prefixed ``o2c_``. Nothing outside ``o2c.plugins`` calls these hooks directly: the typed
facade there does.
"""

from __future__ import annotations

import pluggy

from o2c.domain.events import DomainEvent
from o2c.ports.registry import AdapterRegistry

__all__ = ["PROJECT", "hookimpl"]

PROJECT = "o2c"
"""The pluggy project name, the hookimpl marker name and the entry-point group."""

_hookspec = pluggy.HookspecMarker(PROJECT)

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's hook implementations: ``@o2c.hookimpl def o2c_register_adapters(...)``."""


@_hookspec
def o2c_register_adapters(registry: AdapterRegistry) -> None:
    """Contribute adapters by name.

    Called once per plugin while o2c starts (in :func:`o2c.bootstrap`), before any adapter is
    built. Call ``registry.add_carrier("my-carrier", factory)`` and the like; a name already
    taken for the same port raises ``DuplicateAdapter``. Returns nothing; every plugin is called.
    """


@_hookspec
def o2c_domain_event(event: DomainEvent) -> None:
    """React to a domain event after the command that produced it has committed.

    Called once per event, for every plugin, in the order the events were produced (an order
    placed, an invoice issued, cash applied, a dunning notice raised, …: every ``DomainEvent``).
    The command has already succeeded; an exception raised here is reported as ``PluginError``
    and does not undo it. Returns nothing.
    """


@_hookspec
def o2c_adapters_ready(names: dict[str, str]) -> None:
    """Hear which adapter serves which port, once the composition root has built them all.

    ``names`` maps each port name to the adapter name chosen for it. Called once per start.
    Returns nothing.
    """
