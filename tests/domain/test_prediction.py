"""Payment-date prediction: hand-worked cases, the fall-back order, and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.errors import InvalidInput
from o2c.domain.money import money
from o2c.domain.receivables import Instalment, OpenItem
from o2c.domain.reporting import (
    PaidRecord,
    PredictionModel,
    backtest,
    likely_late,
    predict_payments,
    predicted_cash_by_week,
)
from o2c.testing import strategies as o2c_st

AS_OF = date(2026, 6, 1)


def item(item_id: str, customer: str, due: date, amount: str = "100.00") -> OpenItem:
    return OpenItem(
        item_id,
        customer,
        due - timedelta(days=30),
        (Instalment.unpaid(due, money(amount, "EUR")),),
    )


def paid(
    customer: str, days_late: int, *, due: date = date(2026, 3, 1), amount: str = "100.00"
) -> PaidRecord:
    return PaidRecord(
        f"P-{customer}-{days_late}-{due}",
        customer,
        money(amount, "EUR"),
        due,
        due + timedelta(days=days_late),
    )


def test_a_customer_who_always_pays_ten_days_late_is_expected_ten_days_late() -> None:
    history = [paid("C-1", 10, due=date(2026, 3, d)) for d in (1, 2, 3, 4)]
    (prediction,) = predict_payments([item("I-1", "C-1", date(2026, 6, 20))], history, AS_OF)
    assert prediction.expected_on == date(2026, 6, 30)
    assert prediction.expected_days_late == 10
    assert prediction.basis == "customer"
    assert prediction.records_used == 4


def test_too_short_a_history_falls_back_to_the_amount_band_then_to_everyone() -> None:
    others = [paid(f"C-{n}", 3, due=date(2026, 3, n)) for n in range(2, 8)]
    history = [paid("C-1", 30), *others]
    (banded,) = predict_payments([item("I-1", "C-1", date(2026, 6, 20))], history, AS_OF)
    assert (banded.basis, banded.expected_days_late) == ("amount band", 3)

    (everyone,) = predict_payments(
        [item("I-2", "C-1", date(2026, 6, 20), amount="50000.00")], history, AS_OF
    )
    assert everyone.basis == "all"


def test_with_no_history_the_due_date_is_the_answer() -> None:
    (prediction,) = predict_payments([item("I-1", "C-1", date(2026, 6, 20))], [], AS_OF)
    assert prediction.basis == "none"
    assert prediction.expected_on == prediction.earliest_on == prediction.latest_on
    assert prediction.expected_on == date(2026, 6, 20)


def test_an_overdue_item_is_expected_no_earlier_than_its_history_allows() -> None:
    # Ten days overdue already: the payments made within ten days say nothing about it any more.
    history = [paid("C-1", late, due=date(2026, 3, n)) for n, late in enumerate((0, 2, 25, 30), 1)]
    (prediction,) = predict_payments(
        [item("I-1", "C-1", AS_OF - timedelta(days=10))], history, AS_OF
    )
    assert prediction.expected_days_late >= 25
    assert prediction.expected_on >= AS_OF


def test_recent_payments_weigh_more_than_old_ones() -> None:
    old = [paid("C-1", 40, due=date(2024, 1, d)) for d in (1, 2, 3)]
    recent = [paid("C-1", 2, due=date(2026, 5, d)) for d in (1, 2)]
    model = PredictionModel(half_life_days=90)
    (prediction,) = predict_payments(
        [item("I-1", "C-1", date(2026, 6, 20))], [*old, *recent], AS_OF, model
    )
    assert prediction.expected_days_late == 2


def test_likely_late_lists_items_not_yet_due_expected_late_largest_first() -> None:
    history = [paid("SLOW", 20, due=date(2026, 3, d)) for d in (1, 2, 3)]
    history += [paid("FAST", 0, due=date(2026, 3, d)) for d in (1, 2, 3)]
    items = [
        item("I-1", "SLOW", date(2026, 6, 20), "10.00"),
        item("I-2", "SLOW", date(2026, 6, 25), "900.00"),
        item("I-3", "FAST", date(2026, 6, 20), "5000.00"),
        item("I-4", "SLOW", date(2026, 5, 1), "700.00"),  # overdue already: dunning's job
    ]
    flagged = likely_late(predict_payments(items, history, AS_OF), AS_OF)
    assert [p.item_id for p in flagged] == ["I-2", "I-1"]


def test_the_weekly_cash_adds_up_to_what_is_expected_within_the_horizon() -> None:
    history = [paid("C-1", 7, due=date(2026, 3, d)) for d in (1, 2, 3)]
    items = [item(f"I-{n}", "C-1", AS_OF + timedelta(days=3 * n)) for n in range(10)]
    predictions = predict_payments(items, history, AS_OF)
    weeks = predicted_cash_by_week(predictions, AS_OF, weeks=8)
    assert weeks[0].week_of == date(2026, 6, 1)  # a Monday
    assert sum(w.expected.amount for w in weeks) == sum(p.open.amount for p in predictions)


def test_a_model_with_nonsense_settings_is_refused() -> None:
    with pytest.raises(InvalidInput):
        PredictionModel(half_life_days=0)


def test_the_backtest_beats_the_due_date_for_habitual_payers() -> None:
    history = []
    items = []
    for n in range(1, 25):
        due = date(2026, 1, 1) + timedelta(days=7 * n)
        history.append(
            PaidRecord(f"I-{n}", "LATE", money("100.00", "EUR"), due, due + timedelta(days=14))
        )
        items.append(
            OpenItem(
                f"I-{n}",
                "LATE",
                due - timedelta(days=30),
                (Instalment(due, money("100.00", "EUR"), money("0.00", "EUR")),),
            )
        )
    result = backtest(items, history, date(2026, 4, 1))
    assert result is not None
    assert result.items > 0
    assert result.model_error_days < result.naive_error_days


@settings(max_examples=60)
@given(
    st.lists(o2c_st.open_items("EUR"), min_size=1, max_size=8, unique_by=lambda i: i.item_id),
    st.lists(
        st.tuples(st.sampled_from(o2c_st.CUSTOMERS), st.integers(-20, 90), st.integers(0, 900)),
        max_size=30,
    ),
    st.integers(0, 1000),
)
def test_every_prediction_is_ordered_and_never_in_the_past(
    items: list[OpenItem], raw_history: list[tuple[str, int, int]], day: int
) -> None:
    as_of = o2c_st.DAY_ZERO + timedelta(days=day)
    history = [
        paid(customer, late, due=o2c_st.DAY_ZERO + timedelta(days=offset))
        for customer, late, offset in raw_history
    ]
    predictions = predict_payments(items, history, as_of)
    assert len(predictions) == sum(not i.is_settled for i in items)
    for p in predictions:
        assert as_of <= p.earliest_on <= p.expected_on <= p.latest_on
        assert p.basis in {"customer", "amount band", "all", "none"}
