"""The one pricing rule shared by order lines, invoice lines and credit note lines.

A line's *net unit price* is ``unit_price x (1 - discount_percent / 100) - unit_discount``: the
percentage comes off first, then a fixed amount per unit. It is kept exact (unit prices may carry
more decimals than the currency). The *amount* of any quantity of the line is
``quantity x net_unit_price`` rounded once, HALF_UP, to the currency (:data:`LINE_ROUNDING`).

Because the fixed discount is per unit, any part of a line (a shipment, an invoice, a return, a
credit) is valued by the same rule as the whole, and an order line and the invoice line that bills
it always agree on the price of a unit.
"""

from __future__ import annotations

from decimal import Decimal

from o2c.domain.errors import CurrencyMismatch, InvalidInput
from o2c.domain.money import EXACT, Currency, Money, Rounding, quantize, unit_price

__all__ = [
    "LINE_ROUNDING",
    "PERCENT_DECIMALS",
    "check_discount_percent",
    "line_amount",
    "net_unit_price",
]

#: Rounding of a line amount (quantity x net unit price) to the currency.
LINE_ROUNDING = Rounding.HALF_UP
#: Decimal places a discount percentage may carry.
PERCENT_DECIMALS = 10

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_discount_percent(value: object, field: str = "discount percent") -> Decimal:
    """``value`` if it is a finite Decimal percentage in [0, 100] with few enough decimals.

    Raises :class:`InvalidInput` otherwise.
    """
    if not isinstance(value, Decimal) or not value.is_finite() or not _ZERO <= value <= _HUNDRED:
        raise InvalidInput(field=field, value=str(value), reason="must be between 0 and 100")
    if _places(value) > PERCENT_DECIMALS:
        raise InvalidInput(
            field=field, value=str(value), reason=f"has more than {PERCENT_DECIMALS} decimals"
        )
    return value


def net_unit_price(
    price: Money, discount_percent: Decimal = _ZERO, unit_discount: Money | None = None
) -> Decimal:
    """The exact price of one unit after the percentage and then the fixed per-unit discount.

    Refuses (with :class:`InvalidInput`, :class:`CurrencyMismatch` or
    :class:`~o2c.domain.errors.ExcessPrecision`) a negative or too precise unit price or unit
    discount, a discount in another currency, an invalid percentage, and a unit discount larger
    than the price left after the percentage.
    """
    unit_price(price.amount, price.currency)  # refuses excess precision
    if price.amount < 0:
        raise InvalidInput(field="unit price", value=str(price), reason="must not be negative")
    check_discount_percent(discount_percent)
    result = price.amount
    if discount_percent:
        keep = EXACT.divide(EXACT.subtract(_HUNDRED, discount_percent), _HUNDRED)
        result = EXACT.multiply(result, keep)
    if unit_discount is not None:
        if unit_discount.currency != price.currency:
            raise CurrencyMismatch(expected=price.currency.code, actual=unit_discount.currency.code)
        unit_price(unit_discount.amount, unit_discount.currency)
        if unit_discount.amount < 0:
            raise InvalidInput(
                field="unit discount", value=str(unit_discount), reason="must not be negative"
            )
        result = EXACT.subtract(result, unit_discount.amount)
        if result < 0:
            raise InvalidInput(
                field="unit discount",
                value=str(unit_discount),
                reason="exceeds the discounted unit price",
            )
    return result


def line_amount(quantity: Decimal, net_price: Decimal, currency: Currency | str) -> Money:
    """``quantity`` units at ``net_price``, rounded HALF_UP to the currency."""
    return quantize(EXACT.multiply(quantity, net_price), LINE_ROUNDING, currency)
