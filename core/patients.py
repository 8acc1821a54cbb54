"""Patients and treatments."""

from __future__ import annotations

import re
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import Patient, Treatment
from core.phones import NotAPhoneNumber, to_e164

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
PROCEDURES = ("microneedling",)


class PatientError(ValueError):
    pass


class DuplicatePhone(PatientError):
    pass


def normalize_phone(raw: str) -> str:
    """A phone number as people write it ("(201) 555-0142", "+1 201 555 0142") -> E.164."""
    try:
        phone = to_e164(raw)
    except NotAPhoneNumber as exc:
        raise PatientError("phone must be a phone number, e.g. (201) 555-0123 or +12015550123 (E.164)") from exc
    if not E164.match(phone):
        raise PatientError("phone must be a phone number, e.g. (201) 555-0123 or +12015550123 (E.164)")
    return phone


def new_chat_token() -> str:
    return secrets.token_urlsafe(24)


def by_phone(session: Session, phone: str) -> Patient | None:
    return session.execute(select(Patient).where(Patient.phone == phone)).scalar_one_or_none()


def by_chat_token(session: Session, token: str) -> Patient | None:
    return session.execute(select(Patient).where(Patient.chat_token == token)).scalar_one_or_none()


def create_patient(
    session: Session,
    *,
    first_name: str,
    phone: str | None,
    last_name: str = "",
    treatments: list[dict] | None = None,
) -> Patient:
    first_name = (first_name or "").strip()
    if not first_name:
        raise PatientError("first_name is required")
    norm = normalize_phone(phone) if phone else None
    if norm and by_phone(session, norm) is not None:
        raise DuplicatePhone("a patient with this phone already exists")
    patient = Patient(
        first_name=first_name[:100], last_name=(last_name or "").strip()[:100], phone=norm, chat_token=new_chat_token()
    )
    session.add(patient)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent insert of the same phone
        raise DuplicatePhone("a patient with this phone already exists") from exc
    for t in treatments or []:
        add_treatment(session, patient=patient, **t)
    return patient


def add_treatment(
    session: Session, *, patient: Patient, performed_on: date, procedure: str = "microneedling", area: str = "face"
) -> Treatment:
    procedure = (procedure or "microneedling").strip().lower()
    if procedure not in PROCEDURES:
        raise PatientError(f"unsupported procedure {procedure!r}; supported: {', '.join(PROCEDURES)}")
    if not isinstance(performed_on, date):
        raise PatientError("performed_on must be a date (YYYY-MM-DD)")
    t = Treatment(
        patient_id=patient.id, procedure=procedure, area=(area or "face").strip().lower()[:64], performed_on=performed_on
    )
    session.add(t)
    session.flush()
    return t
