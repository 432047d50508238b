"""The composition root: configuration and plugins in, a wired application out.

:func:`bootstrap` is the one place where o2c is assembled. It loads the plugins (the built-in
in-memory adapters, any plugin objects passed in, the installed ``o2c`` entry points), lets them
register adapters, builds the adapter configured for each port, checks every adapter against its
port, tells the plugins which adapters were chosen, and hands the adapters and the business
settings to the application services. Nothing of this happens at import time, and nothing is
kept in module globals: every call builds an independent application.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import attrs

from o2c.config import AdapterChoice, Config, ConfigError, ConfigSource
from o2c.domain.errors import DomainError
from o2c.domain.events import DomainEvent
from o2c.plugins import Plugins
from o2c.ports.carriers import CarrierPort
from o2c.ports.clock import Clock
from o2c.ports.errors import PluginError
from o2c.ports.gateways import PaymentGatewayPort
from o2c.ports.inventory import InventoryPort
from o2c.ports.ledger import LedgerPort
from o2c.ports.notifications import Notifier
from o2c.ports.outbox import EventRelay
from o2c.ports.persistence import UnitOfWork
from o2c.ports.registry import AdapterRegistry, PortName, RegisteredAdapter
from o2c.services import Services
from o2c.services.context import Adapters, EventPublisher

__all__ = ["BUILD_ORDER", "PORT_PROTOCOLS", "App", "bootstrap", "build_adapters"]

PORT_PROTOCOLS: Mapping[PortName, type] = {
    PortName.UNIT_OF_WORK: UnitOfWork,
    PortName.INVENTORY: InventoryPort,
    PortName.CARRIER: CarrierPort,
    PortName.PAYMENT_GATEWAY: PaymentGatewayPort,
    PortName.LEDGER: LedgerPort,
    PortName.NOTIFIER: Notifier,
    PortName.CLOCK: Clock,
    PortName.RELAY: EventRelay,
}
"""The protocol each port's adapter must satisfy (for the unit of work: what its factory makes)."""


@attrs.frozen
class App:
    """A wired o2c application: the services to call and what they were built from."""

    services: Services
    adapters: Adapters
    plugins: Plugins
    config: Config
    registry: AdapterRegistry
    """Every adapter the plugins offered, whether chosen or not."""
    chosen: Mapping[str, str]
    """Port name → the name of the adapter serving it (``"override"`` for one passed in)."""

    def close(self) -> None:
        """Release what the adapters :func:`bootstrap` built hold open (a SQL store's or
        ledger's database connections), the last built first; safe to call more than once.

        Adapters passed in by keyword belong to the caller, who closes them. Use the app as a
        context manager to close it on leaving the block.
        """
        built = {
            PortName.UNIT_OF_WORK: self.adapters.unit_of_work,
            PortName.INVENTORY: self.adapters.inventory,
            PortName.CARRIER: self.adapters.carrier,
            PortName.PAYMENT_GATEWAY: self.adapters.payment_gateway,
            PortName.LEDGER: self.adapters.ledger,
            PortName.NOTIFIER: self.adapters.notifier,
            PortName.CLOCK: self.adapters.clock,
            PortName.RELAY: self.adapters.relay,
        }
        for port in reversed(BUILD_ORDER):
            if self.chosen.get(port.value) == "override":
                continue
            adapter = built[port]
            # A unit of work is made by a factory, typically a store's bound method: the
            # store is what holds the connections.
            owner = getattr(adapter, "__self__", None) if port is PortName.UNIT_OF_WORK else None
            close = getattr(owner if owner is not None else adapter, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def bootstrap(
    config: ConfigSource = None,
    *,
    plugins: Iterable[object] | Mapping[str, object] = (),
    load_entry_points: bool | None = None,
    unit_of_work: Callable[[], UnitOfWork] | None = None,
    inventory: InventoryPort | None = None,
    carrier: CarrierPort | None = None,
    payment_gateway: PaymentGatewayPort | None = None,
    ledger: LedgerPort | None = None,
    notifier: Notifier | None = None,
    clock: Clock | None = None,
    relay: EventRelay | None = None,
    on_event_failure: Callable[[Sequence[PluginError]], None] | None = None,
) -> App:
    """Build an application from configuration (a :class:`Config`, a mapping, a TOML path).

    With no arguments it is the embedded in-memory setup. ``plugins`` adds plugin objects (a
    mapping names them); ``load_entry_points`` overrides the configuration's choice of loading
    installed plugins. An adapter passed by keyword replaces the configured one for its port (it
    is still checked against the port). Plugins' failures to handle a committed event raise
    ``EventDeliveryFailed`` after every plugin heard every event, unless ``on_event_failure``
    is given: it then receives them instead. Raises ``ConfigError``, ``UnknownAdapter``,
    ``DuplicateAdapter`` or ``PluginError``, each naming the key or plugin at fault.
    """
    chosen_config = Config.coerce(config)
    selection = chosen_config.plugins
    loaded = Plugins.load(
        extra=plugins,
        entry_points=selection.entry_points if load_entry_points is None else load_entry_points,
        allow=selection.allow,
        deny=selection.deny,
    )
    registry = AdapterRegistry()
    loaded.register_adapters(registry)
    overrides: dict[PortName, object] = {
        port: adapter
        for port, adapter in (
            (PortName.UNIT_OF_WORK, unit_of_work),
            (PortName.INVENTORY, inventory),
            (PortName.CARRIER, carrier),
            (PortName.PAYMENT_GATEWAY, payment_gateway),
            (PortName.LEDGER, ledger),
            (PortName.NOTIFIER, notifier),
            (PortName.CLOCK, clock),
            (PortName.RELAY, relay),
        )
        if adapter is not None
    }
    built, names = build_adapters(registry, chosen_config, overrides)
    loaded.adapters_ready(names)
    adapters = Adapters(
        unit_of_work=built[PortName.UNIT_OF_WORK],
        inventory=built[PortName.INVENTORY],
        carrier=built[PortName.CARRIER],
        payment_gateway=built[PortName.PAYMENT_GATEWAY],
        ledger=built[PortName.LEDGER],
        notifier=built[PortName.NOTIFIER],
        clock=built[PortName.CLOCK],
        publish=loaded.publish
        if on_event_failure is None
        else _publisher(loaded, on_event_failure),
        relay=built[PortName.RELAY],
    )
    services = Services(adapters, chosen_config.settings)
    return App(services, adapters, loaded, chosen_config, registry, names)


BUILD_ORDER: tuple[PortName, ...] = (
    PortName.CLOCK,
    PortName.UNIT_OF_WORK,
    PortName.INVENTORY,
    PortName.LEDGER,
    PortName.NOTIFIER,
    PortName.PAYMENT_GATEWAY,
    PortName.CARRIER,
    PortName.RELAY,
)
"""The order ports are built in; a factory may ask for the adapter of any port built before."""


def build_adapters(
    registry: AdapterRegistry, config: Config, overrides: Mapping[PortName, object] | None = None
) -> tuple[dict[PortName, Any], dict[str, str]]:
    """Build and check the adapter of every port; returns them and the chosen names by port.

    Ports are built in :data:`BUILD_ORDER`. A factory that declares a keyword parameter named
    after a port built before its own (``clock``, say) receives that port's adapter; one named
    ``chart`` receives the configured chart of accounts. A factory's
    ``DomainError`` (an option the domain refuses) becomes a ``ConfigError`` at
    ``adapters.<port>.options``; anything else it raises, or an object that does not satisfy
    the port, becomes a ``PluginError`` naming the plugin that registered the adapter.
    """
    given = overrides or {}
    built: dict[PortName, Any] = {}
    names: dict[str, str] = {}
    for port in BUILD_ORDER:
        if port in given:
            adapter = given[port]
            _verify(port, adapter, plugin="override", adapter_name=_label(adapter))
            built[port], names[port.value] = adapter, "override"
            continue
        choice = config.adapter(port)
        entry = registry.get(port, choice.name)
        adapter = _make(port, choice, entry, built, config)
        _verify(port, adapter, plugin=entry.plugin, adapter_name=choice.name)
        built[port], names[port.value] = adapter, choice.name
    return built, {port.value: names[port.value] for port in PortName}


_PORTS_BY_NAME = {port.value: port for port in PortName}


def _dependencies(
    port: PortName,
    choice: AdapterChoice,
    entry: RegisteredAdapter,
    built: Mapping[PortName, Any],
    config: Config,
) -> dict[str, Any]:
    """The adapters a factory asks for by naming a port as a keyword parameter."""
    factory, plugin = entry.factory, entry.plugin
    try:
        parameters = list(inspect.signature(factory).parameters.values())[1:]
    except (TypeError, ValueError):  # a builtin or C callable: nothing to inject
        return {}
    wanted: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind not in _KEYWORD_KINDS:
            continue
        if parameter.name == "chart":
            wanted["chart"] = config.settings.chart
            continue
        needed = _PORTS_BY_NAME.get(parameter.name)
        if needed is None:
            continue
        if needed not in built:
            raise PluginError(
                plugin,
                f"{port.value} adapter {choice.name!r}",
                f"its factory asks for the {needed.value} adapter, which is built after it",
            )
        wanted[parameter.name] = built[needed]
    return wanted


_KEYWORD_KINDS = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _make(
    port: PortName,
    choice: AdapterChoice,
    entry: RegisteredAdapter,
    built: Mapping[PortName, Any],
    config: Config,
) -> object:
    factory, plugin = entry.factory, entry.plugin
    injected = _dependencies(port, choice, entry, built, config)
    try:
        return factory(choice.options, **injected)
    except ConfigError:
        raise
    except PluginError as error:
        if error.plugin == plugin:
            raise
        # Only the registry knows whose factory this is; a claim otherwise is kept as words.
        raise PluginError(
            plugin,
            f"{port.value} adapter {choice.name!r}",
            f"its factory raised a PluginError in the name of plugin {error.plugin!r}: "
            f"{error.message}",
        ) from error
    except DomainError as error:
        raise ConfigError(
            f"adapters.{port.value}.options",
            f"{error.describe()} ({port.value} adapter {choice.name!r} of plugin {plugin!r})",
        ) from error
    except Exception as error:
        raise PluginError(
            plugin,
            f"{port.value} adapter {choice.name!r}",
            f"its factory raised {type(error).__name__}: {error}",
        ) from error


def _verify(port: PortName, adapter: object, *, plugin: str, adapter_name: str) -> None:
    """Refuse an adapter that does not satisfy its port, naming what it lacks."""
    protocol = PORT_PROTOCOLS[port]
    where = f"{port.value} adapter {adapter_name!r}"
    if port is PortName.UNIT_OF_WORK:
        if not callable(adapter):
            raise PluginError(plugin, where, "must be a callable that makes units of work")
        try:
            # One unit of work is made (never entered) to check the factory's product.
            sample = adapter()
        except Exception as error:
            raise PluginError(
                plugin, where, f"making a unit of work raised {type(error).__name__}: {error}"
            ) from error
        adapter = sample
    if isinstance(adapter, protocol):
        return
    missing = [member for member in _members(protocol) if not hasattr(adapter, member)]
    lacking = f"; it lacks {', '.join(missing)}" if missing else ""
    raise PluginError(
        plugin,
        where,
        f"{type(adapter).__name__} does not satisfy {protocol.__name__}{lacking}",
    )


_DUNDER_MEMBERS = frozenset({"__enter__", "__exit__", "__len__"})


def _members(protocol: type) -> list[str]:
    """The attributes and methods a protocol requires, for a readable refusal."""
    members: dict[str, None] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or klass.__module__ == "typing":
            continue
        names = [*getattr(klass, "__annotations__", {}), *vars(klass)]
        for name in names:
            if not name.startswith("_") or name in _DUNDER_MEMBERS:
                members[name] = None
    return list(members)


def _publisher(
    plugins: Plugins, on_failure: Callable[[Sequence[PluginError]], None] | None
) -> EventPublisher:
    if on_failure is None:
        return plugins.publish

    def publish(events: Sequence[DomainEvent]) -> None:
        failures = plugins.deliver(events)
        if failures:
            on_failure(failures)

    return publish


def _label(adapter: object) -> str:
    name = getattr(adapter, "name", None)
    return name if isinstance(name, str) else type(adapter).__name__
