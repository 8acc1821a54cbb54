"""Exports for the clinic's records: escalations and conversations as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Conversation, Message, MessageMedia, Patient

EXPORT_COLUMNS = (
    "id",
    "level",
    "status",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "patient",
    "channel",
    "recovery_day",
    "reason",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A spreadsheet cannot run it: a cell starting with = + - @ (or a tab/CR) gets a leading quote (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def escalations_csv(session: Session, *, status: str | None = None) -> str:
    """The escalations as CSV for the clinic's records (no message text: reasons and levels only)."""
    from core.escalations import list_escalations

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for e in list_escalations(session, status=status or None, limit=10_000):
        who = " ".join(x for x in ((e.patient.first_name, e.patient.last_name) if e.patient else ()) if x) or "not on file"
        row = (
            e.id,
            e.level,
            e.status,
            e.created_at.isoformat() if e.created_at else "",
            e.acknowledged_at.isoformat() if e.acknowledged_at else "",
            e.resolved_at.isoformat() if e.resolved_at else "",
            who,
            e.conversation.channel if e.conversation else "",
            "" if e.recovery_day is None else e.recovery_day,
            e.reason,
        )
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


MESSAGE_COLUMNS = (
    "conversation_id",
    "channel",
    "patient_name",
    "phone",
    "sent_at",
    "author",
    "staff_name",
    "text",
    "photos",
    "status",
)
MAX_EXPORT_MESSAGES = 100_000


def conversations_csv(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    conversation_id: str | None = None,
    staff_names: dict[str, str] | None = None,
) -> tuple[str, int]:
    """Messages as CSV, one row each, oldest first: all conversations in [since, until), or one.

    Returns the CSV and the number of messages written (at most MAX_EXPORT_MESSAGES). The text
    is included (it is the clinic's record); every cell is neutralised for spreadsheets."""
    photos = select(MessageMedia.message_id, func.count(MessageMedia.id).label("n")).group_by(MessageMedia.message_id).subquery()
    q = (
        select(Message, Conversation, Patient, photos.c.n)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Patient, Patient.id == Conversation.patient_id)
        .outerjoin(photos, photos.c.message_id == Message.id)
    )
    if conversation_id:
        q = q.where(Message.conversation_id == conversation_id)
    if since is not None:
        q = q.where(Message.created_at >= since)
    if until is not None:
        q = q.where(Message.created_at < until)
    rows = session.execute(
        q.order_by(Conversation.created_at, Conversation.id, Message.created_at, Message.id).limit(MAX_EXPORT_MESSAGES)
    ).all()
    names = staff_names or {}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MESSAGE_COLUMNS)
    for m, conv, patient, n_photos in rows:
        who = f"{patient.first_name} {patient.last_name}".strip() if patient is not None else "not on file"
        row = (
            conv.id,
            conv.channel,
            who,
            (patient.phone if patient is not None else None) or conv.phone or conv.callback_phone or "",
            m.created_at.isoformat() if m.created_at else "",
            m.author,
            names.get(m.staff_id or "", "") if m.author == "staff" else "",
            m.text,
            n_photos or 0,
            m.status,
        )
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue(), len(rows)
