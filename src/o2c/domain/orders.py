"""Sales orders: priced lines, estimated totals, amendments, and shipping and invoicing progress.

An :class:`Order` holds its lines and a lifecycle state (:data:`ORDER_LIFECYCLE`). Each
:class:`OrderLine` carries its commercial terms (product, quantity, unit price, discount, tax
category) and its own progress quantities, in the manner of mature ERPs that keep shipping and
invoicing progress apart:

* ``quantity``: ordered (in the current revision);
* ``cancelled``: no longer wanted; never shipped, never billed;
* ``fulfilled``: shipped so far (over one or more shipments);
* ``delivered``: received by the customer so far (confirmed by the carrier or the customer);
* ``back_ordered``: part of the open quantity flagged as waiting for stock;
* ``invoiced``: billed so far;
* ``returned``: shipped and sent back (an RMA); a credit note follows elsewhere.

Derived from them: ``effective_quantity = quantity - cancelled`` (what will be shipped and billed),
``open_quantity = effective_quantity - fulfilled`` (still to ship), ``shippable_quantity =
open_quantity - back_ordered`` (may ship now) and ``deliverable_quantity = fulfilled -
max(delivered, returned)`` (on its way: a return counts against delivered goods first).

The invariants that every line keeps, whatever the sequence of operations:
``0 <= fulfilled <= effective_quantity``, ``back_ordered <= open_quantity``,
``returned <= fulfilled``, ``delivered <= fulfilled`` and ``invoiced <= ceiling`` where the
order's :class:`InvoicingPolicy` sets the ceiling: ``effective_quantity`` on order (prepayment),
``fulfilled`` on shipment, ``delivered`` on delivery (:meth:`OrderLine.invoiceable_quantity` is
the one rule; invoicing asks it too). Like ``fulfilled``, ``delivered`` only grows: goods invoiced
and then returned call for a credit note, never for a lower ceiling.

**Status.** The lifecycle state follows *shipping* until the order is fully shipped, and
*invoicing* from then on: ``approved -> partially_fulfilled -> fulfilled -> partially_invoiced ->
invoiced -> completed``. Invoices raised while the order is still being shipped (on shipment, or
in advance on order) are recorded on the lines and shown by :attr:`Order.invoicing_status`
(none / partial / full) without moving the lifecycle; when the last shipment arrives the state
moves on to ``fulfilled``, ``partially_invoiced`` or ``invoiced`` according to what is already
billed. Callers never choose between "partially" and "completely": the operations derive the
trigger from the quantities and the lifecycle table checks that it is allowed. Deliveries never
move the state either (an order may be completed before its goods arrive, when it is invoiced on
shipment); :attr:`Order.delivery_status` shows them.

**Amounts.** A line's net amount is ``quantize(q * net_unit_price, HALF_UP)`` for its effective
quantity ``q``, where ``net_unit_price = unit_price * (1 - discount_percent / 100) -
unit_discount``, kept exact (unit prices may be more precise than the currency). The rule lives in
:mod:`o2c.domain.pricing`, shared with invoice lines. The fixed discount is *per unit*, so any part
of a line (a shipment, an invoice, a return) is valued by the same rule. Order tax is an *estimate*:
per tax category, ``HALF_UP`` of the category's net base times its rate. The invoice, not the order,
is authoritative for tax.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import TypeAlias

import attrs

from o2c.domain.errors import (
    AmendmentNotAllowed,
    CurrencyMismatch,
    DuplicateLine,
    EmptyOrder,
    InvalidInput,
    InvalidQuantity,
    OrderQuantityExceeded,
    OverBackOrder,
    OverCancellation,
    OverDelivery,
    OverFulfilment,
    OverInvoicing,
    OverReturn,
    UnknownLine,
)
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import EXACT, Currency, Money, Rounding, percent_of, total
from o2c.domain.pricing import LINE_ROUNDING, check_discount_percent, line_amount, net_unit_price
from o2c.domain.tax import TaxCategory

__all__ = [
    "LINE_ROUNDING",
    "MAX_QUANTITY",
    "ORDER_LIFECYCLE",
    "QUANTITY_DECIMALS",
    "TAX_ROUNDING",
    "InvoicingPolicy",
    "LineQuantity",
    "Order",
    "OrderLine",
    "OrderRevision",
    "OrderStatus",
    "OrderTotals",
    "OrderTrigger",
    "Progress",
    "TaxSubtotal",
    "check_lines",
    "estimate_totals",
    "to_quantity",
    # events
    "GoodsReturned",
    "LineBackOrdered",
    "LineCancelled",
    "LineDelivered",
    "LineFulfilled",
    "OrderAmended",
    "OrderApproved",
    "OrderCancelled",
    "OrderCompleted",
    "OrderCreated",
    "OrderDelivered",
    "OrderFulfilled",
    "OrderInvoiced",
    "OrderPlaced",
    "OrderPutOnCreditHold",
    "OrderSentToCreditReview",
]

#: Decimal places a quantity may carry (fractional units such as kilograms or hours).
QUANTITY_DECIMALS = 6
#: The largest quantity a line accepts; larger values are refused before any arithmetic.
MAX_QUANTITY = Decimal("1000000000000")
#: Rounding of the estimated tax of each tax category.
TAX_ROUNDING = Rounding.HALF_UP

_ZERO = Decimal(0)

QuantityLike: TypeAlias = Decimal | int | str
"""A quantity as given by a caller: a Decimal, an int or a numeric string (never a float)."""


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _to_decimal(value: QuantityLike, field: str) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidQuantity(
            field=field, value=repr(value), reason="must be a Decimal, int or str (never a float)"
        )
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise InvalidQuantity(field=field, value=value, reason="is not a number") from None
    else:
        result = Decimal(value)
    if not result.is_finite():
        raise InvalidQuantity(field=field, value=str(value), reason="must be finite")
    return result


def to_quantity(value: QuantityLike, field: str = "quantity") -> Decimal:
    """A positive quantity as a Decimal, or :class:`InvalidQuantity`.

    Refuses floats, zero, negatives, more than :data:`QUANTITY_DECIMALS` decimals and values
    above :data:`MAX_QUANTITY`.
    """
    result = _to_decimal(value, field)
    if result <= 0:
        raise InvalidQuantity(field=field, value=str(value), reason="must be greater than zero")
    if result > MAX_QUANTITY:
        raise InvalidQuantity(field=field, value=str(value), reason=f"exceeds {MAX_QUANTITY}")
    if _places(result) > QUANTITY_DECIMALS:
        raise InvalidQuantity(
            field=field, value=str(value), reason=f"has more than {QUANTITY_DECIMALS} decimals"
        )
    return result


def _to_percent(value: QuantityLike) -> Decimal:
    return check_discount_percent(_to_decimal(value, "discount percent"))


def _fmt(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


class InvoicingPolicy(enum.Enum):
    """When an order's lines may be invoiced: it sets the ceiling of each line's invoiced quantity.

    The ceilings nest (``delivered <= fulfilled <= quantity - cancelled``), so a stricter policy
    never allows more than a looser one.
    """

    ON_ORDER = "on_order"
    """Bill in advance (prepayment): ``invoiced <= quantity - cancelled``."""
    ON_SHIPMENT = "on_shipment"
    """Bill what has shipped: ``invoiced <= fulfilled``."""
    ON_DELIVERY = "on_delivery"
    """Bill what the customer has received: ``invoiced <= delivered``."""

    def allows_more_than(self, other: InvoicingPolicy) -> bool:
        """Whether this policy's ceiling can exceed ``other``'s."""
        return _STRICTEST_FIRST.index(self) > _STRICTEST_FIRST.index(other)


_STRICTEST_FIRST = (
    InvoicingPolicy.ON_DELIVERY,
    InvoicingPolicy.ON_SHIPMENT,
    InvoicingPolicy.ON_ORDER,
)


class Progress(enum.Enum):
    """How far shipping or invoicing of a whole order has got."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


@attrs.frozen
class LineQuantity:
    """A quantity of one line, as carried by shipment, invoice and return events."""

    line_id: str
    quantity: Decimal


# In the order the line declares them; a tuple so the checks run in a fixed order.
_PROGRESS_FIELDS = ("fulfilled", "back_ordered", "cancelled", "invoiced", "returned", "delivered")


@attrs.frozen
class OrderLine:
    """One line of a quote or an order: commercial terms plus progress quantities.

    Build new lines with only the terms; the progress fields start at zero and are moved by the
    :class:`Order` operations.
    """

    line_id: str
    product_id: str
    description: str
    quantity: Decimal = attrs.field(converter=to_quantity)
    unit_price: Money
    tax: TaxCategory
    discount_percent: Decimal = attrs.field(default=_ZERO, converter=_to_percent)
    """Percentage taken off the unit price (0..100)."""
    unit_discount: Money | None = None
    """A fixed amount taken off each unit, after the percentage."""
    fulfilled: Decimal = _ZERO
    back_ordered: Decimal = _ZERO
    cancelled: Decimal = _ZERO
    invoiced: Decimal = _ZERO
    returned: Decimal = _ZERO
    delivered: Decimal = _ZERO
    """Received by the customer (cumulative, like ``fulfilled``; returns do not reduce it)."""
    _net_unit_price: Decimal = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.line_id or not self.product_id:
            raise InvalidInput(
                field="order line", value=self.line_id, reason="needs a line id and a product id"
            )
        # validated and computed once: every amount of the line is priced from it
        price = net_unit_price(self.unit_price, self.discount_percent, self.unit_discount)
        object.__setattr__(self, "_net_unit_price", price)
        self._check_progress()

    def _with_progress(self, **progress: Decimal) -> OrderLine:
        """This line with new progress quantities; only they are validated again.

        The commercial terms (quantity, prices, discounts) are copied together with the net unit
        price computed from them when the line was built, so moving progress (shipping,
        invoicing, returns...) does not re-check and re-price what did not change.
        """
        unknown = progress.keys() - _PROGRESS_FIELDS
        if unknown:
            raise TypeError(f"not progress fields of an order line: {sorted(unknown)}")
        new = object.__new__(OrderLine)
        for name in _ORDER_LINE_ATTRIBUTES:
            object.__setattr__(new, name, progress.get(name, getattr(self, name)))
        new._check_progress()
        return new

    def _check_progress(self) -> None:
        for name in _PROGRESS_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise InvalidQuantity(
                    field=f"{name} of line {self.line_id}",
                    value=repr(value),
                    reason="must be a non-negative Decimal",
                )
        rules = (
            (self.cancelled <= self.quantity, "cancelled exceeds ordered"),
            (self.fulfilled <= self.effective_quantity, "fulfilled exceeds ordered - cancelled"),
            (self.back_ordered <= self.open_quantity, "back-ordered exceeds the open quantity"),
            (self.returned <= self.fulfilled, "returned exceeds fulfilled"),
            (self.delivered <= self.fulfilled, "delivered exceeds fulfilled"),
            (self.invoiced <= self.effective_quantity, "invoiced exceeds ordered - cancelled"),
        )
        for holds, reason in rules:
            if not holds:
                raise InvalidQuantity(
                    field=f"progress of line {self.line_id}",
                    value=self._progress_text(),
                    reason=reason,
                )

    def _progress_text(self) -> str:
        return (
            f"ordered {_fmt(self.quantity)}, cancelled {_fmt(self.cancelled)}, "
            f"fulfilled {_fmt(self.fulfilled)}, delivered {_fmt(self.delivered)}, "
            f"invoiced {_fmt(self.invoiced)}, returned {_fmt(self.returned)}"
        )

    @property
    def currency(self) -> Currency:
        """The currency of the line's prices."""
        return self.unit_price.currency

    @property
    def has_progress(self) -> bool:
        """Whether anything has happened to the line since it was written."""
        return any(
            (
                self.fulfilled,
                self.back_ordered,
                self.cancelled,
                self.invoiced,
                self.returned,
                self.delivered,
            )
        )

    @property
    def effective_quantity(self) -> Decimal:
        """Ordered minus cancelled: what will be shipped and billed."""
        return EXACT.subtract(self.quantity, self.cancelled)

    @property
    def open_quantity(self) -> Decimal:
        """Still to ship: ordered minus cancelled minus fulfilled."""
        return EXACT.subtract(self.effective_quantity, self.fulfilled)

    @property
    def shippable_quantity(self) -> Decimal:
        """What may ship now: the open quantity that is not waiting for stock (back-ordered)."""
        return EXACT.subtract(self.open_quantity, self.back_ordered)

    @property
    def returnable_quantity(self) -> Decimal:
        """Shipped and not yet returned."""
        return EXACT.subtract(self.fulfilled, self.returned)

    @property
    def deliverable_quantity(self) -> Decimal:
        """Shipped and neither delivered nor returned: what a delivery may still confirm.

        A return is counted against delivered goods first; only what it takes back beyond them
        (goods refused at the door or lost on the way) can no longer be delivered.
        """
        return EXACT.subtract(self.fulfilled, max(self.delivered, self.returned))

    def invoice_ceiling(self, policy: InvoicingPolicy) -> Decimal:
        """The most of this line that may ever be invoiced under ``policy`` (so far)."""
        if policy is InvoicingPolicy.ON_SHIPMENT:
            return self.fulfilled
        if policy is InvoicingPolicy.ON_DELIVERY:
            return self.delivered
        return self.effective_quantity

    def invoiceable_quantity(self, policy: InvoicingPolicy) -> Decimal:
        """What may still be invoiced under ``policy``: its ceiling less what is invoiced.

        Never negative: goods invoiced and then returned call for a credit note, not for less
        invoicing.
        """
        return max(_ZERO, EXACT.subtract(self.invoice_ceiling(policy), self.invoiced))

    @property
    def cancellable_quantity(self) -> Decimal:
        """Open and not yet invoiced in advance: what a cancellation may still take away."""
        return EXACT.subtract(self.effective_quantity, max(self.fulfilled, self.invoiced))

    @property
    def net_unit_price(self) -> Decimal:
        """The exact price of one unit after both discounts (not rounded)."""
        return self._net_unit_price

    def amount_for(self, quantity: Decimal) -> Money:
        """Net amount of ``quantity`` units of this line, rounded to the currency HALF_UP."""
        return line_amount(quantity, self._net_unit_price, self.currency)

    @property
    def net_amount(self) -> Money:
        """Net amount of the effective quantity (after discounts, before tax)."""
        return self.amount_for(self.effective_quantity)

    @property
    def list_amount(self) -> Money:
        """The effective quantity at the undiscounted unit price, rounded HALF_UP."""
        return line_amount(self.effective_quantity, self.unit_price.amount, self.currency)

    @property
    def discount_amount(self) -> Money:
        """What the discounts take off the list amount."""
        return Money(EXACT.subtract(self.list_amount.amount, self.net_amount.amount), self.currency)


_Measure: TypeAlias = Callable[[OrderLine], Decimal]


def _require_fresh(line: OrderLine) -> None:
    if line.has_progress:
        raise InvalidInput(
            field="order line",
            value=line.line_id,
            reason="a new line must not have shipping, invoicing or cancellation progress",
        )


def _ship(line: OrderLine, amount: Decimal) -> OrderLine:
    fulfilled = EXACT.add(line.fulfilled, amount)
    still_open = EXACT.subtract(line.effective_quantity, fulfilled)
    # a shipment draws on stock at hand first; only what it ships beyond that clears back-orders
    return line._with_progress(fulfilled=fulfilled, back_ordered=min(line.back_ordered, still_open))


def check_lines(document_id: str, lines: tuple[OrderLine, ...]) -> Currency:
    """Refuse an empty line set, duplicate line ids and mixed currencies; return the currency."""
    if not lines:
        raise EmptyOrder(document_id=document_id)
    currency = lines[0].currency
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise DuplicateLine(document_id=document_id, line_id=line.line_id)
        seen.add(line.line_id)
        if line.currency != currency:
            raise CurrencyMismatch(expected=currency.code, actual=line.currency.code)
    return currency


_ORDER_LINE_ATTRIBUTES = tuple(field.name for field in attrs.fields(OrderLine))


@attrs.frozen
class TaxSubtotal:
    """The estimated tax of one tax category: its net base and the tax on it."""

    category: TaxCategory
    base: Money
    tax: Money


@attrs.frozen
class OrderTotals:
    """Net, estimated tax per category, and gross of a set of lines."""

    net: Money
    taxes: tuple[TaxSubtotal, ...]
    tax: Money
    gross: Money


def estimate_totals(lines: Iterable[OrderLine], currency: str | Currency) -> OrderTotals:
    """Totals of lines: net is the sum of line nets; tax is HALF_UP per category base.

    Categories appear in the order their first line does. The result is an estimate: the
    invoice computes the tax that is owed.
    """
    bases: dict[TaxCategory, list[Money]] = {}
    nets: list[Money] = []
    for line in lines:
        net = line.net_amount
        nets.append(net)
        bases.setdefault(line.tax, []).append(net)
    taxes: list[TaxSubtotal] = []
    for category, amounts in bases.items():
        base = total(amounts, currency)
        taxes.append(TaxSubtotal(category, base, percent_of(base, category.rate, TAX_ROUNDING)))
    net_total = total(nets, currency)
    tax_total = total((t.tax for t in taxes), currency)
    return OrderTotals(net_total, tuple(taxes), tax_total, total((net_total, tax_total), currency))


# --- lifecycle ----------------------------------------------------------------------------------


class OrderStatus(enum.Enum):
    """Where an order stands: shipping progress first, then invoicing progress."""

    DRAFT = "draft"
    PLACED = "placed"
    CREDIT_REVIEW = "credit_review"
    CREDIT_HOLD = "credit_hold"
    APPROVED = "approved"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    PARTIALLY_INVOICED = "partially_invoiced"
    INVOICED = "invoiced"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_CREDIT_ACCEPTED = frozenset(
    {
        OrderStatus.APPROVED,
        OrderStatus.PARTIALLY_FULFILLED,
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_INVOICED,
    }
)
"""States of an order that credit accepted and that may still be invoiced."""

_WAITING_FOR_CREDIT = frozenset({OrderStatus.CREDIT_REVIEW, OrderStatus.CREDIT_HOLD})


class OrderTrigger(enum.Enum):
    """What moves an order. The fulfil and invoice triggers are derived from the quantities."""

    PLACE = "place"
    SEND_TO_CREDIT_REVIEW = "send_to_credit_review"
    PUT_ON_CREDIT_HOLD = "put_on_credit_hold"
    APPROVE = "approve"
    AMEND = "amend"
    BACK_ORDER = "back_order"
    CANCEL_LINE = "cancel_line"
    FULFIL_PARTIALLY = "fulfil_partially"
    FULFIL_COMPLETELY = "fulfil_completely"
    INVOICE_PARTIALLY = "invoice_partially"
    INVOICE_COMPLETELY = "invoice_completely"
    RECORD_DELIVERY = "record_delivery"
    RECORD_RETURN = "record_return"
    COMPLETE = "complete"
    CANCEL = "cancel"


_S = OrderStatus
_T = OrderTrigger
_SHIPPING = (_S.APPROVED, _S.PARTIALLY_FULFILLED)
_SHIPPED = (_S.FULFILLED, _S.PARTIALLY_INVOICED)
_BEFORE_FULFILMENT = (_S.DRAFT, _S.PLACED, _S.CREDIT_REVIEW, _S.CREDIT_HOLD, _S.APPROVED)
# states in which something has shipped: deliveries and returns may arrive, even after closing
_HAS_SHIPPED = (_S.PARTIALLY_FULFILLED, *_SHIPPED, _S.INVOICED, _S.COMPLETED)

#: The order lifecycle. Self-loops are steps that are allowed without changing the state.
ORDER_LIFECYCLE: Lifecycle[OrderStatus, OrderTrigger] = Lifecycle.of(
    "order",
    _S.DRAFT,
    [
        (_S.DRAFT, _T.PLACE, _S.PLACED),
        ((_S.PLACED, _S.CREDIT_HOLD), _T.SEND_TO_CREDIT_REVIEW, _S.CREDIT_REVIEW),
        ((_S.PLACED, _S.CREDIT_REVIEW), _T.PUT_ON_CREDIT_HOLD, _S.CREDIT_HOLD),
        ((_S.PLACED, _S.CREDIT_REVIEW, _S.CREDIT_HOLD), _T.APPROVE, _S.APPROVED),
        *((s, _T.AMEND, s) for s in (_S.DRAFT, _S.PLACED, _S.CREDIT_REVIEW, _S.CREDIT_HOLD)),
        # an amended approved order needs a fresh credit decision on its new total
        (_S.APPROVED, _T.AMEND, _S.PLACED),
        *((s, _T.BACK_ORDER, s) for s in _SHIPPING),
        *((s, _T.CANCEL_LINE, s) for s in _SHIPPING),
        (_SHIPPING, _T.FULFIL_PARTIALLY, _S.PARTIALLY_FULFILLED),
        (_SHIPPING, _T.FULFIL_COMPLETELY, _S.FULFILLED),
        # invoices raised while shipping (on shipment or in advance) leave the state alone
        *((s, _T.INVOICE_PARTIALLY, s) for s in _SHIPPING),
        *((s, _T.INVOICE_COMPLETELY, s) for s in _SHIPPING),
        (_SHIPPED, _T.INVOICE_PARTIALLY, _S.PARTIALLY_INVOICED),
        (_SHIPPED, _T.INVOICE_COMPLETELY, _S.INVOICED),
        # delivery is tracked per line and never moves the state
        *((s, _T.RECORD_DELIVERY, s) for s in _HAS_SHIPPED),
        *((s, _T.RECORD_RETURN, s) for s in _HAS_SHIPPED),
        (_S.INVOICED, _T.COMPLETE, _S.COMPLETED),
        (_BEFORE_FULFILMENT, _T.CANCEL, _S.CANCELLED),
    ],
)


# --- events -------------------------------------------------------------------------------------


@attrs.frozen
class OrderCreated(DomainEvent):
    """An order was written down (as a draft)."""

    order_id: str
    customer_id: str
    on: date


@attrs.frozen
class OrderPlaced(DomainEvent):
    """The customer confirmed the order; its totals are what credit checks look at."""

    order_id: str
    customer_id: str
    net_total: Money
    gross_total: Money
    on: date


@attrs.frozen
class OrderSentToCreditReview(DomainEvent):
    """The credit decision was unclear: a person reviews the order."""

    order_id: str
    reason: str
    on: date


@attrs.frozen
class OrderPutOnCreditHold(DomainEvent):
    """The order is blocked until the customer's account is in order (usually: paid)."""

    order_id: str
    reason: str
    on: date


@attrs.frozen
class OrderApproved(DomainEvent):
    """Credit allows the order; it may now be shipped."""

    order_id: str
    on: date


@attrs.frozen
class OrderAmended(DomainEvent):
    """The order's lines changed; ``revision`` is the new revision number."""

    order_id: str
    revision: int
    reason: str
    net_total: Money
    gross_total: Money
    on: date


@attrs.frozen
class LineBackOrdered(DomainEvent):
    """Part of a line cannot be shipped now and waits for stock (tell the customer)."""

    order_id: str
    line_id: str
    quantity: Decimal
    on: date


@attrs.frozen
class LineCancelled(DomainEvent):
    """Part of a line will not be shipped nor billed."""

    order_id: str
    line_id: str
    quantity: Decimal
    on: date


@attrs.frozen
class LineFulfilled(DomainEvent):
    """Part of a line was shipped, in the shipment ``shipment_id`` if known."""

    order_id: str
    line_id: str
    quantity: Decimal
    shipment_id: str | None
    on: date


@attrs.frozen
class OrderFulfilled(DomainEvent):
    """Nothing is left to ship."""

    order_id: str
    on: date


@attrs.frozen
class LineDelivered(DomainEvent):
    """Part of a line reached the customer, from the shipment ``shipment_id`` if known."""

    order_id: str
    line_id: str
    quantity: Decimal
    shipment_id: str | None
    on: date


@attrs.frozen
class OrderDelivered(DomainEvent):
    """Everything shipped has been delivered and nothing is left to ship."""

    order_id: str
    on: date


@attrs.frozen
class OrderInvoiced(DomainEvent):
    """An invoice billed these quantities; ``fully_invoiced`` when nothing is left to bill."""

    order_id: str
    invoice_id: str
    quantities: tuple[LineQuantity, ...]
    fully_invoiced: bool
    on: date


@attrs.frozen
class GoodsReturned(DomainEvent):
    """Shipped goods came back; ``net_amount`` values them at the order's net prices.

    Returned goods that were invoiced call for a credit note.
    """

    order_id: str
    return_id: str | None
    quantities: tuple[LineQuantity, ...]
    net_amount: Money
    on: date


@attrs.frozen
class OrderCancelled(DomainEvent):
    """The order will not be shipped nor billed at all."""

    order_id: str
    reason: str
    on: date


@attrs.frozen
class OrderCompleted(DomainEvent):
    """Shipped and invoiced in full: the order is closed."""

    order_id: str
    on: date


# --- the order ----------------------------------------------------------------------------------


@attrs.frozen
class OrderRevision:
    """A superseded set of lines, kept when an amendment replaced it."""

    number: int
    lines: tuple[OrderLine, ...]
    superseded_on: date
    reason: str
    """Why the amendment that replaced this revision was made."""
    after_placement: bool
    """Whether the order had already been placed when this revision was replaced."""


@attrs.frozen
class Order:
    """A sales order: lines with progress, a lifecycle state and the revisions it went through.

    Every operation returns ``Changed(new_order, events)`` and leaves ``self`` as it was; refused
    input raises a :class:`~o2c.domain.errors.DomainError`.
    """

    order_id: str
    customer_id: str
    created_on: date
    lines: tuple[OrderLine, ...]
    status: OrderStatus = OrderStatus.DRAFT
    invoicing_policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT
    quote_id: str | None = None
    placed_on: date | None = None
    revisions: tuple[OrderRevision, ...] = ()
    """Earlier revisions, oldest first; the current lines are revision ``len(revisions) + 1``."""

    def __attrs_post_init__(self) -> None:
        if not self.order_id or not self.customer_id:
            raise InvalidInput(
                field="order", value=self.order_id, reason="needs an order id and a customer id"
            )
        check_lines(self.order_id, self.lines)
        for line in self.lines:
            if line.invoiced > line.invoice_ceiling(self.invoicing_policy):
                raise InvalidQuantity(
                    field=f"invoiced of line {line.line_id}",
                    value=_fmt(line.invoiced),
                    reason=f"exceeds what {self.invoicing_policy.value} invoicing allows",
                )

    # --- reading -------------------------------------------------------------------------------

    @property
    def currency(self) -> Currency:
        """The currency of every line."""
        return self.lines[0].currency

    @property
    def revision(self) -> int:
        """The number of the current revision (1 until the first amendment)."""
        return len(self.revisions) + 1

    @property
    def amended_after_placement(self) -> bool:
        """Whether the lines changed after the customer confirmed the order."""
        return any(r.after_placement for r in self.revisions)

    @property
    def waits_for_credit(self) -> bool:
        """Whether the order waits for a credit review or on credit hold: nothing may ship."""
        return self.status in _WAITING_FOR_CREDIT

    @property
    def totals(self) -> OrderTotals:
        """Net, estimated tax and gross of the effective quantities."""
        return estimate_totals(self.lines, self.currency)

    @property
    def net_total(self) -> Money:
        """The sum of the line net amounts."""
        return total((line.net_amount for line in self.lines), self.currency)

    @property
    def gross_total(self) -> Money:
        """Net total plus estimated tax."""
        return self.totals.gross

    @property
    def counts_toward_exposure(self) -> bool:
        """Whether credit accepted the order and part of it is still to invoice."""
        return self.uninvoiced_gross.amount > 0

    @property
    def uninvoiced_gross(self) -> Money:
        """The estimated gross still to invoice on an order credit accepted: credit exposure.

        Zero for an order that credit has not accepted (a draft, one waiting for a review or on
        hold, a cancelled one) and for one fully invoiced. Each line counts its effective quantity
        not invoiced yet, priced and taxed like the order's own estimate.
        """
        currency = self.currency
        if self.status not in _CREDIT_ACCEPTED:
            return total((), currency)
        remaining = [
            OrderLine(
                line.line_id,
                line.product_id,
                line.description,
                line.effective_quantity - line.invoiced,
                line.unit_price,
                line.tax,
                line.discount_percent,
                line.unit_discount,
            )
            for line in self.lines
            if line.effective_quantity > line.invoiced
        ]
        if not remaining:
            return total((), currency)
        return estimate_totals(remaining, currency).gross

    def line(self, line_id: str) -> OrderLine:
        """The line with this id, or :class:`UnknownLine`."""
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise UnknownLine(document_id=self.order_id, line_id=line_id)

    def shippable_quantities(self) -> dict[str, Decimal]:
        """What may ship now, per line id, leaving out lines with nothing shippable.

        A shipment that names no quantities ships this; back-ordered quantities wait for stock.
        """
        return {
            line.line_id: quantity
            for line in self.lines
            if (quantity := line.shippable_quantity) > 0
        }

    @property
    def shipping_status(self) -> Progress:
        """Whether nothing, part or all of the effective quantities has shipped."""
        return self._progress(lambda line: line.fulfilled)

    @property
    def delivery_status(self) -> Progress:
        """Whether nothing, part or all of the order has reached the customer.

        Full once something was delivered, nothing is left to ship and nothing shipped is still
        on its way (neither delivered nor returned).
        """
        if not any(line.delivered for line in self.lines):
            return Progress.NONE
        if any(line.open_quantity or line.deliverable_quantity for line in self.lines):
            return Progress.PARTIAL
        return Progress.FULL

    @property
    def invoicing_status(self) -> Progress:
        """Whether nothing, part or all of the effective quantities has been invoiced."""
        return self._progress(lambda line: line.invoiced)

    def _progress(self, done: _Measure) -> Progress:
        if not any(done(line) for line in self.lines):
            return Progress.NONE
        if all(done(line) == line.effective_quantity for line in self.lines):
            return Progress.FULL
        return Progress.PARTIAL

    # --- creating and confirming ---------------------------------------------------------------

    @classmethod
    def create(
        cls,
        order_id: str,
        customer_id: str,
        lines: Iterable[OrderLine],
        *,
        on: date,
        invoicing_policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT,
        quote_id: str | None = None,
    ) -> Changed[Order]:
        """A draft order. Refuses no lines, duplicate line ids, mixed currencies, used lines."""
        lines = tuple(lines)
        for line in lines:
            _require_fresh(line)
        order = cls(
            order_id,
            customer_id,
            on,
            lines,
            invoicing_policy=invoicing_policy,
            quote_id=quote_id,
        )
        return Changed(order, (OrderCreated(order_id, customer_id, on),))

    def place(self, *, on: date) -> Changed[Order]:
        """The customer confirmed the order."""
        status = self._next(_T.PLACE, on)
        totals = self.totals
        placed = attrs.evolve(self, status=status, placed_on=on)
        event = OrderPlaced(self.order_id, self.customer_id, totals.net, totals.gross, on)
        return Changed(placed, (event,))

    def send_to_credit_review(self, *, on: date, reason: str = "") -> Changed[Order]:
        """A credit decision needs a person: the order waits for review."""
        status = self._next(_T.SEND_TO_CREDIT_REVIEW, on)
        return Changed(
            attrs.evolve(self, status=status), (OrderSentToCreditReview(self.order_id, reason, on),)
        )

    def put_on_credit_hold(self, *, on: date, reason: str = "") -> Changed[Order]:
        """Credit blocks the order until the account is in order."""
        status = self._next(_T.PUT_ON_CREDIT_HOLD, on)
        return Changed(
            attrs.evolve(self, status=status), (OrderPutOnCreditHold(self.order_id, reason, on),)
        )

    def approve(self, *, on: date) -> Changed[Order]:
        """Credit allows the order: shipping may start."""
        status = self._next(_T.APPROVE, on)
        return Changed(attrs.evolve(self, status=status), (OrderApproved(self.order_id, on),))

    # --- amendments ----------------------------------------------------------------------------

    def change_quantity(
        self, line_id: str, quantity: QuantityLike, *, reason: str, on: date
    ) -> Changed[Order]:
        """Amend a line's ordered quantity (it must stay above what is already cancelled)."""
        status = self._amendable(on)
        line = self.line(line_id)
        new_quantity = to_quantity(quantity)
        if new_quantity <= line.cancelled:
            raise InvalidQuantity(
                field=f"quantity of line {line_id}",
                value=_fmt(new_quantity),
                reason=f"must exceed the {_fmt(line.cancelled)} already cancelled",
            )
        keep_open = EXACT.subtract(new_quantity, line.cancelled)
        changed = attrs.evolve(
            line, quantity=new_quantity, back_ordered=min(line.back_ordered, keep_open)
        )
        return self._amend(self._replace(changed), status, reason, on)

    def change_unit_price(
        self, line_id: str, price: Money, *, reason: str, on: date
    ) -> Changed[Order]:
        """Amend a line's unit price."""
        status = self._amendable(on)
        changed = attrs.evolve(self.line(line_id), unit_price=price)
        return self._amend(self._replace(changed), status, reason, on)

    def add_line(self, line: OrderLine, *, reason: str, on: date) -> Changed[Order]:
        """Amend the order by adding a new line."""
        status = self._amendable(on)
        _require_fresh(line)
        return self._amend((*self.lines, line), status, reason, on)

    def remove_line(self, line_id: str, *, reason: str, on: date) -> Changed[Order]:
        """Amend the order by removing a line (an order keeps at least one)."""
        status = self._amendable(on)
        self.line(line_id)
        lines = tuple(li for li in self.lines if li.line_id != line_id)
        return self._amend(lines, status, reason, on)

    def _amendable(self, on: date) -> OrderStatus:
        if any(line.fulfilled for line in self.lines):
            raise AmendmentNotAllowed(order_id=self.order_id, reason="fulfilment has started")
        if any(line.invoiced for line in self.lines):
            raise AmendmentNotAllowed(order_id=self.order_id, reason="invoicing has started")
        return self._next(_T.AMEND, on)

    def _amend(
        self, lines: tuple[OrderLine, ...], status: OrderStatus, reason: str, on: date
    ) -> Changed[Order]:
        if lines == self.lines:
            raise InvalidInput(field="amendment", value=reason, reason="changes nothing")
        superseded = OrderRevision(
            self.revision, self.lines, on, reason, after_placement=self.status is not _S.DRAFT
        )
        amended = attrs.evolve(
            self, lines=lines, status=status, revisions=(*self.revisions, superseded)
        )
        totals = amended.totals
        event = OrderAmended(self.order_id, amended.revision, reason, totals.net, totals.gross, on)
        return Changed(amended, (event,))

    # --- shipping ------------------------------------------------------------------------------

    def back_order(self, line_id: str, quantity: QuantityLike, *, on: date) -> Changed[Order]:
        """Flag part of a line's open quantity as waiting for stock."""
        self._next(_T.BACK_ORDER, on)
        line = self.line(line_id)
        amount = to_quantity(quantity)
        available = EXACT.subtract(line.open_quantity, line.back_ordered)
        if amount > available:
            raise OverBackOrder(
                order_id=self.order_id,
                line_id=line_id,
                requested=_fmt(amount),
                available=_fmt(available),
            )
        changed = line._with_progress(back_ordered=EXACT.add(line.back_ordered, amount))
        order = attrs.evolve(self, lines=self._replace(changed))
        return Changed(order, (LineBackOrdered(self.order_id, line_id, amount, on),))

    def cancel_line(
        self, line_id: str, quantity: QuantityLike | None = None, *, on: date
    ) -> Changed[Order]:
        """Cancel part (default: all) of a line's open quantity; it is neither shipped nor billed.

        Quantities already invoiced in advance cannot be cancelled (they need a credit note).
        Cancelling the last open quantity moves the order on as if it had shipped; cancelling
        every line before anything shipped cancels the order.
        """
        self._next(_T.CANCEL_LINE, on)
        line = self.line(line_id)
        amount = line.open_quantity if quantity is None else to_quantity(quantity)
        if amount > line.cancellable_quantity or amount == 0:
            raise OverCancellation(
                order_id=self.order_id,
                line_id=line_id,
                requested=_fmt(amount),
                available=_fmt(line.cancellable_quantity),
            )
        still_open = EXACT.subtract(line.open_quantity, amount)
        changed = line._with_progress(
            cancelled=EXACT.add(line.cancelled, amount),
            back_ordered=min(line.back_ordered, still_open),
        )
        order = attrs.evolve(self, lines=self._replace(changed))
        events: list[DomainEvent] = [LineCancelled(self.order_id, line_id, amount, on)]
        return order._settle(events, on)

    def fulfil(
        self, quantities: Mapping[str, QuantityLike], *, on: date, shipment_id: str | None = None
    ) -> Changed[Order]:
        """Record a shipment of quantities per line id; refuses more than a line has open.

        A shipment first uses the open quantity that is not back-ordered; what it ships beyond
        that clears the back-order.
        """
        self._next(_T.FULFIL_PARTIALLY, on)
        parsed = self._parse_within(quantities, lambda line: line.open_quantity, OverFulfilment)
        shipped = dict(parsed)
        lines = tuple(
            _ship(line, shipped[line.line_id]) if line.line_id in shipped else line
            for line in self.lines
        )
        order = attrs.evolve(self, lines=lines)
        events: list[DomainEvent] = [
            LineFulfilled(self.order_id, line_id, amount, shipment_id, on)
            for line_id, amount in parsed
        ]
        return order._settle(events, on)

    def record_delivery(
        self, quantities: Mapping[str, QuantityLike], *, on: date, shipment_id: str | None = None
    ) -> Changed[Order]:
        """Record that the customer received these quantities per line id.

        Refuses more than a line has on its way (:attr:`OrderLine.deliverable_quantity`) with
        :class:`OverDelivery`. The lifecycle state does not change; :attr:`delivery_status`
        shows the progress, and :class:`OrderDelivered` follows the delivery that completes it.
        """
        self._next(_T.RECORD_DELIVERY, on)
        parsed = self._parse_within(
            quantities, lambda line: line.deliverable_quantity, OverDelivery
        )
        received = dict(parsed)
        lines = tuple(
            line._with_progress(delivered=EXACT.add(line.delivered, received[line.line_id]))
            if line.line_id in received
            else line
            for line in self.lines
        )
        order = attrs.evolve(self, lines=lines)
        events: list[DomainEvent] = [
            LineDelivered(self.order_id, line_id, amount, shipment_id, on)
            for line_id, amount in parsed
        ]
        if order.delivery_status is Progress.FULL:
            events.append(OrderDelivered(self.order_id, on))
        return Changed(order, tuple(events))

    # --- invoicing and returns -----------------------------------------------------------------

    def _policy(self, policy: InvoicingPolicy | None) -> InvoicingPolicy:
        if policy is None:
            return self.invoicing_policy
        if policy.allows_more_than(self.invoicing_policy):
            raise InvalidInput(
                field="invoicing policy",
                value=policy.value,
                reason=f"order {self.order_id} is invoiced {self.invoicing_policy.value}",
            )
        return policy

    def invoiceable_quantities(self, policy: InvoicingPolicy | None = None) -> dict[str, Decimal]:
        """What may be invoiced now, per line id, leaving out lines with nothing to invoice.

        ``policy`` defaults to the order's own; a stricter one may be asked for (say, invoicing
        only what was delivered on an order invoiced on shipment), a looser one raises
        :class:`InvalidInput`.
        """
        rule = self._policy(policy)
        return {
            line.line_id: quantity
            for line in self.lines
            if (quantity := line.invoiceable_quantity(rule)) > 0
        }

    def check_invoiceable(
        self, quantities: Mapping[str, QuantityLike], policy: InvoicingPolicy | None = None
    ) -> tuple[LineQuantity, ...]:
        """The quantities per line id as parsed, if ``policy`` allows invoicing them now.

        Raises :class:`InvalidQuantity` for bad or no quantities, :class:`UnknownLine`, and
        :class:`OverInvoicing` for more than a line's :meth:`OrderLine.invoiceable_quantity`.
        ``policy`` is as for :meth:`invoiceable_quantities`.
        """
        rule = self._policy(policy)
        parsed = self._parse_within(
            quantities, lambda line: line.invoiceable_quantity(rule), OverInvoicing
        )
        return tuple(LineQuantity(line_id, amount) for line_id, amount in parsed)

    def record_invoice(
        self, quantities: Mapping[str, QuantityLike], *, invoice_id: str, on: date
    ) -> Changed[Order]:
        """Record that an invoice billed these quantities per line id.

        The order's :class:`InvoicingPolicy` bounds each line (:meth:`check_invoiceable`): on
        order (prepayment) up to what is ordered and not cancelled, on shipment up to what has
        shipped, on delivery up to what was delivered.
        """
        self._next(_T.INVOICE_PARTIALLY, on)
        parsed = self.check_invoiceable(quantities)
        billed = {item.line_id: item.quantity for item in parsed}
        lines = tuple(
            line._with_progress(invoiced=EXACT.add(line.invoiced, billed[line.line_id]))
            if line.line_id in billed
            else line
            for line in self.lines
        )
        order = attrs.evolve(self, lines=lines)
        full = order.invoicing_status is Progress.FULL
        trigger = _T.INVOICE_COMPLETELY if full else _T.INVOICE_PARTIALLY
        order = attrs.evolve(order, status=self._next(trigger, on))
        event = OrderInvoiced(self.order_id, invoice_id, parsed, full, on)
        return Changed(order, (event,))

    def record_return(
        self, quantities: Mapping[str, QuantityLike], *, on: date, return_id: str | None = None
    ) -> Changed[Order]:
        """Record goods sent back (an RMA); refuses more than shipped and not yet returned."""
        self._next(_T.RECORD_RETURN, on)
        parsed = self._parse_within(quantities, lambda line: line.returnable_quantity, OverReturn)
        back = dict(parsed)
        lines = tuple(
            line._with_progress(returned=EXACT.add(line.returned, back[line.line_id]))
            if line.line_id in back
            else line
            for line in self.lines
        )
        value = total((self.line(i).amount_for(q) for i, q in parsed), self.currency)
        event = GoodsReturned(
            self.order_id, return_id, tuple(LineQuantity(i, q) for i, q in parsed), value, on
        )
        return Changed(attrs.evolve(self, lines=lines), (event,))

    # --- closing -------------------------------------------------------------------------------

    def cancel(self, *, on: date, reason: str = "") -> Changed[Order]:
        """Cancel the whole order; only before anything shipped or was invoiced in advance."""
        status = self._next(_T.CANCEL, on)
        for line in self.lines:
            if line.invoiced:
                raise OverCancellation(
                    order_id=self.order_id,
                    line_id=line.line_id,
                    requested=_fmt(line.open_quantity),
                    available=_fmt(line.cancellable_quantity),
                )
        lines = tuple(
            line._with_progress(cancelled=line.quantity, back_ordered=_ZERO) for line in self.lines
        )
        order = attrs.evolve(self, lines=lines, status=status)
        return Changed(order, (OrderCancelled(self.order_id, reason, on),))

    def complete(self, *, on: date) -> Changed[Order]:
        """Close a shipped and fully invoiced order."""
        status = self._next(_T.COMPLETE, on)
        return Changed(attrs.evolve(self, status=status), (OrderCompleted(self.order_id, on),))

    # --- helpers -------------------------------------------------------------------------------

    def _next(self, trigger: OrderTrigger, on: date) -> OrderStatus:
        status = ORDER_LIFECYCLE.next_state(self.status, trigger, entity_id=self.order_id)
        if on < self.created_on:
            raise InvalidInput(
                field="date",
                value=on.isoformat(),
                reason=f"before the order was created on {self.created_on.isoformat()}",
            )
        return status

    def _replace(self, changed: OrderLine) -> tuple[OrderLine, ...]:
        return tuple(changed if li.line_id == changed.line_id else li for li in self.lines)

    def _parse_within(
        self,
        quantities: Mapping[str, QuantityLike],
        available: Callable[[OrderLine], Decimal],
        refusal: type[OrderQuantityExceeded],
    ) -> tuple[tuple[str, Decimal], ...]:
        """The parsed quantities, or ``refusal`` for the first that exceeds what its line allows."""
        parsed = self._parse(quantities)
        for line_id, amount in parsed:
            allowed = available(self.line(line_id))
            if amount > allowed:
                raise refusal(
                    order_id=self.order_id,
                    line_id=line_id,
                    requested=_fmt(amount),
                    available=_fmt(allowed),
                )
        return parsed

    def _parse(self, quantities: Mapping[str, QuantityLike]) -> tuple[tuple[str, Decimal], ...]:
        if not quantities:
            raise InvalidQuantity(field="quantities", value="{}", reason="name at least one line")
        parsed = []
        for line_id, quantity in quantities.items():
            self.line(line_id)
            parsed.append((line_id, to_quantity(quantity, f"quantity of line {line_id}")))
        return tuple(parsed)

    def _settle(self, events: list[DomainEvent], on: date) -> Changed[Order]:
        """Move the state to match the quantities after a shipment or a line cancellation."""
        status = self.status
        if status in _SHIPPING:
            if not any(line.effective_quantity for line in self.lines):
                status = ORDER_LIFECYCLE.next_state(status, _T.CANCEL, entity_id=self.order_id)
                events.append(OrderCancelled(self.order_id, "every line was cancelled", on))
            elif not any(line.open_quantity for line in self.lines):
                status = ORDER_LIFECYCLE.next_state(
                    status, _T.FULFIL_COMPLETELY, entity_id=self.order_id
                )
                events.append(OrderFulfilled(self.order_id, on))
            elif any(line.fulfilled for line in self.lines):
                status = ORDER_LIFECYCLE.next_state(
                    status, _T.FULFIL_PARTIALLY, entity_id=self.order_id
                )
        if status in _SHIPPED:
            invoicing = self.invoicing_status
            if invoicing is not Progress.NONE:
                trigger = (
                    _T.INVOICE_COMPLETELY if invoicing is Progress.FULL else _T.INVOICE_PARTIALLY
                )
                status = ORDER_LIFECYCLE.next_state(status, trigger, entity_id=self.order_id)
        return Changed(attrs.evolve(self, status=status), tuple(events))
