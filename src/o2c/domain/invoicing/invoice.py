"""The invoice: a draft that can be edited, then an issued, immutable, numbered document.

An :class:`Invoice` is built as a draft from plain
:class:`~o2c.domain.invoicing.lines.InvoiceableLine` values; :meth:`Invoice.from_order` takes them
from an order, and :meth:`Invoice.quantities_by_order_line` gives back the quantities to record
on the order. Once issued with a number it is immutable: its lines, tax lines and totals never
change again; mistakes are fixed with a :class:`~o2c.domain.invoicing.credit_note.CreditNote`
and, where needed, a revised invoice (:meth:`Invoice.revise`) that names the invoice it replaces.

On issue the invoice's terms turn the gross total into a payment schedule and an
:class:`~o2c.domain.receivables.OpenItem`; that open item is the single record of what is still
owed, per instalment. Payments, discounts, write-offs and credit notes reduce it; a reversed
payment reopens it. The invoice keeps running totals of each kind so that the lifecycle state can
be decided by plain guards on amounts, and so a reversal never reopens money that a credit note
took off. "Overdue" is derived from the due date and an as-of date, never stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import attrs

from o2c.domain.calendar import BusinessCalendar
from o2c.domain.errors import (
    CurrencyMismatch,
    DiscountNotEarned,
    EmptyInvoice,
    InvalidAmount,
    InvalidInput,
    InvoiceImmutable,
    UnknownLine,
    WriteOffAboveTolerance,
)
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.invoicing._documents import PricedDocument, number_of
from o2c.domain.invoicing.amounts import (
    DocumentAmounts,
    PriceBasis,
    TaxLine,
    TaxRounding,
    compute_amounts,
)
from o2c.domain.invoicing.credit_note import add_tax_lines, check_creditable
from o2c.domain.invoicing.lifecycle import (
    INVOICE_LIFECYCLE,
    OPEN_STATES,
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
from o2c.domain.money import Currency, Money, as_currency, is_exact, total, zero
from o2c.domain.orders import InvoicingPolicy, Order, QuantityLike
from o2c.domain.receivables import OpenItem
from o2c.domain.references import creditor_reference

if TYPE_CHECKING:
    from o2c.domain.invoicing.credit_note import CreditNote

__all__ = [
    "PaymentScheduleLike",
    "SchedulesPayments",
    "BadDebtWriteOff",
    "Invoice",
]

_ZERO = Decimal(0)
_S = InvoiceState
_T = InvoiceTrigger
_SETTLING = (_T.SETTLE_IN_PART, _T.SETTLE)


# --- payment terms, as invoicing needs them ---------------------------------------------------


class PaymentScheduleLike(Protocol):
    """A payment schedule that can become the invoice's open item."""

    def to_open_item(
        self,
        item_id: str,
        customer_id: str,
        document_date: date,
        reference: str | None = None,
    ) -> OpenItem: ...


class SchedulesPayments(Protocol):
    """Payment terms: they turn an invoice total and date into a payment schedule."""

    def schedule(
        self,
        invoice_total: Money,
        invoice_date: date,
        /,
        *,
        calendar: BusinessCalendar | None = None,
        delivery_date: date | None = None,
    ) -> PaymentScheduleLike: ...


@attrs.frozen
class BadDebtWriteOff:
    """An amount of an invoice written off as bad debt, on the date it was decided."""

    on: date
    amount: Money
    reason: str


def _creditor_reference_of(number: str) -> str | None:
    try:
        return creditor_reference(number)
    except InvalidInput:
        return None


def _ensure_money(amount: Money, currency: str) -> Money:
    """``amount`` if it is in ``currency``; :class:`CurrencyMismatch` otherwise."""
    if amount.currency.code != currency:
        raise CurrencyMismatch(expected=currency, actual=amount.currency.code)
    return amount


def _zero_of_document(document: Invoice) -> Money:
    return zero(document.currency)


@attrs.frozen
class Invoice(PricedDocument):
    """An invoice: a draft that can be edited, then an issued, immutable, numbered document.

    Build drafts with :meth:`draft` (or :meth:`revise`); the constructor is for storage adapters.
    """

    invoice_id: str
    """The draft's identity; the document number comes on issue."""
    customer_id: str
    currency: str
    amounts: DocumentAmounts
    prices: PriceBasis = PriceBasis.TAX_EXCLUSIVE
    tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT
    state: InvoiceState = InvoiceState.DRAFT
    order_date: date | None = None
    delivery_date: date | None = None
    replaces: str | None = None
    """The number of the (fully credited) invoice this one replaces."""
    number: str | None = None
    issue_date: date | None = None
    open_item: OpenItem | None = None
    received: Money = attrs.field(default=attrs.Factory(_zero_of_document, takes_self=True))
    """Payments applied, less reversals."""
    discounted: Money = attrs.field(default=attrs.Factory(_zero_of_document, takes_self=True))
    written_off: Money = attrs.field(default=attrs.Factory(_zero_of_document, takes_self=True))
    """Small differences written off."""
    bad_debt: Money = attrs.field(default=attrs.Factory(_zero_of_document, takes_self=True))
    bad_debt_write_offs: tuple[BadDebtWriteOff, ...] = ()
    """Each bad-debt write-off with its date, for statements and collection measures."""
    credited: Money = attrs.field(default=attrs.Factory(_zero_of_document, takes_self=True))
    """Gross of all credit notes against the invoice."""
    credit_applied: Money = attrs.field(default=attrs.Factory(_zero_of_document, takes_self=True))
    """The part of ``credited`` that reduced the open amount."""
    credited_tax_lines: tuple[TaxLine, ...] = ()
    credited_quantities: tuple[Decimal, ...] = ()
    """Per line, the quantity returned by credit notes."""
    credit_notes: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.invoice_id or not self.customer_id:
            raise InvalidInput(
                field="invoice", value=self.invoice_id, reason="needs an id and a customer"
            )
        if self.amounts.currency != self.currency:
            raise CurrencyMismatch(expected=self.currency, actual=self.amounts.currency)
        if not self.credited_quantities:
            object.__setattr__(
                self, "credited_quantities", tuple(_ZERO for _ in self.amounts.lines)
            )

    # -- building drafts --

    @classmethod
    def draft(
        cls,
        invoice_id: str,
        customer_id: str,
        lines: Iterable[InvoiceableLine],
        currency: str | Currency | None = None,
        *,
        prices: PriceBasis = PriceBasis.TAX_EXCLUSIVE,
        tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT,
        order_date: date | None = None,
        delivery_date: date | None = None,
        replaces: str | None = None,
    ) -> Invoice:
        """A draft invoice of ``lines`` (in the lines' currency unless ``currency`` is given).

        Raises :class:`EmptyInvoice` without lines and :class:`CurrencyMismatch` for mixed
        currencies.
        """
        items = tuple(lines)
        if not items:
            raise EmptyInvoice(document_id=invoice_id)
        cur = as_currency(currency if currency is not None else items[0].currency)
        return cls(
            invoice_id=invoice_id,
            customer_id=customer_id,
            currency=cur.code,
            amounts=compute_amounts(items, cur, prices, tax_rounding),
            prices=prices,
            tax_rounding=tax_rounding,
            order_date=order_date,
            delivery_date=delivery_date,
            replaces=replaces,
        )

    @classmethod
    def revise(
        cls,
        replaced: Invoice,
        invoice_id: str,
        lines: Iterable[InvoiceableLine] | None = None,
    ) -> Invoice:
        """A draft that replaces a fully credited invoice (by default with the same lines)."""
        if replaced.state is not InvoiceState.CREDITED:
            raise InvalidInput(
                field="replaced invoice",
                value=number_of(replaced.number),
                reason="only a fully credited invoice can be replaced; issue a credit note first",
            )
        items = tuple(lines) if lines is not None else tuple(line.item for line in replaced.lines)
        return cls.draft(
            invoice_id,
            replaced.customer_id,
            items,
            replaced.currency,
            prices=replaced.prices,
            tax_rounding=replaced.tax_rounding,
            order_date=replaced.order_date,
            delivery_date=replaced.delivery_date,
            replaces=replaced.number,
        )

    @classmethod
    def from_order(
        cls,
        order: Order,
        invoice_id: str,
        *,
        policy: InvoicingPolicy | None = None,
        quantities: Mapping[str, QuantityLike] | None = None,
        tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT,
        delivery_date: date | None = None,
    ) -> Invoice:
        """A draft invoice of what :func:`~.lines_from_order` says may be invoiced of ``order``.

        Order prices are net, so the draft is tax-exclusive; its order date is the date the order
        was placed (or created). Raises :class:`EmptyInvoice` when there is nothing to invoice.
        The draft does not change the order: record it there with
        ``order.record_invoice(draft.quantities_by_order_line(), invoice_id=..., on=...)``.
        """
        items = lines_from_order(order, policy, quantities)
        if not items:
            raise EmptyInvoice(document_id=invoice_id)
        return cls.draft(
            invoice_id,
            order.customer_id,
            items,
            order.currency,
            prices=PriceBasis.TAX_EXCLUSIVE,
            tax_rounding=tax_rounding,
            order_date=order.placed_on or order.created_on,
            delivery_date=delivery_date,
        )

    def add_line(self, line: InvoiceableLine) -> Invoice:
        """The draft with one more line."""
        return self._with_items((*self._items, line), "add a line")

    def remove_line(self, line_number: int) -> Invoice:
        """The draft without its line ``line_number`` (1-based)."""
        self._require_draft("remove a line")
        self._line_index(line_number)
        items = tuple(item for i, item in enumerate(self._items, start=1) if i != line_number)
        return self._with_items(items, "remove a line")

    def _with_items(self, items: tuple[InvoiceableLine, ...], attempted: str) -> Invoice:
        self._require_draft(attempted)
        if not items:
            raise EmptyInvoice(document_id=self.invoice_id)
        return attrs.evolve(
            self,
            amounts=compute_amounts(items, self.currency, self.prices, self.tax_rounding),
            credited_quantities=(),
        )

    def _require_draft(self, attempted: str) -> None:
        if self.state is not InvoiceState.DRAFT:
            raise InvoiceImmutable(invoice_number=number_of(self.number), attempted=attempted)

    # -- reading --

    @property
    def _items(self) -> tuple[InvoiceableLine, ...]:
        return tuple(line.item for line in self.amounts.lines)

    def quantities_by_order_line(self, order_id: str | None = None) -> dict[str, Decimal]:
        """The quantities this invoice bills, summed per order line id, for one order.

        This is what to record on the order (:meth:`~o2c.domain.orders.Order.record_invoice`).
        ``order_id`` may be left out when the invoice bills a single order; for an invoice of
        several orders it must name one (:class:`InvalidInput` otherwise). Lines of no order (a
        manual charge) are left out.
        """
        orders = {line.item.order_id for line in self.lines if line.item.order_id}
        if order_id is None:
            if len(orders) > 1:
                raise InvalidInput(
                    field="order id",
                    value=", ".join(sorted(orders)),
                    reason=f"{self.invoice_id} bills several orders; name one",
                )
            order_id = next(iter(orders), "")
        billed: dict[str, Decimal] = {}
        for line in self.lines:
            item = line.item
            if item.order_id and item.order_id == order_id:
                billed[item.order_line_id] = billed.get(item.order_line_id, _ZERO) + item.quantity
        return billed

    @property
    def open(self) -> Money:
        """What is still owed: the gross until issued, then the open item's open amount."""
        return self.open_item.open if self.open_item is not None else self.gross

    @property
    def payment_reference(self) -> str | None:
        """The structured reference the customer pays with (an ISO 11649 ``RF…`` creditor
        reference made from the number), printed on the invoice; ``None`` for a draft."""
        return self.open_item.reference if self.open_item is not None else None

    @property
    def creditable(self) -> Money:
        """What credit notes may still credit: the gross less earlier credit notes."""
        return self.gross - self.credited

    @property
    def customer_credit(self) -> Money:
        """Credit that this invoice's credit notes handed to the customer beyond the open amount."""
        return self.credited - self.credit_applied

    @property
    def due_date(self) -> date | None:
        """The due date of the oldest open instalment (``None`` for a draft)."""
        return self.open_item.due_date if self.open_item is not None else None

    def is_overdue(self, as_of: date) -> bool:
        """Whether something that should be paid by now is still open on ``as_of``."""
        if self.open_item is None or self.state not in (*OPEN_STATES, _S.DISPUTED):
            return False
        return self.open_item.is_overdue(as_of)

    def days_past_due(self, as_of: date) -> int:
        """Days since the oldest open instalment fell due (0 when nothing is overdue)."""
        if self.open_item is None or not self.is_overdue(as_of):
            return 0
        return self.open_item.days_past_due(as_of)

    @property
    def due_on_issue(self) -> Money:
        """What is still open of the instalments due on the invoice date: the part asked in advance.

        A cash-in-advance invoice asks everything on its date; its order ships once this is zero.
        Zero for a draft.
        """
        item = self.open_item
        if item is None:
            return zero(self.currency)
        return total(
            (part.open for part in item.instalments if part.due_date <= item.document_date),
            self.currency,
        )

    @property
    def settled_by_money(self) -> Money:
        """Settled other than by credit notes: payments, discounts and write-offs."""
        return self.received + self.discounted + self.written_off + self.bad_debt

    # -- issuing --

    def issue(
        self,
        number: str,
        on: date,
        terms: SchedulesPayments,
        calendar: BusinessCalendar | None = None,
        reference: str | None = None,
    ) -> Changed[Invoice]:
        """Issue the draft as invoice ``number`` dated ``on`` under ``terms``.

        The number is handed in (numbering without gaps is the caller's); the terms schedule the
        gross total into the open item. The open item carries ``reference``, by default the
        number's ISO 11649 creditor reference (:func:`~o2c.domain.references.creditor_reference`;
        a number with more than 21 letters and digits issues without one). Raises
        :class:`IllegalTransition` unless a draft, :class:`InvalidInput` for an empty number or a
        date before the order date, and :class:`InvalidAmount` for an invoice of zero.
        """
        state = INVOICE_LIFECYCLE.next_state(self.state, _T.ISSUE, entity_id=self.invoice_id)
        if not number:
            raise InvalidInput(field="invoice number", value=number, reason="must not be empty")
        if self.order_date is not None and on < self.order_date:
            raise InvalidInput(
                field="issue date",
                value=on.isoformat(),
                reason=f"before the order date {self.order_date.isoformat()}",
            )
        if self.gross.amount <= 0:
            raise InvalidAmount(value=str(self.gross), reason="an invoice of zero is not issued")
        if calendar is None:
            schedule = terms.schedule(self.gross, on, delivery_date=self.delivery_date)
        else:
            schedule = terms.schedule(
                self.gross, on, calendar=calendar, delivery_date=self.delivery_date
            )
        if reference is None:
            reference = _creditor_reference_of(number)
        item = schedule.to_open_item(number, self.customer_id, on, reference)
        if item.original != self.gross:
            raise InvalidAmount(
                value=str(item.original), reason=f"the schedule does not add up to {self.gross}"
            )
        issued = attrs.evolve(self, state=state, number=number, issue_date=on, open_item=item)
        event = InvoiceIssued(
            invoice_number=number,
            customer_id=self.customer_id,
            on=on,
            currency=self.currency,
            tax_lines=self.tax_lines,
            net=self.totals.net,
            tax=self.totals.tax,
            gross=self.gross,
            due_dates=tuple((part.due_date, part.amount) for part in item.instalments),
            replaces=self.replaces,
            reference=item.reference,
        )
        return Changed(issued, (event,))

    # -- settlement --

    def record_payment(self, amount: Money, on: date, receipt_id: str) -> Changed[Invoice]:
        """Apply ``amount`` received with receipt ``receipt_id``; never more than is open."""
        changed, item = self._settle(amount, on, "payment")
        new = attrs.evolve(changed, received=self.received + amount)
        event = InvoicePaymentRecorded(number_of(self.number), on, amount, receipt_id, item.open)
        return self._after_settlement(new, item, on, event)

    def record_discount(
        self, amount: Money, on: date, receipt_id: str | None = None
    ) -> Changed[Invoice]:
        """Take an early-payment discount earned by paying on ``on``.

        The open item must offer a discount for ``on`` (an untouched invoice within the discount
        period) of at least ``amount``; record the discount before the payment it goes with.
        Raises :class:`DiscountNotEarned` otherwise.
        """
        self._guard(*_SETTLING)
        item = self._item
        offer = item.discount_on(on)
        if offer is None or amount.currency.code != self.currency or amount > offer.discount:
            raise DiscountNotEarned(
                invoice_number=number_of(self.number),
                on=on.isoformat(),
                requested=str(amount),
                offered=str(offer.discount) if offer is not None else "nothing",
            )
        changed, item = self._settle(amount, on, "discount")
        new = attrs.evolve(changed, discounted=self.discounted + amount)
        event = InvoiceDiscountGranted(
            number_of(self.number), on, amount, receipt_id, item.open, self.customer_id
        )
        return self._after_settlement(new, item, on, event)

    def record_write_off(
        self,
        amount: Money,
        on: date,
        reason: str,
        kind: WriteOffKind = WriteOffKind.SMALL_DIFFERENCE,
        tolerance: Money | None = None,
    ) -> Changed[Invoice]:
        """Write off ``amount`` of the open amount.

        A small difference must close the invoice (the rest of a short payment) and, when a
        ``tolerance`` is given, not exceed it (:class:`WriteOffAboveTolerance`); the invoice is
        then paid. A bad debt may be part of the open amount; when it closes the invoice, the
        invoice is written off.
        """
        closing = _T.WRITE_OFF if kind is WriteOffKind.BAD_DEBT else _T.SETTLE
        self._guard(_T.SETTLE_IN_PART, closing)
        if kind is WriteOffKind.SMALL_DIFFERENCE:
            _ensure_money(amount, self.currency)
            if tolerance is not None and amount > _ensure_money(tolerance, self.currency):
                raise WriteOffAboveTolerance(
                    invoice_number=number_of(self.number),
                    amount=str(amount),
                    tolerance=str(tolerance),
                )
            if amount < self.open:
                raise InvalidAmount(
                    value=str(amount),
                    reason=f"a small-difference write-off must close the invoice; {self.open} open",
                )
        changed, item = self._settle(amount, on, "write-off", closing)
        if kind is WriteOffKind.BAD_DEBT:
            new = attrs.evolve(
                changed,
                bad_debt=self.bad_debt + amount,
                bad_debt_write_offs=(
                    *self.bad_debt_write_offs,
                    BadDebtWriteOff(on, amount, reason),
                ),
            )
        else:
            new = attrs.evolve(changed, written_off=self.written_off + amount)
        event = InvoiceWrittenOff(
            number_of(self.number), on, amount, kind, reason, item.open, self.customer_id
        )
        return self._after_settlement(new, item, on, event, closing)

    def record_settlement(
        self,
        on: date,
        receipt_id: str,
        *,
        paid: Money,
        discount: Money | None = None,
        write_off: Money | None = None,
        write_off_reason: str | None = None,
    ) -> Changed[Invoice]:
        """Record what one allocation of a receipt settled on this invoice.

        The discount comes first (it is offered on the untouched invoice only), then the money
        paid, then the small difference written off that closes the invoice. Money that arrived
        before the invoice was issued (a prepayment) settles it on its issue date.
        """
        if self.issue_date is not None and on < self.issue_date:
            on = self.issue_date
        invoice = self
        events: list[DomainEvent] = []
        if discount is not None and discount.amount > 0:
            invoice, found = invoice.record_discount(discount, on, receipt_id)
            events.extend(found)
        if paid.amount > 0:
            invoice, found = invoice.record_payment(paid, on, receipt_id)
            events.extend(found)
        if write_off is not None and write_off.amount > 0:
            invoice, found = invoice.record_write_off(
                write_off, on, write_off_reason or "short_payment", WriteOffKind.SMALL_DIFFERENCE
            )
            events.extend(found)
        return Changed(invoice, tuple(events))

    def reverse_payment(
        self,
        amount: Money,
        on: date,
        receipt_id: str,
        *,
        discount: Money | None = None,
        write_off: Money | None = None,
    ) -> Changed[Invoice]:
        """Reverse ``amount`` of earlier payments (a bounced receipt): the invoice opens again.

        Only money received can be reversed. ``discount`` and ``write_off`` are the early-payment
        discount and the small difference that the bounced payment earned: they go away with it
        (pass what the receipt's allocation settled besides cash). The open amount never exceeds
        what is left to credit; where an earlier credit note handed out customer credit, that
        credit covers the rest and is reported as reclaimed on the
        :class:`~o2c.domain.invoicing.lifecycle.InvoiceReopened` event.

        A fully credited invoice stays credited (the lifecycle keeps it there): nothing is left to
        credit, so nothing reopens and the credit its notes handed out covers the whole reversed
        payment (a card refund or chargeback after a full credit note).
        """
        self._guard(_T.REOPEN_IN_PART, _T.REOPEN)
        self._check_amount(amount, on, "reversal")
        if amount > self.received:
            raise InvalidAmount(
                value=str(amount),
                reason=f"more than the {self.received} received on {number_of(self.number)}",
            )
        no_discount = discount is None or discount.amount == 0
        no_write_off = write_off is None or write_off.amount == 0
        for part, limit, what in (
            (discount, self.discounted, "discount"),
            (write_off, self.written_off, "small difference written off"),
        ):
            if part is None or part.amount == 0:
                continue
            self._check_amount(part, on, "reversal")
            if part > limit:
                raise InvalidAmount(
                    value=str(part),
                    reason=f"more than the {limit} {what} on {number_of(self.number)}",
                )
        taken_off = _zero_of_document(self) if no_discount or discount is None else discount
        forgiven = _zero_of_document(self) if no_write_off or write_off is None else write_off
        item = self._item
        capacity = self.creditable - item.open
        settled = amount + taken_off + forgiven
        reopened = min(settled, capacity)
        reclaimed = settled - reopened
        new_item = item.reopen(reopened) if reopened.amount > 0 else item
        new = attrs.evolve(
            self,
            open_item=new_item,
            received=self.received - amount,
            discounted=self.discounted - taken_off,
            written_off=self.written_off - forgiven,
            credit_applied=self.credit_applied + reclaimed,
        )
        if self.state is _S.DISPUTED:
            trigger = _T.REOPEN_IN_PART
        else:
            trigger = _T.REOPEN_IN_PART if new.settled_by_money.amount > 0 else _T.REOPEN
        state = INVOICE_LIFECYCLE.next_state(self.state, trigger, entity_id=self.number)
        event = InvoiceReopened(
            number_of(self.number),
            on,
            amount,
            receipt_id,
            reopened,
            reclaimed,
            new_item.open,
            self.customer_id,
            None if no_discount else taken_off,
            None if no_write_off else forgiven,
        )
        return Changed(attrs.evolve(new, state=state), (event,))

    # -- disputes --

    def dispute(self, on: date, reason: str) -> Changed[Invoice]:
        """The customer disputes the invoice: dunning pauses until the dispute is resolved."""
        state = INVOICE_LIFECYCLE.next_state(self.state, _T.DISPUTE, entity_id=self.number)
        self._check_date(on, "dispute date")
        new = attrs.evolve(self, state=state, open_item=attrs.evolve(self._item, disputed=True))
        return Changed(new, (InvoiceDisputed(number_of(self.number), on, reason),))

    def resolve_dispute(self, on: date, resolution: str) -> Changed[Invoice]:
        """End the dispute: back to issued, or partially paid if something was settled by money."""
        trigger = _T.RESOLVE_PART_PAID if self.settled_by_money.amount > 0 else _T.RESOLVE_UNPAID
        state = INVOICE_LIFECYCLE.next_state(self.state, trigger, entity_id=self.number)
        self._check_date(on, "resolution date")
        new = attrs.evolve(self, state=state, open_item=attrs.evolve(self._item, disputed=False))
        return Changed(new, (InvoiceDisputeResolved(number_of(self.number), on, resolution),))

    # -- credit notes --

    def apply_credit_note(self, note: CreditNote) -> Changed[Invoice]:
        """Apply a credit note issued against this invoice.

        It comes off the open amount as far as that goes; the rest is customer credit (reported on
        the :class:`~o2c.domain.invoicing.lifecycle.CreditNoteIssued` event). Raises
        :class:`OverCredit` if it credits more than is left, :class:`InvalidInput` for another
        invoice's note or one applied before.
        """
        self._guard(_T.CREDIT_IN_PART, _T.CREDIT)
        number = number_of(self.number)
        if note.invoice_number != self.number or note.customer_id != self.customer_id:
            raise InvalidInput(
                field="credit note", value=note.number, reason=f"not a credit note of {number}"
            )
        if note.number in self.credit_notes:
            raise InvalidInput(field="credit note", value=note.number, reason="already applied")
        if note.currency != self.currency:
            raise CurrencyMismatch(expected=self.currency, actual=note.currency)
        self._check_date(note.issue_date, "credit note date")
        check_creditable(self, note.amounts, note.credited_quantities)
        gross = note.gross
        item = self._item
        applied = min(gross, item.open)
        customer_credit = gross - applied
        new_item = item.apply(applied) if applied.amount > 0 else item
        credited = self.credited + gross
        new = attrs.evolve(
            self,
            open_item=new_item,
            credited=credited,
            credit_applied=self.credit_applied + applied,
            credited_tax_lines=add_tax_lines(self.credited_tax_lines, note.tax_lines),
            credited_quantities=tuple(
                a + b
                for a, b in zip(self.credited_quantities, note.credited_quantities, strict=True)
            ),
            credit_notes=(*self.credit_notes, note.number),
        )
        events: list[DomainEvent] = [
            CreditNoteIssued(
                credit_note_number=note.number,
                invoice_number=number,
                customer_id=self.customer_id,
                on=note.issue_date,
                currency=self.currency,
                tax_lines=note.tax_lines,
                net=note.amounts.totals.net,
                tax=note.amounts.totals.tax,
                gross=gross,
                applied=applied,
                customer_credit=customer_credit,
                reason=note.reason,
            )
        ]
        if credited == self.gross:
            trigger = _T.CREDIT
            events.append(InvoiceCredited(number, note.issue_date))
        elif new_item.is_settled and not item.is_settled:
            trigger = _T.SETTLE
            events.append(InvoicePaid(number, note.issue_date))
        else:
            trigger = _T.CREDIT_IN_PART
        state = INVOICE_LIFECYCLE.next_state(self.state, trigger, entity_id=self.number)
        if state is not _S.DISPUTED and new_item.disputed:
            new_item = attrs.evolve(new_item, disputed=False)
        return Changed(attrs.evolve(new, state=state, open_item=new_item), tuple(events))

    # -- helpers --

    @property
    def _item(self) -> OpenItem:
        assert self.open_item is not None  # every state past the guard has one
        return self.open_item

    def _guard(self, *triggers: InvoiceTrigger) -> None:
        if not any(INVOICE_LIFECYCLE.can(self.state, t) for t in triggers):
            INVOICE_LIFECYCLE.next_state(self.state, triggers[0], entity_id=self.number)

    def _check_date(self, on: date, field: str) -> None:
        if self.issue_date is not None and on < self.issue_date:
            raise InvalidInput(
                field=field,
                value=on.isoformat(),
                reason=f"before the invoice date {self.issue_date.isoformat()}",
            )

    def _check_amount(self, amount: Money, on: date, what: str) -> None:
        if amount.currency.code != self.currency:
            raise CurrencyMismatch(expected=self.currency, actual=amount.currency.code)
        if amount.amount <= 0 or not is_exact(amount):
            raise InvalidAmount(
                value=str(amount), reason=f"a {what} must be positive and exact in its currency"
            )
        self._check_date(on, f"{what} date")

    def _settle(
        self, amount: Money, on: date, what: str, closing: InvoiceTrigger = _T.SETTLE
    ) -> tuple[Invoice, OpenItem]:
        self._guard(_T.SETTLE_IN_PART, closing)
        self._check_amount(amount, on, what)
        item = self._item.apply(amount)  # OverAllocation beyond the open amount
        return attrs.evolve(self, open_item=item), item

    def _after_settlement(
        self,
        new: Invoice,
        item: OpenItem,
        on: date,
        event: DomainEvent,
        closing: InvoiceTrigger = _T.SETTLE,
    ) -> Changed[Invoice]:
        trigger = closing if item.is_settled else _T.SETTLE_IN_PART
        state = INVOICE_LIFECYCLE.next_state(self.state, trigger, entity_id=self.number)
        events: tuple[DomainEvent, ...] = (event,)
        if state is _S.PAID:
            events = (event, InvoicePaid(number_of(self.number), on))
        if state is not _S.DISPUTED and item.disputed:
            item = attrs.evolve(item, disputed=False)
        return Changed(attrs.evolve(new, state=state, open_item=item), events)

    def _line_index(self, line_number: int) -> int:
        if not 1 <= line_number <= len(self.amounts.lines):
            raise UnknownLine(document_id=number_of(self.number), line_id=str(line_number))
        return line_number - 1
