"""Business calendars: business days, the adjustment conventions and counting business days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.calendar import Adjustment, BusinessCalendar, Weekday
from o2c.domain.errors import InvalidInput

FRI = date(2024, 5, 3)
SAT = date(2024, 5, 4)
SUN = date(2024, 5, 5)
MON = date(2024, 5, 6)
TUE = date(2024, 5, 7)

STANDARD = BusinessCalendar()


def test_the_default_weekend_is_saturday_and_sunday() -> None:
    assert STANDARD.weekend == {Weekday.SATURDAY, Weekday.SUNDAY}
    assert STANDARD.is_business_day(FRI)
    assert not STANDARD.is_business_day(SAT)
    assert not STANDARD.is_business_day(SUN)
    assert STANDARD.is_business_day(MON)


def test_holidays_are_not_business_days() -> None:
    whit_monday = BusinessCalendar(holidays={MON})
    assert not whit_monday.is_business_day(MON)
    assert whit_monday.following(SAT) == TUE
    assert whit_monday.preceding(MON) == FRI


def test_a_custom_weekend() -> None:
    gulf = BusinessCalendar(weekend={Weekday.FRIDAY, Weekday.SATURDAY})
    assert not gulf.is_business_day(FRI)
    assert gulf.is_business_day(SUN)
    assert gulf.following(FRI) == SUN
    assert gulf.preceding(SAT) == date(2024, 5, 2)


def test_following_and_preceding_leave_business_days_alone() -> None:
    for adjustment in Adjustment:
        assert STANDARD.adjust(TUE, adjustment) == TUE


def test_following_and_preceding_move_weekend_days() -> None:
    assert STANDARD.following(SAT) == MON
    assert STANDARD.preceding(SUN) == FRI
    assert STANDARD.adjust(SAT, Adjustment.NONE) == SAT
    assert STANDARD.adjust(SAT, Adjustment.FOLLOWING) == MON
    assert STANDARD.adjust(SAT, Adjustment.PRECEDING) == FRI


def test_modified_following_stays_in_the_month() -> None:
    saturday_31st = date(2024, 8, 31)
    assert STANDARD.following(saturday_31st) == date(2024, 9, 2)
    assert STANDARD.modified_following(saturday_31st) == date(2024, 8, 30)
    assert STANDARD.adjust(saturday_31st, Adjustment.MODIFIED_FOLLOWING) == date(2024, 8, 30)
    assert STANDARD.modified_following(date(2024, 8, 17)) == date(2024, 8, 19)


def test_modified_preceding_stays_in_the_month() -> None:
    saturday_1st = date(2024, 6, 1)
    assert STANDARD.preceding(saturday_1st) == date(2024, 5, 31)
    assert STANDARD.modified_preceding(saturday_1st) == date(2024, 6, 3)
    assert STANDARD.adjust(saturday_1st, Adjustment.MODIFIED_PRECEDING) == date(2024, 6, 3)
    assert STANDARD.modified_preceding(date(2024, 6, 16)) == date(2024, 6, 14)


def test_add_business_days_skips_weekends_and_holidays() -> None:
    calendar = BusinessCalendar(holidays={MON})
    assert calendar.add_business_days(FRI, 1) == TUE
    assert calendar.add_business_days(FRI, 2) == date(2024, 5, 8)
    assert calendar.add_business_days(TUE, -1) == FRI
    assert calendar.add_business_days(SAT, 0) == SAT
    assert calendar.add_business_days(SAT, 1) == TUE
    assert STANDARD.add_business_days(FRI, 5) == date(2024, 5, 10)


def test_business_days_between() -> None:
    assert STANDARD.business_days_between(FRI, TUE) == 2
    assert STANDARD.business_days_between(TUE, FRI) == -2
    assert STANDARD.business_days_between(SAT, SUN) == 0
    assert STANDARD.business_days_between(FRI, FRI) == 0


@pytest.mark.parametrize(
    ("weekend", "holidays"),
    [
        (set(range(7)), ()),
        ({7}, ()),
        ({-1}, ()),
        ({True}, ()),
        ({5, 6}, (datetime(2024, 5, 6, 12, 0),)),  # noqa: DTZ001 (a naive datetime is the point)
        ({5, 6}, ("2024-05-06",)),
    ],
)
def test_refuses_impossible_calendars(weekend: set[int], holidays: tuple[object, ...]) -> None:
    with pytest.raises(InvalidInput):
        BusinessCalendar(weekend=weekend, holidays=holidays)  # type: ignore[arg-type]


def test_calendars_are_values() -> None:
    assert BusinessCalendar(holidays=[MON]) == BusinessCalendar(holidays={MON})
    assert hash(BusinessCalendar(weekend=[6, 5])) == hash(STANDARD)


# --- properties --------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    weekend = draw(st.sets(st.integers(0, 6), max_size=6))
    start = draw(DAYS)
    holidays = draw(
        st.sets(st.integers(0, 120).map(lambda n: start + timedelta(days=n)), max_size=40)
    )
    return BusinessCalendar(weekend=weekend, holidays=holidays)


@given(calendars(), DAYS)
def test_every_adjustment_lands_on_a_business_day(calendar: BusinessCalendar, day: date) -> None:
    for adjustment in Adjustment:
        moved = calendar.adjust(day, adjustment)
        if adjustment is Adjustment.NONE:
            assert moved == day
        else:
            assert calendar.is_business_day(moved)
    assert calendar.preceding(day) <= day <= calendar.following(day)
    if calendar.is_business_day(day):
        assert {calendar.adjust(day, a) for a in Adjustment} == {day}
    modified = calendar.modified_following(day)
    if modified != calendar.following(day):
        assert modified == calendar.preceding(day)
        assert calendar.following(day).month != day.month


@given(calendars(), DAYS, st.integers(-30, 30))
def test_adding_business_days_counts_them(calendar: BusinessCalendar, day: date, n: int) -> None:
    moved = calendar.add_business_days(day, n)
    assert calendar.business_days_between(day, moved) == n
    if n:
        assert calendar.is_business_day(moved)
        assert (moved > day) == (n > 0)
