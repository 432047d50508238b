"""Open items: instalments, overdue arithmetic, discounts, apply and reopen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput, OverAllocation
from o2c.domain.money import decimals_of, from_minor, from_minor_units, money
from o2c.domain.receivables import DiscountOffer, Instalment, ItemKind, OpenItem, open_total

JAN1 = date(2026, 1, 1)


def an_item(*parts: tuple[date, str], currency: str = "EUR", **extra: object) -> OpenItem:
    instalments = tuple(Instalment.unpaid(due, money(amount, currency)) for due, amount in parts)
    return OpenItem("INV-1", "C-1", JAN1, instalments, **extra)  # type: ignore[arg-type]


def test_an_untouched_item() -> None:
    item = an_item((date(2026, 1, 31), "100.00"), (date(2026, 2, 28), "50.00"))
    assert item.original == item.open == money("150", "EUR")
    assert item.currency == "EUR"
    assert item.kind is ItemKind.INVOICE
    assert item.is_untouched
    assert not item.is_settled
    assert item.due_date == date(2026, 1, 31)


def test_apply_pays_the_oldest_instalment_first_and_reopen_the_newest() -> None:
    item = an_item((date(2026, 1, 31), "100.00"), (date(2026, 2, 28), "50.00"))
    paid = item.apply(money("120", "EUR"))
    assert [p.open for p in paid.instalments] == [money("0", "EUR"), money("30", "EUR")]
    assert paid.due_date == date(2026, 2, 28)
    reopened = paid.reopen(money("30", "EUR"))
    assert [p.open for p in reopened.instalments] == [money("10", "EUR"), money("50", "EUR")]
    assert item == item.apply(money("150", "EUR")).reopen(money("150", "EUR"))


def test_overdue_arithmetic() -> None:
    item = an_item((date(2026, 1, 31), "100.00"), (date(2026, 2, 28), "50.00"))
    assert item.overdue_amount(date(2026, 1, 31)) == money("0", "EUR")
    assert item.overdue_amount(date(2026, 2, 1)) == money("100", "EUR")
    assert item.days_past_due(date(2026, 2, 10)) == 10
    assert item.days_past_due(date(2026, 1, 10)) == 0
    assert not item.is_overdue(date(2026, 1, 31))
    settled = item.apply(money("150", "EUR"))
    assert settled.days_past_due(date(2027, 1, 1)) == 0
    assert settled.is_settled


def test_refusals() -> None:
    item = an_item((date(2026, 1, 31), "100.00"))
    with pytest.raises(OverAllocation):
        item.apply(money("100.01", "EUR"))
    with pytest.raises(OverAllocation):
        item.reopen(money("0.01", "EUR"))
    with pytest.raises(CurrencyMismatch):
        item.apply(money("1", "USD"))
    with pytest.raises(InvalidAmount):
        item.apply(money("0", "EUR"))
    with pytest.raises(InvalidInput, match="before the document date"):
        an_item((date(2025, 12, 31), "1"))
    with pytest.raises(InvalidInput, match="previous instalment"):
        an_item((date(2026, 2, 1), "1"), (date(2026, 1, 15), "1"))
    with pytest.raises(InvalidInput):
        OpenItem("INV-1", "C-1", JAN1, ())
    with pytest.raises(CurrencyMismatch):
        OpenItem(
            "INV-1",
            "C-1",
            JAN1,
            (
                Instalment.unpaid(JAN1, money("1", "EUR")),
                Instalment.unpaid(JAN1, money("1", "USD")),
            ),
        )
    with pytest.raises(InvalidAmount):
        Instalment(JAN1, money("1", "EUR"), money("2", "EUR"))


def test_discount_offers_end_with_the_deadline_or_a_part_payment() -> None:
    offers = (
        DiscountOffer(date(2026, 1, 11), money("3.00", "EUR"), Decimal(3)),
        DiscountOffer(date(2026, 1, 21), money("1.00", "EUR"), Decimal(1)),
    )
    item = an_item((date(2026, 2, 15), "100.00"), discounts=offers)
    assert item.discount_on(date(2026, 1, 11)) == offers[0]
    assert item.discount_on(date(2026, 1, 12)) == offers[1]
    assert item.discount_on(date(2026, 1, 22)) is None
    assert item.apply(money("10", "EUR")).discount_on(date(2026, 1, 2)) is None


def test_open_total() -> None:
    items = [an_item((date(2026, 1, 31), "10.00")), an_item((date(2026, 1, 31), "5.55"))]
    assert open_total(items, "EUR") == money("15.55", "EUR")
    assert open_total([], "JPY") == money("0", "JPY")


@st.composite
def items_and_payments(draw: st.DrawFn) -> tuple[OpenItem, list[int]]:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
    minors = draw(st.lists(st.integers(1, 10**7), min_size=1, max_size=5))
    parts = tuple(
        Instalment.unpaid(date(2026, 1 + i, 28), from_minor(m, currency))
        for i, m in enumerate(minors)
    )
    payments = draw(st.lists(st.integers(1, 10**7), max_size=8))
    return OpenItem("INV-9", "C-9", JAN1, parts), payments


@given(items_and_payments())
def test_open_never_leaves_zero_to_original(case: tuple[OpenItem, list[int]]) -> None:
    item, payments = case
    applied = 0
    original = item.original
    for units in payments:
        amount = from_minor(units, item.currency)
        if amount <= item.open:
            item = item.apply(amount)
            applied += units
        else:
            with pytest.raises(OverAllocation):
                item.apply(amount)
        assert all(0 <= p.open.amount <= p.amount.amount for p in item.instalments)
        assert item.open == original - from_minor(applied, item.currency)
    if applied:
        assert item.reopen(from_minor(applied, item.currency)).open == original


@given(
    st.sampled_from(["EUR", "JPY", "KWD"]),
    st.integers(1, 10**9),
    st.data(),
)
def test_the_fast_instalment_equals_the_validated_one(
    currency: str, amount_minor: int, data: st.DataObject
) -> None:
    places = decimals_of(currency)
    part = Instalment.unpaid(date(2026, 2, 28), from_minor(amount_minor, currency))
    open_minor = data.draw(st.integers(0, amount_minor))
    fast = part._with_open_minor(open_minor, places)
    validated = Instalment(
        due_date=part.due_date,
        amount=part.amount,
        open=from_minor_units(open_minor, places, part.open.currency),
    )
    assert fast == validated
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(validated, recurse=False)
