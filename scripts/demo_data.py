"""Demo data for `make run`: a clinic, demo patients on different recovery days, a demo admin.

Idempotent: runs once per database (skips when the demo clinic already exists).
"""

from __future__ import annotations

from datetime import timedelta

from core.clinic import get_clinic
from core.clock import SystemClock
from core.db import make_engine, make_session_factory, session_scope
from core.patients import by_phone, create_patient
from core.settings import Settings
from core.staff import by_email, create_staff

DEMO_ADMIN_EMAIL = "admin@demo.clinic"
DEMO_ADMIN_PASSWORD = "demo-admin-change-me"  # development only; refused elsewhere
DEMO_PATIENTS = [
    ("Ana", "+12015550100", 0),
    ("Ben", "+12015550101", 1),
    ("Chloe", "+12015550103", 3),
    ("Dev", "+12015550105", 5),
    ("Eva", "+12015550110", 10),
    ("Farah", "+12015550130", 30),
]


def seed(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    clock = SystemClock(settings.clinic_timezone)
    factory = make_session_factory(engine, clock)
    today = clock.today()
    with session_scope(factory) as s:
        clinic = get_clinic(s)
        if clinic.phone:
            engine.dispose()
            return  # already seeded (or configured by the clinic)
        clinic.name = "Glow Demo MedSpa"
        clinic.phone = "+12015550199"
        clinic.booking_url = ""
        clinic.hours = "Mon-Sat 9am-6pm"
        clinic.timezone = settings.clinic_timezone
        clinic.oncall_name = "Nurse on call"
        clinic.oncall_phone = "+12015550198"
        for name, phone, day in DEMO_PATIENTS:
            if by_phone(s, phone) is None:
                create_patient(
                    s,
                    first_name=name,
                    phone=phone,
                    treatments=[{"procedure": "microneedling", "area": "face", "performed_on": today - timedelta(days=day)}],
                )
        if settings.is_development and by_email(s, DEMO_ADMIN_EMAIL) is None:
            create_staff(s, email=DEMO_ADMIN_EMAIL, display_name="Demo Admin", role="admin", password=DEMO_ADMIN_PASSWORD)
    engine.dispose()
