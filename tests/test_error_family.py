"""Everything o2c raises on purpose descends from one root, ``O2CError``, with families beneath."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

import o2c
from o2c import hookimpl
from o2c.adapters.memory import FixedClock
from o2c.config import Config, ConfigError
from o2c.domain.customers import Customer
from o2c.domain.errors import CurrencyMismatch, DomainError, O2CError
from o2c.domain.money import Money, money
from o2c.plugins import EventDeliveryFailed
from o2c.ports.errors import AdapterError, PluginError
from o2c.ports.registry import AdapterRegistry, UnknownAdapter
from o2c.services.errors import ApplicationError, MissingIdempotencyKey


def o2c_modules() -> Iterator[object]:
    yield o2c
    for module in pkgutil.walk_packages(o2c.__path__, f"{o2c.__name__}."):
        # Migration scripts run inside Alembic only; they define no exception.
        if ".migrations" not in module.name:
            yield importlib.import_module(module.name)


def exceptions_defined_in_o2c() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for module in o2c_modules():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("o2c"):
                found.add(value)
    # subclasses defined where no module attribute names them (in a function, say)
    pending = list(found)
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass.__module__.startswith("o2c") and subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return found


def test_every_exception_class_of_o2c_descends_from_the_root() -> None:
    found = exceptions_defined_in_o2c()
    assert {DomainError, ApplicationError, AdapterError, PluginError, ConfigError} <= found
    outside = sorted(
        f"{e.__module__}.{e.__qualname__}" for e in found if not issubclass(e, O2CError)
    )
    assert not outside, f"exceptions outside the O2CError family: {outside}"


def test_every_module_means_o2c_money_when_it_says_money() -> None:
    for module in o2c_modules():
        assert getattr(module, "Money", Money) is Money, module


def test_the_root_is_a_plain_exception_with_the_five_families_beneath_it() -> None:
    assert O2CError.__bases__ == (Exception,)
    for family in (DomainError, ApplicationError, AdapterError, PluginError, ConfigError):
        assert issubclass(family, O2CError)
        assert O2CError in family.__bases__


def test_errors_that_were_builtin_exceptions_stay_them() -> None:
    assert issubclass(CurrencyMismatch, TypeError)
    assert issubclass(MissingIdempotencyKey, ValueError)


# --- each family, raised by o2c itself, is caught by ``except O2CError`` ---------------------


class _Misspelled:
    @hookimpl
    def o2c_register_adapter(self, registry: AdapterRegistry) -> None:  # missing "s"
        raise AssertionError("never called")


def _mixed_currencies() -> None:
    money("1.00", "EUR") + money("1.00", "USD")


def _no_idempotency_key() -> None:
    app = o2c.bootstrap(load_entry_points=False)
    customer = Customer("C-1", "Acme", "EUR")
    app.services.customers.register_customer(customer, idempotency_key="")


def _naive_clock() -> None:
    FixedClock(datetime(2024, 5, 2, 12, 0))  # noqa: DTZ001 (refused for having no time zone)


def _misspelled_hook() -> None:
    o2c.bootstrap(load_entry_points=False, plugins={"typo": _Misspelled()})


def _unknown_key() -> None:
    Config.from_mapping({"colour": "red"})


def _unknown_adapter() -> None:
    o2c.bootstrap({"adapters": {"carrier": "pigeon"}}, load_entry_points=False)


@pytest.mark.parametrize(
    ("refusal", "family"),
    [
        (_mixed_currencies, DomainError),
        (_no_idempotency_key, ApplicationError),
        (_naive_clock, AdapterError),
        (_misspelled_hook, PluginError),
        (_unknown_key, ConfigError),
        (_unknown_adapter, UnknownAdapter),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_family_is_caught_as_an_o2c_error(
    refusal: Callable[[], None], family: type[O2CError]
) -> None:
    with pytest.raises(O2CError) as caught:
        refusal()
    assert isinstance(caught.value, family)


def test_event_delivery_failures_are_plugin_errors() -> None:
    assert issubclass(EventDeliveryFailed, PluginError)
    assert issubclass(EventDeliveryFailed, O2CError)
