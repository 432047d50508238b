"""Money: the one place where o2c's money arithmetic rules live.

Amounts are :class:`Money` values holding a :class:`~decimal.Decimal`: py-moneyed's money, with
the currency checked by o2c. This module adds what py-moneyed leaves to its users:

* :class:`~o2c.domain.errors.CurrencyMismatch` from arithmetic and ordering across currencies;

* the number of minor units (decimal places) of each currency, including 0-decimal (JPY, KRW) and
  3-decimal (KWD, BHD, TND) currencies;
* quantizing with a rounding mode that is always named by the caller, never taken from the ambient
  :mod:`decimal` context;
* :func:`allocate`, which splits an amount by weights using the largest-remainder method so the
  parts always add up to the whole, to the minor unit;
* :func:`total`, a sum that starts from the currency's zero and refuses mixed currencies;
* refusal of floats everywhere, and of amounts more precise than their currency where a price must
  be exact (:func:`money`, :func:`require_exact`).

Unit prices are the one place where more precision is legitimate: a screw costs 0.0125 EUR, a
kilowatt-hour 0.28734 EUR. :func:`unit_price` accepts up to :data:`UNIT_PRICE_EXTRA_DECIMALS`
decimals beyond the currency's own; the *line* amount computed from it is quantized to the currency
with an explicit rounding mode before it enters any document total.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cache
from math import lcm
from types import MappingProxyType

import moneyed
from moneyed import Currency, CurrencyDoesNotExist, MoneyComparisonError, get_currency

from o2c.domain.errors import CurrencyMismatch, ExcessPrecision, InvalidAmount, UnknownCurrency

__all__ = [
    "MAX_INTEGER_DIGITS",
    "UNIT_PRICE_EXTRA_DECIMALS",
    "CALC",
    "EXACT",
    "Currency",
    "Money",
    "Rounding",
    "allocate",
    "as_currency",
    "decimals_of",
    "ensure_same_currency",
    "from_minor",
    "from_minor_units",
    "is_exact",
    "money",
    "parse_money",
    "percent_of",
    "quantize",
    "require_exact",
    "split_evenly",
    "to_minor",
    "minor_units",
    "total",
    "unit_price",
    "zero",
]

#: Amounts of this many integer digits or more are refused: no business needs them, and a hostile
#: input (a statement line of 1e999999) must not reach arithmetic.
MAX_INTEGER_DIGITS = 18

#: How many decimals a unit price may carry beyond its currency's minor unit (EUR: 2 + 4 = 6).
UNIT_PRICE_EXTRA_DECIMALS = 4

# ISO 4217 minor units that py-moneyed's ``sub_unit`` table gets wrong or leaves at 1.
_MINOR_UNIT_OVERRIDES: Mapping[str, int] = MappingProxyType({
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
})  # fmt: skip


# py-moneyed's placeholder, ISO's "no currency" and its testing code: none of them is money.
_NOT_MONEY = frozenset({"XYZ", "XXX", "XTS"})


_new = object.__new__


def _shown(value: object) -> str:
    """A refused amount as an error message shows it: never longer than a line."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


class Money(moneyed.Money):
    """An amount of one currency: py-moneyed's ``Money``, with o2c checking the currencies.

    Adding, subtracting, ordering (``<``, ``<=``, ``>``, ``>=``) or dividing amounts of two
    currencies raises :class:`~o2c.domain.errors.CurrencyMismatch`; amounts of two currencies are
    simply not equal. Every amount that arithmetic returns (``-x``, ``abs``, ``*``, ``/``,
    ``round``, :func:`sum`) is again a :class:`Money`. Build amounts with :func:`money`.

    >>> money("1", "EUR") + money("1", "USD")
    Traceback (most recent call last):
    ...
    o2c.domain.errors.CurrencyMismatch: currency mismatch: expected EUR, got USD

    An amount that is not a finite number (NaN, infinity, text that is no number) is refused with
    :class:`~o2c.domain.errors.InvalidAmount`, here and from any arithmetic.
    """

    def __init__(self, amount: object, currency: str | Currency) -> None:
        # py-moneyed's own conversions, inlined: every total and conversion builds one of these.
        if isinstance(amount, Decimal):
            value = amount
        else:
            try:
                value = Decimal(str(amount))
            except decimal.InvalidOperation:
                raise InvalidAmount(value=_shown(amount), reason="amount is not a number") from None
        if not value.is_finite():
            raise InvalidAmount(value=_shown(amount), reason="amount must be finite")
        self.amount = value  # type: ignore[misc]  # py-moneyed marks them Final for its users
        self.currency = (  # type: ignore[misc]
            currency if isinstance(currency, Currency) else as_currency(str(currency))
        )

    def __add__(self, other: object) -> Money:
        if isinstance(other, moneyed.Money):
            currency = self.currency
            if other.currency is not currency and other.currency != currency:
                raise CurrencyMismatch(expected=currency.code, actual=other.currency.code)
            return _make(self.amount + other.amount, currency)
        if other == 0:  # sum() starts from the integer 0
            return self
        return NotImplemented

    def __radd__(self, other: object) -> Money:
        if isinstance(other, moneyed.Money):  # a plain py-moneyed amount on the left
            currency = other.currency
            if self.currency is not currency and self.currency != currency:
                raise CurrencyMismatch(expected=currency.code, actual=self.currency.code)
            return _make(other.amount + self.amount, currency)
        if other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if isinstance(other, moneyed.Money):
            currency = self.currency
            if other.currency is not currency and other.currency != currency:
                raise CurrencyMismatch(expected=currency.code, actual=other.currency.code)
            return _make(self.amount - other.amount, currency)
        if other == 0:
            return self
        return NotImplemented

    def __rsub__(self, other: object) -> Money:
        if isinstance(other, moneyed.Money):
            currency = other.currency
            if self.currency is not currency and self.currency != currency:
                raise CurrencyMismatch(expected=currency.code, actual=self.currency.code)
            return _make(other.amount - self.amount, currency)
        if other == 0:
            return _make(-self.amount, self.currency)
        return NotImplemented

    def __neg__(self) -> Money:
        return _make(-self.amount, self.currency)

    def __mul__(self, other: object) -> Money:
        if type(other) is Decimal or type(other) is int:  # the common factors, without conversion
            product = self.amount * other
            if not product.is_finite():
                raise InvalidAmount(value=f"{self.amount} * {other}", reason="must be finite")
            return _make(product, self.currency)
        return super().__mul__(other)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Money | Decimal:
        if isinstance(other, moneyed.Money):
            _same_currency(self, other)
        return super().__truediv__(other)

    def __lt__(self, other: object) -> bool:
        return self.amount < _same_currency(self, other).amount

    def __le__(self, other: object) -> bool:
        return self.amount <= _same_currency(self, other).amount

    def __gt__(self, other: object) -> bool:
        return self.amount > _same_currency(self, other).amount

    def __ge__(self, other: object) -> bool:
        return self.amount >= _same_currency(self, other).amount


def _make(amount: Decimal, currency: Currency) -> Money:
    # Arithmetic builds amounts from checked parts: skipping the constructor's conversions halves
    # the cost of every sum on the hot paths.
    result = _new(Money)
    result.amount = amount  # type: ignore[misc]  # py-moneyed marks them Final for its users
    result.currency = currency  # type: ignore[misc]
    return result


def _same_currency(amount: Money, other: object) -> moneyed.Money:
    if not isinstance(other, moneyed.Money):
        raise MoneyComparisonError(other)
    if other.currency is not amount.currency and other.currency != amount.currency:
        raise CurrencyMismatch(expected=amount.currency.code, actual=other.currency.code)
    return other


class Rounding(enum.Enum):
    """Rounding modes, named so that every quantize in o2c says which one it uses."""

    HALF_UP = decimal.ROUND_HALF_UP
    """Commercial rounding: 0.005 -> 0.01. The usual rule for invoice lines and tax."""
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    """Banker's rounding: 0.005 -> 0.00, 0.015 -> 0.02. Unbiased over many roundings."""
    HALF_DOWN = decimal.ROUND_HALF_DOWN
    DOWN = decimal.ROUND_DOWN
    """Towards zero: truncation. For discounts and interest, so no customer is overcharged."""
    UP = decimal.ROUND_UP
    FLOOR = decimal.ROUND_FLOOR
    CEILING = decimal.ROUND_CEILING


def as_currency(code: str | Currency) -> Currency:
    """Return the :class:`Currency` for an ISO 4217 code, raising :class:`UnknownCurrency`."""
    if isinstance(code, Currency):
        return code
    try:
        currency = get_currency(code.upper())
    except CurrencyDoesNotExist:
        raise UnknownCurrency(code=code) from None
    if currency.code in _NOT_MONEY:
        raise UnknownCurrency(code=code)
    return currency


@cache
def _decimals(code: str) -> int:
    if code in _MINOR_UNIT_OVERRIDES:
        return _MINOR_UNIT_OVERRIDES[code]
    sub_unit = as_currency(code).sub_unit
    return len(str(sub_unit)) - 1 if sub_unit > 1 else 0


def decimals_of(currency: str | Currency) -> int:
    """Number of decimal places of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return _decimals(currency if isinstance(currency, str) else currency.code)


EXACT = decimal.Context(
    prec=60, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow]
)
"""The one context for arithmetic that must never round (sums, quantities, minor units).

Amounts, prices and quantities are bounded far below 60 digits, so an operation here is exact;
should one ever have to round, it raises ``decimal.Inexact`` instead of silently losing a cent.
"""

CALC = decimal.Context(
    prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation, decimal.Overflow]
)
"""The context for intermediate products and quotients (tax, shares, rates).

Sixty digits keep every intermediate far beyond any amount o2c accepts, so the one rounding that
matters is the explicit :func:`quantize` to the currency that follows.
"""

# Wide enough for any real amount; an operation that would still lose digits raises instead.
_CONTEXT = decimal.Context(prec=60, traps=[decimal.InvalidOperation])
_EXACTNESS = decimal.Context(prec=60, rounding=decimal.ROUND_DOWN, traps=[])


@cache
def _exponent(code: str, extra: int = 0) -> Decimal:
    return Decimal(1).scaleb(-(_decimals(code) + extra))


def _to_decimal(value: str | int | Decimal, what: str = "amount") -> Decimal:
    if isinstance(value, (bool, float)):
        raise InvalidAmount(
            value=repr(value), reason=f"{what} must not be a float or bool; use str or Decimal"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except decimal.InvalidOperation:
            raise InvalidAmount(value=value, reason=f"{what} is not a number") from None
    else:
        raise InvalidAmount(value=repr(value), reason=f"{what} must be str, int or Decimal")
    if not result.is_finite():
        raise InvalidAmount(value=str(value), reason=f"{what} must be finite")
    if result and result.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmount(
            value=str(value), reason=f"{what} has more than {MAX_INTEGER_DIGITS} integer digits"
        )
    return result


def zero(currency: str | Currency) -> Money:
    """The zero amount of a currency: the start of every sum."""
    return Money(Decimal(0), as_currency(currency))


def money(amount: str | int | Decimal, currency: str | Currency) -> Money:
    """Build an exact amount: refuse floats and more decimals than the currency has.

    >>> money("12.50", "EUR")
    Money('12.50', 'EUR')
    """
    cur = as_currency(currency)
    value = _to_decimal(amount)
    result = Money(value, cur)
    require_exact(result)
    return result


def unit_price(amount: str | int | Decimal, currency: str | Currency) -> Money:
    """Build a unit price, which may carry :data:`UNIT_PRICE_EXTRA_DECIMALS` more decimals."""
    cur = as_currency(currency)
    value = _to_decimal(amount, "unit price")
    allowed = _decimals(cur.code) + UNIT_PRICE_EXTRA_DECIMALS
    if _places(value) > allowed:
        raise ExcessPrecision(amount=str(value), currency=cur.code, allowed_decimals=allowed)
    return Money(value, cur)


def parse_money(text: str) -> Money:
    """Parse ``"1000 EUR"``, ``"EUR 1000"`` or ``"1,000.50 USD"`` into an exact amount."""
    parts = text.replace(",", "").split()
    if len(parts) != 2:
        raise InvalidAmount(
            value=text, reason="expected '<amount> <currency>' such as '100.00 EUR'"
        )
    first, second = parts
    if first.isalpha():
        first, second = second, first
    return money(first, second)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite values only reach here
    return max(0, -exponent)


def is_exact(amount: Money) -> bool:
    """Whether the amount has no more decimals than its currency's minor unit."""
    value = amount.amount
    # Quantizing and comparing is several times cheaper than normalizing the digits, and every
    # open item and receipt checks its amounts. No trap: a value too long to quantize compares
    # unequal (NaN) and so counts as inexact.
    unit = _exponent(amount.currency.code)
    return value.is_finite() and value.quantize(unit, context=_EXACTNESS) == value


def require_exact(amount: Money) -> Money:
    """Return the amount unchanged, or raise :class:`ExcessPrecision` if it is too precise."""
    if not is_exact(amount):
        raise ExcessPrecision(
            amount=str(amount.amount),
            currency=amount.currency.code,
            allowed_decimals=_decimals(amount.currency.code),
        )
    return amount


def quantize(
    amount: Money | Decimal, rounding: Rounding, currency: str | Currency | None = None
) -> Money:
    """Round to the currency's minor unit with the given rounding mode.

    A bare :class:`Decimal` needs ``currency``. The ambient decimal context is never consulted.
    """
    if isinstance(amount, Money):
        value, cur = amount.amount, amount.currency
    else:
        if currency is None:
            raise TypeError("quantize() needs a currency for a bare Decimal")
        value, cur = amount, as_currency(currency)
        if not value.is_finite():
            raise InvalidAmount(value=str(value), reason="an amount to round must be finite")
    exponent = _exponent(cur.code)
    return Money(value.quantize(exponent, rounding=rounding.value, context=_CONTEXT), cur)


def to_minor(amount: Money) -> int:
    """The amount as an integer number of minor units (cents); it must be exact."""
    require_exact(amount)
    return int(amount.amount.scaleb(_decimals(amount.currency.code)))


def from_minor(units: int, currency: str | Currency) -> Money:
    """Build an amount from an integer number of minor units."""
    cur = as_currency(currency)
    return Money(Decimal(units).scaleb(-_decimals(cur.code)), cur)


def minor_units(value: Decimal, places: int) -> int:
    """``value`` as an integer count of units of ``10**-places``; raises if it would round.

    The hot paths of cash application keep ``places`` (:func:`decimals_of`) at hand, so this
    skips the currency lookup that :func:`to_minor` does.
    """
    return int(value.scaleb(places, EXACT))


def from_minor_units(units: int, places: int, currency: Currency) -> Money:
    """``units`` units of ``10**-places`` in ``currency``: the inverse of :func:`minor_units`."""
    return Money(Decimal(units).scaleb(-places, EXACT), currency)


def ensure_same_currency(expected: Currency | str, *amounts: Money) -> Currency:
    """Raise :class:`CurrencyMismatch` unless every amount is in the expected currency."""
    cur = as_currency(expected)
    for amount in amounts:
        if amount.currency is not cur and amount.currency != cur:
            raise CurrencyMismatch(expected=cur.code, actual=amount.currency.code)
    return cur


def total(amounts: Iterable[Money], currency: str | Currency) -> Money:
    """Sum amounts, starting from the currency's zero; refuses any other currency.

    An empty iterable gives the zero of ``currency``, so a sum never lacks a currency.
    """
    cur = as_currency(currency)
    value = Decimal(0)
    for amount in amounts:
        # currencies are shared instances: the identity test settles almost every comparison
        if amount.currency is not cur and amount.currency != cur:
            raise CurrencyMismatch(expected=cur.code, actual=amount.currency.code)
        value += amount.amount
    return Money(value, cur)


def percent_of(amount: Money, percent: Decimal | int | str, rounding: Rounding) -> Money:
    """``percent`` % of an amount, quantized to the currency with the given rounding."""
    rate = _to_decimal(percent, "percent")
    return quantize(amount.amount * rate / 100, rounding, amount.currency)


def allocate(amount: Money, weights: Sequence[Decimal | int | str]) -> tuple[Money, ...]:
    """Split an exact amount by weights so that the parts add up to it exactly.

    Each part gets the floor of its exact share in minor units; the minor units left over go one at
    a time to the parts with the largest remainders (earlier parts first on a tie). Negative amounts
    are split as their absolute value and negated, so credits mirror debits. Weights must be
    non-negative with a positive sum; a zero weight always receives zero.

    >>> [str(p.amount) for p in allocate(money("100.00", "EUR"), [1, 1, 1])]
    ['33.34', '33.33', '33.33']
    """
    if not weights:
        raise InvalidAmount(value="[]", reason="allocate() needs at least one weight")
    ratios = [_to_decimal(w, "weight").as_integer_ratio() for w in weights]
    if any(numerator < 0 for numerator, _ in ratios):
        raise InvalidAmount(value=str(list(weights)), reason="weights must not be negative")
    # Over a common denominator the weights are integers with the same ratios, so every share
    # and remainder below is exact integer arithmetic (cheaper than fractions, same result).
    denominator = lcm(*(d for _, d in ratios))
    exact = [numerator * (denominator // d) for numerator, d in ratios]
    weight_sum = sum(exact)
    if weight_sum == 0:
        raise InvalidAmount(value=str(list(weights)), reason="weights must not all be zero")
    units = to_minor(amount)
    sign = -1 if units < 0 else 1
    units = abs(units)
    # floor of each exact share, and what is left of it in units of 1 / weight_sum
    floors_and_remainders = [divmod(units * w, weight_sum) for w in exact]
    parts = [part for part, _ in floors_and_remainders]
    leftover = units - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-floors_and_remainders[i][1], i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    cur = amount.currency
    return tuple(from_minor(sign * part, cur) for part in parts)


def split_evenly(amount: Money, parts: int) -> tuple[Money, ...]:
    """Split an exact amount into ``parts`` near-equal parts that add up exactly."""
    if parts < 1:
        raise InvalidAmount(value=str(parts), reason="split_evenly() needs at least one part")
    return allocate(amount, [1] * parts)
