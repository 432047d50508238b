"""The built-in in-memory adapters: real behaviour, kept in the process.

They serve tests, examples, simulations and benchmarks, and they are the reference each port's
contract is checked against: a clock that tests move by hand, a stock book, a table-rate carrier
whose tracking follows the clock, a sandbox payment gateway driven by test tokens, a ledger, a
store with units of work, a notifier that keeps an outbox, and an event relay that keeps what
it published.
"""

from __future__ import annotations

from o2c.adapters.memory.carrier import (
    RateTable,
    ServiceRate,
    TableRateCarrier,
    TrackingSchedule,
    WeightBand,
    Zone,
)
from o2c.adapters.memory.clock import FixedClock, SystemClock
from o2c.adapters.memory.gateway import (
    Fault,
    SandboxGateway,
    SandboxPayment,
    SandboxToken,
    WebhookDelivery,
)
from o2c.adapters.memory.inventory import MemoryInventory
from o2c.adapters.memory.ledger import MemoryLedger
from o2c.adapters.memory.notifier import OutboxNotifier
from o2c.adapters.memory.persistence import (
    MemoryIdempotencyRecord,
    MemoryNumberSequence,
    MemoryRepository,
    MemoryStore,
    MemoryUnitOfWork,
)
from o2c.adapters.memory.relay import MemoryRelay, NoRelay

__all__ = [
    "FixedClock",
    "SystemClock",
    "MemoryInventory",
    "TableRateCarrier",
    "RateTable",
    "Zone",
    "ServiceRate",
    "WeightBand",
    "TrackingSchedule",
    "SandboxGateway",
    "SandboxToken",
    "SandboxPayment",
    "Fault",
    "WebhookDelivery",
    "MemoryLedger",
    "MemoryStore",
    "MemoryUnitOfWork",
    "MemoryRepository",
    "MemoryNumberSequence",
    "MemoryIdempotencyRecord",
    "OutboxNotifier",
    "MemoryRelay",
    "NoRelay",
]
