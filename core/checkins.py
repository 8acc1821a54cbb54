"""Proactive recovery check-ins: a short SMS plan after each treatment.

The plan is a list of steps per procedure (``CheckinStep``: key, day, body, active),
editable by an admin. ``run_due`` is the scheduler: called every minute or so, it
sends each step of a patient's most recent treatment once, on the step's day, within
the clinic's local sending window. Every decision is one ``CheckinSend`` row, unique
per (treatment, step): a step is never sent twice, whatever the number of workers
or restarts. Framework-free: the API process runs it from a worker loop.

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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import outbox, sms
from core.audit import record as audit
from core.clinic import get_clinic
from core.db import new_id, now_of
from core.models import (
    CheckinSend,
    CheckinStep,
    Clinic,
    Conversation,
    Escalation,
    Message,
    OutboxMessage,
    Patient,
    Treatment,
)
from core.timeline import days_since

log = logging.getLogger("aftercare.checkins")

PROCEDURE = "microneedling"
SMS_CHANNEL = "sms"
OUTBOX_PURPOSE = "checkin"
MESSAGE_TOPIC = "checkin"
MAX_LATE_DAYS = 2  # a step may go out up to 2 days after its day (downtime, quiet hours); later it is stale
MAX_SEGMENTS = 2
PLACEHOLDERS = ("{first_name}", "{clinic}")
SAMPLE_FIRST_NAME = "Alexandra-Josephine"  # a long first name, for length checks of an edited body
DEFAULT_TZ = "America/New_York"
BLOCKING_LEVELS = ("urgent", "emergency")
FAILED_DELIVERY = ("failed", "undelivered", "dead")  # outbox statuses that mean the text did not reach the patient

# Skip reasons (CheckinSend.skip_reason)
SKIP_OPTED_OUT = "opted_out"
SKIP_PAUSED = "paused"
SKIP_NO_PHONE = "no_phone"
SKIP_STALE = "stale"
SKIP_SUPERSEDED = "superseded"
SKIP_TAKEOVER = "staff_takeover"
SKIP_ESCALATION = "open_escalation"
SKIP_REASONS = {
    SKIP_OPTED_OUT: "patient opted out of texts",
    SKIP_PAUSED: "check-ins paused by staff",
    SKIP_NO_PHONE: "no mobile number on file",
    SKIP_STALE: f"more than {MAX_LATE_DAYS} days late",
    SKIP_SUPERSEDED: "a later check-in was due at the same time",
    SKIP_TAKEOVER: "staff had taken over the conversation",
    SKIP_ESCALATION: "an urgent escalation was open",
}

# The default microneedling plan, in our own words, from the clinic guide's facts:
# redness like a mild sunburn for a day or two; gentle basics (cleanser, moisturizer,
# sunscreen) for the first days; light flaking around a week as old skin sheds;
# regular skincare around day 5, retinoids and acids after at least a week; daily
# broad-spectrum SPF 30+ after the first 72 hours; results build over 4 to 6 weeks;
# series sessions about a month apart. Plain GSM-7 text (straight quotes only), so
# each message stays within 2 SMS segments. Placeholders: {first_name}, {clinic}.
DEFAULT_PLAN: list[dict] = [
    {
        "key": "day1",
        "day": 1,
        "body": (
            "Hi {first_name}, it's {clinic} checking in the day after your microneedling. "
            "How is your skin today? Redness, warmth or tightness, a bit like a mild sunburn, "
            "is normal for a day or two. Any questions? Just reply to this text. Reply STOP to opt out."
        ),
    },
    {
        "key": "day3",
        "day": 3,
        "body": (
            "Hi {first_name}, {clinic} here, 3 days after your microneedling. Some dryness or light flaking "
            "is part of healing; stick to a gentle cleanser, moisturizer and sunscreen for now. If redness or "
            "swelling gets worse instead of better, or anything seems off, just reply."
        ),
    },
    {
        "key": "day7",
        "day": 7,
        "body": (
            "Hi {first_name}, it's one week since your microneedling at {clinic}. Light flaking now is old skin "
            "shedding. You can ease back into your usual skincare, adding retinoids or acids slowly. Wear "
            "broad-spectrum SPF 30+ daily to protect your results. Questions? Just reply."
        ),
    },
    {
        "key": "week4",
        "day": 28,
        "body": (
            "Hi {first_name}, {clinic} here. It's 4 weeks since your microneedling: collagen keeps building, "
            "and texture and tone often improve most in weeks 4 to 6. Series sessions are usually about a "
            "month apart. Reply here if you'd like to book your next one."
        ),
    },
]


# ---------------------------------------------------------------------- SMS length
def is_gsm7(text: str) -> bool:
    return sms.is_gsm(text)


def sms_length(text: str) -> int:
    """Length in GSM-7 septets (extended characters count twice), or UTF-16 units when not GSM-7."""
    if sms.is_gsm(text):
        return sum(2 if ch in sms.GSM_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes (160/153 per segment in GSM-7, 70/67 in UCS-2)."""
    return sms.segment_count(text)


# ---------------------------------------------------------------------- rendering
def render_body(body: str, *, first_name: str | None, clinic_name: str | None) -> str:
    """Fill the known placeholders (only those: a stray brace in an edited body is left as it is)."""
    name = (first_name or "").strip() or "there"
    clinic = (clinic_name or "").strip() or "your clinic"
    return sms.gsm_friendly(body.replace("{first_name}", name).replace("{clinic}", clinic).strip())


class PlanError(ValueError):
    pass


def validate_body(body: str, *, clinic_name: str) -> str:
    """An edited step body: not empty, no unknown placeholder, at most 2 SMS segments once filled in.

    Typographic punctuation pasted from a word processor (curly quotes, dashes) becomes its plain
    SMS equivalent, so one curly quote does not cut every segment to 67 characters.
    """
    body = sms.gsm_friendly((body or "").replace("\r\n", "\n")).strip()
    if not body:
        raise PlanError("the message must not be empty")
    leftover = body
    for p in PLACEHOLDERS:
        leftover = leftover.replace(p, "")
    if "{" in leftover or "}" in leftover:
        raise PlanError("only {first_name} and {clinic} can be used as placeholders")
    rendered = render_body(body, first_name=SAMPLE_FIRST_NAME, clinic_name=clinic_name)
    if sms_segments(rendered) > MAX_SEGMENTS:
        if not is_gsm7(rendered):
            raise PlanError(
                "the message is too long: it uses characters outside the basic SMS alphabet (emoji, accents?), "
                "which makes each SMS hold only 67 characters; remove them or shorten it"
            )
        raise PlanError(
            f"the message is too long: {sms_length(rendered)} characters once names are filled in "
            f"(at most {MAX_SEGMENTS * 153} for {MAX_SEGMENTS} SMS)"
        )
    return body


# ---------------------------------------------------------------------- time
def clinic_zone(clinic: Clinic) -> ZoneInfo:
    try:
        return ZoneInfo(clinic.timezone or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        log.error("clinic time zone %r is unknown; using %s for check-ins", clinic.timezone, DEFAULT_TZ)
        return ZoneInfo(DEFAULT_TZ)


def in_window(hour: int, start: int, end: int) -> bool:
    """Is the local ``hour`` within [start, end)? A window past midnight (start > end) wraps; start == end is closed."""
    if start < end:
        return start <= hour < end
    if start > end:
        return hour >= start or hour < end
    return False


# ---------------------------------------------------------------------- the plan
def plan_steps(session: Session, procedure: str = PROCEDURE, *, active_only: bool = False) -> list[CheckinStep]:
    q = select(CheckinStep).where(CheckinStep.procedure == procedure)
    if active_only:
        q = q.where(CheckinStep.active.is_(True))
    return sorted(session.execute(q).scalars(), key=lambda s: (s.day, s.key))


def ensure_default_plan(session: Session, procedure: str = PROCEDURE) -> list[CheckinStep]:
    """Add the default steps whose key is missing (never changes an edited step). Returns the added ones."""
    have = {s.key for s in plan_steps(session, procedure)}
    added = []
    for step in DEFAULT_PLAN:
        if step["key"] not in have:
            row = CheckinStep(procedure=procedure, key=step["key"], day=step["day"], body=step["body"], active=True)
            session.add(row)
            added.append(row)
    session.flush()
    return added


def update_step(
    session: Session,
    *,
    step_id: str,
    body: str,
    day: int,
    active: bool,
    actor_id: str | None,
    actor_label: str,
) -> CheckinStep:
    step = session.get(CheckinStep, step_id)
    if step is None:
        raise PlanError("unknown check-in step")
    if not isinstance(day, int) or day < 0 or day > 365:
        raise PlanError("the day must be a whole number from 0 to 365")
    body = validate_body(body, clinic_name=get_clinic(session).name)
    changed = [
        name
        for name, old, new in (("body", step.body, body), ("day", step.day, day), ("active", bool(step.active), bool(active)))
        if old != new
    ]
    step.body, step.day, step.active = body, day, bool(active)
    session.flush()
    audit(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="checkin_step.update",
        object_type="checkin_step",
        object_id=step.id,
        detail=f"{step.key}: {', '.join(changed) or 'no change'}; day={day} active={bool(active)}",
    )
    return step


def set_paused(session: Session, *, patient_id: str, paused: bool, actor_id: str | None, actor_label: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise PlanError("unknown patient")
    if bool(patient.checkins_paused) != bool(paused):
        patient.checkins_paused = bool(paused)
        audit(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action="checkins.pause" if paused else "checkins.resume",
            object_type="patient",
            object_id=patient.id,
        )
    session.flush()
    return patient


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
    text = render_body(step.body, first_name=patient.first_name, clinic_name=clinic.name)
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
