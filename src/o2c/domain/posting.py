"""From domain events to journal entries: which facts of the cycle post, and how.

:func:`journal_entries` turns one domain event into the journal entries that record it, using the
:class:`~o2c.domain.ledger.PostingRules` of a chart of accounts. Events that move no money (orders,
credit decisions, dunning notices, disputes...) give no entries. The mapping is a read-only table
from event type to a pure function (:data:`POSTING_HANDLERS`); other event types post nothing.

Each money fact is posted from exactly one kind of event, so an application layer may hand *every*
event it collects to :func:`journal_entries` and nothing is counted twice:

* **Receipts post through cash application.** :class:`~o2c.domain.cash.ReceiptRecorded` records the
  money (bank, or gateway clearing for card and wallet receipts, to unapplied cash),
  :class:`~o2c.domain.cash.ReceiptApplied` moves it to the receivable of each item and posts the
  early-payment discount and the short-payment write-off the allocation settled besides cash,
  :class:`~o2c.domain.cash.ReceiptReversed` mirrors all of that, and
  :class:`~o2c.domain.cash.ReceiptRefunded` pays unapplied cash back.
* **The invoice's own settlement events that name a receipt post nothing**: a payment recorded, a
  discount granted for a receipt, a small difference written off (always the rest of a short
  payment). Their receipt posted them. A discount granted without a receipt posts, and so does a
  bad-debt write-off. A reopened invoice posts only the customer credit it reclaimed.
* **Gateway events post nothing.** A captured card payment becomes a receipt (method ``card``) and
  posts as one, through gateway clearing; a gateway refund or chargeback posts as the refund or the
  reversal of that receipt. Gateway payouts post with :meth:`PostingRules.gateway_settled`.

Entry ids derive from the event's content (``INV-1:invoice_issued``,
``R-1/INV-1@0.00:receipt_applied``), so the same event always gives the same entries and posting
it twice posts it once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

import attrs

from o2c.domain.cash import (
    Allocation,
    PaymentMethod,
    ReceiptApplied,
    ReceiptRecorded,
    ReceiptRefunded,
    ReceiptReversed,
)
from o2c.domain.dunning import DunningFeeCharged, InterestCharged
from o2c.domain.errors import InvalidInput
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import (
    CreditNoteIssued,
    InvoiceDiscountGranted,
    InvoiceIssued,
    InvoiceReopened,
    InvoiceWrittenOff,
    TaxLine,
    WriteOffKind,
)
from o2c.domain.ledger import AccountRole, AmountLine, JournalEntry, Posting, PostingRules, Side
from o2c.domain.money import Money

__all__ = ["POSTING_HANDLERS", "journal_entries", "receipt_account"]

Entries = tuple[JournalEntry, ...]

_GATEWAY_METHODS = frozenset({PaymentMethod.CARD, PaymentMethod.WALLET})


def receipt_account(method: PaymentMethod) -> AccountRole:
    """Where a receipt's money arrives: gateway clearing for card and wallet, else the bank."""
    return AccountRole.GATEWAY_CLEARING if method in _GATEWAY_METHODS else AccountRole.BANK


def _plain(amount: Money) -> str:
    return f"{amount.amount:f}"


def _lines(tax_lines: tuple[TaxLine, ...]) -> tuple[tuple[AmountLine, ...], tuple[AmountLine, ...]]:
    """Revenue (the base) and tax per tax category, each line marked with the category."""
    revenue = tuple(AmountLine(t.base, memo=t.category.label) for t in tax_lines)
    tax = tuple(AmountLine(t.tax, memo=t.category.label) for t in tax_lines if t.tax.amount)
    return revenue, tax


def _transfer(
    rules: PostingRules,
    *,
    entry_id: str,
    source: str,
    on_date: date,
    description: str,
    debit: tuple[AccountRole, str | None, str | None],
    credit: tuple[AccountRole, str | None, str | None],
    amount: Money,
    kind: str,
) -> JournalEntry:
    """An entry that moves ``amount`` between two roles, for facts no posting rule covers."""
    chart = rules.chart
    (debit_role, debit_party, debit_document) = debit
    (credit_role, credit_party, credit_document) = credit
    return JournalEntry(
        entry_id,
        on_date,
        description,
        (
            Posting(chart.code(debit_role), Side.DEBIT, amount, debit_party, debit_document),
            Posting(chart.code(credit_role), Side.CREDIT, amount, credit_party, credit_document),
        ),
        source,
        {"kind": kind},
    )


def _mirror(entry: JournalEntry, entry_id: str, description: str) -> JournalEntry:
    """``entry`` with every posting on the other side: it undoes ``entry`` exactly."""
    postings = tuple(attrs.evolve(p, side=p.side.opposite) for p in entry.postings)
    kind = entry.meta("kind") or "entry"
    metadata = {**dict(entry.metadata), "kind": f"{kind}_reversed", "reverses": entry.entry_id}
    return JournalEntry(entry_id, entry.date, description, postings, entry.source, metadata)


def _without_party(entry: JournalEntry) -> JournalEntry:
    """``entry`` with the placeholder party of an unknown payer removed."""
    postings = tuple(attrs.evolve(p, party=None) if p.party == "" else p for p in entry.postings)
    metadata = tuple((k, v) for k, v in entry.metadata if not (k == "customer" and v == ""))
    return attrs.evolve(entry, postings=postings, metadata=metadata)


# --- documents ----------------------------------------------------------------------------------


def _invoice_issued(event: InvoiceIssued, rules: PostingRules) -> Entries:
    revenue, tax = _lines(event.tax_lines)
    entry = rules.invoice_issued(
        event.invoice_number, event.customer_id, event.on, revenue, tax, gross=event.gross
    )
    return (entry,)


def _credit_note_issued(event: CreditNoteIssued, rules: PostingRules) -> Entries:
    revenue, tax = _lines(event.tax_lines)
    note = event.credit_note_number
    entry = rules.credit_note_issued(
        note,
        event.customer_id,
        event.on,
        revenue,
        tax,
        gross=event.gross,
        applies_to=event.invoice_number,
    )
    if event.customer_credit.amount <= 0:
        return (entry,)
    # What the note credits beyond the open amount is owed to the customer, not receivable.
    credit = _transfer(
        rules,
        entry_id=f"{note}:customer_credit_granted",
        source=note,
        on_date=event.on,
        description=f"Credit note {note}: customer credit",
        debit=(AccountRole.RECEIVABLE, event.customer_id, event.invoice_number),
        credit=(AccountRole.CUSTOMER_CREDIT, event.customer_id, None),
        amount=event.customer_credit,
        kind="customer_credit_granted",
    )
    return entry, credit


def _discount_granted(event: InvoiceDiscountGranted, rules: PostingRules) -> Entries:
    if event.receipt_id is not None:
        return ()  # the receipt's allocation posts it (ReceiptApplied)
    customer = _customer(event.customer_id, event.invoice_number)
    source = f"{event.invoice_number}@{_plain(event.open)}"
    return (
        rules.discount_taken(
            event.invoice_number, customer, event.on, event.amount, source_id=source
        ),
    )


def _written_off(event: InvoiceWrittenOff, rules: PostingRules) -> Entries:
    if event.kind is WriteOffKind.SMALL_DIFFERENCE:
        return ()  # the rest of a short payment: the receipt's allocation posts it
    customer = _customer(event.customer_id, event.invoice_number)
    source = f"{event.invoice_number}@{event.on.isoformat()}/{_plain(event.open)}"
    return (
        rules.bad_debt_written_off(
            event.invoice_number, customer, event.on, event.amount, source_id=source
        ),
    )


def _reopened(event: InvoiceReopened, rules: PostingRules) -> Entries:
    reclaimed = event.customer_credit_reclaimed
    if reclaimed.amount <= 0:
        return ()  # the receipt's reversal posts the reopening
    customer = _customer(event.customer_id, event.invoice_number)
    # The receipt's reversal reopened the whole receivable; credit handed out covers this part.
    return (
        _transfer(
            rules,
            entry_id=f"{event.receipt_id}/{event.invoice_number}:customer_credit_reclaimed",
            source=event.invoice_number,
            on_date=event.on,
            description=f"Customer credit of {event.invoice_number} reclaimed",
            debit=(AccountRole.CUSTOMER_CREDIT, customer, None),
            credit=(AccountRole.RECEIVABLE, customer, event.invoice_number),
            amount=reclaimed,
            kind="customer_credit_reclaimed",
        ),
    )


def _customer(customer_id: str | None, document: str) -> str:
    if not customer_id:
        raise InvalidInput(
            field="customer", value=document, reason="the event names no customer to post for"
        )
    return customer_id


# --- cash ---------------------------------------------------------------------------------------


def _receipt_recorded(event: ReceiptRecorded, rules: PostingRules) -> Entries:
    return (
        rules.receipt_recorded(
            event.receipt_id,
            event.on,
            event.amount,
            customer_id=event.customer_id,
            via=receipt_account(event.method),
        ),
    )


def _allocation_entries(
    allocation: Allocation, rules: PostingRules, on: date, source: str
) -> Entries:
    """Cash to the receivable, then the discount and the write-off the allocation settled."""
    item = allocation.item_id
    customer = _customer(allocation.customer_id, item)
    entries: list[JournalEntry] = []
    if allocation.applied.amount > 0:
        entries.append(
            rules.receipt_applied(
                allocation.receipt_id, item, customer, on, allocation.applied, application_id=source
            )
        )
    if allocation.discount.amount > 0:
        entries.append(
            rules.discount_taken(item, customer, on, allocation.discount, source_id=source)
        )
    if allocation.write_off.amount > 0:
        entries.append(
            rules.short_payment_written_off(
                item, customer, on, allocation.write_off, source_id=source
            )
        )
    return tuple(entries)


def _receipt_applied(event: ReceiptApplied, rules: PostingRules) -> Entries:
    # What is left unapplied after the event tells applications of one receipt apart: it only
    # ever goes down, so two applications of a receipt to one item never share an id.
    left = _plain(event.unapplied)
    entries: list[JournalEntry] = []
    for allocation in event.allocations:
        source = f"{event.receipt_id}/{allocation.item_id}@{left}"
        entries.extend(_allocation_entries(allocation, rules, event.on, source))
    return tuple(entries)


def _receipt_reversed(event: ReceiptReversed, rules: PostingRules) -> Entries:
    receipt = event.receipt_id
    entries = [
        # The recording undone: unapplied cash back to the bank (or gateway clearing).
        rules.receipt_reversed(
            receipt,
            event.on,
            event.amount,
            customer_id=event.customer_id,
            via=receipt_account(event.method),
        )
    ]
    for position, allocation in enumerate(event.reversed_allocations):
        source = f"{receipt}/{allocation.item_id}#{position}"
        for original in _allocation_entries(allocation, rules, event.on, source):
            entry_id = f"{source}:{original.meta('kind')}_reversed"
            description = f"Reversal: {original.description}"
            entries.append(_mirror(original, entry_id, description))
    return tuple(entries)


def _receipt_refunded(event: ReceiptRefunded, rules: PostingRules) -> Entries:
    so_far = event.refunded_total if event.refunded_total is not None else event.amount
    refund_id = f"{event.receipt_id}/refund@{_plain(so_far)}"
    entry = rules.credit_refunded(
        refund_id,
        event.customer_id or "",
        event.on,
        event.amount,
        via=receipt_account(event.method),
    )
    return (entry if event.customer_id else _without_party(entry),)


# --- dunning ------------------------------------------------------------------------------------


def _fee_charged(event: DunningFeeCharged, rules: PostingRules) -> Entries:
    return (rules.fee_charged(event.charge_id, event.customer_id, event.on, event.amount),)


def _interest_charged(event: InterestCharged, rules: PostingRules) -> Entries:
    return (rules.interest_charged(event.charge_id, event.customer_id, event.on, event.amount),)


# --- the table ----------------------------------------------------------------------------------

Handler = Callable[[Any, PostingRules], Entries]

POSTING_HANDLERS: Mapping[type[DomainEvent], Handler] = MappingProxyType(
    {
        InvoiceIssued: _invoice_issued,
        CreditNoteIssued: _credit_note_issued,
        InvoiceDiscountGranted: _discount_granted,
        InvoiceWrittenOff: _written_off,
        InvoiceReopened: _reopened,
        ReceiptRecorded: _receipt_recorded,
        ReceiptApplied: _receipt_applied,
        ReceiptReversed: _receipt_reversed,
        ReceiptRefunded: _receipt_refunded,
        DunningFeeCharged: _fee_charged,
        InterestCharged: _interest_charged,
    }
)
"""The event types that may post, each with the function that builds its entries."""


def journal_entries(event: DomainEvent, rules: PostingRules) -> tuple[JournalEntry, ...]:
    """The journal entries that record ``event`` under ``rules``; ``()`` if it moves no money.

    Deterministic: the same event gives the same entries, with ids derived from the event, so
    posting them twice posts them once. Raises :class:`~o2c.domain.errors.UnmappedAccountRole`
    when the chart lacks a role an entry needs, and :class:`~o2c.domain.errors.InvalidInput` for a
    receivable event that names no customer.
    """
    handler = POSTING_HANDLERS.get(type(event))
    return () if handler is None else handler(event, rules)
