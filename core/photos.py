"""Photos from the web chat: kept for staff, handed off, acknowledged at once (MMS photos take the
same hand-off in core/sms/channel.py). The assistant cannot look at a photo, so a person does; a
caption is screened and answered like any message, by the conversation service's turn."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import media
from core.clinic import clinic_today
from core.conversations import ConversationService, say
from core.db import now_of
from core.inbound import clean_text
from core.language import decide as decide_language
from core.models import Conversation, Message
from core.outcomes import hand_photos_to_staff
from core.recovery import recovery_for_conversation
from core.triage.language import looks_spanish


@dataclass(frozen=True)
class PhotoReceipt:
    message_id: str
    needs_turn: bool  # a caption: screen and answer it like any message (ConversationService.process)
    note: str  # "thanks for the photo, the team will reply here" (already in the transcript)
    escalation: dict[str, str] | None  # the routine hand-off, when the caption did not escalate itself


def receive_photo(
    service: ConversationService,
    session: Session,
    *,
    conversation: Conversation,
    caption: str,
    data: bytes,
    content_type: str,
) -> PhotoReceipt:
    """A photo (already checked: an image, at most media.MAX_BYTES) with an optional caption: stored
    with its message, handed to staff (a routine escalation unless the caption's own red flag
    escalates), and acknowledged. A caption still needs its turn: ``receipt.needs_turn``."""
    caption = clean_text(caption).strip()
    msg, _ = service.receive(session, conversation=conversation, text=caption)
    media.store_upload(session, msg, data=data, content_type=content_type)
    day = recovery_for_conversation(session, conversation.id, clinic_today(session, service.clock)).day
    screened = service.screener.screen(caption, day) if caption else None
    escalation = hand_photos_to_staff(
        session,
        conversation_id=conversation.id,
        message_id=msg.id,
        count=1,
        via="in the web chat",
        caption_escalates=bool(screened and screened.escalates),
        day=day,
    )
    patient = conversation.patient
    spoken = decide_language(
        caption,
        current=conversation.language,
        preferred=patient.language if patient is not None else None,
        model_language=screened.language if screened else None,
    )
    conversation.language = spoken.language
    note = say("photo_received", language=spoken.language)
    session.add(
        Message(
            conversation_id=conversation.id,
            direction="out",
            author="bot",
            channel=conversation.channel,
            text=note,
            status="sent",
            reply_to_id=msg.id,
        )
    )
    if not caption:
        msg.status = "answered"
        msg.processed_at = now_of(session)
    session.flush()
    return PhotoReceipt(
        message_id=msg.id,
        needs_turn=bool(caption),
        note=note,
        escalation={"id": escalation.id, "level": escalation.level} if escalation is not None else None,
    )


def photo_not_saved(caption: str) -> str:
    """The database was down: the caption was screened and kept, the photo was not."""
    return say("photo_not_saved", language="es" if caption and looks_spanish(caption) else "en")
