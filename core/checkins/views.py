"""What staff see of check-ins: recent sends with their delivery status, and one patient's
plan (sent, skipped, due, upcoming, inactive, missed) with the history of earlier treatments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import UNDELIVERED_STATUSES
from core.models import CheckinSend, CheckinStep, OutboxMessage, Patient, Treatment
from core.timeline import days_since

from .plan import MAX_LATE_DAYS, plan_steps
from .scheduler import (
    SKIP_ESCALATION,
    SKIP_NO_PHONE,
    SKIP_OPTED_OUT,
    SKIP_PAUSED,
    SKIP_STALE,
    SKIP_SUPERSEDED,
    SKIP_TAKEOVER,
)

FAILED_DELIVERY = UNDELIVERED_STATUSES  # outbox statuses that mean the text did not reach the patient
# what staff read for each skip reason (CheckinSend.skip_reason)
SKIP_REASONS = {
    SKIP_OPTED_OUT: "patient opted out of texts",
    SKIP_PAUSED: "check-ins paused by staff",
    SKIP_NO_PHONE: "no mobile number on file",
    SKIP_STALE: f"more than {MAX_LATE_DAYS} days late",
    SKIP_SUPERSEDED: "a later check-in was due at the same time",
    SKIP_TAKEOVER: "staff had taken over the conversation",
    SKIP_ESCALATION: "an urgent escalation was open",
}


# ---------------------------------------------------------------------- what staff see
@dataclass
class SendView:
    step_key: str
    status: str  # queued | skipped
    skip_reason: str | None
    reason_text: str | None
    decided_at: datetime
    delivery: str | None  # the outbox status: pending, sent, delivered, failed, undelivered, suppressed, dead
    last_error: str | None
    body: str | None
    treatment_id: str
    patient_id: str
    patient_name: str = ""

    @property
    def failed(self) -> bool:
        return self.delivery in FAILED_DELIVERY


@dataclass
class StepView:
    step: CheckinStep
    due_on: date
    send: SendView | None
    state: str  # sent | skipped | due | upcoming | inactive | missed


@dataclass
class PatientCheckins:
    patient: Patient
    treatment: Treatment | None
    day: int | None
    steps: list[StepView] = field(default_factory=list)
    history: list[SendView] = field(default_factory=list)  # earlier treatments' check-ins (their plans stopped)


def _send_views(session: Session, *, patient_id: str | None = None, limit: int | None = None) -> list[SendView]:
    q = (
        select(CheckinSend, OutboxMessage, Patient)
        .select_from(CheckinSend)
        .outerjoin(OutboxMessage, OutboxMessage.id == CheckinSend.outbox_id)
        .outerjoin(Patient, Patient.id == CheckinSend.patient_id)
        .order_by(CheckinSend.created_at.desc(), CheckinSend.id)
    )
    if patient_id is not None:
        q = q.where(CheckinSend.patient_id == patient_id)
    if limit is not None:
        q = q.limit(limit)
    return [
        SendView(
            step_key=send.step_key,
            status=send.status,
            skip_reason=send.skip_reason,
            reason_text=SKIP_REASONS.get(send.skip_reason or "", send.skip_reason),
            decided_at=send.created_at,
            delivery=item.status if item is not None else None,
            last_error=item.last_error if item is not None else None,
            body=item.body if item is not None else None,
            treatment_id=send.treatment_id,
            patient_id=send.patient_id,
            patient_name=(f"{p.first_name} {p.last_name}".strip() if p is not None else ""),
        )
        for send, item, p in session.execute(q).all()
    ]


def recent_sends(session: Session, *, limit: int = 50) -> list[SendView]:
    return _send_views(session, limit=limit)


def patient_sends(session: Session, patient_id: str) -> list[SendView]:
    """Every check-in decided for one patient (sent or skipped), newest first."""
    return _send_views(session, patient_id=patient_id)


def patient_checkins(session: Session, *, patient_id: str, today: date) -> PatientCheckins | None:
    from core.recovery import latest_treatment

    patient = session.get(Patient, patient_id)
    if patient is None:
        return None
    treatment = latest_treatment(session, patient_id, today)
    sends = _send_views(session, patient_id=patient_id)
    view = PatientCheckins(patient=patient, treatment=treatment, day=None)
    if treatment is None:
        view.history = sends
        return view
    view.day = days_since(treatment.performed_on, today)
    current = {s.step_key: s for s in sends if s.treatment_id == treatment.id}
    view.history = [s for s in sends if s.treatment_id != treatment.id]
    for step in plan_steps(session, treatment.procedure):
        send = current.get(step.key)
        if send is not None:
            state = "sent" if send.status == "queued" else "skipped"
        elif not step.active:
            state = "inactive"
        elif step.day > view.day:
            state = "upcoming"
        elif view.day - step.day <= MAX_LATE_DAYS:
            state = "due"
        else:
            state = "missed"
        view.steps.append(StepView(step=step, due_on=treatment.performed_on + timedelta(days=step.day), send=send, state=state))
    return view
