"""One patient's story on one page (issue #17): treatments with the recovery day, every message
of every conversation with its photos, escalations opened, acknowledged and resolved, staff notes,
and check-ins sent or skipped, in order, grouped by the clinic's calendar day.

Framework-free; the inbox renders it and audits the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import media as media_service
from core.checkins.scheduler import MESSAGE_TOPIC as CHECKIN_TOPIC
from core.checkins.views import patient_sends
from core.inbox import aware
from core.models import Conversation, Escalation, Message, MessageMedia, Patient
from core.timeline import days_since

MAX_MESSAGES = 3000
# the order of entries that share an instant: the treatment first, the patient before the answer
_KIND_ORDER = {
    "treatment": 0,
    "message": 1,
    "checkin": 2,
    "escalation_opened": 3,
    "escalation_acknowledged": 4,
    "note": 5,
    "escalation_resolved": 6,
}


@dataclass
class Entry:
    at: datetime  # UTC, aware
    kind: str  # one of _KIND_ORDER
    text: str = ""
    message: Message | None = None
    photos: list[MessageMedia] = field(default_factory=list)
    escalation: Escalation | None = None
    staff_id: str | None = None
    detail: str = ""  # a check-in's step and state, a treatment's area
    is_checkin: bool = False
    upcoming: bool = False  # a treatment after today: an appointment


@dataclass
class Day:
    day: date  # the clinic's calendar day
    recovery_day: int | None  # days since the latest treatment on or before that day
    entries: list[Entry] = field(default_factory=list)


@dataclass
class History:
    patient: Patient
    days: list[Day]
    messages: int
    truncated: bool  # more than MAX_MESSAGES messages: the oldest are left out


def patient_history(session: Session, patient: Patient, tz: ZoneInfo, today: date) -> History:
    entries: list[Entry] = []
    treatments = sorted(patient.treatments, key=lambda t: t.performed_on)
    for t in treatments:
        at = datetime.combine(t.performed_on, time(0, 0), tzinfo=tz).astimezone(ZoneInfo("UTC"))
        entries.append(Entry(at=at, kind="treatment", text=t.procedure, detail=t.area, upcoming=t.performed_on > today))

    conv_ids = list(session.execute(select(Conversation.id).where(Conversation.patient_id == patient.id)).scalars())
    messages: list[Message] = []
    truncated = False
    if conv_ids:
        newest = list(
            session.execute(
                select(Message)
                .where(Message.conversation_id.in_(conv_ids))
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(MAX_MESSAGES + 1)
            ).scalars()
        )
        truncated = len(newest) > MAX_MESSAGES
        messages = newest[:MAX_MESSAGES][::-1]
    photos = media_service.for_messages(session, [m.id for m in messages])
    for m in messages:
        entries.append(
            Entry(
                at=_at(m.created_at),
                kind="message",
                text=m.text,
                message=m,
                photos=photos.get(m.id, []),
                staff_id=m.staff_id,
                is_checkin=m.topic == CHECKIN_TOPIC and m.author == "bot",
            )
        )

    escalations = list(
        session.execute(
            select(Escalation).where((Escalation.patient_id == patient.id) | Escalation.conversation_id.in_(conv_ids or [""]))
        ).scalars()
    )
    for e in escalations:
        entries.append(Entry(at=_at(e.created_at), kind="escalation_opened", text=e.reason, escalation=e))
        if e.acknowledged_at:
            entries.append(
                Entry(at=_at(e.acknowledged_at), kind="escalation_acknowledged", escalation=e, staff_id=e.acknowledged_by)
            )
        for n in e.notes:
            entries.append(Entry(at=_at(n.created_at), kind="note", text=n.text, escalation=e, staff_id=n.staff_id))
        if e.resolved_at:
            entries.append(
                Entry(
                    at=_at(e.resolved_at),
                    kind="escalation_resolved",
                    text=e.resolution_note or "",
                    escalation=e,
                    staff_id=e.resolved_by,
                )
            )

    for s in patient_sends(session, patient.id):
        if s.status == "queued":
            continue  # a check-in that went out is in the messages, with its delivery
        entries.append(Entry(at=_at(s.decided_at), kind="checkin", detail=s.step_key, text=s.reason_text or ""))

    entries.sort(key=lambda x: (x.at, _KIND_ORDER[x.kind]))
    days: list[Day] = []
    for entry in entries:
        local = entry.at.astimezone(tz).date()
        if not days or days[-1].day != local:
            days.append(Day(day=local, recovery_day=_recovery_day(treatments, local)))
        days[-1].entries.append(entry)
    return History(patient=patient, days=days, messages=len(messages), truncated=truncated)


def _recovery_day(treatments: list, on: date) -> int | None:
    before = [t.performed_on for t in treatments if t.performed_on <= on]
    return days_since(max(before), on) if before else None


def _at(dt: datetime) -> datetime:
    return aware(dt) or dt
