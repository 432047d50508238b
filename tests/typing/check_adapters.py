"""Each in-memory adapter satisfies its port, as the type checker sees it (checked, not run)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

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
from o2c.domain.customers import Customer
from o2c.domain.ledger import JournalEntry
from o2c.ports.carriers import CarrierPort
from o2c.ports.clock import Clock
from o2c.ports.gateways import PaymentGatewayPort
from o2c.ports.inventory import InventoryPort
from o2c.ports.ledger import LedgerPort
from o2c.ports.notifications import Notifier
from o2c.ports.persistence import (
    ExceptionQueueRepository,
    IdempotencyRecord,
    NumberSequence,
    Repository,
    UnitOfWork,
)
from o2c.services.context import Adapters

_fixed: Clock = FixedClock(datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
_system: Clock = SystemClock("Europe/Berlin")
_inventory: InventoryPort = MemoryInventory({"P-1": Decimal(5)})
_carrier: CarrierPort = TableRateCarrier(_fixed)
_gateway: PaymentGatewayPort = SandboxGateway(_fixed)
_ledger: LedgerPort = MemoryLedger()
_notifier: Notifier = OutboxNotifier()
_store = MemoryStore()
_unit_of_work: UnitOfWork = MemoryUnitOfWork(_store)
_customers: Repository[Customer] = _unit_of_work.customers
_outbox: Repository[JournalEntry] = _unit_of_work.ledger_outbox
_queue: ExceptionQueueRepository = _unit_of_work.exception_queue
_sequences: NumberSequence = _unit_of_work.sequences
_commands: IdempotencyRecord = _unit_of_work.commands

_adapters = Adapters(
    unit_of_work=_store.unit_of_work,
    inventory=MemoryInventory(),
    carrier=TableRateCarrier(_fixed),
    payment_gateway=SandboxGateway(_fixed),
    ledger=MemoryLedger(),
    notifier=OutboxNotifier(),
    clock=_fixed,
)
