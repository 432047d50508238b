"""The contract kit: the tests every adapter of an o2c port must pass, shipped with o2c.

Install the ``testing`` extra (``o2c[testing]``: pytest and hypothesis), subclass the contract of
your port in a test module, and override its factory fixture::

    import pytest
    from o2c.testing import LedgerContract

    class TestMyLedger(LedgerContract):
        @pytest.fixture
        def make_ledger(self):
            return lambda chart: MyLedger(chart)

Each contract class (:class:`InventoryContract`, :class:`CarrierContract`,
:class:`PaymentGatewayContract`, :class:`LedgerContract`, :class:`UnitOfWorkContract`,
:class:`NotifierContract`, :class:`ClockContract`) checks business semantics through the port
alone: idempotency, atomicity, balances, refusals. A ``capabilities`` fixture declares the
optional features the adapter lacks; the tests that need them are skipped, saying why. The
classes are not named ``Test...``, so pytest runs them only where they are subclassed.

:mod:`o2c.testing.strategies` holds hypothesis strategies for o2c's values.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest

# Before the suites are imported, so that their assertions explain themselves when they fail.
# The package itself is being imported right now, so its modules are named one by one.
pytest.register_assert_rewrite(
    *(
        f"{__name__}.{module}"
        for module in (
            "_kit",
            "carrier",
            "clock",
            "gateway",
            "inventory",
            "ledger",
            "notifier",
            "persistence",
        )
    )
)

__all__ = [
    "CarrierCapabilities",
    "CarrierContract",
    "ClockCapabilities",
    "ClockContract",
    "GatewayTokens",
    "InventoryCapabilities",
    "InventoryContract",
    "LedgerCapabilities",
    "LedgerContract",
    "NotifierCapabilities",
    "NotifierContract",
    "PaymentGatewayContract",
    "UnitOfWorkCapabilities",
    "UnitOfWorkContract",
    "requires",
]

# The suites are imported when first named, not with the package: ``o2c.testing.fixtures`` is a
# pytest plugin loaded in every test run where o2c is installed, and must not pull in hypothesis.
_HOMES = {
    "requires": "_kit",
    "CarrierCapabilities": "carrier",
    "CarrierContract": "carrier",
    "ClockCapabilities": "clock",
    "ClockContract": "clock",
    "GatewayTokens": "gateway",
    "PaymentGatewayContract": "gateway",
    "InventoryCapabilities": "inventory",
    "InventoryContract": "inventory",
    "LedgerCapabilities": "ledger",
    "LedgerContract": "ledger",
    "NotifierCapabilities": "notifier",
    "NotifierContract": "notifier",
    "UnitOfWorkCapabilities": "persistence",
    "UnitOfWorkContract": "persistence",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from o2c.testing._kit import requires
    from o2c.testing.carrier import CarrierCapabilities, CarrierContract
    from o2c.testing.clock import ClockCapabilities, ClockContract
    from o2c.testing.gateway import GatewayTokens, PaymentGatewayContract
    from o2c.testing.inventory import InventoryCapabilities, InventoryContract
    from o2c.testing.ledger import LedgerCapabilities, LedgerContract
    from o2c.testing.notifier import NotifierCapabilities, NotifierContract
    from o2c.testing.persistence import UnitOfWorkCapabilities, UnitOfWorkContract


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
