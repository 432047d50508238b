"""What commands return: small frozen records, the same on a retry as on the first run.

Each record holds ids, states and amounts, never a whole aggregate: load the current state
through a unit of work when you need more. They are remembered with the command's idempotency
key, so a retried command answers exactly what the first run answered.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from o2c.domain.credit import CreditOutcome, CreditStatus
from o2c.domain.invoicing import InvoiceState
from o2c.domain.money import Money
from o2c.domain.orders import OrderStatus
from o2c.domain.payments import PaymentStatus
from o2c.domain.receipts import ReceiptState
from o2c.ports.carriers import TrackingStatus
from o2c.services.context import OutOfStockPolicy

__all__ = [
    "AllocationSummary",
    "CreditNoteResult",
    "CreditStanding",
    "CustomerRegistered",
    "DeliveryResult",
    "DunningSummary",
    "LikelyLateFlagged",
    "InvoiceResult",
    "InvoiceUpdate",
    "OrderPlacement",
    "OrderUpdate",
    "PaymentResult",
    "QueueUpdate",
    "ReceiptUpdate",
    "ShipmentResult",
    "Shortfall",
    "StatementImport",
    "WebhookResult",
]


@attrs.frozen
class CustomerRegistered:
    """A customer was registered with a fresh credit account."""

    customer_id: str


@attrs.frozen
class CreditStanding:
    """A credit account after a command."""

    customer_id: str
    status: CreditStatus
    credit_limit: Money


@attrs.frozen
class Shortfall:
    """Part of an order line that inventory could not reserve, and what was done with it."""

    line_id: str
    product_id: str
    quantity: Decimal
    action: OutOfStockPolicy


@attrs.frozen
class OrderPlacement:
    """A placed order: where credit left it and what stock could not cover."""

    order_id: str
    status: OrderStatus
    credit_outcome: CreditOutcome | None
    reasons: tuple[str, ...] = ()
    """The decisive credit reason codes (``credit.account_on_hold``...)."""
    shortfalls: tuple[Shortfall, ...] = ()
    shipment_waits_for_payment: bool = False


@attrs.frozen
class OrderUpdate:
    """An order after a review decision, a credit re-check or a cancellation."""

    order_id: str
    status: OrderStatus
    shortfalls: tuple[Shortfall, ...] = ()


@attrs.frozen
class ShipmentResult:
    """A booked and recorded shipment."""

    shipment_id: str
    order_id: str
    carrier: str
    service: str
    tracking_number: str
    price: Money
    order_status: OrderStatus


@attrs.frozen
class DeliveryResult:
    """What the carrier said about a shipment, and whether its delivery was recorded."""

    shipment_id: str
    tracking_status: TrackingStatus
    delivered: bool


@attrs.frozen
class InvoiceResult:
    """An issued invoice."""

    invoice_number: str
    order_id: str
    gross: Money
    due_date: date


@attrs.frozen
class InvoiceUpdate:
    """An invoice after a dispute, a resolution or a write-off."""

    invoice_number: str
    state: InvoiceState
    open: Money


@attrs.frozen
class CreditNoteResult:
    """An issued credit note and how it was used."""

    credit_note_number: str
    invoice_number: str
    gross: Money
    applied: Money
    """What it took off the invoice's open amount."""
    customer_credit: Money
    """What was left over as the customer's credit (the invoice had been paid)."""


@attrs.frozen
class PaymentResult:
    """A card payment after a gateway operation."""

    payment_id: str
    status: PaymentStatus
    authorised: Money
    captured: Money
    refunded: Money
    gateway_reference: str | None = None
    receipt_id: str | None = None
    """The receipt a capture became (cash application of card money)."""


@attrs.frozen
class WebhookResult:
    """Which gateway notices of a delivery changed something and which were known already."""

    handled: tuple[str, ...]
    duplicates: tuple[str, ...]


@attrs.frozen
class AllocationSummary:
    """One allocation of cash to an open item."""

    receipt_id: str
    item_id: str
    applied: Money
    discount: Money
    write_off: Money
    rule: str


@attrs.frozen
class StatementImport:
    """What importing a batch of receipts did."""

    applied: tuple[str, ...]
    """Receipts (new ones) that paid something."""
    on_account: tuple[str, ...]
    queued: tuple[str, ...]
    """Receipts waiting for a person in the exception queue."""
    duplicates: tuple[str, ...]
    """Receipts skipped: their statement line was imported before."""
    allocations: tuple[AllocationSummary, ...]
    partly_matched: tuple[str, ...] = ()
    """Receipts that paid something and wait in the exception queue with the rest."""


@attrs.frozen
class ReceiptUpdate:
    """A receipt after a manual application, a reversal or a refund."""

    receipt_id: str
    state: ReceiptState
    unapplied: Money


@attrs.frozen
class LikelyLateFlagged:
    """What a likely-late flagging run raised."""

    on: date
    items: tuple[str, ...]
    """The items flagged, largest first."""


@attrs.frozen
class QueueUpdate:
    """A queued receipt after a person's decision."""

    receipt_id: str
    state: ReceiptState
    unapplied: Money
    still_queued: bool
    """Whether the receipt still waits in the exception queue (cash left, not closed)."""


@attrs.frozen
class DunningSummary:
    """What a dunning run did."""

    on: date
    notices: tuple[str, ...]
    """The notification ids of the notices sent."""
    charges: tuple[str, ...]
    held: tuple[str, ...]
    """Customers put on credit hold."""
    released: tuple[str, ...]
    """Customers whose credit hold was released."""
