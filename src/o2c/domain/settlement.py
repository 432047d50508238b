"""Settling and reopening receivables: one operation for issued invoices and dunning charges.

Cash application works on open items (:mod:`o2c.domain.cash`); what it decides must land on the
document the item belongs to. An issued invoice keeps its open item together with the history of
what settled it (payments, discounts, small differences) and raises its own events; a dunning
charge *is* its open item. :func:`settle` and :func:`reverse_settlements` hide that difference, so
a caller holding a receivable never asks which kind it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TypeAlias

import attrs

from o2c.domain.cash import Allocation, reverse_receipt
from o2c.domain.errors import InvalidInput
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.invoicing import Invoice
from o2c.domain.receipts import Receipt
from o2c.domain.receivables import OpenItem

__all__ = [
    "Receivable",
    "ReversedSettlements",
    "item_id_of",
    "open_item_of",
    "reverse_settlements",
    "settle",
]

Receivable: TypeAlias = Invoice | OpenItem
"""Something a customer owes: an issued invoice, or a dunning charge (an open item of its own)."""


def open_item_of(receivable: Receivable) -> OpenItem:
    """The open item of a receivable; an invoice that was never issued has none."""
    if isinstance(receivable, OpenItem):
        return receivable
    if receivable.open_item is None:
        raise InvalidInput(
            field="invoice", value=receivable.invoice_id, reason="is not issued; nothing is owed"
        )
    return receivable.open_item


def item_id_of(receivable: Receivable) -> str:
    """The id cash application knows the receivable by (its open item's id)."""
    return open_item_of(receivable).item_id


def settle(receivable: Receivable, allocation: Allocation, *, on: date) -> Changed[Receivable]:
    """Record on a receivable what one allocation of a receipt settled, as of ``on``.

    An invoice records the payment, the discount and the small difference separately
    (:meth:`~o2c.domain.invoicing.invoice.Invoice.record_settlement`); a charge is reduced by
    all that the allocation settled.
    """
    item = open_item_of(receivable)
    if allocation.item_id != item.item_id:
        raise InvalidInput(
            field="allocation",
            value=allocation.item_id,
            reason=f"settles another item than {item.item_id}",
        )
    if isinstance(receivable, OpenItem):
        return Changed(receivable.apply(allocation.settled), ())
    invoice, events = receivable.record_settlement(
        on,
        allocation.receipt_id,
        paid=allocation.applied,
        discount=allocation.discount,
        write_off=allocation.write_off,
        write_off_reason=allocation.write_off_reason,
    )
    return Changed(invoice, events)


@attrs.frozen
class ReversedSettlements:
    """A reversed receipt and the receivables it had settled, reopened."""

    receipt: Receipt
    receivables: tuple[Receivable, ...]
    """Every receivable given, in the order given, reopened by what the receipt had settled."""
    events: tuple[DomainEvent, ...]


def reverse_settlements(
    receipt: Receipt,
    allocations: Iterable[Allocation],
    receivables: Sequence[Receivable],
    *,
    on: date,
    refunds_stand: bool = False,
) -> ReversedSettlements:
    """Undo a bounced or recalled receipt on the receivables its allocations settled.

    :func:`~o2c.domain.cash.reverse_receipt` checks the receipt and reopens the open items; each
    invoice also takes back the payment, the discount and the small difference of every one of
    the receipt's allocations (``refunds_stand`` as for ``reverse_receipt``)
    (:meth:`~o2c.domain.invoicing.invoice.Invoice.reverse_payment`), so the invoice's history
    agrees with its open item.
    """
    own = tuple(a for a in allocations if a.receipt_id == receipt.receipt_id)
    reversal = reverse_receipt(
        receipt, own, [open_item_of(r) for r in receivables], on=on, refunds_stand=refunds_stand
    )
    events: list[DomainEvent] = list(reversal.events)
    reopened: list[Receivable] = []
    for receivable, item in zip(receivables, reversal.items, strict=True):
        if isinstance(receivable, OpenItem):
            reopened.append(item)
            continue
        invoice = receivable
        for allocation in own:
            if allocation.item_id != item.item_id or allocation.applied.amount <= 0:
                continue
            invoice, more = invoice.reverse_payment(
                allocation.applied,
                on,
                receipt.receipt_id,
                discount=allocation.discount,
                write_off=allocation.write_off,
            )
            events.extend(more)
        reopened.append(invoice)
    return ReversedSettlements(reversal.receipt, tuple(reopened), tuple(events))
