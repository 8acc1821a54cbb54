"""Web chat API used by the widget (no staff auth; the session id is the secret)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Request, UploadFile
from pydantic import Field, StrictStr
from sqlalchemy import func, select

from api.container import Container
from api.deps import ContainerDep
from api.limits import RETRY_AFTER_S, client_key
from api.schemas import JSON_BODY_ERRORS, NOT_BLANK_PATTERN, ApiModel, link, responses
from core import content, language, phones, photos
from core import media as media_service
from core import patients as patient_service
from core.clinic import get_clinic
from core.conversations import MAX_TEXT, WEB_CHANNEL
from core.db import session_scope
from core.enums import ESCALATING_LEVELS
from core.inbound import clean_text
from core.models import Conversation, Message

log = logging.getLogger("aftercare.webchat")
IDEMPOTENCY_KEY_MAX = 100
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"  # visible ASCII, no spaces

router = APIRouter(prefix="/api/v1/chat", tags=["web chat"])


class SessionIn(ApiModel):
    chat_token: StrictStr | None = Field(None, max_length=128, description="from POST /api/v1/patients; absent: anonymous")
    language: StrictStr | None = Field(
        None,
        max_length=35,
        description="the browser's language (navigator.language, e.g. es-US): replies start in Spanish or "
        "English accordingly, until the patient's own messages or a preferred language on file say otherwise",
    )


class SessionCreated(ApiModel):
    session_id: str


class MessageIn(ApiModel):
    # a JSON string (not false or 5), not blank, at most MAX_TEXT characters (docs/api.md)
    text: StrictStr = Field(..., min_length=1, max_length=MAX_TEXT, regex=NOT_BLANK_PATTERN)


class Button(ApiModel):
    title: str
    payload: str


class Reply(ApiModel):
    text: str
    buttons: list[Button]


class EscalationRef(ApiModel):
    id: str = Field(..., description='"pending" while the database is down (the message is spooled)')
    level: Literal[ESCALATING_LEVELS]  # type: ignore[valid-type]


class TurnOut(ApiModel):
    replies: list[Reply]
    topic: str | None = Field(..., description="an id from topics.yml; null: a clarifying question, or not known")
    escalation: EscalationRef | None = Field(..., description="the escalation this message opened or raised")


class TranscriptMessage(ApiModel):
    id: str
    author: str
    text: str
    buttons: list[Button]
    created_at: str
    photos: int = Field(0, description="photos the patient sent with this message (staff see them in the inbox)")


class Transcript(ApiModel):
    messages: list[TranscriptMessage]
    staff_takeover: bool


class WidgetConfig(ApiModel):
    clinic_name: str
    clinic_phone: str
    clinic_phone_display: str = Field("", description="the clinic's phone as a US patient writes it, e.g. (201) 555-0199")
    color: str
    greeting: str
    language: Literal["en", "es"] = Field(description="the language of the greeting (and of the widget's own texts)")


# A web chat session id is a bearer secret for the transcript: it stops working after this many idle
# days (the widget then opens a new session by itself; staff keep the whole conversation).
CHAT_SESSION_IDLE_DAYS = 30


def _conversation(session, session_id: str, now: datetime) -> Conversation:
    if not session_id or len(session_id) > 128:
        raise HTTPException(status_code=404, detail="unknown chat session")
    conv = session.execute(select(Conversation).where(Conversation.session_key == session_id)).scalar_one_or_none()
    if conv is None:
        raise HTTPException(status_code=404, detail="unknown chat session")
    last = conv.last_message_at or conv.created_at
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        if now - last > timedelta(days=CHAT_SESSION_IDLE_DAYS):
            raise HTTPException(status_code=404, detail="chat session expired")
    return conv


def _too_many(detail: str) -> HTTPException:
    return HTTPException(status_code=429, detail=detail, headers={"Retry-After": str(RETRY_AFTER_S)})


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionCreated,
    operation_id="create_chat_session",
    responses={
        201: {
            "description": "Created",
            "links": {
                "SendMessage": link("post_chat_message", session_id="$response.body#/session_id"),
                "ReadTranscript": link("list_chat_messages", session_id="$response.body#/session_id"),
            },
        },
        **responses(
            *JSON_BODY_ERRORS, 404, 429, 503, d404="unknown or expired chat token", d429="too many new sessions from this address"
        ),
    },
)
def create_session(request: Request, container: ContainerDep, body: SessionIn | None = None) -> dict:
    body = body or SessionIn()
    key = client_key(container.settings.secret_key, request.client.host if request.client else None)
    with session_scope(container.session_factory) as s:
        if _recent_sessions(s, key, container.clock.now()) >= container.chat_sessions_per_hour:
            raise _too_many("too many new chat sessions from this address; please wait a while or call the clinic")
        patient_id = None
        preferred = None
        if body.chat_token:
            patient, expired = patient_service.patient_of_chat_link(s, body.chat_token, container.clock.now())
            if patient is None:
                raise HTTPException(status_code=404, detail="unknown chat token")
            if expired:
                raise HTTPException(status_code=404, detail="chat link expired; ask the clinic for a new one")
            patient_id = patient.id
            preferred = patient.language
        conv = Conversation(
            channel=WEB_CHANNEL,
            patient_id=patient_id,
            session_key=secrets.token_urlsafe(24),
            client_key=key,
            language=preferred or language.normalise(body.language),
        )
        s.add(conv)
        s.flush()
        return {"session_id": conv.session_key}


@router.post(
    "/sessions/{session_id}/messages",
    response_model=TurnOut,
    operation_id="post_chat_message",
    responses=responses(*JSON_BODY_ERRORS, 404, 429, d404="unknown or expired chat session"),
)
async def post_message(
    session_id: str,
    body: MessageIn,
    container: ContainerDep,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        regex=IDEMPOTENCY_KEY_PATTERN,
        description=(
            "Optional. A client's own id for this message (e.g. a UUID), sent again when it retries: a message "
            "already received under the same key in this session is not stored or answered twice; the answer "
            "it got is returned. The same key with a different text is 422."
        ),
    ),
) -> dict:
    text = clean_text(body.text).strip()
    if not text:
        raise HTTPException(status_code=422, detail="text must not be empty")
    if len(text) > MAX_TEXT:
        raise HTTPException(status_code=422, detail=f"text must be at most {MAX_TEXT} characters")
    service = container.conversations

    def store() -> str:
        with session_scope(container.session_factory) as s:
            conv = _conversation(s, session_id, container.clock.now())
            if _flooding(s, conv, container):
                # a flood: ordinary messages wait, but a red flag is never rate-limited out of its escalation
                if not service.screener.screen(text, None).escalates:
                    raise _too_many("too many messages; please wait a moment and send it again")
                log.warning("chat session over its message rate sent a red flag: processed anyway")
            external_id = _idempotency_id(session_id, idempotency_key) if idempotency_key else None
            msg, created = service.receive(s, conversation=conv, text=text, external_id=external_id)
            if not created and msg.text != text:
                raise HTTPException(status_code=422, detail="this Idempotency-Key was used for a different message")
            return msg.id

    try:
        message_id = await asyncio.to_thread(store)
    except Exception as exc:  # the database is down, or refused the row: never lose the message
        if isinstance(exc, HTTPException):
            raise
        log.error("storing a web chat message failed (%s); screening without the database and spooling it", type(exc).__name__)
        result = service.screen_without_database(
            channel=WEB_CHANNEL, conversation_id=None, text=text, extra={"session_key": session_id}
        )
        return {"replies": [r.as_dict() for r in result.replies], "topic": result.topic, "escalation": result.escalation}
    result = await service.process(message_id)
    return {
        "replies": [r.as_dict() for r in result.replies],
        "topic": result.topic,
        "escalation": result.escalation,
    }


@router.post(
    "/sessions/{session_id}/photos",
    response_model=TurnOut,
    operation_id="post_chat_photo",
    responses=responses(
        400,
        404,
        413,
        415,
        422,
        429,
        503,
        d400="The body is not valid multipart/form-data",
        d404="unknown or expired chat session",
        d413="photo over 5 MB",
        d415="not a photo (JPEG, PNG, GIF, WebP or HEIC)",
    ),
)
async def post_photo(
    session_id: str,
    container: ContainerDep,
    photo: UploadFile = File(..., description="JPEG, PNG, GIF, WebP or HEIC, at most 5 MB"),
    caption: str = Form("", max_length=MAX_TEXT),
) -> dict:
    """A photo from the patient (e.g. when the nurse asks for one). The assistant cannot look at it:
    it goes to staff (shown in the inbox) with a routine hand-off, and the caption is screened and
    answered like any message, so a red flag in it escalates as it would in text."""
    data = await photo.read(media_service.MAX_BYTES + 1)
    if len(data) > media_service.MAX_BYTES:
        raise HTTPException(status_code=413, detail=f"photo too large (at most {media_service.MAX_BYTES // (1024 * 1024)} MB)")
    kind = media_service.looks_like_an_image(data)
    if kind is None:
        raise HTTPException(status_code=415, detail="not a photo: send a JPEG, PNG, GIF, WebP or HEIC image")
    caption = clean_text(caption).strip()
    service = container.conversations

    def store():
        with session_scope(container.session_factory) as s:
            conv = _conversation(s, session_id, container.clock.now())
            if _flooding(s, conv, container):
                if not (caption and service.screener.screen(caption, None).escalates):
                    raise _too_many("too many messages; please wait a moment and send it again")
                log.warning("chat session over its message rate sent a red flag with a photo: processed anyway")
            return photos.receive_photo(service, s, conversation=conv, caption=caption, data=data, content_type=kind)

    try:
        receipt = await asyncio.to_thread(store)
    except Exception as exc:  # the database is down: the photo cannot be kept, but its caption is never lost
        if isinstance(exc, HTTPException) or not caption:
            raise
        log.error("storing a web chat photo failed (%s); screening its caption without the database", type(exc).__name__)
        result = service.screen_without_database(
            channel=WEB_CHANNEL, conversation_id=None, text=caption, extra={"session_key": session_id}
        )
        replies = [r.as_dict() for r in result.replies] + [{"text": photos.photo_not_saved(caption), "buttons": []}]
        return {"replies": replies, "topic": result.topic, "escalation": result.escalation}
    replies = [{"text": receipt.note, "buttons": []}]
    escalation = receipt.escalation
    topic = None
    if receipt.needs_turn:
        result = await service.process(receipt.message_id)
        replies += [r.as_dict() for r in result.replies]
        escalation = result.escalation or escalation
        topic = result.topic
    return {"replies": replies, "topic": topic, "escalation": escalation}


def _idempotency_id(session_id: str, key: str) -> str:
    """The stored message's external id for a client's key: scoped to the session (a key another
    session used names a different message) and of a fixed length."""
    return "idem:" + hashlib.sha256(f"{session_id}\n{key}".encode()).hexdigest()[:48]


def _flooding(s, conv: Conversation, container: Container) -> bool:
    """Over the session's or the client address's message rate (api/limits.py)."""
    now = container.clock.now()
    return (
        _recent_messages(s, conv.id, now) >= container.chat_messages_per_minute
        or _recent_client_messages(s, conv.client_key, now) >= container.chat_client_messages_per_minute
    )


def _recent_messages(s, conversation_id: str, now: datetime) -> int:
    return s.execute(
        select(func.count(Message.id)).where(
            Message.conversation_id == conversation_id,
            Message.direction == "in",
            Message.created_at >= now - timedelta(seconds=60),
        )
    ).scalar_one()


def _recent_sessions(s, key: str, now: datetime) -> int:
    return s.execute(
        select(func.count(Conversation.id)).where(
            Conversation.client_key == key, Conversation.created_at >= now - timedelta(hours=1)
        )
    ).scalar_one()


def _recent_client_messages(s, key: str | None, now: datetime) -> int:
    """Messages of the last minute over every session this client address opened."""
    if key is None:
        return 0
    return s.execute(
        select(func.count(Message.id))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.client_key == key,
            Message.direction == "in",
            Message.created_at >= now - timedelta(seconds=60),
        )
    ).scalar_one()


@router.get(
    "/sessions/{session_id}/messages",
    response_model=Transcript,
    operation_id="list_chat_messages",
    responses=responses(404, 422, 503, d404="unknown or expired chat session"),
)
def list_messages(session_id: str, container: ContainerDep, after: str | None = Query(None, max_length=64)) -> dict:
    """The transcript for the widget (history after reload; polling for staff replies)."""
    with session_scope(container.session_factory) as s:
        conv = _conversation(s, session_id, container.clock.now())
        q = select(Message).where(Message.conversation_id == conv.id).order_by(Message.created_at, Message.id)
        rows = list(s.execute(q).scalars())
        if after:
            ids = [m.id for m in rows]
            if after in ids:
                rows = rows[ids.index(after) + 1 :]
        photos = media_service.counts(s, [m.id for m in rows if m.direction == "in"])
        return {
            "messages": [
                {
                    "id": m.id,
                    "author": m.author,
                    "text": m.text,
                    "buttons": m.buttons or [],
                    "created_at": m.created_at.isoformat(),
                    "photos": photos.get(m.id, 0),
                }
                for m in rows
            ],
            "staff_takeover": bool(conv.staff_takeover),
        }


@router.get("/config", response_model=WidgetConfig, operation_id="widget_config", responses=responses(422, 503))
def widget_config(
    container: ContainerDep,
    lang: str | None = Query(None, max_length=35, description="the browser's language, e.g. es-US"),
) -> dict:
    spoken = language.normalise(lang) or language.ENGLISH
    with session_scope(container.session_factory) as s:
        c = get_clinic(s)
        # the clinic's own greeting is written in one language (settings): English, or our Spanish one
        custom = c.widget_greeting if spoken == language.ENGLISH else ""
        return {
            "clinic_name": c.name,
            "clinic_phone": c.phone,
            "clinic_phone_display": phones.display(c.phone) if c.phone else "",
            "color": c.widget_color,
            "greeting": custom or content.default().text("webchat", "widget_greeting", clinic_name=c.name, language=spoken),
            "language": spoken,
        }
