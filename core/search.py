"""Search across patients and conversations for the staff inbox (issue #17): a name, a phone
number in any format, or words a patient or staff member wrote.

A plain case-insensitive substring match (LIKE, wildcards escaped) on both SQLite and PostgreSQL:
a clinic's message table is small enough for a scan; the assistant's own answers are left out
(they repeat the clinic's guide and would bury what patients wrote).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.attention import PEOPLE
from core.inbox import search_patients
from core.models import Conversation, Message, Patient

MIN_QUERY = 2
MAX_QUERY = 100
SNIPPET_CONTEXT = 60


@dataclass(frozen=True)
class Snippet:
    """The text around the first match, in three parts so a page can mark the match safely."""

    before: str
    match: str
    after: str


@dataclass
class MessageHit:
    message: Message
    conversation: Conversation
    snippet: Snippet


@dataclass
class SearchResult:
    query: str
    patients: list[Patient] = field(default_factory=list)
    messages: list[MessageHit] = field(default_factory=list)
    numbers: list[Conversation] = field(default_factory=list)  # conversations from numbers not on file
    too_short: bool = False

    @property
    def total(self) -> int:
        return len(self.patients) + len(self.messages) + len(self.numbers)


def clean_query(raw: str | None) -> str:
    return " ".join((raw or "").replace("\x00", "").split())[:MAX_QUERY]


def snippet(text: str, query: str, context: int = SNIPPET_CONTEXT) -> Snippet:
    flat = " ".join(text.split())
    at = flat.lower().find(query.lower())
    if at < 0:
        return Snippet(flat[: 2 * context] + ("…" if len(flat) > 2 * context else ""), "", "")
    start, end = max(0, at - context), min(len(flat), at + len(query) + context)
    return Snippet(
        ("…" if start else "") + flat[start:at],
        flat[at : at + len(query)],
        flat[at + len(query) : end] + ("…" if end < len(flat) else ""),
    )


def search(session: Session, raw_query: str | None, *, limit: int = 50) -> SearchResult:
    query = clean_query(raw_query)
    result = SearchResult(query=query)
    if len(query) < MIN_QUERY:
        result.too_short = bool(query)
        return result
    result.patients = search_patients(session, query, limit=limit)
    rows = session.execute(
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.author.in_(PEOPLE), func.lower(Message.text).contains(query.lower(), autoescape=True))
        .order_by(Message.created_at.desc())
        .limit(limit)
    ).all()
    result.messages = [MessageHit(m, c, snippet(m.text, query)) for m, c in rows]
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3:
        result.numbers = list(
            session.execute(
                select(Conversation)
                .where(
                    Conversation.patient_id.is_(None),
                    or_(Conversation.phone.contains(digits), Conversation.callback_phone.contains(digits)),
                )
                .order_by(Conversation.last_message_at.desc())
                .limit(limit)
            ).scalars()
        )
    return result
