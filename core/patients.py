"""Patients and treatments."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import now_of
from core.language import normalise as normalise_language
from core.models import Patient, Treatment
from core.phones import NotAPhoneNumber, to_e164

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
PROCEDURES = ("microneedling",)
# A patient's chat link (a bearer secret sent by SMS or e-mail) stops working this many days after
# it was issued; staff texting the link again renews it (issue #16 item 16). 90 days covers the
# recovery and the check-ins with room to spare.
CHAT_LINK_DAYS = 90


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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def chat_link_expires_at(patient: Patient) -> datetime | None:
    issued = patient.chat_token_issued_at or patient.created_at
    return _aware(issued) + timedelta(days=CHAT_LINK_DAYS) if issued is not None else None


def chat_link_expired(patient: Patient, now: datetime) -> bool:
    expires = chat_link_expires_at(patient)
    return expires is not None and _aware(now) >= expires


def patient_of_chat_link(session: Session, token: str, now: datetime) -> tuple[Patient | None, bool]:
    """(the patient, whether the link has expired); (None, False) for a token nobody holds."""
    patient = session.execute(select(Patient).where(Patient.chat_token == token)).scalar_one_or_none()
    if patient is None:
        return None, False
    return patient, chat_link_expired(patient, now)


def by_chat_token(session: Session, token: str, now: datetime | None = None) -> Patient | None:
    """The patient whose chat link this is, if the link has not expired."""
    patient, expired = patient_of_chat_link(session, token, now or now_of(session))
    return None if expired else patient


def renew_chat_link(session: Session, patient: Patient) -> None:
    """The link works for CHAT_LINK_DAYS from now; an expired one is replaced by a new secret (an old
    link found in a forwarded text or a shared screen never comes back to life)."""
    now = now_of(session)
    if chat_link_expired(patient, now):
        patient.chat_token = new_chat_token()
    patient.chat_token_issued_at = now


def create_patient(
    session: Session,
    *,
    first_name: str,
    phone: str | None,
    last_name: str = "",
    treatments: list[dict] | None = None,
    language: str | None = None,
) -> Patient:
    first_name = (first_name or "").strip()
    if not first_name:
        raise PatientError("first_name is required")
    norm = normalize_phone(phone) if phone else None
    if norm and by_phone(session, norm) is not None:
        raise DuplicatePhone("a patient with this phone already exists")
    patient = Patient(
        first_name=first_name[:100],
        last_name=(last_name or "").strip()[:100],
        phone=norm,
        chat_token=new_chat_token(),
        chat_token_issued_at=now_of(session),
        language=preferred_language(language),
    )
    session.add(patient)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent insert of the same phone
        raise DuplicatePhone("a patient with this phone already exists") from exc
    for t in treatments or []:
        add_treatment(session, patient=patient, **t)
    return patient


def preferred_language(value: str | None) -> str | None:
    """A preferred language as staff, a CSV file or an integration give it ("es", "Spanish",
    "español", "es-US"); empty is "not known". Anything else is refused."""
    if value is None or not str(value).strip():
        return None
    found = normalise_language(str(value))
    if found is None:
        raise PatientError("language must be English (en) or Spanish (es)")
    return found


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
