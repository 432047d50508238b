"""Business calendars: which days count for payment, and how a date moves onto one.

A :class:`BusinessCalendar` is a plain value: the weekdays that make up the weekend (Saturday and
Sunday unless said otherwise) and a set of holiday dates. The domain never loads one; whoever knows
the country, region or bank calendar builds it and hands it in.

An :class:`Adjustment` names the market convention for a date that falls on a non-business day:

* ``FOLLOWING``: the next business day.
* ``PRECEDING``: the business day before.
* ``MODIFIED_FOLLOWING``: the next business day, unless that is in the next month; then the one
  before (so a due date never leaves its month).
* ``MODIFIED_PRECEDING``: the business day before, unless that is in the previous month; then the
  next one.
* ``NONE``: leave the date as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import attrs

from o2c.domain.errors import InvalidInput

__all__ = ["Adjustment", "BusinessCalendar", "Weekday"]

_ONE_DAY = timedelta(days=1)


class Weekday(enum.IntEnum):
    """Days of the week, numbered like :meth:`datetime.date.weekday` (Monday is 0)."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class Adjustment(enum.Enum):
    """How a date on a non-business day is moved onto a business day."""

    NONE = "none"
    FOLLOWING = "following"
    PRECEDING = "preceding"
    MODIFIED_FOLLOWING = "modified_following"
    MODIFIED_PRECEDING = "modified_preceding"


def _weekend(value: Iterable[int]) -> frozenset[Weekday]:
    days: tuple[object, ...] = tuple(value)
    for day in days:
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise InvalidInput(
                field="weekend", value=repr(day), reason="weekdays are 0 (Monday) to 6 (Sunday)"
            )
    weekend = frozenset(Weekday(day) for day in days if isinstance(day, int))
    if len(weekend) == 7:
        raise InvalidInput(
            field="weekend", value=repr(sorted(weekend)), reason="a week needs one business day"
        )
    return weekend


def _holidays(value: Iterable[date]) -> frozenset[date]:
    days = frozenset(value)
    for day in days:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise InvalidInput(field="holiday", value=repr(day), reason="holidays are dates")
    return days


@attrs.frozen
class BusinessCalendar:
    """The days on which payments fall due: every day except weekend days and holidays."""

    weekend: frozenset[Weekday] = attrs.field(
        default=frozenset({Weekday.SATURDAY, Weekday.SUNDAY}), converter=_weekend
    )
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_holidays)

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is neither a weekend day nor a holiday."""
        return day.weekday() not in self.weekend and day not in self.holidays

    def following(self, day: date) -> date:
        """``day`` itself if it is a business day, else the next business day."""
        while not self.is_business_day(day):
            day += _ONE_DAY
        return day

    def preceding(self, day: date) -> date:
        """``day`` itself if it is a business day, else the business day before it."""
        while not self.is_business_day(day):
            day -= _ONE_DAY
        return day

    def modified_following(self, day: date) -> date:
        """The following business day, or the preceding one if following would change month."""
        moved = self.following(day)
        return moved if moved.month == day.month else self.preceding(day)

    def modified_preceding(self, day: date) -> date:
        """The preceding business day, or the following one if preceding would change month."""
        moved = self.preceding(day)
        return moved if moved.month == day.month else self.following(day)

    def adjust(self, day: date, adjustment: Adjustment) -> date:
        """Move ``day`` onto a business day by the named convention (``NONE`` leaves it)."""
        match adjustment:
            case Adjustment.NONE:
                return day
            case Adjustment.FOLLOWING:
                return self.following(day)
            case Adjustment.PRECEDING:
                return self.preceding(day)
            case Adjustment.MODIFIED_FOLLOWING:
                return self.modified_following(day)
            case Adjustment.MODIFIED_PRECEDING:
                return self.modified_preceding(day)

    def add_business_days(self, day: date, count: int) -> date:
        """The date ``count`` business days after ``day`` (before it when ``count`` is negative).

        ``day`` itself is never counted, so it need not be a business day; ``count == 0`` returns
        ``day`` unchanged.
        """
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_business_day(day):
                remaining -= 1
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """The ``count`` for which :meth:`add_business_days` steps from ``start`` to ``end``.

        Business days after ``start`` up to and including ``end``; when ``end`` is earlier, minus
        the business days from ``end`` (included) up to ``start`` (excluded).
        """
        step = _ONE_DAY if end >= start else -_ONE_DAY
        count = 0
        day = start
        while day != end:
            day += step
            if self.is_business_day(day):
                count += 1
        return count if end >= start else -count
