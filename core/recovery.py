"""Which day of recovery a patient (or an anonymous conversation) is on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Conversation, Treatment
from core.timeline import days_since


@dataclass(frozen=True)
class Recovery:
    day: int | None
    performed_on: date | None
    source: str | None  # "records" (clinic database) | "stated" (patient told us) | None
    first_name: str | None = None


def latest_treatment(session: Session, patient_id: str, today: date) -> Treatment | None:
    """The most recent treatment on or before ``today``."""
    return session.execute(
        select(Treatment)
        .where(Treatment.patient_id == patient_id, Treatment.performed_on <= today)
        .order_by(Treatment.performed_on.desc(), Treatment.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def next_treatment(session: Session, patient_id: str, today: date) -> Treatment | None:
    """The earliest treatment after ``today``: an upcoming appointment (recovery starts on its day)."""
    return session.execute(
        select(Treatment)
        .where(Treatment.patient_id == patient_id, Treatment.performed_on > today)
        .order_by(Treatment.performed_on, Treatment.created_at)
        .limit(1)
    ).scalar_one_or_none()


def recovery_for_conversation(session: Session, conversation_id: str, today: date) -> Recovery:
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        return Recovery(None, None, None)
    first_name = conv.patient.first_name if conv.patient is not None else None
    if conv.patient_id:
        t = latest_treatment(session, conv.patient_id, today)
        if t is not None:
            # a date the patient told us that is more recent than our records wins
            if conv.stated_treatment_on and conv.stated_treatment_on > t.performed_on:
                return Recovery(days_since(conv.stated_treatment_on, today), conv.stated_treatment_on, "stated", first_name)
            return Recovery(days_since(t.performed_on, today), t.performed_on, "records", first_name)
    if conv.stated_treatment_on and conv.stated_treatment_on <= today:
        return Recovery(days_since(conv.stated_treatment_on, today), conv.stated_treatment_on, "stated", first_name)
    return Recovery(None, None, None, first_name)
