"""Amounts for people: the locale decides the digits and symbol; nothing is rounded or floated."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import o2c
from o2c.domain.errors import InvalidInput
from o2c.domain.money import decimals_of, money, unit_price
from o2c.formatting import format_amount, format_money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1234567.5", "EUR", "en", "€1,234,567.50"),
        ("-1234.5", "USD", "en", "-$1,234.50"),
        ("1234567.5", "EUR", "de_DE", f"1.234.567,50{NBSP}€"),
        ("-1234.5", "EUR", "de_DE", f"-1.234,50{NBSP}€"),
        ("1234.5", "CHF", "fr_CH", f"1'234,50{NBSP}CHF"),
        ("1234567", "JPY", "ja_JP", "￥1,234,567"),
        ("1234567", "JPY", "en", "¥1,234,567"),
        ("1234.567", "KWD", "en", "KWD1,234.567"),
        ("1234.567", "KWD", "de_DE", f"1.234,567{NBSP}KWD"),
        ("0", "EUR", "de_DE", f"0,00{NBSP}€"),
        ("7", "KWD", "en", "KWD7.000"),
    ],
)
def test_money_is_written_the_way_the_locale_writes_it(
    amount: str, currency: str, locale: str, expected: str
) -> None:
    assert format_money(money(amount, currency), locale) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1234567.5", "EUR", "en", "1,234,567.50"),
        ("1234567.5", "EUR", "de_DE", "1.234.567,50"),
        ("1234.5", "CHF", "fr_CH", "1'234,50"),
        ("1234567", "JPY", "ja_JP", "1,234,567"),
        ("-0.125", "KWD", "en", "-0.125"),
    ],
)
def test_the_amount_alone_has_the_locale_digits_without_a_currency(
    amount: str, currency: str, locale: str, expected: str
) -> None:
    assert format_amount(money(amount, currency), locale) == expected


def test_the_default_locale_is_english() -> None:
    assert format_money(money("1000", "EUR")) == "€1,000.00"
    assert format_amount(money("1000", "EUR")) == "1,000.00"


def test_digits_below_the_minor_unit_are_shown_not_rounded() -> None:
    price = unit_price("0.0125", "EUR")
    assert format_money(price, "en") == "€0.0125"
    assert format_money(price, "de_DE") == f"0,0125{NBSP}€"
    assert format_amount(unit_price("2.50000", "EUR"), "en") == "2.50"
    assert format_amount(unit_price("100.5", "JPY"), "ja_JP") == "100.5"


def test_amounts_beyond_float_precision_stay_exact() -> None:
    large = money("123456789012345678.91", "EUR")
    assert format_amount(large, "en") == "123,456,789,012,345,678.91"
    assert format_money(large, "de_DE") == f"123.456.789.012.345.678,91{NBSP}€"


def test_locale_identifiers_with_a_hyphen_are_read() -> None:
    assert format_amount(money("1234.5", "EUR"), "de-DE") == "1.234,50"


@pytest.mark.parametrize("locale", ["xx_YY", "", "not a locale"])
def test_an_unknown_locale_is_refused_with_a_typed_error(locale: str) -> None:
    with pytest.raises(InvalidInput, match="locale"):
        format_money(money("1", "EUR"), locale)


def test_the_formatters_are_on_the_front_door() -> None:
    assert o2c.format_money is format_money
    assert o2c.format_amount is format_amount


currencies = st.sampled_from(["EUR", "USD", "JPY", "KWD", "CHF"])


@given(
    units=st.integers(min_value=-(10**17), max_value=10**17),
    currency=currencies,
    extra_places=st.integers(min_value=0, max_value=4),
)
def test_english_digits_read_back_as_the_very_amount(
    units: int, currency: str, extra_places: int
) -> None:
    places = decimals_of(currency) + extra_places
    amount = Decimal(units).scaleb(-places)
    value = unit_price(amount, currency)
    written = format_amount(value, "en")
    assert Decimal(written.replace(",", "")) == amount
    fraction = written.partition(".")[2]
    assert len(fraction) >= decimals_of(currency)


@given(units=st.integers(min_value=-(10**15), max_value=10**15), currency=currencies)
def test_english_amounts_at_the_minor_unit_read_as_the_command_line_always_printed_them(
    units: int, currency: str
) -> None:
    places = decimals_of(currency)
    value = money(Decimal(units).scaleb(-places), currency)
    assert format_amount(value, "en") == f"{value.amount:,.{places}f}"
