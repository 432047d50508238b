"""Invoices and credit notes: priced lines, tax lines, totals that reconcile, and a lifecycle.

Documents
    An :class:`Invoice` is built as a draft from plain :class:`InvoiceableLine` values (order and
    line ids, product, quantity, unit price, line discounts, tax category), so invoicing does not
    depend on how orders are stored. :func:`lines_from_order` and :meth:`Invoice.from_order` take
    them from an :class:`~o2c.domain.orders.Order` under its
    :class:`~o2c.domain.orders.InvoicingPolicy`, asking the order what may be invoiced (one rule,
    kept by the order); :meth:`Invoice.quantities_by_order_line` gives back the quantities to record
    on the order. Once issued with a number it is immutable: its lines, tax lines and totals never
    change again; mistakes are fixed with a :class:`CreditNote` and, where needed, a revised invoice
    (:meth:`Invoice.revise`) that names the invoice it replaces.

Amounts
    Every line amount is ``quantity x net unit price`` rounded HALF_UP to the currency, where the
    net unit price is ``unit price x (1 - discount % / 100) - unit discount``: the same rule
    (:mod:`o2c.domain.pricing`) that prices order lines. Prices are tax-exclusive or tax-inclusive
    (:class:`PriceBasis`, one flag per document) and tax is rounded per line or once per tax
    category (:class:`TaxRounding`, per document by default). :func:`compute_amounts` is the one
    function that turns lines into amounts, for invoices and credit notes alike. Its results always
    reconcile exactly: every line's net + tax is its gross, the lines' nets and taxes add up to the
    tax lines, the tax lines to the totals, and gross = net + tax. See :func:`compute_amounts` for
    the methods.

Receivable
    On issue the invoice's terms turn the gross total into a payment schedule and an
    :class:`~o2c.domain.receivables.OpenItem`; that open item is the single record of what is still
    owed, per instalment. Payments, discounts, write-offs and credit notes reduce it; a reversed
    payment reopens it. The invoice keeps running totals of each kind so that the lifecycle state
    can be decided by plain guards on amounts, and so a reversal never reopens money that a credit
    note took off. "Overdue" is derived from the due date and an as-of date, never stored.

Credit notes
    A credit note never credits more than is left on the invoice: its gross and its per-category
    base and tax are checked against the invoice minus earlier credit notes (:class:`OverCredit`),
    and a credit by lines never returns more than was invoiced of a line. Applying a credit note
    takes off what is open; whatever it credits beyond that (the invoice was already paid) is
    customer credit, reported on the :class:`CreditNoteIssued` event for the caller to hold on
    account or refund.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

import attrs

from o2c.domain.calendar import BusinessCalendar
from o2c.domain.errors import (
    CurrencyMismatch,
    DiscountNotEarned,
    EmptyInvoice,
    InvalidAmount,
    InvalidInput,
    InvalidQuantity,
    InvoiceImmutable,
    OverCredit,
    UnknownLine,
    WriteOffAboveTolerance,
)
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import (
    Currency,
    Money,
    Rounding,
    allocate,
    as_currency,
    is_exact,
    quantize,
    total,
    unit_price,
    zero,
)
from o2c.domain.orders import InvoicingPolicy, Order, OrderLine, QuantityLike
from o2c.domain.pricing import LINE_ROUNDING, check_discount_percent, line_amount, net_unit_price
from o2c.domain.receivables import OpenItem
from o2c.domain.tax import TaxCategory

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

#: How tax is rounded to the currency.
TAX_ROUNDING = Rounding.HALF_UP

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
# Products and quotients of prices, quantities and rates are taken at 60 digits, far beyond any
# amount o2c accepts, so the one rounding that matters is the named quantize to the currency.
_CALC = decimal.Context(
    prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation, decimal.Overflow]
)


# --- pricing ----------------------------------------------------------------------------------


class PriceBasis(enum.Enum):
    """Whether a document's unit prices exclude or include tax."""

    TAX_EXCLUSIVE = "tax_exclusive"
    """Prices are net; tax is added on top (business customers)."""
    TAX_INCLUSIVE = "tax_inclusive"
    """Prices are gross; net and tax are extracted from them (shops selling to consumers)."""


class TaxRounding(enum.Enum):
    """Where tax is rounded to the currency."""

    PER_DOCUMENT = "per_document"
    """Once per tax category, on the category's summed amount (EN 16931's model; the default)."""
    PER_LINE = "per_line"
    """On every line; the category's tax is the sum of the rounded line taxes."""


def _is_positive_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0


def _check_quantity(_instance: object, _attribute: object, value: Decimal) -> None:
    if not _is_positive_decimal(value):
        raise InvalidQuantity(
            field="quantity", value=str(value), reason="must be a positive, finite Decimal"
        )


def _check_discount(_instance: object, _attribute: object, value: Decimal) -> None:
    check_discount_percent(value, "line discount")


def _check_unit_price(_instance: object, _attribute: object, value: Money) -> None:
    if value.amount < 0:
        raise InvalidAmount(value=str(value), reason="a unit price must not be negative")
    unit_price(value.amount, value.currency)  # refuses excess precision


@attrs.frozen
class InvoiceableLine:
    """What to invoice of one order line: the input to an invoice or credit note line.

    ``unit_price`` (and ``unit_discount``) are net or gross according to the document's
    :class:`PriceBasis`. The discounts apply as on the order line: the percentage first, then the
    fixed amount per unit.
    """

    order_id: str
    order_line_id: str
    product_id: str
    description: str
    quantity: Decimal = attrs.field(validator=_check_quantity)
    unit_price: Money = attrs.field(validator=_check_unit_price)
    tax_category: TaxCategory
    discount_percent: Decimal = attrs.field(default=_ZERO, validator=_check_discount)
    unit_discount: Money | None = None
    """A fixed amount taken off each unit, after the percentage."""
    _net_unit_price: Decimal = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        price = net_unit_price(self.unit_price, self.discount_percent, self.unit_discount)
        object.__setattr__(self, "_net_unit_price", price)

    @classmethod
    def from_order_line(cls, order_id: str, line: OrderLine, quantity: Decimal) -> InvoiceableLine:
        """``quantity`` of an order line, with the line's product, prices, discounts and tax."""
        return cls(
            order_id=order_id,
            order_line_id=line.line_id,
            product_id=line.product_id,
            description=line.description,
            quantity=quantity,
            unit_price=line.unit_price,
            tax_category=line.tax,
            discount_percent=line.discount_percent,
            unit_discount=line.unit_discount,
        )

    @property
    def currency(self) -> Currency:
        """The currency of the unit price."""
        return self.unit_price.currency

    @property
    def net_unit_price(self) -> Decimal:
        """The exact price of one unit after both discounts (not rounded)."""
        return self._net_unit_price

    def amount(self) -> Money:
        """Quantity x net unit price, rounded HALF_UP to the currency."""
        return line_amount(self.quantity, self._net_unit_price, self.currency)


@attrs.frozen
class InvoiceLine:
    """A priced line of an invoice or credit note.

    ``amount`` is the line amount in the document's price basis (net when prices exclude tax,
    gross when they include it). ``net`` and ``tax`` are the line's share of its tax category;
    with per-document rounding the category's tax is spread over its lines by largest remainder,
    so ``net + tax == gross`` holds on every line and the lines add up to the tax lines exactly.
    """

    item: InvoiceableLine
    amount: Money
    net: Money
    tax: Money

    @property
    def gross(self) -> Money:
        """Net plus tax."""
        return self.net + self.tax

    @property
    def quantity(self) -> Decimal:
        """The invoiced quantity."""
        return self.item.quantity

    @property
    def tax_category(self) -> TaxCategory:
        """The line's tax category."""
        return self.item.tax_category


@attrs.frozen
class TaxLine:
    """One tax category of a document: the taxable base, the rate and the tax amount."""

    category: TaxCategory
    base: Money
    tax: Money

    @property
    def rate(self) -> Decimal:
        """The category's rate in percent."""
        return self.category.rate

    @property
    def gross(self) -> Money:
        """Base plus tax."""
        return self.base + self.tax


@attrs.frozen
class Totals:
    """A document's totals; ``gross == net + tax`` always."""

    net: Money
    tax: Money
    gross: Money

    def __attrs_post_init__(self) -> None:
        if self.net + self.tax != self.gross:
            raise InvalidAmount(
                value=f"{self.net} + {self.tax} != {self.gross}", reason="totals do not reconcile"
            )


@attrs.frozen
class DocumentAmounts:
    """Lines, tax lines and totals of one document, checked to reconcile to the minor unit."""

    currency: str
    lines: tuple[InvoiceLine, ...]
    tax_lines: tuple[TaxLine, ...]
    totals: Totals

    def __attrs_post_init__(self) -> None:
        cur = self.currency
        for line in self.lines:
            if line.amount.currency.code != cur:
                raise CurrencyMismatch(expected=cur, actual=line.amount.currency.code)
        for tax_line in self.tax_lines:
            lines = [line for line in self.lines if line.tax_category == tax_line.category]
            if (
                total((line.net for line in lines), cur) != tax_line.base
                or total((line.tax for line in lines), cur) != tax_line.tax
            ):
                raise InvalidAmount(
                    value=tax_line.category.label, reason="lines do not add up to the tax line"
                )
        if len({t.category for t in self.tax_lines}) != len(self.tax_lines) or {
            line.tax_category for line in self.lines
        } != {t.category for t in self.tax_lines}:
            raise InvalidAmount(value=cur, reason="one tax line per tax category of the lines")
        if (
            total((t.base for t in self.tax_lines), cur) != self.totals.net
            or total((t.tax for t in self.tax_lines), cur) != self.totals.tax
        ):
            raise InvalidAmount(value=str(self.totals), reason="tax lines do not add up to totals")

    def tax_line(self, category: TaxCategory) -> TaxLine | None:
        """The tax line of ``category``, if the document has one."""
        for tax_line in self.tax_lines:
            if tax_line.category == category:
                return tax_line
        return None


def _tax_of(base: Decimal, rate: Decimal, currency: Currency) -> Money:
    return quantize(_CALC.divide(_CALC.multiply(base, rate), _HUNDRED), TAX_ROUNDING, currency)


def _tax_within(gross: Decimal, rate: Decimal, currency: Currency) -> Money:
    return quantize(
        _CALC.divide(_CALC.multiply(gross, rate), _HUNDRED + rate), TAX_ROUNDING, currency
    )


def _spread(amount: Money, weights: Sequence[Money]) -> tuple[Money, ...]:
    """``amount`` split over lines in proportion to their amounts (all zero when they are)."""
    if not any(w.amount for w in weights):
        return tuple(zero(amount.currency) for _ in weights)
    return allocate(amount, [w.amount for w in weights])


def compute_amounts(
    items: Sequence[InvoiceableLine],
    currency: str | Currency,
    prices: PriceBasis = PriceBasis.TAX_EXCLUSIVE,
    tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT,
) -> DocumentAmounts:
    """Price lines and compute tax lines and totals, reconciled to the minor unit.

    Each line amount is rounded HALF_UP first (:meth:`InvoiceableLine.amount`). Then, per tax
    category at rate ``r``:

    * tax-exclusive, per line: each line's tax is ``amount x r / 100`` rounded HALF_UP;
    * tax-exclusive, per document: the tax is ``(sum of amounts) x r / 100`` rounded HALF_UP
      once, then spread over the lines by largest remainder;
    * tax-inclusive, per line: each line's tax is ``gross x r / (100 + r)`` rounded HALF_UP and its
      net is ``gross - tax``;
    * tax-inclusive, per document: the category's gross is summed, its tax is
      ``gross x r / (100 + r)`` rounded HALF_UP, its net is ``gross - tax``, and the net is
      allocated back to the lines by largest remainder in proportion to their gross amounts (each
      line's tax is its gross less its net), so the lines add up exactly.

    Raises :class:`EmptyInvoice` for no lines and :class:`CurrencyMismatch` for a line priced in
    another currency.
    """
    cur = as_currency(currency)
    if not items:
        raise EmptyInvoice(document_id="")
    amounts: list[Money] = []
    for item in items:
        if item.currency != cur:
            raise CurrencyMismatch(expected=cur.code, actual=item.currency.code)
        amounts.append(item.amount())
    categories: list[TaxCategory] = []
    for item in items:
        if item.tax_category not in categories:
            categories.append(item.tax_category)
    nets: list[Money] = list(amounts)
    taxes: list[Money] = [zero(cur)] * len(items)
    tax_lines: list[TaxLine] = []
    inclusive = prices is PriceBasis.TAX_INCLUSIVE
    for category in categories:
        rate = category.rate
        members = [i for i, item in enumerate(items) if item.tax_category == category]
        if tax_rounding is TaxRounding.PER_LINE:
            for i in members:
                if inclusive:
                    taxes[i] = _tax_within(amounts[i].amount, rate, cur)
                    nets[i] = amounts[i] - taxes[i]
                else:
                    taxes[i] = _tax_of(amounts[i].amount, rate, cur)
        else:
            summed = total((amounts[i] for i in members), cur)
            if inclusive:
                category_tax = _tax_within(summed.amount, rate, cur)
                shares = _spread(summed - category_tax, [amounts[i] for i in members])
                for i, share in zip(members, shares, strict=True):
                    nets[i] = share
                    taxes[i] = amounts[i] - share
            else:
                category_tax = _tax_of(summed.amount, rate, cur)
                shares = _spread(category_tax, [amounts[i] for i in members])
                for i, share in zip(members, shares, strict=True):
                    taxes[i] = share
        tax_lines.append(
            TaxLine(
                category,
                total((nets[i] for i in members), cur),
                total((taxes[i] for i in members), cur),
            )
        )
    return _assemble(
        cur.code,
        tuple(
            InvoiceLine(item, amount, net, tax)
            for item, amount, net, tax in zip(items, amounts, nets, taxes, strict=True)
        ),
        tuple(tax_lines),
    )


def _assemble(
    currency: str, lines: tuple[InvoiceLine, ...], tax_lines: tuple[TaxLine, ...]
) -> DocumentAmounts:
    net = total((t.base for t in tax_lines), currency)
    tax = total((t.tax for t in tax_lines), currency)
    return DocumentAmounts(currency, lines, tax_lines, Totals(net, tax, net + tax))


# --- invoicing an order ----------------------------------------------------------------------


def lines_from_order(
    order: Order,
    policy: InvoicingPolicy | None = None,
    quantities: Mapping[str, QuantityLike] | None = None,
) -> tuple[InvoiceableLine, ...]:
    """What to invoice of ``order`` now: one line per order line with something to invoice.

    Without ``quantities`` every line contributes all it may still be invoiced under ``policy``
    (by default the order's own; a stricter one may be asked for). With them, only the named
    lines, each refused with :class:`~o2c.domain.errors.OverInvoicing` beyond that bound. The
    bound is the order's rule (:meth:`~o2c.domain.orders.Order.check_invoiceable`), the same that
    :meth:`~o2c.domain.orders.Order.record_invoice` applies. Returns ``()`` when nothing can be
    invoiced.
    """
    if quantities is None:
        wanted = order.invoiceable_quantities(policy)
    else:
        wanted = {
            item.line_id: item.quantity for item in order.check_invoiceable(quantities, policy)
        }
    return tuple(
        InvoiceableLine.from_order_line(order.order_id, line, wanted[line.line_id])
        for line in order.lines
        if line.line_id in wanted
    )


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


# --- the invoice lifecycle --------------------------------------------------------------------


class InvoiceState(enum.Enum):
    """Where an invoice is in its life. Overdue is no state: see :meth:`Invoice.is_overdue`."""

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
_OPEN = (_S.ISSUED, _S.PARTIALLY_PAID)

#: The invoice lifecycle. Which settlement trigger applies is decided by guards on the open amount.
INVOICE_LIFECYCLE: Lifecycle[InvoiceState, InvoiceTrigger] = Lifecycle.of(
    "invoice",
    _S.DRAFT,
    [
        (_S.DRAFT, _T.ISSUE, _S.ISSUED),
        (_OPEN, _T.SETTLE_IN_PART, _S.PARTIALLY_PAID),
        (_S.DISPUTED, _T.SETTLE_IN_PART, _S.DISPUTED),
        ((_S.PARTIALLY_PAID, _S.ISSUED, _S.DISPUTED), _T.SETTLE, _S.PAID),
        ((_S.PAID, _S.PARTIALLY_PAID), _T.REOPEN_IN_PART, _S.PARTIALLY_PAID),
        ((_S.PAID, _S.PARTIALLY_PAID), _T.REOPEN, _S.ISSUED),
        (_S.DISPUTED, _T.REOPEN_IN_PART, _S.DISPUTED),
        (_S.DISPUTED, _T.REOPEN, _S.DISPUTED),
        (_OPEN, _T.DISPUTE, _S.DISPUTED),
        (_S.DISPUTED, _T.RESOLVE_UNPAID, _S.ISSUED),
        (_S.DISPUTED, _T.RESOLVE_PART_PAID, _S.PARTIALLY_PAID),
        ((*_OPEN, _S.DISPUTED), _T.WRITE_OFF, _S.WRITTEN_OFF),
        (_S.ISSUED, _T.CREDIT_IN_PART, _S.ISSUED),
        (_S.PARTIALLY_PAID, _T.CREDIT_IN_PART, _S.PARTIALLY_PAID),
        (_S.DISPUTED, _T.CREDIT_IN_PART, _S.DISPUTED),
        (_S.PAID, _T.CREDIT_IN_PART, _S.PAID),
        ((*_OPEN, _S.DISPUTED, _S.PAID), _T.CREDIT, _S.CREDITED),
    ],
)

_SETTLING = (_T.SETTLE_IN_PART, _T.SETTLE)


class WriteOffKind(enum.Enum):
    """Why an amount of an invoice is written off."""

    SMALL_DIFFERENCE = "small_difference"
    """A short payment within tolerance: the rest is written off and the invoice counts as paid."""
    BAD_DEBT = "bad_debt"
    """The customer will not pay; writing off the whole rest makes the invoice written off."""


@attrs.frozen
class BadDebtWriteOff:
    """An amount of an invoice written off as bad debt, on the date it was decided."""

    on: date
    amount: Money
    reason: str


# --- events -----------------------------------------------------------------------------------


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


# --- the invoice ------------------------------------------------------------------------------


def _number_of(text: str | None) -> str:
    return text or "(draft)"


def _ensure_money(amount: Money, currency: str) -> Money:
    """``amount`` if it is in ``currency``; :class:`CurrencyMismatch` otherwise."""
    if amount.currency.code != currency:
        raise CurrencyMismatch(expected=currency, actual=amount.currency.code)
    return amount


def _zero_of_document(document: Invoice) -> Money:
    return zero(document.currency)


class _PricedDocument:
    """What invoices and credit notes read alike from their :class:`DocumentAmounts`."""

    __slots__ = ()
    amounts: DocumentAmounts

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        """The priced lines."""
        return self.amounts.lines

    @property
    def tax_lines(self) -> tuple[TaxLine, ...]:
        """One tax line per tax category."""
        return self.amounts.tax_lines

    @property
    def totals(self) -> Totals:
        """Net, tax and gross."""
        return self.amounts.totals

    @property
    def gross(self) -> Money:
        """The gross total."""
        return self.amounts.totals.gross


@attrs.frozen
class Invoice(_PricedDocument):
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
                value=_number_of(replaced.number),
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
        """A draft invoice of what :func:`lines_from_order` says may be invoiced of ``order``.

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
            raise InvoiceImmutable(invoice_number=_number_of(self.number), attempted=attempted)

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
        if self.open_item is None or self.state not in (*_OPEN, _S.DISPUTED):
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
        gross total into the open item. Raises :class:`IllegalTransition` unless a draft,
        :class:`InvalidInput` for an empty number or a date before the order date, and
        :class:`InvalidAmount` for an invoice of zero.
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
        )
        return Changed(issued, (event,))

    # -- settlement --

    def record_payment(self, amount: Money, on: date, receipt_id: str) -> Changed[Invoice]:
        """Apply ``amount`` received with receipt ``receipt_id``; never more than is open."""
        changed, item = self._settle(amount, on, "payment")
        new = attrs.evolve(changed, received=self.received + amount)
        event = InvoicePaymentRecorded(_number_of(self.number), on, amount, receipt_id, item.open)
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
                invoice_number=_number_of(self.number),
                on=on.isoformat(),
                requested=str(amount),
                offered=str(offer.discount) if offer is not None else "nothing",
            )
        changed, item = self._settle(amount, on, "discount")
        new = attrs.evolve(changed, discounted=self.discounted + amount)
        event = InvoiceDiscountGranted(
            _number_of(self.number), on, amount, receipt_id, item.open, self.customer_id
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
                    invoice_number=_number_of(self.number),
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
            _number_of(self.number), on, amount, kind, reason, item.open, self.customer_id
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
        credit covers the rest and is reported as reclaimed on the :class:`InvoiceReopened` event.
        """
        self._guard(_T.REOPEN_IN_PART, _T.REOPEN)
        self._check_amount(amount, on, "reversal")
        if amount > self.received:
            raise InvalidAmount(
                value=str(amount),
                reason=f"more than the {self.received} received on {_number_of(self.number)}",
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
                    reason=f"more than the {limit} {what} on {_number_of(self.number)}",
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
            _number_of(self.number),
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
        return Changed(new, (InvoiceDisputed(_number_of(self.number), on, reason),))

    def resolve_dispute(self, on: date, resolution: str) -> Changed[Invoice]:
        """End the dispute: back to issued, or partially paid if something was settled by money."""
        trigger = _T.RESOLVE_PART_PAID if self.settled_by_money.amount > 0 else _T.RESOLVE_UNPAID
        state = INVOICE_LIFECYCLE.next_state(self.state, trigger, entity_id=self.number)
        self._check_date(on, "resolution date")
        new = attrs.evolve(self, state=state, open_item=attrs.evolve(self._item, disputed=False))
        return Changed(new, (InvoiceDisputeResolved(_number_of(self.number), on, resolution),))

    # -- credit notes --

    def apply_credit_note(self, note: CreditNote) -> Changed[Invoice]:
        """Apply a credit note issued against this invoice.

        It comes off the open amount as far as that goes; the rest is customer credit (reported on
        the :class:`CreditNoteIssued` event). Raises :class:`OverCredit` if it credits more than
        is left, :class:`InvalidInput` for another invoice's note or one applied before.
        """
        self._guard(_T.CREDIT_IN_PART, _T.CREDIT)
        number = _number_of(self.number)
        if note.invoice_number != self.number or note.customer_id != self.customer_id:
            raise InvalidInput(
                field="credit note", value=note.number, reason=f"not a credit note of {number}"
            )
        if note.number in self.credit_notes:
            raise InvalidInput(field="credit note", value=note.number, reason="already applied")
        if note.currency != self.currency:
            raise CurrencyMismatch(expected=self.currency, actual=note.currency)
        self._check_date(note.issue_date, "credit note date")
        _check_creditable(self, note.amounts, note.credited_quantities)
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
            credited_tax_lines=_add_tax_lines(self.credited_tax_lines, note.tax_lines),
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
            events = (event, InvoicePaid(_number_of(self.number), on))
        if state is not _S.DISPUTED and item.disputed:
            item = attrs.evolve(item, disputed=False)
        return Changed(attrs.evolve(new, state=state, open_item=item), events)

    def _line_index(self, line_number: int) -> int:
        if not 1 <= line_number <= len(self.amounts.lines):
            raise UnknownLine(document_id=_number_of(self.number), line_id=str(line_number))
        return line_number - 1


# --- credit notes -----------------------------------------------------------------------------


class CreditNoteKind(enum.Enum):
    """What a credit note credits."""

    FULL = "full"
    """Everything still left to credit on the invoice."""
    LINES = "lines"
    """Quantities of selected invoice lines."""
    AMOUNT = "amount"
    """A gross amount (a price reduction), spread over the tax categories."""


def _add_tax_lines(earlier: tuple[TaxLine, ...], more: tuple[TaxLine, ...]) -> tuple[TaxLine, ...]:
    merged = list(earlier)
    for tax_line in more:
        for i, known in enumerate(merged):
            if known.category == tax_line.category:
                merged[i] = TaxLine(
                    known.category, known.base + tax_line.base, known.tax + tax_line.tax
                )
                break
        else:
            merged.append(tax_line)
    return tuple(merged)


def _credited_in(invoice: Invoice, category: TaxCategory) -> TaxLine:
    for tax_line in invoice.credited_tax_lines:
        if tax_line.category == category:
            return tax_line
    return TaxLine(category, zero(invoice.currency), zero(invoice.currency))


def _check_creditable(
    invoice: Invoice, amounts: DocumentAmounts, quantities: tuple[Decimal, ...]
) -> None:
    """Raise :class:`OverCredit` unless the invoice has this much left to credit."""
    number = _number_of(invoice.number)
    gross = amounts.totals.gross
    if gross > invoice.creditable:
        raise OverCredit(
            invoice_number=number, creditable=str(invoice.creditable), requested=str(gross)
        )
    for tax_line in amounts.tax_lines:
        invoiced = invoice.amounts.tax_line(tax_line.category)
        credited = _credited_in(invoice, tax_line.category)
        if (
            invoiced is None
            or credited.base + tax_line.base > invoiced.base
            or credited.tax + tax_line.tax > invoiced.tax
        ):
            left = (
                "nothing"
                if invoiced is None
                else f"{invoiced.base - credited.base} net, {invoiced.tax - credited.tax} tax"
            )
            raise OverCredit(
                invoice_number=number,
                creditable=f"{left} in {tax_line.category.label}",
                requested=f"{tax_line.base} net, {tax_line.tax} tax",
            )
    if len(quantities) != len(invoice.lines):
        raise InvalidInput(
            field="credited quantities",
            value=str(len(quantities)),
            reason=f"{number} has {len(invoice.lines)} lines",
        )
    for number_of_line, (line, done, asked) in enumerate(
        zip(invoice.lines, invoice.credited_quantities, quantities, strict=True), start=1
    ):
        if asked < 0 or done + asked > line.quantity:
            raise OverCredit(
                invoice_number=number,
                creditable=f"{line.quantity - done} of line {number_of_line}",
                requested=str(asked),
            )


@attrs.frozen
class CreditNote(_PricedDocument):
    """A credit note against an issued invoice: its own number, date, lines, tax lines, totals.

    Build with :meth:`full`, :meth:`for_lines` or :meth:`for_amount`, which check it against what
    is left to credit; apply it with :meth:`Invoice.apply_credit_note`, which checks again (another
    credit note may have been applied in between).
    """

    number: str
    invoice_number: str
    customer_id: str
    currency: str
    issue_date: date
    reason: str
    kind: CreditNoteKind
    amounts: DocumentAmounts
    credited_quantities: tuple[Decimal, ...]
    """Per invoice line, the quantity this note returns (zeros for a credit by amount)."""
    prices: PriceBasis = PriceBasis.TAX_EXCLUSIVE
    tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT

    @classmethod
    def full(cls, invoice: Invoice, number: str, on: date, reason: str) -> CreditNote:
        """Credit everything still left to credit on ``invoice``.

        Without earlier credit notes it repeats the invoice's lines and amounts exactly. After
        earlier ones it credits, per tax category, the invoice's base and tax less what they
        credited, one line per category, so the invoice ends up credited to the minor unit.
        """
        _check_credit_target(invoice, number, on)
        rest = tuple(
            line.quantity - done
            for line, done in zip(invoice.lines, invoice.credited_quantities, strict=True)
        )
        if invoice.creditable.amount <= 0:
            raise OverCredit(
                invoice_number=_number_of(invoice.number),
                creditable=str(invoice.creditable),
                requested="the rest",
            )
        if not invoice.credit_notes:
            amounts = invoice.amounts
        else:
            lines: list[InvoiceLine] = []
            tax_lines: list[TaxLine] = []
            inclusive = invoice.prices is PriceBasis.TAX_INCLUSIVE
            for invoiced in invoice.tax_lines:
                credited = _credited_in(invoice, invoiced.category)
                base, tax = invoiced.base - credited.base, invoiced.tax - credited.tax
                if base.amount == 0 and tax.amount == 0:
                    continue
                amount = base + tax if inclusive else base
                item = InvoiceableLine(
                    order_id="",
                    order_line_id="",
                    product_id="",
                    description=f"rest of invoice {invoice.number} ({invoiced.category.label})",
                    quantity=Decimal(1),
                    unit_price=amount,
                    tax_category=invoiced.category,
                )
                lines.append(InvoiceLine(item, amount, base, tax))
                tax_lines.append(TaxLine(invoiced.category, base, tax))
            amounts = _assemble(invoice.currency, tuple(lines), tuple(tax_lines))
        return cls._checked(
            invoice, number, on, reason, kind=CreditNoteKind.FULL, amounts=amounts, quantities=rest
        )

    @classmethod
    def for_lines(
        cls,
        invoice: Invoice,
        number: str,
        on: date,
        reason: str,
        quantities: Mapping[int, Decimal],
    ) -> CreditNote:
        """Credit ``quantities`` of invoice lines, keyed by line number (1-based).

        The lines are priced again at the invoice's prices, discounts and rounding. A selection
        that returns everything still uncredited is the :meth:`full` credit note, so rounding
        can never leave a minor unit behind or credit one too many.
        """
        _check_credit_target(invoice, number, on)
        if not quantities:
            raise EmptyInvoice(document_id=number)
        asked = [_ZERO] * len(invoice.lines)
        for line_number, quantity in quantities.items():
            index = invoice._line_index(line_number)
            _check_quantity(None, None, quantity)
            asked[index] = quantity
        rest = [
            line.quantity - done
            for line, done in zip(invoice.lines, invoice.credited_quantities, strict=True)
        ]
        if asked == rest:
            return cls.full(invoice, number, on, reason)
        items = [
            attrs.evolve(line.item, quantity=quantity)
            for line, quantity in zip(invoice.lines, asked, strict=True)
            if quantity > 0
        ]
        for index, quantity in enumerate(asked):
            if quantity > rest[index]:
                raise OverCredit(
                    invoice_number=_number_of(invoice.number),
                    creditable=f"{rest[index]} of line {index + 1}",
                    requested=str(quantity),
                )
        amounts = compute_amounts(items, invoice.currency, invoice.prices, invoice.tax_rounding)
        return cls._checked(
            invoice,
            number,
            on,
            reason,
            kind=CreditNoteKind.LINES,
            amounts=amounts,
            quantities=tuple(asked),
        )

    @classmethod
    def for_amount(
        cls, invoice: Invoice, number: str, on: date, reason: str, amount: Money
    ) -> CreditNote:
        """Credit a gross ``amount`` (a price reduction) without returning any quantity.

        The amount is spread over the tax categories in proportion to what is left to credit in
        each (largest remainder), and each category's tax is extracted from its share as for
        tax-inclusive prices rounded per document. Crediting exactly what is left is the
        :meth:`full` credit note.
        """
        _check_credit_target(invoice, number, on)
        if amount.currency.code != invoice.currency:
            raise CurrencyMismatch(expected=invoice.currency, actual=amount.currency.code)
        if amount.amount <= 0 or not is_exact(amount):
            raise InvalidAmount(value=str(amount), reason="must be positive and exact")
        if amount > invoice.creditable:
            raise OverCredit(
                invoice_number=_number_of(invoice.number),
                creditable=str(invoice.creditable),
                requested=str(amount),
            )
        if amount == invoice.creditable:
            return cls.full(invoice, number, on, reason)
        left = [
            (invoiced.category, invoiced.gross - _credited_in(invoice, invoiced.category).gross)
            for invoiced in invoice.tax_lines
        ]
        shares = _spread(amount, [rest for _, rest in left])
        items = [
            InvoiceableLine(
                order_id="",
                order_line_id="",
                product_id="",
                description=reason,
                quantity=Decimal(1),
                unit_price=share,
                tax_category=category,
            )
            for (category, _), share in zip(left, shares, strict=True)
            if share.amount > 0
        ]
        amounts = compute_amounts(
            items, invoice.currency, PriceBasis.TAX_INCLUSIVE, TaxRounding.PER_DOCUMENT
        )
        return cls._checked(
            invoice,
            number,
            on,
            reason,
            kind=CreditNoteKind.AMOUNT,
            amounts=amounts,
            quantities=tuple(_ZERO for _ in invoice.lines),
            prices=PriceBasis.TAX_INCLUSIVE,
            tax_rounding=TaxRounding.PER_DOCUMENT,
        )

    @classmethod
    def _checked(
        cls,
        invoice: Invoice,
        number: str,
        on: date,
        reason: str,
        *,
        kind: CreditNoteKind,
        amounts: DocumentAmounts,
        quantities: tuple[Decimal, ...],
        prices: PriceBasis | None = None,
        tax_rounding: TaxRounding | None = None,
    ) -> CreditNote:
        _check_creditable(invoice, amounts, quantities)
        assert invoice.number is not None  # checked by _check_credit_target
        return cls(
            number=number,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            issue_date=on,
            reason=reason,
            kind=kind,
            amounts=amounts,
            credited_quantities=quantities,
            prices=prices or invoice.prices,
            tax_rounding=tax_rounding or invoice.tax_rounding,
        )


def _check_credit_target(invoice: Invoice, number: str, on: date) -> None:
    invoice._guard(_T.CREDIT_IN_PART, _T.CREDIT)
    if not number:
        raise InvalidInput(field="credit note number", value=number, reason="must not be empty")
    invoice._check_date(on, "credit note date")
