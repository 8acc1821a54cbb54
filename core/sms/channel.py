"""The inbound SMS flow: :class:`SmsChannel` stores an inbound SMS once per MessageSid and decides
what happens next (a keyword, photos, an empty message, or a turn of the conversation service);
the web adapter (api/routes/twilio_sms.py) answers Twilio at once and runs :meth:`SmsChannel.handle`
in the background."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import Session, sessionmaker

from core import escalations as esc_service
from core import media, outbox, paging
from core.clinic import clinic_today, get_clinic
from core.conversations import ConversationService
from core.db import now_of, session_scope
from core.enums import Channel
from core.models import Conversation, Message, Patient
from core.outcomes import apply_screen, hand_photos_to_staff
from core.patients import E164, by_phone
from core.recovery import recovery_for_conversation
from core.screening import Screener
from core.sms.keywords import (
    KEYWORD_PURPOSE,
    START,
    STOP,
    _opted_out,
    empty_prompt,
    help_text,
    is_opted_out,
    keyword_language,
    keyword_of,
    photo_note,
    set_opt_out,
    start_text,
    stop_text,
)
from core.turn_lock import conversation_of, waiting_before

log = logging.getLogger("aftercare.sms")

SMS_CHANNEL = Channel.SMS.value
MAX_PROCESS_CHARS = 2000  # what the assistant sees of a very long SMS (the full text is stored)
MAX_MEDIA = 10  # Twilio sends at most 10 media per MMS
# A number sending more than this many texts in a minute stops getting automatic replies for the
# rest of that minute (each reply costs the clinic segments and an assistant turn). Its messages are
# still stored, screened and handed to staff; a red flag is answered and escalated as always.
SMS_MESSAGES_PER_MINUTE = 10

# Why a stored message gets the screen but no assistant and no reply: the suffix added to a red
# flag's reason, and the reason of the routine hand-off otherwise (staff read both).
SCREEN_ONLY = {
    "opted_out": (
        " (patient has opted out of texts: call them)",
        "message from a number that opted out of texts (STOP); no automatic reply was sent",
    ),
    "no_reply": (
        " (the sender is not a phone number: no reply can be sent)",
        "message from a sender that is not a phone number (a short code or a name); no reply can be sent",
    ),
    "flood": (
        "",
        "this number sent more texts in a minute than the assistant answers; automatic replies paused, read them here",
    ),
}


def can_reply_to(phone: str | None) -> bool:
    """Only a phone number can be texted back: a short code or a sender name ("CARRIER-INFO") cannot."""
    return bool(phone and E164.match(phone))


# ------------------------------------------------------------------ inbound flow
@dataclass
class InboundSms:
    """Twilio's webhook fields we use."""

    message_sid: str
    from_phone: str
    body: str = ""
    to_phone: str = ""
    media_urls: list[str] = field(default_factory=list)
    opt_out_type: str | None = None  # Twilio Advanced Opt-Out: STOP | START | HELP


@dataclass
class Stored:
    message_id: str
    conversation_id: str
    created: bool  # False: this MessageSid was already stored (a Twilio retry)
    needs_turn: bool  # True: run SmsChannel.handle(message_id) in the background
    queued_replies: int = 0  # outbox rows added right away (keyword replies, prompts)
    keyword: str | None = None


def _language(conv: Conversation, patient: Patient | None) -> str:
    """The language of the conversation so far, else the patient's preferred one, else English."""
    return conv.language or (patient.language if patient is not None else None) or "en"


def _latest_conversation(session: Session, phone: str) -> Conversation | None:
    return session.execute(
        select(Conversation)
        .where(Conversation.channel == SMS_CHANNEL, Conversation.phone == phone)
        .order_by(Conversation.last_message_at.desc(), Conversation.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _existing(session: Session, sid: str) -> Message | None:
    return session.execute(select(Message).where(Message.channel == SMS_CHANNEL, Message.external_id == sid)).scalar_one_or_none()


def _serialize_per_phone(session: Session, phone: str) -> None:
    """One store at a time per number (check-then-insert of the conversation and the MessageSid).

    PostgreSQL: a transaction-scoped advisory lock on the number. SQLite: take the database's
    write lock first (a write that changes nothing), which SQLite holds to the commit anyway.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"aftercare-sms:{phone}"})
    elif dialect == "sqlite":
        session.execute(sql_text("UPDATE sms_opt_outs SET phone = phone WHERE 1 = 0"))


class SmsChannel:
    """Inbound SMS: store once, keywords first, then the conversation service (in the background)."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker,
        conversations: ConversationService,
        clock: Any,
        processing_lease_s: float = 60.0,
        screener: Screener | None = None,
        messages_per_minute: int = SMS_MESSAGES_PER_MINUTE,
    ) -> None:
        self.screener = screener or Screener()
        self.messages_per_minute = messages_per_minute
        self.session_factory = session_factory
        self.conversations = conversations
        self.clock = clock
        self.processing_lease_s = processing_lease_s
        bind = session_factory.kw.get("bind")
        self._sqlite = bool(bind is not None and bind.dialect.name == "sqlite")
        self._sqlite_lock = threading.Lock()

    # -------------------------------------------------------------- store (in the webhook request)
    def store(self, inbound: InboundSms) -> Stored:
        """Store the message durably (once per MessageSid) and do everything that needs no assistant."""
        if self._sqlite:
            # SQLite has one writer: queue our own stores on a lock rather than have each of them
            # poll SQLite's busy handler (which sleeps up to 100 ms per try and is not fair)
            with self._sqlite_lock:
                return self._store(inbound)
        return self._store(inbound)

    def _store(self, inbound: InboundSms) -> Stored:
        phone = inbound.from_phone
        with session_scope(self.session_factory) as s:
            dup = _existing(s, inbound.message_sid)  # a Twilio retry: answered without taking any lock
            if dup is not None:
                return Stored(dup.id, dup.conversation_id, created=False, needs_turn=False)
            _serialize_per_phone(s, phone)  # receive() below checks the MessageSid again, under the lock
            if paging.is_oncall_number(s, phone):
                # the clinic's on-call phone answering a page: never the patient assistant
                return self._oncall(s, inbound)
            patient = by_phone(s, phone)
            conv = _latest_conversation(s, phone)
            new_conv = conv is None
            if conv is None:
                conv = Conversation(
                    channel=SMS_CHANNEL,
                    phone=phone,
                    patient_id=patient.id if patient else None,
                    language=patient.language if patient else None,
                )
                s.add(conv)
                s.flush()
            elif conv.patient_id is None and patient is not None:
                conv.patient_id = patient.id  # registered after texting us
            try:
                # an outer savepoint: a concurrent copy of this MessageSid (PostgreSQL) must not
                # poison the whole transaction, whatever receive() does inside
                with s.begin_nested():
                    msg, created = self.conversations.receive(
                        s,
                        conversation=conv,
                        text=inbound.body,
                        external_id=inbound.message_sid,
                        media_urls=inbound.media_urls or None,
                    )
            except (IntegrityError, InvalidRequestError):  # PendingRollbackError is one
                msg, created = _existing(s, inbound.message_sid), False
                if msg is None:
                    raise
            if not created:
                if new_conv:
                    s.delete(conv)  # lost a race with the same MessageSid: leave no empty conversation
                return Stored(msg.id, msg.conversation_id, created=False, needs_turn=False)
            opted_out = _opted_out(s, phone, patient)
            keyword = keyword_of(inbound.body, opt_out_type=inbound.opt_out_type, opted_out=opted_out)
            if keyword is not None and not inbound.media_urls:
                queued = self._keyword(s, conv, msg, keyword, advanced=bool(inbound.opt_out_type))
                return Stored(msg.id, conv.id, created=True, needs_turn=False, queued_replies=queued, keyword=keyword)
            queued = 0
            text = (inbound.body or "").strip()
            if inbound.media_urls:
                media.register(s, msg)  # fetched in the background, shown to staff in the inbox
                queued += self._photos(s, conv, msg, text, opted_out, _language(conv, patient))
            if not text:
                if not inbound.media_urls and not self._flooding(s, phone, msg):
                    queued += self._reply(s, conv, msg, [empty_prompt(_language(conv, patient))], opted_out=opted_out)
                msg.status = "answered"
                msg.processed_at = now_of(s)
                return Stored(msg.id, conv.id, created=True, needs_turn=False, queued_replies=queued)
            return Stored(msg.id, conv.id, created=True, needs_turn=True, queued_replies=queued)

    def _oncall(self, s: Session, inbound: InboundSms) -> Stored:
        if paging.already_handled(s, inbound.message_sid):
            return Stored("", "", created=False, needs_turn=False)
        reply = paging.handle_oncall_sms(
            s,
            phone=inbound.from_phone,
            body=inbound.body or "",
            message_sid=inbound.message_sid,
            public_url=self.conversations.public_url,
        )
        outbox.enqueue(s, to=inbound.from_phone, body=reply, purpose=paging.ACK_PURPOSE)
        return Stored("", "", created=True, needs_turn=False, queued_replies=1)

    # -------------------------------------------------------------- replay (after a database outage)
    def replay_spooled(self, record: dict[str, Any]) -> bool:
        """Apply a spooled SMS that is a consent keyword (STOP / START / HELP) as if it had just arrived.

        During an outage the webhook spools every message; the conversation service's replay stores
        it and hands it to staff. A keyword must instead change the number's consent (and get its one
        confirmation, unless Twilio's Advanced Opt-Out already sent it). Returns False for anything
        else, which the caller replays the usual way.
        """
        phone, sid = record.get("phone"), record.get("external_id")
        if record.get("channel") != SMS_CHANNEL or record.get("media_urls") or not phone or not sid:
            return False
        with session_scope(self.session_factory) as s:
            opted_out = is_opted_out(s, phone)
        if keyword_of(record.get("text"), opt_out_type=record.get("opt_out_type"), opted_out=opted_out) is None:
            return False
        self.store(
            InboundSms(message_sid=sid, from_phone=phone, body=record.get("text") or "", opt_out_type=record.get("opt_out_type"))
        )
        return True

    def _keyword(self, s: Session, conv: Conversation, msg: Message, keyword: str, *, advanced: bool) -> int:
        clinic = get_clinic(s)
        phone = conv.phone or ""
        word = re.sub(r"[^A-Za-z]", "", msg.text or "").upper()[:32] or keyword.upper()
        source = "twilio_opt_out" if advanced else "keyword"
        language = keyword_language(msg.text)
        if keyword == STOP:
            set_opt_out(s, phone, opted_out=True, keyword=word, source=source)
            text = stop_text(clinic.name, clinic.phone, language)
        elif keyword == START:
            set_opt_out(s, phone, opted_out=False, keyword=word, source=source)
            text = start_text(clinic.name, language)
        else:
            text = help_text(clinic.name, clinic.phone, language)
        msg.status = "answered"
        msg.processed_at = now_of(s)
        msg.intent = f"sms_{keyword}"
        if advanced:
            return 0  # Twilio Advanced Opt-Out already answered the keyword: never a second reply
        # keyword confirmations are the one reply an opted-out number may still get (CTIA); the dispatcher allows them
        return self._reply(s, conv, msg, [text], opted_out=False, purpose=KEYWORD_PURPOSE, author="system")

    def _photos(self, s: Session, conv: Conversation, msg: Message, text: str, opted_out: bool, language: str) -> int:
        """Photos go to staff: a routine escalation unless the text's own red flag already escalates."""
        day = recovery_for_conversation(s, conv.id, clinic_today(s, self.clock)).day
        hand_photos_to_staff(
            s,
            conversation_id=conv.id,
            message_id=msg.id,
            count=len(msg.media_urls or []),
            via="by SMS",
            caption_escalates=bool(text) and self.screener.screen(text, day).escalates,
            day=day,
        )
        return self._reply(s, conv, msg, [photo_note(language)], opted_out=opted_out)

    def _reply(
        self,
        s: Session,
        conv: Conversation,
        inbound: Message,
        texts: list[str],
        *,
        opted_out: bool,
        purpose: str = "reply",
        author: str = "bot",
    ) -> int:
        """Store outbound messages in the transcript and queue them in the outbox (none to an opted-out
        number, nor to a sender that is not a phone number)."""
        if opted_out or not can_reply_to(conv.phone):
            return 0
        queued = 0
        for t in texts:
            out = Message(
                conversation_id=conv.id,
                direction="out",
                author=author,
                channel=SMS_CHANNEL,
                text=t,
                status="queued",
                reply_to_id=inbound.id,
            )
            s.add(out)
            s.flush()
            outbox.enqueue(s, to=conv.phone, body=t, purpose=purpose, conversation_id=conv.id, message_id=out.id)
            queued += 1
        conv.last_message_at = now_of(s)
        return queued

    # -------------------------------------------------------------- the turn (in the background)
    def claim(self, message_id: str, *, allow_stale: bool = False) -> str | None:
        """Take a stored message for processing, once: "received" -> "processing" (compare-and-set).

        With ``allow_stale`` a message left in "processing" longer than the lease (a crash
        mid-turn) is taken too. Returns what to do: "turn", or a key of :data:`SCREEN_ONLY` (the
        screen and a hand-off, no assistant, no reply), or None (someone else has it / done).
        """
        with session_scope(self.session_factory) as s:
            res = s.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == "received")
                .values(status="processing")
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:
                msg = s.get(Message, message_id)
                if msg is None or msg.status != "processing" or not allow_stale:
                    return None
            msg = s.get(Message, message_id)
            conv = s.get(Conversation, msg.conversation_id)
            if not can_reply_to(conv.phone):
                return "no_reply"
            if is_opted_out(s, conv.phone):
                return "opted_out"
            if self._flooding(s, conv.phone, msg):
                # never rate-limit a red flag out of its reply and escalation
                day = recovery_for_conversation(s, conv.id, clinic_today(s, self.clock)).day
                if not self.screener.screen(msg.text or "", day).escalates:
                    return "flood"
                log.warning("a number over its SMS rate sent a red flag: answered anyway")
            return "turn"

    def _flooding(self, s: Session, phone: str, msg: Message) -> bool:
        """More than ``messages_per_minute`` texts from this number in the minute up to ``msg`` (counted
        in the database: every replica agrees, and a replay of the same message decides the same)."""
        at = msg.created_at
        since = at - timedelta(seconds=60)
        count = s.execute(
            select(func.count(Message.id))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.channel == SMS_CHANNEL,
                Conversation.phone == phone,
                Message.direction == "in",
                Message.created_at > since,
                Message.created_at <= at,
            )
        ).scalar_one()
        return count > self.messages_per_minute

    async def handle(self, message_id: str, *, allow_stale: bool = False) -> str | None:
        """Answer one stored inbound SMS (idempotent; safe to call from the webhook task and the recovery sweep).

        Under the conversation's turn lock (one turn at a time, whichever replica got the webhook);
        the conversation's earlier texts still waiting are answered first, in the order sent."""
        service = self.conversations
        try:
            conversation_id = await asyncio.to_thread(conversation_of, self.session_factory, message_id)
        except LookupError:
            return None
        async with service.turn_locks.hold(conversation_id):
            for earlier in await asyncio.to_thread(waiting_before, self.session_factory, message_id):
                # one left "processing" is a dead replica's (every turn holds this lock): take it again
                await self._handle_held(earlier, allow_stale=True)
            return await self._handle_held(message_id, allow_stale=allow_stale)

    async def _handle_held(self, message_id: str, *, allow_stale: bool) -> str | None:
        kind = await asyncio.to_thread(self.claim, message_id, allow_stale=allow_stale)
        if kind is None:
            return None
        if kind in SCREEN_ONLY:
            await asyncio.to_thread(self._screen_only, message_id, kind)
        else:
            await self.conversations.process_held(message_id)
        return kind

    def _screen_only(self, message_id: str, why: str = "opted_out") -> None:
        """No assistant and no reply (an opted-out number, a sender that is not a phone, a flood):
        a red flag still escalates (and alerts on-call), anything else is handed to staff."""
        suffix, reason = SCREEN_ONLY[why]
        with session_scope(self.session_factory) as s:
            msg = s.get(Message, message_id)
            conv = s.get(Conversation, msg.conversation_id)
            day = recovery_for_conversation(s, conv.id, clinic_today(s, self.clock)).day
            triage = self.screener.screen(msg.text or "", day)
            change = apply_screen(
                s,
                triage,
                conversation_id=conv.id,
                message_id=msg.id,
                day=day,
                public_url=self.conversations.public_url,
                reason_suffix=suffix,
            )
            if change is not None:
                msg.topic = "symptom_report"
            else:
                esc_service.record(
                    s,
                    conversation_id=conv.id,
                    level="routine",
                    reason=reason,
                    recovery_day=day,
                    message_id=msg.id,
                )
            msg.status = "answered"
            msg.processed_at = now_of(s)

    def unfinished(self, *, now: datetime | None = None, limit: int = 200) -> list[tuple[str, str, bool]]:
        """Inbound SMS stored but not answered: ("received"), or stuck in "processing" past the lease.

        Returns (message_id, conversation_id, allow_stale), oldest first.
        """
        now = now or self.clock.now()
        with session_scope(self.session_factory) as s:
            rows = s.execute(
                select(Message.id, Message.conversation_id, Message.status, Message.created_at)
                .where(Message.channel == SMS_CHANNEL, Message.direction == "in", Message.status.in_(("received", "processing")))
                .order_by(Message.created_at)
                .limit(limit)
            ).all()
        out: list[tuple[str, str, bool]] = []
        for mid, conv_id, status, created_at in rows:
            if status == "received":
                out.append((mid, conv_id, False))
                continue
            created = created_at if created_at.tzinfo else created_at.replace(tzinfo=now.tzinfo)
            if (now - created).total_seconds() >= self.processing_lease_s:
                out.append((mid, conv_id, True))
        return out
