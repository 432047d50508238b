"""Clocks: a fixed clock that tests and simulations move by hand, and the system clock.

:class:`SystemClock` is the only place in o2c that reads the real time. Both clocks deal in
timezone-aware datetimes only: a naive datetime is refused, because "09:00" means nothing until it
says where. The business date (:meth:`today`) is the date of "now" in the clock's business time
zone, which need not be the zone of the instants it is given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from o2c.ports.errors import AdapterRejected

__all__ = ["FixedClock", "SystemClock"]


def _aware(adapter: str, at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise AdapterRejected(
            adapter, f"{at.isoformat()} has no time zone; give an aware datetime", "naive_datetime"
        )
    return at


def _zone(adapter: str, tz: tzinfo | str) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise AdapterRejected(adapter, f"unknown time zone {tz!r}", "unknown_time_zone") from error


class FixedClock:
    """A clock that says what it is told: it moves only by :meth:`advance` and :meth:`set`.

    ``tz`` is the business time zone that :meth:`today` uses; by default the zone of ``at``.
    """

    def __init__(self, at: datetime, *, tz: tzinfo | str | None = None, name: str = "fixed"):
        self.name = name
        self._at = _aware(name, at)
        zone = at.tzinfo if tz is None else _zone(name, tz)
        assert zone is not None  # an aware datetime has a zone
        self._tz: tzinfo = zone

    def now(self) -> datetime:
        """The instant the clock was set or advanced to."""
        return self._at

    def today(self) -> date:
        """The date of :meth:`now` in the business time zone."""
        return self._at.astimezone(self._tz).date()

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (forwards or backwards); it must be timezone-aware."""
        self._at = _aware(self.name, at)

    def advance(
        self,
        by: timedelta | None = None,
        *,
        days: int = 0,
        hours: int = 0,
        minutes: int = 0,
        seconds: int = 0,
    ) -> datetime:
        """Move forwards by ``by`` plus the given units, and return the new "now".

        Time only moves forwards here (a negative step is refused); use :meth:`set` to go back.
        """
        step = (by or timedelta(0)) + timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        if step < timedelta(0):
            raise AdapterRejected(
                self.name, f"cannot advance by a negative step {step}", "negative_step"
            )
        self._at += step
        return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


class SystemClock:
    """The real time, read in the business time zone ``tz`` (UTC unless told otherwise).

    ``tz`` is a :class:`~datetime.tzinfo` or an IANA zone name such as ``"Europe/Berlin"``.
    """

    def __init__(self, tz: tzinfo | str = UTC, *, name: str = "system"):
        self.name = name
        self._tz = _zone(name, tz)

    def now(self) -> datetime:
        """The current instant in the business time zone."""
        return datetime.now(self._tz)

    def today(self) -> date:
        """Today's date in the business time zone."""
        return self.now().date()

    def __repr__(self) -> str:
        return f"SystemClock({self._tz})"
