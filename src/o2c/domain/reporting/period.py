"""The span of business days a measure or statement covers."""

from __future__ import annotations

from datetime import date

import attrs

from o2c.domain.errors import InvalidInput

__all__ = ["Period"]


@attrs.frozen
class Period:
    """A span of business days, both ends included."""

    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(
                field="period",
                value=f"{self.start.isoformat()}..{self.end.isoformat()}",
                reason="ends before it starts",
            )

    @property
    def days(self) -> int:
        """The number of days in the period, both ends counted."""
        return (self.end - self.start).days + 1

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end
