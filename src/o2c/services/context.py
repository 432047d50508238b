"""What application services are given: the adapters for every port, and the business settings.

The composition root (:func:`o2c.bootstrap`) builds both from configuration; tests build them
directly with the in-memory adapters. Services never construct an adapter themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

import attrs

from o2c.domain.calendar import BusinessCalendar
from o2c.domain.credit import CreditPolicySet, default_credit_policy
from o2c.domain.customers import Address
from o2c.domain.dunning import DunningPolicy
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import TaxRounding
from o2c.domain.ledger import ChartOfAccounts
from o2c.domain.matching import MatchingConfig
from o2c.domain.orders import InvoicingPolicy
from o2c.ports.carriers import CarrierPort
from o2c.ports.clock import Clock
from o2c.ports.gateways import PaymentGatewayPort
from o2c.ports.inventory import InventoryPort
from o2c.ports.ledger import LedgerPort
from o2c.ports.notifications import Notifier
from o2c.ports.outbox import EventRelay
from o2c.ports.persistence import UnitOfWork
from o2c.services.errors import InvalidSettings

__all__ = ["Adapters", "EventPublisher", "OutOfStockPolicy", "Settings"]

EventPublisher = Callable[[Sequence[DomainEvent]], None]
"""Hands committed events on (to plugins' ``o2c_domain_event`` and in-process handlers)."""


def _ignore(events: Sequence[DomainEvent]) -> None:
    """Publishing nowhere: the default when nothing listens."""


@attrs.frozen
class Adapters:
    """One adapter per port, as the services use them."""

    unit_of_work: Callable[[], UnitOfWork]
    """Makes a fresh unit of work for each command."""
    inventory: InventoryPort
    carrier: CarrierPort
    payment_gateway: PaymentGatewayPort
    ledger: LedgerPort
    notifier: Notifier
    clock: Clock
    publish: EventPublisher = _ignore
    relay: EventRelay | None = None
    """Publishes committed events to a message broker; ``None`` keeps them in the process."""


class OutOfStockPolicy(enum.Enum):
    """What happens to the part of an order line that inventory cannot reserve."""

    BACK_ORDER = "back_order"
    """Keep it open and ship it when stock arrives."""
    CANCEL = "cancel"
    """Cancel it before anything is invoiced, so nobody is billed for it."""


_WAREHOUSE = Address("1 Warehouse Road", "Hamburg", "20095", "DE")


def _series_name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSettings(
            attribute.name, f"{value!r}: a number series needs a name; it must not be empty"
        )


def _number_format(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    """A format that gives every drawn number, in every series, a document number of its own."""
    if not isinstance(value, str):
        raise InvalidSettings(attribute.name, f"{value!r} is not text")
    try:
        first, second, large = (value.format(series="A", number=n) for n in (1, 2, 10**9))
        other_series = value.format(series="B", number=1)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as error:
        raise InvalidSettings(
            attribute.name,
            f"{value!r} is not a format of {{series}} and {{number}}: {type(error).__name__} "
            f"{error}",
        ) from None
    if len({first, second, large}) < 3:
        raise InvalidSettings(
            attribute.name,
            f"{value!r} must contain {{number}}, so that each drawn number gives another "
            "document number",
        )
    if first == other_series:
        raise InvalidSettings(
            attribute.name,
            f"{value!r} must contain {{series}}, so that an invoice and a credit note never "
            "share a number",
        )


@attrs.frozen
class Settings:
    """The business's choices that the services apply; every field has a sensible default."""

    chart: ChartOfAccounts = attrs.field(factory=ChartOfAccounts.default)
    credit_policy: CreditPolicySet = attrs.field(factory=default_credit_policy)
    dunning_policy: DunningPolicy | None = None
    """``None`` means no dunning levels are configured and dunning runs raise nothing."""
    matching: MatchingConfig = attrs.field(factory=MatchingConfig)
    invoicing_policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT
    tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT
    out_of_stock: OutOfStockPolicy = OutOfStockPolicy.BACK_ORDER
    calendar: BusinessCalendar | None = None
    ship_from: Address = _WAREHOUSE
    invoice_series: str = attrs.field(default="INV", validator=_series_name)
    credit_note_series: str = attrs.field(default="CN", validator=_series_name)
    number_format: str = attrs.field(default="{series}-{number:06d}", validator=_number_format)
    """How a drawn number becomes a document number: ``INV-000042``. It must use both
    ``{series}`` and ``{number}``, or two documents could get one number
    (:class:`~o2c.services.errors.InvalidSettings` otherwise)."""
