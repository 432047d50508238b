"""The invoice lifecycle: states, triggers, the transition table, and the events invoices emit.

Settlement triggers are named by their outcome on the open amount, so which one applies is
decided by plain guards on amounts. "Overdue" is no state: it is derived from the due date and
an as-of date (:meth:`~o2c.domain.invoicing.invoice.Invoice.is_overdue`).
"""

from __future__ import annotations

import enum
from datetime import date

import attrs

from o2c.domain.events import DomainEvent
from o2c.domain.invoicing.amounts import TaxLine
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Money

__all__ = [
    "InvoiceState",
    "InvoiceTrigger",
    "INVOICE_LIFECYCLE",
    "WriteOffKind",
    # events
    "InvoiceIssued",
    "InvoicePaymentRecorded",
    "InvoiceDiscountGranted",
    "InvoicePaid",
    "InvoiceReopened",
    "InvoiceDisputed",
    "InvoiceDisputeResolved",
    "InvoiceWrittenOff",
    "CreditNoteIssued",
    "InvoiceCredited",
]


class InvoiceState(enum.Enum):
    """Where an invoice is in its life.

    Overdue is no state: see :meth:`~o2c.domain.invoicing.invoice.Invoice.is_overdue`.
    """

    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    DISPUTED = "disputed"
    WRITTEN_OFF = "written_off"
    CREDITED = "credited"


class InvoiceTrigger(enum.Enum):
    """What moves an invoice; settlement triggers are named by their outcome on the open amount."""

    ISSUE = "issue"
    SETTLE_IN_PART = "settle_in_part"
    """A payment, discount or write-off that leaves something open."""
    SETTLE = "settle"
    """A payment, discount, small-difference write-off or credit note that closes the item."""
    REOPEN_IN_PART = "reopen_in_part"
    """A reversed payment after which some settlement remains."""
    REOPEN = "reopen"
    """A reversed payment after which nothing but credit notes has settled the item."""
    DISPUTE = "dispute"
    RESOLVE_UNPAID = "resolve_unpaid"
    """A dispute resolved while no money has settled anything of the invoice."""
    RESOLVE_PART_PAID = "resolve_part_paid"
    """A dispute resolved after part of the invoice was settled."""
    WRITE_OFF = "write_off"
    """A bad-debt write-off of everything still open."""
    CREDIT_IN_PART = "credit_in_part"
    """A credit note that leaves something to credit and does not close the item."""
    CREDIT = "credit"
    """A credit note after which the whole invoice is credited."""


_S = InvoiceState
_T = InvoiceTrigger
#: Where something is owed and the customer has not disputed it.
OPEN_STATES = (_S.ISSUED, _S.PARTIALLY_PAID)

#: The invoice lifecycle. Which settlement trigger applies is decided by guards on the open amount.
INVOICE_LIFECYCLE: Lifecycle[InvoiceState, InvoiceTrigger] = Lifecycle.of(
    "invoice",
    _S.DRAFT,
    [
        (_S.DRAFT, _T.ISSUE, _S.ISSUED),
        (OPEN_STATES, _T.SETTLE_IN_PART, _S.PARTIALLY_PAID),
        (_S.DISPUTED, _T.SETTLE_IN_PART, _S.DISPUTED),
        ((_S.PARTIALLY_PAID, _S.ISSUED, _S.DISPUTED), _T.SETTLE, _S.PAID),
        ((_S.PAID, _S.PARTIALLY_PAID), _T.REOPEN_IN_PART, _S.PARTIALLY_PAID),
        ((_S.PAID, _S.PARTIALLY_PAID), _T.REOPEN, _S.ISSUED),
        (_S.DISPUTED, _T.REOPEN_IN_PART, _S.DISPUTED),
        (_S.DISPUTED, _T.REOPEN, _S.DISPUTED),
        (OPEN_STATES, _T.DISPUTE, _S.DISPUTED),
        (_S.DISPUTED, _T.RESOLVE_UNPAID, _S.ISSUED),
        (_S.DISPUTED, _T.RESOLVE_PART_PAID, _S.PARTIALLY_PAID),
        ((*OPEN_STATES, _S.DISPUTED), _T.WRITE_OFF, _S.WRITTEN_OFF),
        (_S.ISSUED, _T.CREDIT_IN_PART, _S.ISSUED),
        (_S.PARTIALLY_PAID, _T.CREDIT_IN_PART, _S.PARTIALLY_PAID),
        (_S.DISPUTED, _T.CREDIT_IN_PART, _S.DISPUTED),
        (_S.PAID, _T.CREDIT_IN_PART, _S.PAID),
        ((*OPEN_STATES, _S.DISPUTED, _S.PAID), _T.CREDIT, _S.CREDITED),
        # A payment of a credited invoice taken back (a card refund or chargeback): nothing is
        # left to credit, so nothing reopens; the customer credit its notes handed out covers it.
        (_S.CREDITED, _T.REOPEN_IN_PART, _S.CREDITED),
        (_S.CREDITED, _T.REOPEN, _S.CREDITED),
    ],
)


class WriteOffKind(enum.Enum):
    """Why an amount of an invoice is written off."""

    SMALL_DIFFERENCE = "small_difference"
    """A short payment within tolerance: the rest is written off and the invoice counts as paid."""
    BAD_DEBT = "bad_debt"
    """The customer will not pay; writing off the whole rest makes the invoice written off."""


@attrs.frozen
class InvoiceIssued(DomainEvent):
    """An invoice was issued: what the ledger posts and accounts receivable tracks."""

    invoice_number: str
    customer_id: str
    on: date
    currency: str
    tax_lines: tuple[TaxLine, ...]
    """Net (base) and tax per tax category."""
    net: Money
    tax: Money
    gross: Money
    due_dates: tuple[tuple[date, Money], ...]
    replaces: str | None = None
    reference: str | None = None
    """The structured creditor reference the customer pays with (``RF…``), if any."""


@attrs.frozen
class InvoicePaymentRecorded(DomainEvent):
    """Money received was applied to an invoice."""

    invoice_number: str
    on: date
    amount: Money
    receipt_id: str
    open: Money


@attrs.frozen
class InvoiceDiscountGranted(DomainEvent):
    """An early-payment discount was taken off an invoice."""

    invoice_number: str
    on: date
    amount: Money
    receipt_id: str | None
    open: Money
    customer_id: str | None = attrs.field(default=None, eq=False)
    """The invoice's customer, for the ledger's customer sub-ledger."""


@attrs.frozen
class InvoicePaid(DomainEvent):
    """Nothing is open on the invoice any more (paid, discounted, small differences, credits)."""

    invoice_number: str
    on: date


@attrs.frozen
class InvoiceReopened(DomainEvent):
    """A payment was reversed (a bounced receipt) and the invoice is open again.

    ``reopened`` went back onto the open item; ``customer_credit_reclaimed`` is customer credit
    that an earlier credit note of this invoice had handed out and that now covers the rest of the
    reversed payment instead (the invoice cannot be open for more than is left to credit).
    """

    invoice_number: str
    on: date
    amount: Money
    receipt_id: str
    reopened: Money
    customer_credit_reclaimed: Money
    open: Money
    customer_id: str | None = attrs.field(default=None, eq=False)
    """The invoice's customer, for the ledger's customer sub-ledger."""
    discount: Money | None = None
    """The early-payment discount that went away with the reversed payment, if any."""
    write_off: Money | None = None
    """The small difference written off with the reversed payment, if any."""


@attrs.frozen
class InvoiceDisputed(DomainEvent):
    """The customer disputes the invoice; dunning pauses."""

    invoice_number: str
    on: date
    reason: str


@attrs.frozen
class InvoiceDisputeResolved(DomainEvent):
    """A dispute was settled; the invoice is back in the state its open amount says."""

    invoice_number: str
    on: date
    resolution: str


@attrs.frozen
class InvoiceWrittenOff(DomainEvent):
    """An amount of an invoice was written off (small difference or bad debt)."""

    invoice_number: str
    on: date
    amount: Money
    kind: WriteOffKind
    reason: str
    open: Money
    customer_id: str | None = attrs.field(default=None, eq=False)
    """The invoice's customer, for the ledger's customer sub-ledger."""


@attrs.frozen
class CreditNoteIssued(DomainEvent):
    """A credit note was issued against an invoice.

    ``applied`` came off the invoice's open amount; ``customer_credit`` is the rest of the credit
    note's gross (the invoice was already settled), owed to the customer.
    """

    credit_note_number: str
    invoice_number: str
    customer_id: str
    on: date
    currency: str
    tax_lines: tuple[TaxLine, ...]
    net: Money
    tax: Money
    gross: Money
    applied: Money
    customer_credit: Money
    reason: str


@attrs.frozen
class InvoiceCredited(DomainEvent):
    """Credit notes now offset the whole invoice."""

    invoice_number: str
    on: date
