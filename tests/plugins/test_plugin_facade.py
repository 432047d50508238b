"""The typed facade over pluggy: loading, checking, attributing and isolating plugins."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from o2c import hookimpl
from o2c.domain.events import DomainEvent
from o2c.plugins import BUILTIN, EventDeliveryFailed, Plugins
from o2c.ports.errors import PluginError
from o2c.ports.registry import AdapterRegistry, DuplicateAdapter, PortName


@attrs.frozen
class SomethingHappened(DomainEvent):
    thing_id: str


def _factory(options: Mapping[str, Any]) -> object:
    return object()


class CarrierPlugin:
    """Contributes one carrier adapter under a configurable name."""

    def __init__(self, adapter_name: str = "acme") -> None:
        self.adapter_name = adapter_name

    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        registry.add_carrier(self.adapter_name, _factory, "a test carrier")


class Listener:
    def __init__(self) -> None:
        self.heard: list[DomainEvent] = []
        self.ready: list[dict[str, str]] = []

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.heard.append(event)

    @hookimpl
    def o2c_adapters_ready(self, names: dict[str, str]) -> None:
        self.ready.append(names)


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        raise self.error

    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        raise self.error


def loaded(**plugins: object) -> Plugins:
    return Plugins.load(builtin=False, extra=plugins, entry_points=False)


# --- registration and attribution -----------------------------------------------------------------


def test_an_in_process_plugin_contributes_an_adapter_attributed_to_it() -> None:
    plugins = loaded(acme=CarrierPlugin())
    registry = AdapterRegistry()
    plugins.register_adapters(registry)
    entry = registry.get(PortName.CARRIER, "acme")
    assert entry.plugin == "acme"
    assert entry.description == "a test carrier"


def test_the_builtin_plugin_registers_the_in_memory_adapters() -> None:
    plugins = Plugins.load(entry_points=False)
    registry = AdapterRegistry()
    plugins.register_adapters(registry)
    assert registry.names(PortName.CLOCK) == ("fixed", "system")
    assert registry.names(PortName.CARRIER) == ("table-rate",)
    assert registry.names(PortName.PAYMENT_GATEWAY) == ("sandbox",)
    assert registry.names(PortName.INVENTORY) == ("memory",)
    assert {e.plugin for e in registry.entries()} == {BUILTIN}


def test_a_duplicate_adapter_name_names_both_plugins() -> None:
    plugins = loaded(first=CarrierPlugin("acme"), second=CarrierPlugin("acme"))
    with pytest.raises(DuplicateAdapter) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert {caught.value.first_plugin, caught.value.second_plugin} == {"first", "second"}
    assert caught.value.port == "carrier"


def test_plugins_lists_each_plugin_with_its_adapters_and_distribution() -> None:
    plugins = Plugins.load(extra={"acme": CarrierPlugin()}, entry_points=False)
    plugins.register_adapters(AdapterRegistry())
    listing = {info.name: info for info in plugins.plugins()}
    assert listing["acme"].origin == "in process"
    assert [(a.port, a.name) for a in listing["acme"].adapters] == [(PortName.CARRIER, "acme")]
    assert listing[BUILTIN].distribution == "o2c"
    assert (PortName.CLOCK, "fixed") in {(a.port, a.name) for a in listing[BUILTIN].adapters}


def test_a_plugin_name_cannot_be_used_twice() -> None:
    plugins = loaded(acme=CarrierPlugin())
    with pytest.raises(PluginError, match="already loaded") as caught:
        plugins.register(CarrierPlugin(), name="acme")
    assert caught.value.plugin == "acme"


# --- checks at start-up ---------------------------------------------------------------------------


class Misspelled:
    @hookimpl
    def o2c_register_adapter(self, registry: AdapterRegistry) -> None:  # missing "s"
        raise AssertionError("never called")


def test_a_misspelled_hookimpl_fails_at_start_up_with_a_hint() -> None:
    with pytest.raises(PluginError) as caught:
        loaded(typo=Misspelled())
    error = caught.value
    assert (error.plugin, error.hook) == ("typo", "o2c_register_adapter")
    assert "did you mean 'o2c_register_adapters'" in str(error)


class WrongArgument:
    @hookimpl
    def o2c_domain_event(self, evt: DomainEvent) -> None:
        raise AssertionError("never called")


def test_a_hookimpl_with_unknown_arguments_is_refused_when_registered() -> None:
    with pytest.raises(PluginError) as caught:
        loaded(wrong=WrongArgument())
    assert caught.value.plugin == "wrong"
    assert "evt" in caught.value.message


# --- misbehaving plugins ------------------------------------------------------------------------


def test_a_raising_registration_becomes_a_plugin_error_naming_the_plugin() -> None:
    original = RuntimeError("boom")
    plugins = loaded(good=CarrierPlugin(), bad=Failing(original))
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert (caught.value.plugin, caught.value.hook) == ("bad", "o2c_register_adapters")
    assert "RuntimeError: boom" in caught.value.message
    assert caught.value.__cause__ is original


def test_a_plugin_error_a_plugin_raises_about_itself_passes_unchanged() -> None:
    own = PluginError("bad", "o2c_register_adapters", "already explained")
    plugins = loaded(bad=Failing(own))
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert caught.value is own


def test_every_plugin_hears_an_event_even_when_one_fails() -> None:
    before, after = Listener(), Listener()
    plugins = loaded(before=before, bad=Failing(ValueError("nope")), after=after)
    event = SomethingHappened("T-1")
    failures = plugins.domain_event(event)
    assert before.heard == [event]
    assert after.heard == [event]
    assert [(f.plugin, f.hook) for f in failures] == [("bad", "o2c_domain_event")]
    assert isinstance(failures[0].__cause__, ValueError)


def test_publish_delivers_every_event_in_order_then_reports_all_failures() -> None:
    listener = Listener()
    plugins = loaded(
        listener=listener, bad=Failing(ValueError("nope")), worse=Failing(KeyError("x"))
    )
    events = (SomethingHappened("T-1"), SomethingHappened("T-2"))
    with pytest.raises(EventDeliveryFailed) as caught:
        plugins.publish(events)
    assert listener.heard == list(events)
    failed = caught.value
    assert len(failed.failures) == 4  # two plugins, two events
    assert set(failed.plugin.split(", ")) == {"bad", "worse"}
    assert isinstance(failed, PluginError)


def test_publish_without_failures_raises_nothing() -> None:
    listener = Listener()
    plugins = loaded(listener=listener)
    plugins.publish((SomethingHappened("T-1"),))
    assert plugins.deliver((SomethingHappened("T-2"),)) == ()
    assert len(listener.heard) == 2


def test_adapters_ready_passes_the_names_and_names_a_failing_plugin() -> None:
    listener = Listener()
    loaded(listener=listener).adapters_ready({"clock": "fixed"})
    assert listener.ready == [{"clock": "fixed"}]

    class Grumpy:
        @hookimpl
        def o2c_adapters_ready(self, names: dict[str, str]) -> None:
            raise RuntimeError("I wanted another clock")

    with pytest.raises(PluginError) as caught:
        loaded(grumpy=Grumpy()).adapters_ready({"clock": "fixed"})
    assert (caught.value.plugin, caught.value.hook) == ("grumpy", "o2c_adapters_ready")


def test_two_managers_share_nothing() -> None:
    first, second = loaded(acme=CarrierPlugin()), loaded()
    assert first.names() == ("acme",)
    assert second.names() == ()


# --- entry points, found through the real discovery mechanism ------------------------------------


PLUGIN_SOURCE = """
from o2c import hookimpl

@hookimpl
def o2c_register_adapters(registry):
    registry.add_notifier("{adapter}", lambda options: None)
"""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Install a plugin distribution (a module plus its dist-info) on ``sys.path``."""
    modules: list[str] = []

    def install_plugin(entry_name: str, *, module: str, adapter: str, body: str = "") -> None:
        source = body or PLUGIN_SOURCE.format(adapter=adapter)
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist = tmp_path / f"{module}-1.2.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.2\n", encoding="utf-8"
        )
        (dist / "entry_points.txt").write_text(
            f"[o2c]\n{entry_name} = {module}\n", encoding="utf-8"
        )
        modules.append(module)

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install_plugin
    for module in modules:
        sys.modules.pop(module, None)


def test_entry_points_of_group_o2c_are_loaded_with_their_distribution(
    install: Callable[..., None],
) -> None:
    install("acme", module="o2c_test_acme", adapter="acme-mail")
    plugins = Plugins.load(builtin=False)
    registry = AdapterRegistry()
    plugins.register_adapters(registry)
    assert registry.get(PortName.NOTIFIER, "acme-mail").plugin == "acme"
    (info,) = [i for i in plugins.plugins() if i.name == "acme"]
    assert (info.origin, info.distribution, info.version) == ("entry point", "o2c_test_acme", "1.2")


def test_allow_and_deny_lists_filter_entry_points_by_name(install: Callable[..., None]) -> None:
    install("alpha", module="o2c_test_alpha", adapter="alpha")
    install("beta", module="o2c_test_beta", adapter="beta")
    assert Plugins.load(builtin=False, allow=["alpha"]).names() == ("alpha",)
    assert Plugins.load(builtin=False, deny=["alpha"]).names() == ("beta",)
    assert Plugins.load(builtin=False, allow=["alpha"], deny=["alpha"]).names() == ()
    assert Plugins.load(builtin=False, entry_points=False).names() == ()


def test_an_entry_point_that_fails_to_import_is_a_plugin_error(
    install: Callable[..., None],
) -> None:
    install("broken", module="o2c_test_broken", adapter="", body="raise ImportError('no deps')\n")
    with pytest.raises(PluginError) as caught:
        Plugins.load(builtin=False)
    assert (caught.value.plugin, caught.value.hook) == ("broken", "load")
    assert "no deps" in caught.value.message
    assert Plugins.load(builtin=False, deny=["broken"]).names() == ()


def test_a_misspelled_hook_in_an_installed_plugin_fails_the_start(
    install: Callable[..., None],
) -> None:
    body = "from o2c import hookimpl\n\n@hookimpl\ndef o2c_domain_events(event):\n    pass\n"
    install("typo", module="o2c_test_typo", adapter="", body=body)
    with pytest.raises(PluginError, match="o2c_domain_event'") as caught:
        Plugins.load(builtin=False)
    assert caught.value.plugin == "typo"
