"""The clock port: the domain never reads the time, the application asks a clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock"]


@runtime_checkable
class Clock(Protocol):
    """Where "now" comes from. Implementations return timezone-aware datetimes."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self) -> date:
        """The current business date (the date of :meth:`now` in the business's time zone)."""
        ...
