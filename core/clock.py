"""Clocks: the real one, and a controllable one for tests and demos."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


class SystemClock:
    """UTC now; ``today`` in the clinic's time zone (a patient's 'day 3' is the clinic's calendar)."""

    def __init__(self, tz: str = "America/New_York") -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()


class FixedClock(SystemClock):
    """A clock that only moves when told to."""

    def __init__(self, at: datetime, tz: str = "America/New_York") -> None:
        super().__init__(tz)
        self._at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
