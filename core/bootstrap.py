"""Bring a database up to date before the service starts: migrations, first-install defaults, demo data.

The one place that prepares a database (the supervisor, `make migrate`, the create-admin command and
the tests all call it). Every step is idempotent, so it runs at every start.

- migrations: Alembic (`core/migrate.py`, `migrations/`);
- first-install defaults: the clinic row and the default check-in plan (an admin edits both);
- demo data, in development and test only: a demo clinic, demo patients on different days of
  recovery and a demo admin. A production install starts empty (on-call alerts must never go to a
  made-up number).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from core.checkins import add_default_spanish, ensure_default_plan
from core.clinic import clinic_today, get_clinic
from core.clock import SystemClock
from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from core.models import CheckinStep
from core.patients import by_phone, create_patient
from core.settings import Settings, load_settings
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


def migrate(settings: Settings) -> None:
    """Apply the migrations (creating the data folder a SQLite file needs)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)


def ensure_defaults(settings: Settings) -> None:
    """A fresh install gets the clinic row and the default check-in plan (an admin edits both)."""
    engine = make_engine(settings.database_url)
    with session_scope(make_session_factory(engine, SystemClock())) as s:
        get_clinic(s, seed_timezone=settings.clinic_timezone)  # the env var seeds the row once
        if s.query(CheckinStep).count() == 0:
            ensure_default_plan(s)
        add_default_spanish(s)
    engine.dispose()


def seed_demo_data(settings: Settings) -> None:
    """A demo clinic, demo patients on different recovery days and a demo admin.

    Runs once per database (skips when the clinic already has a phone: seeded, or configured by the clinic).
    """
    engine = make_engine(settings.database_url)
    clock = SystemClock()
    factory = make_session_factory(engine, clock)
    with session_scope(factory) as s:
        clinic = get_clinic(s, seed_timezone=settings.clinic_timezone)
        today = clinic_today(s, clock)
        if clinic.phone:
            engine.dispose()
            return  # already seeded (or configured by the clinic)
        clinic.name = "Glow Demo MedSpa"
        clinic.phone = "+12015550199"
        clinic.booking_url = ""
        clinic.hours = "Mon-Sat 9am-6pm"
        clinic.address = "100 Demo Street, Hoboken, NJ 07030"
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


def bootstrap(settings: Settings, *, demo_data: bool = True) -> None:
    """Migrations, first-install defaults and (development and test only) demo data. Idempotent."""
    migrate(settings)
    ensure_defaults(settings)
    if settings.is_development and demo_data:
        seed_demo_data(settings)


def prepare(env: Mapping[str, str]) -> None:
    """`bootstrap` with the settings of ``env``; ``AFTERCARE_DEMO_DATA=0`` skips the demo data."""
    settings = load_settings(dict(env))
    bootstrap(settings, demo_data=env.get("AFTERCARE_DEMO_DATA", "1") != "0")
