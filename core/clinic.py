"""Clinic settings (one row)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.models import Clinic
from core.turn import ClinicInfo

__all__ = ["ClinicInfo", "clinic_info", "get_clinic"]


def get_clinic(session: Session) -> Clinic:
    """The clinic row, created with neutral defaults if missing."""
    clinic = session.get(Clinic, 1)
    if clinic is None:
        clinic = Clinic(id=1, name="Our clinic")
        session.add(clinic)
        session.flush()
    return clinic


def clinic_info(session: Session) -> ClinicInfo:
    c = get_clinic(session)
    return ClinicInfo(name=c.name, phone=c.phone, booking_url=c.booking_url, hours=c.hours)
