"""The staff inbox's services (framework-free): replies, take-over, the lists a shift
works from, and the patients CSV import.

Nothing here writes message text to the audit log or to log lines; callers audit
the action with ids only.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import escalations as esc_service
from core import outbox
from core import patients as patient_service
from core.db import now_of
from core.enums import ACTIVE_ESCALATION_STATUSES, UNDELIVERED_STATUSES
from core.models import Conversation, Escalation, Message, OutboxMessage, Patient, StaffUser

log = logging.getLogger("aftercare.inbox")

WEB = "web"
SMS = "sms"
MAX_WEB_REPLY = 2000
MAX_SMS_REPLY = 1600  # Twilio's limit for one (concatenated) SMS
ACTIVE_STATUSES = ACTIVE_ESCALATION_STATUSES
FAILED_OUTBOX = UNDELIVERED_STATUSES


class InboxError(ValueError):
    pass


class EmptyReply(InboxError):
    pass


def aware(dt: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite returns them naive."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------------------- replies
@dataclass
class ReplyResult:
    message: Message
    outbox: OutboxMessage | None = None
    not_sent: str | None = None  # why an SMS reply could not go out (opted out, no number)


def reply_target(session: Session, conversation: Conversation) -> tuple[str | None, str | None]:
    """(phone, why-not) for an SMS conversation: where a staff reply would go."""
    patient = session.get(Patient, conversation.patient_id) if conversation.patient_id else None
    if patient is not None and patient.opted_out:
        return None, "the patient has opted out of SMS (they texted STOP)"
    phone = (patient.phone if patient is not None and patient.phone else None) or conversation.phone
    if not phone:
        return None, "there is no phone number for this conversation"
    return phone, None


def staff_reply(session: Session, *, conversation: Conversation, staff: StaffUser, text: str) -> ReplyResult:
    """A staff member's reply, out on the conversation's own channel.

    Web: stored as an outbound message, which the widget picks up when it polls.
    SMS: stored and queued in the outbox (purpose ``staff_reply``), unless the patient
    opted out or there is no number; then the message is kept with status
    ``not_sent`` and ``not_sent`` says why.
    """
    text = (text or "").strip()
    if not text:
        raise EmptyReply("the reply is empty")
    limit = MAX_SMS_REPLY if conversation.channel == SMS else MAX_WEB_REPLY
    if len(text) > limit:
        raise InboxError(f"the reply is too long ({len(text)} characters; at most {limit})")
    if conversation.channel not in (SMS, WEB):
        raise InboxError(f"cannot reply on channel {conversation.channel!r}")
    msg = Message(
        conversation_id=conversation.id,
        direction="out",
        author="staff",
        staff_id=staff.id,
        channel=conversation.channel,
        text=text,
        status="sent",
    )
    session.add(msg)
    session.flush()
    result = ReplyResult(message=msg)
    if conversation.channel == SMS:
        phone, why = reply_target(session, conversation)
        if phone is None:
            msg.status = "not_sent"
            result.not_sent = why
        else:
            msg.status = "queued"
            result.outbox = outbox.enqueue(
                session, to=phone, body=text, purpose="staff_reply", conversation_id=conversation.id, message_id=msg.id
            )
    conversation.last_message_at = now_of(session)
    log.info("staff %s replied on conversation %s (%s)", staff.id, conversation.id, conversation.channel)
    return result


def acknowledge_on_reply(session: Session, *, conversation: Conversation, staff: StaffUser) -> Escalation | None:
    """A staff member who answers the patient is on it: the conversation's unacknowledged escalation
    becomes acknowledged, when their role may handle its level (a front-desk reply leaves an urgent
    or emergency one open for a clinician). Returns the escalation it acknowledged, if any."""
    esc = esc_service.active_for_conversation(session, conversation.id)
    if esc is None or esc.status != "open" or not esc_service.may_handle(staff.role, esc.level):
        return None
    esc_service.acknowledge(session, esc, staff_id=staff.id, now=now_of(session))
    return esc


def take_over(session: Session, *, conversation: Conversation, staff: StaffUser) -> bool:
    """Staff take the conversation: the assistant stays quiet (except the call-911 reply).

    Returns False when it was already taken over (by anyone; the record keeps the first).
    """
    if conversation.staff_takeover:
        return False
    conversation.staff_takeover = True
    conversation.takeover_by = staff.id
    return True


def hand_back(session: Session, *, conversation: Conversation, staff: StaffUser) -> bool:
    """The assistant answers again. Returns False when it was not taken over."""
    if not conversation.staff_takeover:
        return False
    conversation.staff_takeover = False
    conversation.takeover_by = None
    return True


# ------------------------------------------------------------------------- the lists
def inbox_escalations(
    session: Session,
    *,
    statuses: tuple[str, ...] = ACTIVE_STATUSES,
    level: str | None = None,
    assignee: str | None = None,
    limit: int = 300,
) -> list[Escalation]:
    """Escalations for the inbox: most severe first, then oldest.

    ``assignee`` is a staff id, ``"unassigned"`` or None (anyone).
    """
    q = select(Escalation)
    if statuses:
        q = q.where(Escalation.status.in_(statuses))
    if level:
        q = q.where(Escalation.level == level)
    if assignee == "unassigned":
        q = q.where(Escalation.assignee_id.is_(None))
    elif assignee:
        q = q.where(Escalation.assignee_id == assignee)
    return list(session.execute(q.order_by(*esc_service.severity_order()).limit(limit)).scalars())


def taken_over(session: Session, *, limit: int = 100) -> list[Conversation]:
    return list(
        session.execute(
            select(Conversation)
            .where(Conversation.staff_takeover.is_(True))
            .order_by(Conversation.last_message_at.desc())
            .limit(limit)
        ).scalars()
    )


def delivery_problems(session: Session, *, now: datetime | None = None, days: int = 7, limit: int = 50) -> list[OutboxMessage]:
    """On-call alerts and staff replies that failed, died or were undelivered (recent first)."""
    since = (now or now_of(session)) - timedelta(days=days)
    return list(
        session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.purpose.in_(("oncall_alert", "staff_reply")),
                OutboxMessage.status.in_(FAILED_OUTBOX),
                OutboxMessage.updated_at >= since,
            )
            .order_by(OutboxMessage.updated_at.desc())
            .limit(limit)
        ).scalars()
    )


def outbox_messages(session: Session, *, status: str = "", purpose: str = "", limit: int = 200) -> list[OutboxMessage]:
    """The outbox, newest first, optionally only one status and/or purpose."""
    q = select(OutboxMessage)
    if status:
        q = q.where(OutboxMessage.status == status)
    if purpose:
        q = q.where(OutboxMessage.purpose == purpose)
    return list(session.execute(q.order_by(OutboxMessage.created_at.desc()).limit(limit)).scalars())


def delivery_by_message(session: Session, conversation_id: str) -> dict[str, OutboxMessage]:
    """The outbox row of each message of a conversation that went out by SMS, by message id."""
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id)).scalars()
    return {o.message_id: o for o in rows if o.message_id}


def oncall_alerts(session: Session, escalation_id: str) -> list[OutboxMessage]:
    return list(
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.escalation_id == escalation_id, OutboxMessage.purpose == "oncall_alert")
            .order_by(OutboxMessage.created_at)
        ).scalars()
    )


def transcript(session: Session, conversation_id: str, *, after_id: str | None = None, limit: int = 2000) -> list[Message]:
    rows = list(
        session.execute(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        ).scalars()
    )
    if after_id:
        ids = [m.id for m in rows]
        if after_id in ids:
            rows = rows[ids.index(after_id) + 1 :]
    return rows


def search_patients(session: Session, query: str = "", *, limit: int = 200) -> list[Patient]:
    q = select(Patient)
    query = (query or "").strip()
    if query:
        like = f"%{query.lower()}%"
        digits = "".join(ch for ch in query if ch.isdigit())
        conds = [
            func.lower(Patient.first_name).like(like),
            func.lower(Patient.last_name).like(like),
            func.lower(Patient.first_name + " " + Patient.last_name).like(like),
        ]
        if len(digits) >= 3:
            conds.append(Patient.phone.like(f"%{digits}%"))
        q = q.where(or_(*conds))
    return list(session.execute(q.order_by(Patient.last_name, Patient.first_name).limit(limit)).scalars())


def patient_conversations(session: Session, patient_id: str) -> list[Conversation]:
    return list(
        session.execute(
            select(Conversation).where(Conversation.patient_id == patient_id).order_by(Conversation.last_message_at.desc())
        ).scalars()
    )


def conversation_escalations(session: Session, conversation_id: str) -> list[Escalation]:
    return list(
        session.execute(
            select(Escalation).where(Escalation.conversation_id == conversation_id).order_by(Escalation.created_at.desc())
        ).scalars()
    )


# ------------------------------------------------------------------------ CSV import
CSV_COLUMNS = ("first_name", "last_name", "phone", "procedure", "area", "performed_on", "language")
CSV_REQUIRED = ("first_name", "phone", "performed_on")
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 5000
MAX_AHEAD_DAYS = 366  # an appointment up to a year ahead; a later date is more likely a typo in the year
# The import commits every this many created patients: one transaction for a whole file held
# SQLite's only write lock for seconds while patients' messages waited (issue #16 item 11).
IMPORT_BATCH = 200


@dataclass
class ImportRow:
    line: int  # line number in the file (the header is line 1)
    name: str
    status: str  # "created" | "rejected"
    reasons: list[str] = field(default_factory=list)
    patient_id: str | None = None


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    error: str | None = None  # the whole file was refused (no rows looked at)

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.status == "created")

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.rows if r.status == "rejected")


_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _parse_iso_date(raw: str) -> date | None:
    """YYYY-MM-DD, or the US MM/DD/YYYY a clinic's spreadsheet exports (11/23/2026). Nothing else:
    21/11/2026 or 11/23/26 are refused rather than guessed."""
    raw = (raw or "").strip()
    us = _US_DATE.match(raw)
    try:
        if us:
            return date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
        if len(raw) != 10:
            return None
        return date.fromisoformat(raw)
    except ValueError:
        return None


def import_patients_csv(session: Session, data: bytes | str, *, today: date) -> ImportReport:
    """Import patients (one treatment each) from CSV with the columns
    ``first_name,last_name,phone,procedure,area,performed_on,language`` (``language`` optional:
    en or es, the patient's preferred language).

    Each row is created or rejected on its own, with the reasons: a missing name,
    a phone that is not a whole phone number, a date that is neither YYYY-MM-DD nor
    MM/DD/YYYY (or is more than :data:`MAX_AHEAD_DAYS` ahead: a later date is an appointment, and
    recovery answers and check-ins start on its day),
    an unsupported procedure, or a duplicate (a phone already on file or repeated in
    the file). Nothing is half-created: a rejected row leaves no trace.

    Created patients are committed every :data:`IMPORT_BATCH` rows (and the rest by the caller), so
    the database's write lock is never held for the whole file; the report says which rows were
    created, so a file that fails half-way can be fixed and imported again (duplicates are refused).
    """
    report = ImportReport()
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            report.error = f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB"
            return report
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            report.error = "the file is not UTF-8 text (save it as 'CSV UTF-8')"
            return report
    else:
        text = data.lstrip("\ufeff")
    text = text.replace("\x00", "")  # a NUL byte (a spreadsheet's binary residue) is no part of a name or date
    if not text.strip():
        report.error = "the file is empty"
        return report
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        report.error = f"missing column(s): {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}"
        return report
    reader.fieldnames = header
    seen_phones: dict[str, int] = {}
    for index, raw_row in enumerate(reader):
        line = reader.line_num
        if index >= MAX_IMPORT_ROWS:
            report.error = f"only the first {MAX_IMPORT_ROWS} rows were read; split the file"
            break
        row = {k: (v or "").strip() for k, v in raw_row.items() if isinstance(k, str)}
        if not any(row.values()):
            continue  # a blank line
        first = row.get("first_name", "")
        last = row.get("last_name", "")
        result = ImportRow(line=line, name=f"{first} {last}".strip() or "(no name)", status="rejected")
        report.rows.append(result)
        reasons = result.reasons
        if not first:
            reasons.append("first_name is missing")
        elif len(first) > 100 or len(last) > 100:
            reasons.append("a name is longer than 100 characters")
        phone = None
        raw_phone = row.get("phone", "")
        if not raw_phone:
            reasons.append("phone is missing")
        else:
            try:
                phone = patient_service.normalize_phone(raw_phone)
            except patient_service.PatientError:
                reasons.append(f"bad phone {raw_phone[:32]!r}: use a full number, e.g. (201) 555-0123 or +12015550123")
        performed_on = _parse_iso_date(row.get("performed_on", ""))
        if performed_on is None:
            raw_date = row.get("performed_on", "")
            reasons.append(f"bad date {raw_date[:32]!r}: use YYYY-MM-DD or MM/DD/YYYY" if raw_date else "performed_on is missing")
        elif performed_on > today + timedelta(days=MAX_AHEAD_DAYS):
            reasons.append(f"date {performed_on.isoformat()} is more than a year ahead: check the year")
        procedure = (row.get("procedure") or "microneedling").lower()
        if procedure not in patient_service.PROCEDURES:
            reasons.append(f"unsupported procedure {procedure[:32]!r}; supported: {', '.join(patient_service.PROCEDURES)}")
        language = None
        try:
            language = patient_service.preferred_language(row.get("language"))
        except patient_service.PatientError:
            reasons.append(f"bad language {row.get('language', '')[:32]!r}: use en or es (or leave it empty)")
        area = (row.get("area") or "face").lower()
        if len(area) > 64:
            reasons.append("area is longer than 64 characters")
        if phone:
            if phone in seen_phones:
                reasons.append(f"duplicate: the same phone is on line {seen_phones[phone]} of this file")
            elif patient_service.by_phone(session, phone) is not None:
                reasons.append("duplicate: a patient with this phone already exists")
            else:
                seen_phones[phone] = line
        if reasons:
            continue
        try:
            with session.begin_nested():
                patient = patient_service.create_patient(
                    session,
                    first_name=first,
                    last_name=last,
                    phone=phone,
                    treatments=[{"performed_on": performed_on, "procedure": procedure, "area": area}],
                    language=language,
                )
        except patient_service.DuplicatePhone:
            reasons.append("duplicate: a patient with this phone already exists")
            continue
        except patient_service.PatientError as exc:
            reasons.append(str(exc))
            continue
        result.status = "created"
        result.patient_id = patient.id
        if performed_on > today:
            result.reasons.append(f"upcoming appointment on {performed_on.isoformat()}: check-ins start then")
        if report.created % IMPORT_BATCH == 0:
            session.commit()  # let patients' messages write between batches
    return report


class NotSendable(ValueError):
    """The patient cannot be texted: no phone number on file, or they opted out of SMS."""


def send_chat_link(session: Session, patient: Patient, *, public_url: str) -> str:
    """Text the patient their own web chat link, through the outbox (consent respected).

    Sending renews the link (it works CHAT_LINK_DAYS from now; an expired one gets a new secret).
    Returns the link sent."""
    from core import outbox
    from core.clinic import get_clinic
    from core.sms import is_opted_out
    from core.sms.keywords import say as sms_say

    if not patient.phone:
        raise NotSendable("no phone number on file")
    if patient.opted_out or is_opted_out(session, patient.phone):
        raise NotSendable("the patient has opted out of SMS")
    patient_service.renew_chat_link(session, patient)
    link = f"{public_url}/chat/{patient.chat_token}"
    body = sms_say("chat_link", clinic_name=get_clinic(session).name, link=link, language=patient.language or "en")
    outbox.enqueue(session, to=patient.phone, body=body, purpose="chat_link")
    return link
