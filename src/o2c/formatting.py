"""Amounts written for people, in the reader's language: ``€1,234.50``, ``1.234,50 €``.

One formatter for every place an amount is shown (the command line today, documents such as
invoices and statements later), so an amount reads the same wherever it appears. The digits,
separators, sign and currency symbol follow the locale, from the Unicode CLDR data that babel
carries (babel comes with py-moneyed, so this costs no extra install).

Exact, like the amounts: the :class:`~decimal.Decimal` is formatted as it is, never through a
float, and nothing is rounded. An amount shows at least its currency's minor unit (EUR two
places, JPY none, KWD three), and every further digit it has: a unit price of ``0.0125 EUR`` is
shown as ``€0.0125``, not as a cent it is not. Trailing zeros beyond the minor unit are left out,
since they do not change the amount.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern

from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money, decimals_of

__all__ = ["format_amount", "format_money"]


def format_money(value: Money, locale: str = "en") -> str:
    """The amount with its currency, written the way ``locale`` writes money.

    ``format_money(money("1234.5", "EUR"), "de_DE")`` is ``'1.234,50\\xa0€'``. ``locale`` is a
    locale identifier such as ``en``, ``de_DE`` or ``fr_CH`` (``de-DE`` is read too); one that is
    not known raises :class:`~o2c.domain.errors.InvalidInput`.
    """
    reader = _locale(locale)
    pattern = reader.currency_formats["standard"]
    return _apply(pattern, value, reader)


def format_amount(value: Money, locale: str = "en") -> str:
    """The amount alone, with the digits and separators of ``locale``: ``'1,234.50'`` in ``en``.

    For columns whose heading or neighbour already names the currency. Same rules as
    :func:`format_money`: exact, at least the currency's minor unit, never rounded.
    """
    reader = _locale(locale)
    pattern = reader.decimal_formats[None]
    return _apply(pattern, value, reader)


def _locale(identifier: str) -> Locale:
    try:
        return Locale.parse(identifier.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as error:
        raise InvalidInput("locale", str(identifier), "not a known locale identifier") from error


def _apply(pattern: NumberPattern, value: Money, reader: Locale) -> str:
    amount = value.amount
    if not isinstance(amount, Decimal):  # py-moneyed converts on the way in; guard the contract
        raise InvalidInput("amount", repr(amount), "an amount must be a Decimal")
    code = value.currency.code
    places = decimals_of(code)
    # The locale's pattern with the currency's minor unit as the fewest fraction digits. Without
    # quantization babel shows every further digit the amount has instead of rounding it away.
    exact = copy.copy(pattern)
    exact.frac_prec = (places, max(places, exact.frac_prec[1]))
    written = exact.apply(
        amount, reader, currency=code, currency_digits=False, decimal_quantization=False
    )
    return str(written)
