"""What to invoice: the plain lines an invoice or credit note is priced from.

An :class:`InvoiceableLine` names an order line, a product, a quantity, a unit price, the line
discounts and a tax category, so invoicing does not depend on how orders are stored.
:func:`lines_from_order` takes them from an :class:`~o2c.domain.orders.Order` under its
:class:`~o2c.domain.orders.InvoicingPolicy`, asking the order what may be invoiced (one rule,
kept by the order).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from o2c.domain.errors import InvalidAmount, InvalidQuantity
from o2c.domain.money import Currency, Money, unit_price
from o2c.domain.orders import InvoicingPolicy, Order, OrderLine, QuantityLike
from o2c.domain.pricing import check_discount_percent, line_amount, net_unit_price
from o2c.domain.tax import TaxCategory

__all__ = ["InvoiceableLine", "lines_from_order"]

_ZERO = Decimal(0)


def _is_positive_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0


def check_quantity(_instance: object, _attribute: object, value: Decimal) -> None:
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
    :class:`~o2c.domain.invoicing.amounts.PriceBasis`. The discounts apply as on the order line:
    the percentage first, then the fixed amount per unit.
    """

    order_id: str
    order_line_id: str
    product_id: str
    description: str
    quantity: Decimal = attrs.field(validator=check_quantity)
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
