"""Money operators: o2c checks currencies itself, and arithmetic keeps o2c's Money."""

from __future__ import annotations

import operator
import pickle
from collections.abc import Callable
from decimal import Decimal

import moneyed
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, DomainError, O2CError
from o2c.domain.money import Money, Rounding, allocate, from_minor, money, quantize, total, zero
from o2c.testing.strategies import amounts, currencies

Operator = Callable[[Money, Money], object]

ACROSS_CURRENCIES: dict[str, Operator] = {
    "+": operator.add,
    "-": operator.sub,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "/": operator.truediv,
    "sum": lambda a, b: sum([a, b]),
}

ONE_AMOUNT_RESULTS: dict[str, Callable[[Money], object]] = {
    "-x": operator.neg,
    "+x": operator.pos,
    "abs": abs,
    "x * 3": lambda x: x * 3,
    "3 * x": lambda x: 3 * x,
    "x * Decimal": lambda x: x * Decimal("0.5"),
    "x / 4": lambda x: x / 4,
    "round": lambda x: x.round(1),
    "percent": lambda x: 5 % x,
    "sum of one": lambda x: sum([x]),
    "x + 0": lambda x: x + 0,
    "x - 0": lambda x: x - 0,
    "0 - x": lambda x: 0 - x,
}

two_currencies = st.tuples(currencies(), currencies()).filter(lambda pair: pair[0] != pair[1])


@given(st.data(), two_currencies)
def test_every_operator_across_currencies_raises_currency_mismatch(
    data: st.DataObject, pair: tuple[str, str]
) -> None:
    first = data.draw(amounts(pair[0], min_units=-(10**12)))
    second = data.draw(amounts(pair[1], min_units=-(10**12)))
    for name, apply in ACROSS_CURRENCIES.items():
        with pytest.raises(CurrencyMismatch) as caught:
            apply(first, second)
        assert (caught.value.expected, caught.value.actual) == pair, name


@given(st.data(), two_currencies)
def test_amounts_of_two_currencies_are_unequal_not_an_error(
    data: st.DataObject, pair: tuple[str, str]
) -> None:
    first = data.draw(amounts(pair[0]))
    same_number = Money(first.amount, pair[1])
    second = same_number if data.draw(st.booleans()) else data.draw(amounts(pair[1]))
    assert first != second
    assert not first == second  # noqa: SIM201 (both operators, on purpose)


@given(st.data(), currencies())
def test_same_currency_arithmetic_gives_o2c_money(data: st.DataObject, currency: str) -> None:
    first = data.draw(amounts(currency, min_units=-(10**12)))
    second = data.draw(amounts(currency, min_units=-(10**12)))
    for name in ("+", "-", "sum"):
        result = ACROSS_CURRENCIES[name](first, second)
        assert type(result) is Money, name
        assert result.currency == first.currency
    assert first + second == money(first.amount + second.amount, currency)
    assert first - second == money(first.amount - second.amount, currency)
    assert (first < second) == (first.amount < second.amount)
    assert (first <= second) == (first.amount <= second.amount)
    assert (first > second) == (first.amount > second.amount)
    assert (first >= second) == (first.amount >= second.amount)
    if second:
        assert first / second == first.amount / second.amount
    for name, apply in ONE_AMOUNT_RESULTS.items():
        assert type(apply(first)) is Money, name


def test_a_plain_py_moneyed_amount_meets_the_same_rules() -> None:
    # A plain amount on either side: o2c's operators take precedence, being a subclass's.
    plain = moneyed.Money(Decimal("2.00"), "EUR")
    eur = money("1.00", "EUR")
    assert type(plain + eur) is Money
    assert type(eur + plain) is Money
    assert plain - eur == money("1.00", "EUR")
    assert eur < plain
    assert plain == money("2.00", "EUR")
    with pytest.raises(CurrencyMismatch) as caught:
        plain + money("1.00", "USD")
    assert (caught.value.expected, caught.value.actual) == ("EUR", "USD")


def test_ordering_against_a_number_is_still_refused_as_py_moneyed_does() -> None:
    with pytest.raises(moneyed.MoneyComparisonError):
        money("1.00", "EUR") < 2  # noqa: B015


def test_currency_mismatch_is_an_o2c_error_and_a_type_error() -> None:
    with pytest.raises(TypeError):
        money("1", "EUR") + money("1", "USD")
    with pytest.raises(O2CError) as caught:
        money("1", "EUR") - money("1", "USD")
    assert isinstance(caught.value, DomainError)
    assert str(caught.value) == "currency mismatch: expected EUR, got USD"


def test_the_module_functions_build_o2c_money() -> None:
    built = [
        money("1.00", "EUR"),
        zero("EUR"),
        from_minor(100, "EUR"),
        quantize(Decimal("1.005"), Rounding.HALF_UP, "EUR"),
        total([money("1.00", "EUR")], "EUR"),
        *allocate(money("1.00", "EUR"), [1, 2]),
    ]
    assert all(type(amount) is Money for amount in built)


def test_money_pickles_and_hashes_like_py_moneyed() -> None:
    amount = money("1.00", "EUR") + money("2.50", "EUR")
    again = pickle.loads(pickle.dumps(amount))
    assert type(again) is Money
    assert again == amount
    assert hash(again) == hash(moneyed.Money(Decimal("3.50"), "EUR"))
    assert repr(amount) == "Money('3.50', 'EUR')"


@given(st.lists(amounts("EUR", min_units=-(10**6), max_units=10**6), max_size=5))
def test_sum_from_zero_matches_total(values: list[Money]) -> None:
    assume(values)
    assert sum(values) == total(values, "EUR")
