"""Canned replies: texts an admin writes once, that staff insert into a reply and edit before sending.

In English or Spanish (a patient who writes in Spanish gets the team's Spanish texts). Placeholders,
filled for the conversation at hand: ``{first_name}``, ``{clinic}``, ``{clinic_phone}``. Nothing here
sends anything: the reply still goes through the inbox's reply form (and its checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import CannedReply

LANGUAGES = {"en": "English", "es": "Español"}
PLACEHOLDERS = ("{first_name}", "{clinic}", "{clinic_phone}")
MAX_TITLE = 100
MAX_BODY = 1600  # one SMS reply's limit (the reply form's)
NO_NAME = {"en": "there", "es": ""}  # "Hi there," / "Hola,"


class CannedError(ValueError):
    pass


@dataclass(frozen=True)
class Filled:
    id: str
    title: str
    language: str
    text: str


def _clean(value: str, limit: int, what: str) -> str:
    value = (value or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not value:
        raise CannedError(f"the {what} must not be empty")
    if len(value) > limit:
        raise CannedError(f"the {what} is too long (at most {limit} characters)")
    return value


def _validated(title: str, language: str, body: str) -> tuple[str, str, str]:
    title = _clean(title, MAX_TITLE, "title")
    body = _clean(body, MAX_BODY, "text")
    if language not in LANGUAGES:
        raise CannedError("the language must be English or Spanish")
    leftover = body
    for p in PLACEHOLDERS:
        leftover = leftover.replace(p, "")
    if "{" in leftover or "}" in leftover:
        raise CannedError("only " + ", ".join(PLACEHOLDERS) + " can be used as placeholders")
    return title, language, body


def list_replies(session: Session) -> list[CannedReply]:
    """Every canned reply, by language then title."""
    return list(session.execute(select(CannedReply).order_by(CannedReply.language, CannedReply.title)).scalars())


def add_reply(session: Session, *, title: str, language: str, body: str) -> CannedReply:
    title, language, body = _validated(title, language, body)
    row = CannedReply(title=title, language=language, body=body)
    session.add(row)
    session.flush()
    return row


def update_reply(session: Session, reply_id: str, *, title: str, language: str, body: str) -> CannedReply:
    row = session.get(CannedReply, reply_id)
    if row is None:
        raise CannedError("no such canned reply")
    row.title, row.language, row.body = _validated(title, language, body)
    session.flush()
    return row


def delete_reply(session: Session, reply_id: str) -> None:
    row = session.get(CannedReply, reply_id)
    if row is None:
        raise CannedError("no such canned reply")
    session.delete(row)
    session.flush()


def fill(body: str, *, language: str, first_name: str | None, clinic: str, clinic_phone: str) -> str:
    """The text with this conversation's placeholders filled in."""
    name = (first_name or "").strip() or NO_NAME.get(language, "")
    text = body.replace("{first_name}", name).replace("{clinic_phone}", clinic_phone).replace("{clinic}", clinic)
    return re.sub(r"[ \t]+([,.!?])", r"\1", text).strip()  # "Hola ," -> "Hola," when no name is known


def for_conversation(session: Session, *, first_name: str | None, clinic: str, clinic_phone: str) -> list[Filled]:
    """Every canned reply, filled in for one conversation, ready to insert into the reply box."""
    return [
        Filled(
            id=r.id,
            title=r.title,
            language=r.language,
            text=fill(r.body, language=r.language, first_name=first_name, clinic=clinic, clinic_phone=clinic_phone),
        )
        for r in list_replies(session)
    ]
