"""Hook wrappers are called, and a plugin is known by what the plugin manager knows of it.

* ``wrapper=True`` (and old-style ``hookwrapper=True``) implementations wrap each hook call once,
  around every plugin's implementation, as in pluggy;
* adapters are attributed to the plugin that registered them, and errors to the plugin that
  raised them, whatever name the plugin claims.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from typing import Any

import attrs
import pluggy
import pytest

import o2c
from o2c import hookimpl
from o2c.domain.events import DomainEvent
from o2c.plugins import Plugins
from o2c.ports.errors import PluginError
from o2c.ports.registry import AdapterRegistry, DuplicateAdapter, PortName


@attrs.frozen
class SomethingHappened(DomainEvent):
    thing_id: str


def loaded(**plugins: object) -> Plugins:
    return Plugins.load(builtin=False, extra=plugins, entry_points=False)


def _factory(options: Mapping[str, Any]) -> object:
    return object()


class Listener:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.log.append(f"{self.name} heard {event.thing_id}")  # type: ignore[attr-defined]


class Tracer:
    """A new-style wrapper around every delivery of an event."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @hookimpl(wrapper=True)
    def o2c_domain_event(self, event: DomainEvent) -> Generator[None, object, object]:
        self.log.append("before")
        result = yield
        self.log.append("after")
        return result


class OldStyleTracer:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    @hookimpl(hookwrapper=True)
    def o2c_domain_event(self, event: DomainEvent) -> Generator[None, pluggy.Result[Any], None]:
        self.log.append("old before")
        outcome = yield
        outcome.get_result()
        self.log.append("old after")


# --- wrappers -------------------------------------------------------------------------------


def test_a_new_style_wrapper_wraps_each_event_delivery_once() -> None:
    log: list[str] = []
    plugins = loaded(a=Listener(log, "a"), tracer=Tracer(log), b=Listener(log, "b"))
    assert plugins.domain_event(SomethingHappened("T-1")) == ()
    assert log[0] == "before"
    assert log[-1] == "after"
    assert sorted(log[1:-1]) == ["a heard T-1", "b heard T-1"]


def test_an_old_style_hookwrapper_is_called_too() -> None:
    log: list[str] = []
    plugins = loaded(listener=Listener(log, "l"), tracer=OldStyleTracer(log))
    plugins.publish([SomethingHappened("T-1"), SomethingHappened("T-2")])
    assert log == [
        "old before",
        "l heard T-1",
        "old after",
        "old before",
        "l heard T-2",
        "old after",
    ]


def test_a_wrapper_runs_when_no_plugin_implements_the_hook() -> None:
    log: list[str] = []
    loaded(tracer=Tracer(log)).domain_event(SomethingHappened("T-1"))
    assert log == ["before", "after"]


def test_a_wrapper_sees_a_failing_registration_and_the_error_keeps_its_plugin() -> None:
    seen: list[BaseException] = []

    class Watcher:
        @hookimpl(wrapper=True)
        def o2c_register_adapters(self, registry: AdapterRegistry) -> Generator[None, None, None]:
            try:
                yield
            except BaseException as error:
                seen.append(error)
                raise

    class Broken:
        @hookimpl
        def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
            raise RuntimeError("boom")

    plugins = loaded(watcher=Watcher(), broken=Broken())
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert caught.value.plugin == "broken"
    assert seen == [caught.value]


class FailingWrapper:
    def __init__(self, when: str) -> None:
        self.when = when

    @hookimpl(wrapper=True)
    def o2c_domain_event(self, event: DomainEvent) -> Generator[None, object, object]:
        if self.when == "before":
            raise ValueError("wrapper failed before")
        result = yield
        raise ValueError("wrapper failed after")
        return result  # pragma: no cover


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_failing_wrapper_is_named_and_every_plugin_still_hears_the_event(when: str) -> None:
    log: list[str] = []
    plugins = loaded(listener=Listener(log, "l"), shaky=FailingWrapper(when))
    failures = plugins.domain_event(SomethingHappened("T-1"))
    assert log == ["l heard T-1"]
    assert [(f.plugin, f.hook) for f in failures] == [("shaky", "o2c_domain_event")]
    assert f"wrapper failed {when}" in failures[0].message


def test_a_wrapper_cannot_register_adapters_in_anyones_name() -> None:
    class RegisteringWrapper:
        @hookimpl(wrapper=True)
        def o2c_register_adapters(self, registry: AdapterRegistry) -> Generator[None, None, None]:
            registry.add_carrier("sneaky", _factory)
            yield

    class Honest:
        @hookimpl
        def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
            registry.add_carrier("honest", _factory)

    plugins = loaded(honest=Honest(), wrapper=RegisteringWrapper())
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert caught.value.plugin == "wrapper"
    assert "wrapper" in caught.value.message


# --- who registered an adapter --------------------------------------------------------------


class Impostor:
    """Claims its carrier was registered by the built-in plugin."""

    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        claim = getattr(registry, "contributed_by", None)
        if claim is not None:
            claim("builtin")
        registry.add_carrier("impostor", _factory)


def test_a_plugin_cannot_register_an_adapter_in_another_plugins_name() -> None:
    plugins = Plugins.load(extra={"impostor": Impostor()}, entry_points=False)
    registry = AdapterRegistry()
    plugins.register_adapters(registry)
    assert registry.get(PortName.CARRIER, "impostor").plugin == "impostor"
    assert {e.plugin for e in registry.entries() if e.name != "impostor"} == {"builtin"}


def test_a_registry_kept_for_later_still_registers_in_its_plugins_name() -> None:
    class Hoarder:
        kept: AdapterRegistry | None = None

        @hookimpl
        def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
            self.kept = registry

    hoarder = Hoarder()
    plugins = Plugins.load(extra={"hoarder": hoarder}, entry_points=False)
    registry = AdapterRegistry()
    plugins.register_adapters(registry)
    assert hoarder.kept is not None
    hoarder.kept.add_carrier("late", _factory)
    assert registry.get(PortName.CARRIER, "late").plugin == "hoarder"


def test_a_plugin_reaching_into_the_registry_to_claim_a_name_is_refused() -> None:
    class Forger:
        @hookimpl
        def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
            for name, value in vars(registry).items():
                if value == "forger":
                    setattr(registry, name, "builtin")
            registry.add_carrier("forged", _factory)

    plugins = Plugins.load(extra={"forger": Forger()}, entry_points=False)
    registry = AdapterRegistry()
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(registry)
    assert caught.value.plugin == "forger"
    assert "builtin" in caught.value.message


# --- who raised an error --------------------------------------------------------------------


class Blamer:
    def __init__(self, error: Exception) -> None:
        self.error = error

    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        raise self.error

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        raise self.error


def test_a_plugin_error_naming_another_plugin_is_attributed_to_the_raiser() -> None:
    claimed = PluginError("builtin", "o2c_register_adapters", "it was them")
    plugins = loaded(blamer=Blamer(claimed))
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert caught.value.plugin == "blamer"
    assert "builtin" in caught.value.message
    assert "it was them" in caught.value.message
    assert caught.value.__cause__ is claimed


def test_a_plugin_error_naming_its_own_plugin_passes_unchanged() -> None:
    own = PluginError("blamer", "o2c_register_adapters", "my own words")
    with pytest.raises(PluginError) as caught:
        loaded(blamer=Blamer(own)).register_adapters(AdapterRegistry())
    assert caught.value is own


def test_a_forged_duplicate_adapter_is_attributed_to_the_raiser() -> None:
    forged = DuplicateAdapter("carrier", "table-rate", "builtin", "someone")
    plugins = loaded(blamer=Blamer(forged))
    with pytest.raises(PluginError) as caught:
        plugins.register_adapters(AdapterRegistry())
    assert caught.value.plugin == "blamer"


def test_an_event_failure_naming_another_plugin_is_attributed_to_the_raiser() -> None:
    plugins = loaded(blamer=Blamer(PluginError("innocent", "o2c_domain_event", "not me")))
    (failure,) = plugins.domain_event(SomethingHappened("T-1"))
    assert failure.plugin == "blamer"


class BlamingFactoryPlugin:
    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        registry.add_carrier("blaming", self.factory)

    @staticmethod
    def factory(options: Mapping[str, Any]) -> object:
        raise PluginError("builtin", "factory", "the built-in plugin broke it")


def test_an_adapter_factory_blaming_another_plugin_is_attributed_to_its_own() -> None:
    with pytest.raises(PluginError) as caught:
        o2c.bootstrap(
            {"adapters": {"carrier": "blaming"}},
            plugins={"blaming-plugin": BlamingFactoryPlugin()},
            load_entry_points=False,
        )
    assert caught.value.plugin == "blaming-plugin"
    assert "builtin" in caught.value.message


def test_wrapped_calls_from_two_threads_each_reach_their_own_plugins() -> None:
    first_inside = threading.Event()
    second_done = threading.Event()
    log: list[str] = []

    class Gate:
        @hookimpl(wrapper=True)
        def o2c_domain_event(self, event: DomainEvent) -> Generator[None, object, object]:
            if event.thing_id == "first":  # type: ignore[attr-defined]
                first_inside.set()
                assert second_done.wait(5)
            return (yield)

    plugins = loaded(gate=Gate(), listener=Listener(log, "l"))

    def first() -> None:
        plugins.domain_event(SomethingHappened("first"))

    worker = threading.Thread(target=first)
    worker.start()
    assert first_inside.wait(5)
    plugins.domain_event(SomethingHappened("second"))
    second_done.set()
    worker.join(5)
    assert sorted(log) == ["l heard first", "l heard second"]
