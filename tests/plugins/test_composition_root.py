"""The composition root: configuration and plugins in, a wired and checked application out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

import o2c
from o2c import hookimpl
from o2c.adapters.memory import FixedClock, MemoryLedger, OutboxNotifier, TableRateCarrier
from o2c.bootstrap import App
from o2c.config import Config, ConfigError
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import AccountRole
from o2c.plugins import EventDeliveryFailed
from o2c.ports.carriers import Booking, RateQuote, ShipmentRequest, TrackingEvent
from o2c.ports.errors import PluginError
from o2c.ports.registry import AdapterRegistry, DuplicateAdapter, UnknownAdapter

NOON = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)


def app(config: object = None, **kwargs: Any) -> App:
    """An application that ignores whatever plugins happen to be installed."""
    return o2c.bootstrap(config, load_entry_points=False, **kwargs)  # type: ignore[arg-type]


class StubCarrier:
    """A carrier of a test plugin: satisfies the port, ships nothing."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.name = "acme"
        self.options = dict(options)

    def quote(self, request: ShipmentRequest) -> tuple[RateQuote, ...]:
        return ()

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        raise NotImplementedError

    def track(self, tracking_number: str) -> TrackingEvent:
        raise NotImplementedError

    def cancel(self, tracking_number: str) -> None:
        return None

    def find_booking(self, shipment_id: str) -> Booking | None:
        return None


class AcmePlugin:
    def __init__(self) -> None:
        self.ready: list[dict[str, str]] = []
        self.heard: list[DomainEvent] = []

    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        registry.add_carrier("acme", StubCarrier)
        registry.add_carrier("acme-broken", self.broken)
        registry.add_carrier("acme-hollow", self.hollow)
        registry.add_carrier("acme-greedy", self.greedy)

    @hookimpl
    def o2c_adapters_ready(self, names: dict[str, str]) -> None:
        self.ready.append(names)

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.heard.append(event)

    @staticmethod
    def broken(options: Mapping[str, Any]) -> object:
        raise ConnectionError("carrier API down")

    @staticmethod
    def hollow(options: Mapping[str, Any]) -> object:
        class Hollow:
            name = "hollow"

            def quote(self, request: ShipmentRequest) -> tuple[RateQuote, ...]:
                return ()

        return Hollow()

    @staticmethod
    def greedy(options: Mapping[str, Any], *, carrier: object = None) -> object:
        return StubCarrier(options)


def test_bootstrap_with_no_arguments_gives_a_working_in_memory_app() -> None:
    built = o2c.bootstrap(load_entry_points=False)
    assert built.services is not None
    assert isinstance(built.adapters.carrier, TableRateCarrier)
    assert isinstance(built.adapters.ledger, MemoryLedger)
    assert isinstance(built.adapters.notifier, OutboxNotifier)
    assert built.chosen["clock"] == "system"
    with built.adapters.unit_of_work() as uow:
        assert len(uow.orders) == 0
    assert built.adapters.clock.now().tzinfo is not None


def test_two_apps_share_no_state() -> None:
    first, second = app(), app()
    assert first.plugins is not second.plugins
    with first.adapters.unit_of_work() as uow:
        uow.sequences.next("INV")
        uow.commit()
    with second.adapters.unit_of_work() as uow:
        assert uow.sequences.next("INV") == 1


def test_a_plugin_adapter_is_chosen_by_configuration_with_its_options() -> None:
    plugin = AcmePlugin()
    built = app(
        {"adapters": {"carrier": {"use": "acme", "options": {"account": "C-9"}}}},
        plugins={"acme": plugin},
    )
    assert isinstance(built.adapters.carrier, StubCarrier)
    assert built.adapters.carrier.options == {"account": "C-9"}
    assert plugin.ready == [dict(built.chosen)]
    assert built.chosen["carrier"] == "acme"
    assert {(i.name, len(i.adapters)) for i in built.plugins.plugins()} >= {("acme", 4)}


def test_the_clock_and_the_chart_reach_the_adapters_that_ask_for_them(tmp_path: Path) -> None:
    config = tmp_path / "o2c.toml"
    config.write_text(
        "[adapters.clock]\n"
        'use = "fixed"\n'
        "options = { at = 2024-05-02T12:00:00Z }\n"
        "[settings.ledger]\n"
        'accounts = { "1210" = "Debtors abroad" }\n'
        'roles = { receivable = "1210" }\n',
        encoding="utf-8",
    )
    built = app(config)
    assert isinstance(built.adapters.clock, FixedClock)
    assert built.adapters.clock.now() == NOON
    assert built.adapters.ledger.ledger.chart.code(AccountRole.RECEIVABLE) == "1210"  # type: ignore[attr-defined]
    assert built.adapters.carrier._clock is built.adapters.clock  # type: ignore[attr-defined]


def test_an_adapter_passed_in_replaces_the_configured_one() -> None:
    clock = FixedClock(NOON)
    built = app(clock=clock)
    assert built.adapters.clock is clock
    assert built.chosen["clock"] == "override"


def test_an_override_that_does_not_satisfy_its_port_is_refused() -> None:
    with pytest.raises(PluginError) as caught:
        app(clock=object())
    assert caught.value.plugin == "override"
    assert "now" in caught.value.message


def test_an_unknown_adapter_name_is_reported_with_the_known_ones() -> None:
    with pytest.raises(UnknownAdapter) as caught:
        app({"adapters": {"carrier": "pigeon"}})
    assert (caught.value.port, caught.value.name) == ("carrier", "pigeon")
    assert "table-rate" in caught.value.known


def test_a_raising_factory_becomes_a_plugin_error_naming_the_plugin() -> None:
    with pytest.raises(PluginError) as caught:
        app({"adapters": {"carrier": "acme-broken"}}, plugins={"acme": AcmePlugin()})
    assert caught.value.plugin == "acme"
    assert "carrier API down" in caught.value.message
    assert isinstance(caught.value.__cause__, ConnectionError)


def test_a_factory_result_that_misses_port_members_is_refused() -> None:
    with pytest.raises(PluginError) as caught:
        app({"adapters": {"carrier": "acme-hollow"}}, plugins={"acme": AcmePlugin()})
    error = caught.value
    assert error.plugin == "acme"
    assert "CarrierPort" in error.message
    assert "book" in error.message
    assert "quote" not in error.message.split("lacks")[1]


def test_a_factory_asking_for_an_adapter_built_later_is_refused() -> None:
    with pytest.raises(PluginError, match="built after"):
        app({"adapters": {"carrier": "acme-greedy"}}, plugins={"acme": AcmePlugin()})


def test_a_bad_option_of_a_builtin_adapter_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        app({"adapters": {"clock": {"use": "fixed", "options": {"at": "noon"}}}})
    assert caught.value.key == "adapters.clock.options"
    with pytest.raises(ConfigError, match="colour"):
        app({"adapters": {"inventory": {"use": "memory", "options": {"colour": "red"}}}})


def test_a_duplicate_adapter_from_a_plugin_names_both_plugins() -> None:
    class Impostor:
        @hookimpl
        def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
            registry.add_carrier("table-rate", StubCarrier)

    with pytest.raises(DuplicateAdapter) as caught:
        app(plugins={"impostor": Impostor()})
    assert {caught.value.first_plugin, caught.value.second_plugin} == {"builtin", "impostor"}


def test_publish_reaches_plugins_and_reports_failures_after_all_heard() -> None:
    @attrs.frozen
    class Pinged(DomainEvent):
        ping_id: str

    class Failing:
        @hookimpl
        def o2c_domain_event(self, event: DomainEvent) -> None:
            raise RuntimeError("cannot hear")

    listener = AcmePlugin()
    built = app(plugins={"listener": listener, "failing": Failing()})
    with pytest.raises(EventDeliveryFailed):
        built.adapters.publish((Pinged("P-1"), Pinged("P-2")))
    assert listener.heard == [Pinged("P-1"), Pinged("P-2")]

    reported: list[Sequence[PluginError]] = []
    quiet = app(plugins={"failing": Failing()}, on_event_failure=reported.append)
    quiet.adapters.publish((Pinged("P-3"),))
    assert [f.plugin for f in reported[0]] == ["failing"]


def test_a_config_object_is_used_as_given() -> None:
    config = Config()
    assert app(config).config is config
