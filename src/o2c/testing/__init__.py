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

from o2c.testing._kit import requires  # noqa: E402
from o2c.testing.carrier import CarrierCapabilities, CarrierContract  # noqa: E402
from o2c.testing.clock import ClockCapabilities, ClockContract  # noqa: E402
from o2c.testing.gateway import (  # noqa: E402
    GatewayTokens,
    PaymentGatewayContract,
    WebhookFactory,
)
from o2c.testing.inventory import InventoryCapabilities, InventoryContract  # noqa: E402
from o2c.testing.ledger import LedgerCapabilities, LedgerContract  # noqa: E402
from o2c.testing.notifier import NotifierCapabilities, NotifierContract  # noqa: E402
from o2c.testing.persistence import UnitOfWorkCapabilities, UnitOfWorkContract  # noqa: E402

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
    "WebhookFactory",
    "requires",
]
