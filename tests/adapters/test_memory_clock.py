"""The fixed clock moves only when told to; the system clock reads the real time. Both are aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from o2c.adapters.memory import FixedClock, SystemClock
from o2c.ports.errors import AdapterRejected

MONDAY_9AM = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_fixed_clock_says_what_it_was_told() -> None:
    clock = FixedClock(MONDAY_9AM)
    assert clock.now() == MONDAY_9AM
    assert clock.now() == MONDAY_9AM
    assert clock.today() == date(2025, 3, 3)


def test_advance_by_timedelta_and_by_units() -> None:
    clock = FixedClock(MONDAY_9AM)
    assert clock.advance(timedelta(hours=2)) == MONDAY_9AM + timedelta(hours=2)
    clock.advance(days=1, minutes=30)
    assert clock.now() == MONDAY_9AM + timedelta(days=1, hours=2, minutes=30)
    assert clock.today() == date(2025, 3, 4)


def test_advance_refuses_going_back_but_set_may() -> None:
    clock = FixedClock(MONDAY_9AM)
    with pytest.raises(AdapterRejected) as caught:
        clock.advance(days=-1)
    assert caught.value.code == "negative_step"
    assert clock.now() == MONDAY_9AM
    clock.set(MONDAY_9AM - timedelta(days=7))
    assert clock.today() == date(2025, 2, 24)


@pytest.mark.parametrize("naive", [datetime(2025, 3, 3, 9, 0)])  # noqa: DTZ001
def test_naive_datetimes_are_refused(naive: datetime) -> None:
    with pytest.raises(AdapterRejected) as caught:
        FixedClock(naive)
    assert caught.value.code == "naive_datetime"
    assert caught.value.adapter == "fixed"
    clock = FixedClock(MONDAY_9AM)
    with pytest.raises(AdapterRejected):
        clock.set(naive)
    assert clock.now() == MONDAY_9AM


def test_today_is_the_date_in_the_business_time_zone() -> None:
    late_evening_utc = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    assert FixedClock(late_evening_utc).today() == date(2025, 3, 3)
    assert FixedClock(late_evening_utc, tz="Europe/Berlin").today() == date(2025, 3, 4)
    assert FixedClock(late_evening_utc, tz=timezone(timedelta(hours=-5))).today() == date(
        2025, 3, 3
    )


def test_system_clock_reads_the_real_time_in_its_zone() -> None:
    clock = SystemClock("Europe/Berlin")
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert before <= now <= after
    assert now.tzinfo == ZoneInfo("Europe/Berlin")
    assert clock.today() in {
        before.astimezone(now.tzinfo).date(),
        after.astimezone(now.tzinfo).date(),
    }
    assert SystemClock().now().utcoffset() == timedelta(0)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(AdapterRejected) as caught:
        SystemClock("Mars/Olympus_Mons")
    assert caught.value.code == "unknown_time_zone"
