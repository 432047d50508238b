"""Every in-memory adapter is an instance of its runtime-checkable port."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from o2c.adapters.memory import (
    FixedClock,
    MemoryInventory,
    MemoryLedger,
    MemoryStore,
    MemoryUnitOfWork,
    OutboxNotifier,
    SandboxGateway,
    SystemClock,
    TableRateCarrier,
)
from o2c.ports import (
    CarrierPort,
    Clock,
    IdempotencyRecord,
    InventoryPort,
    LedgerPort,
    Notifier,
    NumberSequence,
    PaymentGatewayPort,
    Repository,
    UnitOfWork,
)

CLOCK = FixedClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
UOW = MemoryUnitOfWork(MemoryStore())


@pytest.mark.parametrize(
    ("adapter", "port"),
    [
        (CLOCK, Clock),
        (SystemClock(), Clock),
        (MemoryInventory(), InventoryPort),
        (TableRateCarrier(CLOCK), CarrierPort),
        (SandboxGateway(CLOCK), PaymentGatewayPort),
        (MemoryLedger(), LedgerPort),
        (OutboxNotifier(), Notifier),
        (UOW, UnitOfWork),
        (UOW.orders, Repository),
        (UOW.ledger_outbox, Repository),
        (UOW.sequences, NumberSequence),
        (UOW.commands, IdempotencyRecord),
    ],
    ids=lambda value: type(value).__name__,
)
def test_adapter_satisfies_its_port(adapter: object, port: type) -> None:
    assert isinstance(adapter, port)


def test_a_plain_object_is_not_a_port() -> None:
    assert not isinstance(object(), InventoryPort)
    assert not isinstance(MemoryLedger(), PaymentGatewayPort)


@pytest.mark.parametrize(
    ("adapter", "name"),
    [
        (MemoryInventory(), "memory"),
        (TableRateCarrier(CLOCK), "table-rate"),
        (SandboxGateway(CLOCK), "sandbox"),
        (MemoryLedger(), "memory"),
        (OutboxNotifier(), "outbox"),
        (MemoryInventory(name="warehouse-b"), "warehouse-b"),
    ],
)
def test_adapters_carry_the_name_they_report_errors_under(adapter: object, name: str) -> None:
    assert getattr(adapter, "name") == name  # noqa: B009
