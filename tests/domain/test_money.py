"""Money: exactness, rounding, allocation and currency rules."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, ExcessPrecision, InvalidAmount, UnknownCurrency
from o2c.domain.money import (
    UNIT_PRICE_EXTRA_DECIMALS,
    Money,
    Rounding,
    allocate,
    as_currency,
    decimals_of,
    ensure_same_currency,
    from_minor,
    is_exact,
    money,
    parse_money,
    percent_of,
    quantize,
    require_exact,
    split_evenly,
    to_minor,
    total,
    unit_price,
    zero,
)

CURRENCIES = ["EUR", "USD", "JPY", "KWD", "BHD", "GBP", "CHF", "ISK", "CLF"]


@pytest.mark.parametrize(
    ("code", "places"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("CLF", 4),
    ],
)
def test_minor_units_per_currency(code: str, places: int) -> None:
    assert decimals_of(code) == places


def test_money_refuses_floats_and_bools() -> None:
    with pytest.raises(InvalidAmount, match="float"):
        money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        money(True, "EUR")


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", "", "1e999999999"])
def test_money_refuses_non_numbers(text: str) -> None:
    with pytest.raises((InvalidAmount, ExcessPrecision)):
        money(text, "EUR")


def test_money_refuses_more_precision_than_the_currency() -> None:
    with pytest.raises(ExcessPrecision) as caught:
        money("1.005", "EUR")
    assert caught.value.allowed_decimals == 2
    with pytest.raises(ExcessPrecision):
        money("1.5", "JPY")
    assert money("1.005", "KWD").amount == Decimal("1.005")
    assert money("1.50", "EUR") == money("1.5", "EUR")  # trailing zeros are not precision


def test_unit_prices_may_carry_extra_decimals() -> None:
    assert unit_price("0.0125", "EUR").amount == Decimal("0.0125")
    assert UNIT_PRICE_EXTRA_DECIMALS == 4
    with pytest.raises(ExcessPrecision) as caught:
        unit_price("0.0000001", "EUR")
    assert caught.value.allowed_decimals == 6


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        money("1", "ABC")
    for placeholder in ("XYZ", "XXX", "XTS"):
        with pytest.raises(UnknownCurrency):
            as_currency(placeholder)


def test_parse_money_accepts_both_orders_and_thousands_separators() -> None:
    assert parse_money("1,000.50 USD") == money("1000.50", "USD")
    assert parse_money("EUR 12") == money("12", "EUR")
    with pytest.raises(InvalidAmount):
        parse_money("twelve euros please")


@pytest.mark.parametrize(
    ("value", "rounding", "expected"),
    [
        ("0.125", Rounding.HALF_UP, "0.13"),
        ("0.125", Rounding.HALF_EVEN, "0.12"),
        ("0.135", Rounding.HALF_EVEN, "0.14"),
        ("0.129", Rounding.DOWN, "0.12"),
        ("-0.125", Rounding.HALF_UP, "-0.13"),
        ("-0.121", Rounding.FLOOR, "-0.13"),
        ("0.121", Rounding.CEILING, "0.13"),
    ],
)
def test_quantize_uses_the_named_rounding_mode(
    value: str, rounding: Rounding, expected: str
) -> None:
    assert quantize(Decimal(value), rounding, "EUR") == money(expected, "EUR")


def test_quantize_ignores_the_ambient_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        ctx.prec = 3
        assert quantize(Decimal("12345.675"), Rounding.HALF_UP, "EUR").amount == Decimal("12345.68")


def test_quantize_a_bare_decimal_needs_a_currency() -> None:
    with pytest.raises(TypeError):
        quantize(Decimal("1.234"), Rounding.HALF_UP)


def test_total_starts_from_zero_and_refuses_mixed_currencies() -> None:
    assert total([], "EUR") == zero("EUR")
    assert total([money("1.10", "EUR"), money("2.20", "EUR")], "EUR") == money("3.30", "EUR")
    with pytest.raises(CurrencyMismatch) as caught:
        total([money("1", "EUR"), money("1", "USD")], "EUR")
    assert (caught.value.expected, caught.value.actual) == ("EUR", "USD")


def test_ensure_same_currency() -> None:
    assert ensure_same_currency("EUR", money("1", "EUR")).code == "EUR"
    with pytest.raises(CurrencyMismatch):
        ensure_same_currency("EUR", money("1", "EUR"), money("1", "JPY"))


def test_minor_units_round_trip() -> None:
    assert to_minor(money("12.34", "EUR")) == 1234
    assert to_minor(money("1234", "JPY")) == 1234
    assert to_minor(money("1.234", "KWD")) == 1234
    assert from_minor(-1234, "EUR") == money("-12.34", "EUR")
    with pytest.raises(ExcessPrecision):
        to_minor(Money(Decimal("1.001"), "EUR"))


def test_percent_of_rounds_explicitly() -> None:
    assert percent_of(money("99.99", "EUR"), 2, Rounding.DOWN) == money("1.99", "EUR")
    assert percent_of(money("99.99", "EUR"), "2", Rounding.HALF_UP) == money("2.00", "EUR")


def test_allocate_by_largest_remainder() -> None:
    assert allocate(money("100.00", "EUR"), [1, 1, 1]) == (
        money("33.34", "EUR"),
        money("33.33", "EUR"),
        money("33.33", "EUR"),
    )
    assert allocate(money("10", "JPY"), [30, 70]) == (money("3", "JPY"), money("7", "JPY"))
    # shares 1.5 and 3.5 cents: equal remainders, so the earlier part gets the leftover cent
    assert allocate(money("0.05", "EUR"), [Decimal("0.3"), Decimal("0.7")]) == (
        money("0.02", "EUR"),
        money("0.03", "EUR"),
    )
    assert allocate(money("-1.00", "EUR"), [1, 2]) == (money("-0.33", "EUR"), money("-0.67", "EUR"))
    assert allocate(money("5.00", "EUR"), [0, 1]) == (money("0", "EUR"), money("5.00", "EUR"))


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_bad_weights(weights: list[int]) -> None:
    with pytest.raises(InvalidAmount):
        allocate(money("1", "EUR"), weights)


def test_allocate_refuses_an_inexact_amount() -> None:
    with pytest.raises(ExcessPrecision):
        allocate(Money(Decimal("1.001"), "EUR"), [1, 1])


currencies = st.sampled_from(CURRENCIES)


@st.composite
def amounts(draw: st.DrawFn, currency: str | None = None) -> Money:
    code = currency or draw(currencies)
    units = draw(st.integers(min_value=-(10**12), max_value=10**12))
    return from_minor(units, code)


weights = st.lists(
    st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=30,
).filter(lambda ws: sum(ws) > 0)


@given(amounts(), weights)
def test_allocation_always_sums_exactly(amount: Money, ws: list[Decimal]) -> None:
    parts = allocate(amount, ws)
    assert len(parts) == len(ws)
    assert total(parts, amount.currency) == amount
    assert all(is_exact(p) for p in parts)
    for part, weight in zip(parts, ws, strict=True):
        if weight == 0:
            assert part.amount == 0
        # every part lies within one minor unit of its exact share
        exact_share = amount.amount * weight / sum(ws)
        unit = Decimal(1).scaleb(-decimals_of(amount.currency))
        assert abs(part.amount - exact_share) < unit


@given(amounts(), st.integers(min_value=1, max_value=50))
def test_even_split_differs_by_at_most_one_minor_unit(amount: Money, n: int) -> None:
    parts = split_evenly(amount, n)
    minors = [to_minor(p) for p in parts]
    assert sum(minors) == to_minor(amount)
    assert max(minors) - min(minors) <= 1


@given(amounts(), st.sampled_from(list(Rounding)))
def test_quantize_is_idempotent_and_exact(amount: Money, rounding: Rounding) -> None:
    scaled = Money(amount.amount / 7, amount.currency)
    once = quantize(scaled, rounding)
    assert is_exact(once)
    assert quantize(once, rounding) == once
    assert require_exact(once) is once
