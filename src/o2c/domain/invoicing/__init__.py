"""Invoices and credit notes: priced lines, tax lines, totals that reconcile, and a lifecycle.

Import everything from here; the modules below hold one concept each:

:mod:`~o2c.domain.invoicing.lines`
    What to invoice: plain :class:`~o2c.domain.invoicing.lines.InvoiceableLine` values, and
    :func:`~o2c.domain.invoicing.lines.lines_from_order`, which asks an order what may be
    invoiced under its :class:`~o2c.domain.orders.InvoicingPolicy`.
:mod:`~o2c.domain.invoicing.amounts`
    :func:`~o2c.domain.invoicing.amounts.compute_amounts`, the one function that turns lines into
    priced lines, tax lines and totals that reconcile to the minor unit, for invoices and credit
    notes alike.
:mod:`~o2c.domain.invoicing.lifecycle`
    The invoice's states, triggers and transition table, and the events invoices emit.
:mod:`~o2c.domain.invoicing.invoice`
    The :class:`~o2c.domain.invoicing.invoice.Invoice`: an editable draft, then an issued,
    immutable document whose open item payments, discounts, write-offs and credit notes reduce.
:mod:`~o2c.domain.invoicing.credit_note`
    The :class:`~o2c.domain.invoicing.credit_note.CreditNote`, which corrects an issued invoice
    and never credits more than is left on it.
"""

from o2c.domain.invoicing.amounts import (
    TAX_ROUNDING,
    DocumentAmounts,
    InvoiceLine,
    PriceBasis,
    TaxLine,
    TaxRounding,
    Totals,
    compute_amounts,
)
from o2c.domain.invoicing.credit_note import CreditNote, CreditNoteKind
from o2c.domain.invoicing.invoice import (
    BadDebtWriteOff,
    Invoice,
    PaymentScheduleLike,
    SchedulesPayments,
)
from o2c.domain.invoicing.lifecycle import (
    INVOICE_LIFECYCLE,
    CreditNoteIssued,
    InvoiceCredited,
    InvoiceDiscountGranted,
    InvoiceDisputed,
    InvoiceDisputeResolved,
    InvoiceIssued,
    InvoicePaid,
    InvoicePaymentRecorded,
    InvoiceReopened,
    InvoiceState,
    InvoiceTrigger,
    InvoiceWrittenOff,
    WriteOffKind,
)
from o2c.domain.invoicing.lines import InvoiceableLine, lines_from_order
from o2c.domain.orders import InvoicingPolicy
from o2c.domain.pricing import LINE_ROUNDING

__all__ = [
    # pricing
    "PriceBasis",
    "TaxRounding",
    "LINE_ROUNDING",
    "TAX_ROUNDING",
    "InvoiceableLine",
    "InvoiceLine",
    "TaxLine",
    "Totals",
    "DocumentAmounts",
    "compute_amounts",
    # from orders
    "InvoicingPolicy",
    "lines_from_order",
    # terms
    "PaymentScheduleLike",
    "SchedulesPayments",
    # invoice
    "InvoiceState",
    "InvoiceTrigger",
    "INVOICE_LIFECYCLE",
    "WriteOffKind",
    "BadDebtWriteOff",
    "Invoice",
    # credit notes
    "CreditNoteKind",
    "CreditNote",
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
