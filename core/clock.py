"""Clocks: the real one, and a controllable one for tests and demos."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# The time zone a fresh install's clinic row starts with (AFTERCARE_CLINIC_TIMEZONE overrides it at
# first install; after that the clinic row, which an admin edits, is the one source).
DEFAULT_TIMEZONE = "America/New_York"


class SystemClock:
    """UTC now. ``today`` is the calendar of ``tz``: product code asks core.clinic.clinic_today
    (the clinic row's time zone); tests and tools use it directly."""

    def __init__(self, tz: str = DEFAULT_TIMEZONE) -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()


class FixedClock(SystemClock):
    """A clock set to a chosen moment. It moves only when told to (``advance``, ``set``), or, with
    ``ticking=True``, also with real elapsed time from then on (a wall clock set to another date:
    for tests whose background workers wait real seconds for retries and leases)."""

    def __init__(self, at: datetime, tz: str = DEFAULT_TIMEZONE, *, ticking: bool = False) -> None:
        super().__init__(tz)
        self._at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
        self._ticking = ticking
        self._started = time.monotonic()

    def now(self) -> datetime:
        if self._ticking:
            return self._at + timedelta(seconds=time.monotonic() - self._started)
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
