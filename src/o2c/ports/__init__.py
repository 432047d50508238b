"""The boundary of o2c: ports as ``typing.Protocol`` classes and the pluggy hook specifications.

Adapters implement these protocols; application services depend on them, never on an adapter.
"""

from __future__ import annotations

from o2c.ports.carriers import CarrierPort
from o2c.ports.clock import Clock
from o2c.ports.errors import (
    AdapterError,
    AdapterRejected,
    AdapterUnavailable,
    DuplicateRequest,
    NotFound,
    PluginError,
)
from o2c.ports.gateways import PaymentGatewayPort
from o2c.ports.inventory import InventoryPort
from o2c.ports.ledger import LedgerPort
from o2c.ports.notifications import Notifier
from o2c.ports.persistence import IdempotencyRecord, NumberSequence, Repository, UnitOfWork
from o2c.ports.registry import AdapterRegistry, PortName
from o2c.ports.statements import StatementSource

__all__ = [
    "AdapterError",
    "AdapterRegistry",
    "AdapterRejected",
    "AdapterUnavailable",
    "CarrierPort",
    "Clock",
    "DuplicateRequest",
    "IdempotencyRecord",
    "InventoryPort",
    "LedgerPort",
    "NotFound",
    "Notifier",
    "NumberSequence",
    "PaymentGatewayPort",
    "PluginError",
    "PortName",
    "Repository",
    "StatementSource",
    "UnitOfWork",
]
