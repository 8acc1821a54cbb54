"""Who needs a person's attention, for the inbox: conversations where the patient wrote last
(waiting for a reply) and, per staff member, conversations with patient messages they have not
opened yet (unread). Framework-free; nothing here logs message text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.enums import Author
from core.inbox import aware as _utc
from core.models import ConversationRead, Message

PEOPLE = (Author.PATIENT.value, Author.STAFF.value)


def waiting_for_staff(session: Session, conversation_ids: Iterable[str]) -> set[str]:
    """Of these conversations, those whose latest message from a person is the patient's.

    The assistant's answers do not count: "a team member will reply here" answers nobody, and an
    escalated patient waits for a person whatever the assistant said."""
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return set()
    latest = (
        select(Message.conversation_id, func.max(Message.created_at).label("at"))
        .where(Message.conversation_id.in_(ids), Message.author.in_(PEOPLE))
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Message.conversation_id, Message.author).join(
            latest, (Message.conversation_id == latest.c.conversation_id) & (Message.created_at == latest.c.at)
        )
    ).all()
    # at the same instant a staff message and a patient message: the patient still waits
    return {cid for cid, author in rows if author == Author.PATIENT.value}


def unread_for(session: Session, staff_id: str, conversation_ids: Iterable[str]) -> set[str]:
    """Of these conversations, those with a patient message this staff member has not opened."""
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return set()
    latest = dict(
        session.execute(
            select(Message.conversation_id, func.max(Message.created_at))
            .where(Message.conversation_id.in_(ids), Message.author == Author.PATIENT.value)
            .group_by(Message.conversation_id)
        ).all()
    )
    read = dict(
        session.execute(
            select(ConversationRead.conversation_id, ConversationRead.read_at).where(
                ConversationRead.staff_id == staff_id, ConversationRead.conversation_id.in_(ids)
            )
        ).all()
    )
    return {cid for cid, at in latest.items() if at is not None and (cid not in read or _utc(at) > _utc(read[cid]))}


def mark_read(session: Session, *, staff_id: str, conversation_id: str, up_to: datetime) -> None:
    """This staff member has seen the conversation up to ``up_to`` (the newest message shown).

    Never moves backwards; two tabs marking at once is harmless (the loser's row is re-read)."""
    row = session.get(ConversationRead, (staff_id, conversation_id))
    if row is None:
        try:
            with session.begin_nested():
                session.add(ConversationRead(staff_id=staff_id, conversation_id=conversation_id, read_at=up_to))
            return
        except IntegrityError:  # another request of the same person got there first
            row = session.get(ConversationRead, (staff_id, conversation_id), populate_existing=True)
            if row is None:
                return
    if _utc(up_to) > _utc(row.read_at):
        row.read_at = up_to
