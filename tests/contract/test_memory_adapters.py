"""o2c's own in-memory adapters pass the contract kit it ships, like any integrator's would."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from o2c.adapters.memory import (
    FixedClock,
    MemoryInventory,
    MemoryLedger,
    MemoryStore,
    OutboxNotifier,
    SandboxGateway,
    SandboxToken,
    SystemClock,
    TableRateCarrier,
)
from o2c.domain.ledger import ChartOfAccounts
from o2c.ports.gateways import GatewayCapabilities, PaymentGatewayPort
from o2c.ports.notifications import Notification, Notifier
from o2c.ports.persistence import UnitOfWork
from o2c.testing import (
    CarrierContract,
    ClockCapabilities,
    ClockContract,
    GatewayTokens,
    InventoryContract,
    LedgerContract,
    NotifierCapabilities,
    NotifierContract,
    PaymentGatewayContract,
    UnitOfWorkContract,
    WebhookFactory,
)

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TestMemoryLedger(LedgerContract):
    @pytest.fixture
    def make_ledger(self) -> Callable[[ChartOfAccounts], MemoryLedger]:
        return MemoryLedger


class TestMemoryInventory(InventoryContract):
    @pytest.fixture
    def make_inventory(self) -> Callable[[Mapping[str, Decimal]], MemoryInventory]:
        return MemoryInventory


class TestTableRateCarrier(CarrierContract):
    @pytest.fixture
    def make_carrier(self) -> Callable[[], TableRateCarrier]:
        return lambda: TableRateCarrier(FixedClock(MORNING))


def _signed_chargeback(
    gateway: PaymentGatewayPort, age: timedelta
) -> tuple[bytes, Mapping[str, str]]:
    assert isinstance(gateway, SandboxGateway)
    event = {
        "id": "evt_contract",
        "type": "charged_back",
        "created": MORNING.isoformat(),
        "gateway_reference": "sbx_pay_000001",
        "amount": "10.00",
        "currency": "EUR",
    }
    payload = json.dumps({"events": [event]}).encode()
    return payload, gateway.sign(payload, at=MORNING - age)


class TestSandboxGateway(PaymentGatewayContract):
    @pytest.fixture
    def make_gateway(self) -> Callable[[], SandboxGateway]:
        return lambda: SandboxGateway(FixedClock(MORNING))

    @pytest.fixture
    def gateway_tokens(self) -> GatewayTokens:
        return GatewayTokens(SandboxToken.APPROVE.value, SandboxToken.DECLINE.value)

    @pytest.fixture
    def make_webhook(self) -> WebhookFactory:
        return _signed_chargeback


class TestSandboxGatewayWithFewerFeatures(TestSandboxGateway):
    """One capture of the whole authorisation, whole refunds only, two currencies."""

    @pytest.fixture
    def make_gateway(self) -> Callable[[], SandboxGateway]:
        capabilities = GatewayCapabilities(
            currencies=frozenset({"JPY", "KWD"}),
            partial_capture=False,
            multiple_captures=False,
            partial_refunds=False,
            voids=False,
        )
        return lambda: SandboxGateway(FixedClock(MORNING), capabilities=capabilities)


class TestSandboxGatewayWithEveryFeature(TestSandboxGateway):
    @pytest.fixture
    def make_gateway(self) -> Callable[[], SandboxGateway]:
        capabilities = GatewayCapabilities(currencies=frozenset({"EUR"}), multiple_captures=True)
        return lambda: SandboxGateway(FixedClock(MORNING), capabilities=capabilities)


class TestMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def make_unit_of_work(self) -> Callable[[], Callable[[], UnitOfWork]]:
        return lambda: MemoryStore().unit_of_work


class TestOutboxNotifier(NotifierContract):
    @pytest.fixture
    def make_notifier(self) -> Callable[[], OutboxNotifier]:
        return OutboxNotifier

    @pytest.fixture
    def capabilities(self) -> NotifierCapabilities:
        return NotifierCapabilities(observable=True)

    @pytest.fixture
    def delivered(self) -> Callable[[Notifier], Sequence[Notification]]:
        def sent(notifier: Notifier) -> Sequence[Notification]:
            assert isinstance(notifier, OutboxNotifier)
            return notifier.sent

        return sent


class TestFixedClock(ClockContract):
    """Half past eleven in the evening in UTC is already the next day in Berlin."""

    @pytest.fixture
    def make_clock(self) -> Callable[[], FixedClock]:
        return lambda: FixedClock(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), tz="Europe/Berlin")

    @pytest.fixture
    def capabilities(self) -> ClockCapabilities:
        return ClockCapabilities(business_zone=ZoneInfo("Europe/Berlin"))


class TestSystemClock(ClockContract):
    @pytest.fixture
    def make_clock(self) -> Callable[[], SystemClock]:
        return lambda: SystemClock("Pacific/Kiritimati")

    @pytest.fixture
    def capabilities(self) -> ClockCapabilities:
        return ClockCapabilities(business_zone=ZoneInfo("Pacific/Kiritimati"))
