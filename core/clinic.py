"""Clinic settings (one row)."""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from core.clock import DEFAULT_TIMEZONE
from core.models import Clinic
from core.ports import Clock
from core.turn import ClinicInfo

__all__ = ["ClinicInfo", "clinic_info", "clinic_today", "clinic_zone", "get_clinic"]

log = logging.getLogger("aftercare.clinic")


def get_clinic(session: Session, *, seed_timezone: str | None = None) -> Clinic:
    """The clinic row, created with neutral defaults if missing (``seed_timezone``: the time zone a
    first install starts with, from AFTERCARE_CLINIC_TIMEZONE; the row is the one source afterwards)."""
    clinic = session.get(Clinic, 1)
    if clinic is None:
        clinic = Clinic(id=1, name="Our clinic", timezone=seed_timezone or DEFAULT_TIMEZONE)
        session.add(clinic)
        session.flush()
    return clinic


def clinic_zone(clinic: Clinic) -> ZoneInfo:
    """The clinic's time zone (the admin-edited row); an unknown name falls back to the default, loudly."""
    try:
        return ZoneInfo(clinic.timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        log.error("clinic time zone %r is unknown; using %s", clinic.timezone, DEFAULT_TIMEZONE)
        return ZoneInfo(DEFAULT_TIMEZONE)


def clinic_today(session: Session, clock: Clock) -> date:
    """Today on the clinic's calendar: a patient's "day 3" counts the clinic's days."""
    return clock.now().astimezone(clinic_zone(get_clinic(session))).date()


def clinic_info(session: Session) -> ClinicInfo:
    c = get_clinic(session)
    return ClinicInfo(name=c.name, phone=c.phone, booking_url=c.booking_url, hours=c.hours, address=c.address)
