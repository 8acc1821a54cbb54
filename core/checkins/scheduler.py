"""The check-in scheduler: which steps are due now, and sending them (or skipping, with a reason).

``run_due`` is called every minute or so (the API's worker loop, api/routes/checkins.py). It
sends each step of a patient's most recent treatment once, on the step's day, within the
clinic's local sending window. Every decision is one ``CheckinSend`` row, unique per
(treatment, step): a step is never sent twice, whatever the number of workers or restarts.

Rules (one treatment = the patient's most recent treatment on or before today;
a newer treatment starts a new plan and the old one stops):

* a step is due from ``performed_on + day`` (the clinic's calendar), at a local
  hour within ``[checkin_hour_start, checkin_hour_end)``; outside it we wait;
* when several steps are due at once (downtime, a treatment entered late), only
  the most recent one is sent, the earlier ones are skipped as ``superseded``;
* a step more than ``MAX_LATE_DAYS`` late is skipped as ``stale`` (no day-1
  message on day 6);
* skipped, with a reason: the patient opted out, check-ins are paused, no phone,
  staff have taken over the SMS conversation, or an urgent/emergency escalation
  is open for the patient (a cheerful check-in is the wrong message then).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import outbox, sms
from core.clinic import clinic_zone, get_clinic
from core.clock import DEFAULT_TIMEZONE
from core.db import new_id, now_of
from core.enums import CLINICIAN_LEVELS, Channel
from core.models import (
    CheckinSend,
    CheckinStep,
    Clinic,
    Conversation,
    Escalation,
    Message,
    Patient,
    Treatment,
)
from core.timeline import days_since

from .plan import MAX_LATE_DAYS, body_for, render_body

log = logging.getLogger("aftercare.checkins")

SMS_CHANNEL = Channel.SMS.value
OUTBOX_PURPOSE = "checkin"
MESSAGE_TOPIC = "checkin"
DEFAULT_TZ = DEFAULT_TIMEZONE
BLOCKING_LEVELS = CLINICIAN_LEVELS

# Skip reasons (CheckinSend.skip_reason)
SKIP_OPTED_OUT = "opted_out"
SKIP_PAUSED = "paused"
SKIP_NO_PHONE = "no_phone"
SKIP_STALE = "stale"
SKIP_SUPERSEDED = "superseded"
SKIP_TAKEOVER = "staff_takeover"
SKIP_ESCALATION = "open_escalation"


# ---------------------------------------------------------------------- time
def in_window(hour: int, start: int, end: int) -> bool:
    """Is the local ``hour`` within [start, end)? A window past midnight (start > end) wraps; start == end is closed."""
    if start < end:
        return start <= hour < end
    if start > end:
        return hour >= start or hour < end
    return False


# ---------------------------------------------------------------------- the scheduler
@dataclass(frozen=True)
class CheckinOutcome:
    """One decision run_due made (a send queued, or a skip)."""

    treatment_id: str
    patient_id: str
    step_key: str
    status: str  # queued | skipped
    skip_reason: str | None
    local_time: datetime
    outbox_id: str | None = None
    message_id: str | None = None
    conversation_id: str | None = None


def _latest_treatments(session: Session, *, today: date, earliest: date) -> list[Treatment]:
    """Each patient's most recent treatment on or before ``today``, when it is on or after ``earliest``.

    Same order as core.recovery.latest_treatment (performed_on, then created_at): the
    treatment that decides the patient's recovery day is the one whose plan runs.
    Any treatment newer than one in range is itself in range, so filtering first is safe.
    """
    rows = session.execute(
        select(Treatment)
        .where(Treatment.performed_on <= today, Treatment.performed_on >= earliest)
        .order_by(Treatment.patient_id, Treatment.performed_on.desc(), Treatment.created_at.desc(), Treatment.id)
    ).scalars()
    latest: dict[str, Treatment] = {}
    for t in rows:
        latest.setdefault(t.patient_id, t)
    return list(latest.values())


def _claim(
    session: Session, *, treatment: Treatment, step_key: str, status: str, reason: str | None, now: datetime
) -> str | None:
    """Insert the (treatment, step) decision row; None when another worker (or an earlier run) got there first.

    PostgreSQL and SQLite use INSERT .. ON CONFLICT DO NOTHING on the unique constraint, so a lost race
    neither raises nor spoils the transaction; other databases fall back to a savepoint and IntegrityError.
    """
    row_id = new_id()
    values = {
        "id": row_id,
        "treatment_id": treatment.id,
        "patient_id": treatment.patient_id,
        "step_key": step_key,
        "status": status,
        "skip_reason": reason,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(CheckinSend).values(**values).on_conflict_do_nothing(index_elements=["treatment_id", "step_key"])
        result = session.execute(stmt)
        return row_id if result.rowcount == 1 else None
    try:  # pragma: no cover - other databases
        with session.begin_nested():
            session.add(CheckinSend(**values))
            session.flush()
    except IntegrityError:  # pragma: no cover
        return None
    return row_id  # pragma: no cover


def sms_conversation(session: Session, patient: Patient) -> Conversation:
    """The patient's SMS conversation (the most recent one), created if there is none."""
    conv = session.execute(
        select(Conversation)
        .where(Conversation.channel == SMS_CHANNEL, Conversation.patient_id == patient.id)
        .order_by(Conversation.last_message_at.desc(), Conversation.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if conv is None and patient.phone:
        # a conversation from this number before the patient record existed
        conv = session.execute(
            select(Conversation)
            .where(Conversation.channel == SMS_CHANNEL, Conversation.phone == patient.phone, Conversation.patient_id.is_(None))
            .order_by(Conversation.last_message_at.desc(), Conversation.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if conv is not None:
            conv.patient_id = patient.id
    if conv is None:
        conv = Conversation(channel=SMS_CHANNEL, patient_id=patient.id, phone=patient.phone)
        session.add(conv)
        session.flush()
    return conv


def _blocking_reason(session: Session, patient: Patient) -> str | None:
    if patient.opted_out or sms.is_opted_out(session, patient.phone):  # STOP, also sent before they were a patient
        return SKIP_OPTED_OUT
    if patient.checkins_paused:
        return SKIP_PAUSED
    if not patient.phone:
        return SKIP_NO_PHONE
    takeover = session.execute(
        select(Conversation.id)
        .where(Conversation.patient_id == patient.id, Conversation.channel == SMS_CHANNEL, Conversation.staff_takeover.is_(True))
        .limit(1)
    ).first()
    if takeover is not None:
        return SKIP_TAKEOVER
    open_escalation = session.execute(
        select(Escalation.id)
        .where(Escalation.patient_id == patient.id, Escalation.status != "resolved", Escalation.level.in_(BLOCKING_LEVELS))
        .limit(1)
    ).first()
    if open_escalation is not None:
        return SKIP_ESCALATION
    return None


def _send(
    session: Session,
    *,
    patient: Patient,
    clinic: Clinic,
    step: CheckinStep,
    send_id: str,
) -> tuple[str, str, str]:
    conv = sms_conversation(session, patient)
    # in the language the patient is answered in (the conversation's, else their preferred one)
    language = conv.language or patient.language or "en"
    text = render_body(body_for(step, language), first_name=patient.first_name, clinic_name=clinic.name, language=language)
    msg = Message(
        conversation_id=conv.id,
        direction="out",
        author="bot",
        channel=SMS_CHANNEL,
        text=text,
        status="queued",
        topic=MESSAGE_TOPIC,
    )
    session.add(msg)
    session.flush()
    item = outbox.enqueue(
        session, to=patient.phone, body=text, purpose=OUTBOX_PURPOSE, conversation_id=conv.id, message_id=msg.id
    )
    conv.last_message_at = now_of(session)
    send = session.get(CheckinSend, send_id)
    send.outbox_id = item.id
    session.flush()
    return item.id, msg.id, conv.id


def run_due(session: Session, *, now: datetime) -> list[CheckinOutcome]:
    """Send (or skip) every check-in that is due at ``now``. The caller commits.

    Safe to run from several workers at once and again after a restart: each
    (treatment, step) decision is claimed by the unique CheckinSend row first.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    clinic = get_clinic(session)
    local = now.astimezone(clinic_zone(clinic))
    if not in_window(local.hour, clinic.checkin_hour_start, clinic.checkin_hour_end):
        return []  # quiet hours: wait for the next window, never skip for that alone
    today = local.date()
    by_procedure: dict[str, list[CheckinStep]] = {}
    for step in session.execute(select(CheckinStep).where(CheckinStep.active.is_(True))).scalars():
        by_procedure.setdefault(step.procedure, []).append(step)
    if not by_procedure:
        return []
    horizon = max(s.day for steps in by_procedure.values() for s in steps) + MAX_LATE_DAYS + 1
    earliest = today - timedelta(days=horizon)
    done: dict[str, set[str]] = {}
    for treatment_id, step_key in session.execute(
        select(CheckinSend.treatment_id, CheckinSend.step_key)
        .join(Treatment, Treatment.id == CheckinSend.treatment_id)
        .where(Treatment.performed_on >= earliest, Treatment.performed_on <= today)
    ):
        done.setdefault(treatment_id, set()).add(step_key)
    outcomes: list[CheckinOutcome] = []
    for treatment in _latest_treatments(session, today=today, earliest=earliest):
        steps = sorted(by_procedure.get(treatment.procedure, []), key=lambda s: (s.day, s.key))
        day = days_since(treatment.performed_on, today)
        decided = done.get(treatment.id, set())
        due = [s for s in steps if s.day <= day and s.key not in decided]
        if not due:
            continue
        patient = session.get(Patient, treatment.patient_id)
        decisions: list[tuple[CheckinStep, str | None]] = [(s, SKIP_SUPERSEDED) for s in due[:-1]]
        target = due[-1]
        reason = SKIP_STALE if day - target.day > MAX_LATE_DAYS else _blocking_reason(session, patient)
        decisions.append((target, reason))
        for step, reason in decisions:
            status = "skipped" if reason else "queued"
            send_id = _claim(session, treatment=treatment, step_key=step.key, status=status, reason=reason, now=now)
            if send_id is None:
                continue  # another worker decided this step already
            outbox_id = message_id = conversation_id = None
            if status == "queued":
                outbox_id, message_id, conversation_id = _send(
                    session, patient=patient, clinic=clinic, step=step, send_id=send_id
                )
                log.info("check-in %s queued for treatment %s (day %d)", step.key, treatment.id, day)
            else:
                log.info("check-in %s skipped for treatment %s: %s", step.key, treatment.id, reason)
            outcomes.append(
                CheckinOutcome(
                    treatment_id=treatment.id,
                    patient_id=treatment.patient_id,
                    step_key=step.key,
                    status=status,
                    skip_reason=reason,
                    local_time=local,
                    outbox_id=outbox_id,
                    message_id=message_id,
                    conversation_id=conversation_id,
                )
            )
    return outcomes
