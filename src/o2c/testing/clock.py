"""The clock contract: what every :class:`~o2c.ports.clock.Clock` must do.

Subclass :class:`ClockContract` and override ``make_clock``; declare the clock's business time
zone in ``capabilities`` so the business date can be checked against it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo

import attrs
import pytest

from o2c.ports.clock import Clock
from o2c.testing._kit import Contract, override_me, requires

__all__ = ["ClockCapabilities", "ClockContract", "ClockFactory"]

ClockFactory = Callable[[], Clock]
"""Builds a clock."""


@attrs.frozen
class ClockCapabilities:
    """What a clock declares about itself."""

    business_zone: tzinfo | None = None
    """The time zone whose date :meth:`~o2c.ports.clock.Clock.today` reports, when known."""


class ClockContract(Contract):
    """Timezone-aware instants, a business date that agrees with them, time that never reverses.

    Fixtures to override: ``make_clock`` (required) and ``capabilities``.
    """

    @pytest.fixture
    def make_clock(self) -> ClockFactory:
        """Override: return a callable that builds the clock."""
        override_me("make_clock", "clock", 'lambda: MyClock(tz="Europe/Berlin")')

    @pytest.fixture
    def capabilities(self) -> ClockCapabilities:
        """Override to declare the business time zone."""
        return ClockCapabilities()

    @pytest.fixture
    def clock(self, make_clock: ClockFactory) -> Clock:
        return make_clock()

    def test_now_is_timezone_aware(self, clock: Clock) -> None:
        now = clock.now()
        assert isinstance(now, datetime)
        assert now.tzinfo is not None
        assert now.utcoffset() is not None

    def test_today_is_a_date_near_now(self, clock: Clock) -> None:
        today = clock.today()
        assert type(today) is date
        # Whatever the business zone, its date is within a day of the UTC date.
        assert abs(today - clock.now().astimezone(UTC).date()) <= timedelta(days=1)

    def test_time_does_not_go_backwards_between_reads(self, clock: Clock) -> None:
        first = clock.now()
        second = clock.now()
        assert second >= first

    @requires("business_zone")
    def test_today_is_the_date_of_now_in_the_business_zone(
        self, clock: Clock, capabilities: ClockCapabilities
    ) -> None:
        zone = capabilities.business_zone
        assert zone is not None
        assert clock.today() == clock.now().astimezone(zone).date()
