"""When the database is down: screen anyway, answer safely, page at once, spool for replay.

The conversation service (core.conversations) delegates here; these are its database-outage
paths: :func:`screen_without_database` (a message arrives and cannot be stored) and
:func:`replay_spooled` (the database is back: store it and its escalation, page only if the
outage page did not go out).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core import content, media
from core import escalations as esc_service
from core.db import now_of, session_scope
from core.enums import ESCALATING_LEVELS, Channel
from core.inbound import clean_text
from core.models import Conversation, Patient
from core.outcomes import escalate, findings_payload, outage_page_text, screen_reply
from core.triage import Level, reason_text, reply_language

if TYPE_CHECKING:
    from core.conversations import ConversationService, TurnResult

SMS_CHANNEL, WEB_CHANNEL = Channel.SMS.value, Channel.WEB.value

log = logging.getLogger("aftercare.conversations")


def screen_without_database(
    service: ConversationService, *, channel: str, conversation_id: str | None, text: str, extra: dict[str, Any] | None = None
) -> TurnResult:
    """The database is unreachable: screen anyway, answer safely, spool the message for replay."""
    from core.conversations import Reply, TurnResult, holding_reply  # the service's own types (it imports us)

    text = clean_text(text)
    triage = service.screener.screen(text, None)
    record = {
        "channel": channel,
        "conversation_id": conversation_id,
        "text": text,
        "received_at": service.clock.now().isoformat(),
        "level": triage.level.value,
        "reason": reason_text(triage, None) if triage.level != Level.NONE else "",
        "findings": findings_payload(triage),
        **(extra or {}),
    }
    if triage.level.rank >= Level.URGENT.rank:
        record["paged"] = _page_without_database(service, triage.level.value)
    if service.spool is not None:
        service.spool.append(record)
    if triage.level.rank >= Level.ROUTINE.rank:
        text_out = screen_reply(triage, clinic_name="", clinic_phone="", text=text)
    else:
        # no conversation to read a language from: the message's own (the safety reply does the same)
        with content.speaking(reply_language(triage, text)):
            text_out = holding_reply("")
    ref = {"id": "pending", "level": triage.level.value} if triage.level.rank >= Level.ROUTINE.rank else None
    return TurnResult(None, conversation_id or "", [Reply(text_out)], "symptom_report" if ref else None, ref, stored=False)


def _page_without_database(service: ConversationService, level: str) -> bool:
    """Alert the on-call number straight away, not when the database is back (PagerDuty-style:
    the page must not wait on the thing that is broken). True when the sender accepted it."""
    if service.pager is None or service.last_known_oncall is None:
        log.error("database down: a %s finding could not be paged (no sender or no on-call number known yet)", level)
        return False
    phone, clinic_name = service.last_known_oncall
    body = outage_page_text(clinic_name, level)
    try:
        result = service.pager(phone, body)
    except Exception as exc:
        log.error("database down: paging on-call failed (%s)", type(exc).__name__)
        return False
    ok = bool(getattr(result, "ok", True))
    if not ok:
        log.error("database down: paging on-call was refused by the SMS provider")
    return ok


def replay_spooled(service: ConversationService, record: dict[str, Any]) -> None:
    """Store one spooled message (and its escalation) now that the database is back."""
    with session_scope(service.session_factory) as s:
        conv = s.get(Conversation, record.get("conversation_id") or "") if record.get("conversation_id") else None
        channel = record.get("channel") or WEB_CHANNEL
        if conv is None and record.get("session_key"):
            conv = s.execute(select(Conversation).where(Conversation.session_key == record["session_key"])).scalar_one_or_none()
        if conv is None and channel == SMS_CHANNEL and record.get("phone"):
            conv = s.execute(
                select(Conversation)
                .where(Conversation.channel == SMS_CHANNEL, Conversation.phone == record["phone"])
                .order_by(Conversation.last_message_at.desc())
                .limit(1)
            ).scalar_one_or_none()
        if conv is None:
            patient = None
            if record.get("phone"):
                patient = s.execute(select(Patient).where(Patient.phone == record["phone"])).scalar_one_or_none()
            conv = Conversation(channel=channel, phone=record.get("phone"), patient_id=patient.id if patient else None)
            s.add(conv)
            s.flush()
        msg, created = service.receive(
            s,
            conversation=conv,
            text=record.get("text", ""),
            external_id=record.get("external_id"),
            media_urls=record.get("media_urls"),
        )
        if not created:
            return
        if msg.media_urls:
            media.register(s, msg)
        msg.status = "answered"
        msg.processed_at = now_of(s)
        if record.get("level") in ESCALATING_LEVELS:
            escalate(
                s,
                conversation_id=conv.id,
                level=record["level"],
                reason=record.get("reason") or "red flag received while the database was down",
                findings=record.get("findings") or [],
                message_id=msg.id,
                public_url=service.public_url,
                page=not record.get("paged"),  # paged already while the database was down
            )
        else:
            esc_service.record(
                s,
                conversation_id=conv.id,
                level="routine",
                reason="message received while the service was degraded; needs a person",
                message_id=msg.id,
            )
