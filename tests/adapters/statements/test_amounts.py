"""Amounts are read exactly: trailing zeros are the same amount, a digit more than the currency
has is refused, whatever was read before (the readers remember currencies and dates)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.statements._common import amount_of, ymd
from o2c.domain.statements import UnreadableStatement


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("8.850", "EUR", "8.85"),
        ("8.85000", "EUR", "8.85"),
        (" 27 ", "EUR", "27.00"),
        ("100", "JPY", "100"),
        ("100.000", "JPY", "100"),
        ("1.001", "KWD", "1.001"),
        ("1.001", "kwd", "1.001"),
    ],
)
def test_an_exact_amount_is_read(text: str, currency: str, amount: str) -> None:
    for _ in range(2):  # read again: from what was remembered
        money = amount_of(text, currency, "f.xml", "entry 1")
        assert money.amount == Decimal(amount)
        assert str(money.amount) == amount
        assert money.currency.code == currency.upper()


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("8.855", "EUR", "more decimals than EUR allows (2)"),
        ("8.850001", "EUR", "more decimals than EUR allows (2)"),
        ("100.5", "JPY", "more decimals than JPY allows (0)"),
        ("1.0001", "KWD", "more decimals than KWD allows (3)"),
        ("1.00", "XYZ", "XYZ"),
        ("abc", "EUR", "is not a number"),
        ("NaN", "EUR", "is not a number"),
    ],
)
def test_an_inexact_or_unknown_amount_is_refused(text: str, currency: str, reason: str) -> None:
    for _ in range(2):
        with pytest.raises(UnreadableStatement) as refused:
            amount_of(text, currency, "f.xml", "entry 7")
        assert reason in str(refused.value)
        assert refused.value.where == "entry 7"


@given(
    minor=st.integers(min_value=0, max_value=10**12),
    zeros=st.integers(min_value=0, max_value=3),
    extra=st.integers(min_value=1, max_value=9),
)
def test_trailing_zeros_never_change_an_amount_and_a_digit_more_is_refused(
    minor: int, zeros: int, extra: int
) -> None:
    written = f"{minor // 100}.{minor % 100:02d}"
    assert amount_of(written + "0" * zeros, "EUR", "f", "e").amount == Decimal(written)
    with pytest.raises(UnreadableStatement):
        amount_of(written + "0" * zeros + str(extra), "EUR", "f", "e")


def test_dates_are_read_and_refused_alike_every_time() -> None:
    for _ in range(2):
        assert ymd("2026-04-30T10:00:00", "f", "e") == date(2026, 4, 30)
        with pytest.raises(UnreadableStatement):
            ymd("2026-02-30", "f", "e")
