"""The conversation service: one patient message in, the replies out.

For every inbound message, from any channel:
  1. the red-flag screen (core.triage) runs first and opens/raises an escalation;
  2. a conversation taken over by staff stays silent (except the call-911 reply);
  3. otherwise the assistant (Rasa, behind the Assistant port) answers;
  4. replies are stored, and SMS replies go to the outbox.
The emergency reply never waits on the assistant; a failing assistant gives a
holding reply and the message still reaches staff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core import content, outage, outbox
from core import escalations as esc_service
from core.assistant_contract import AWAIT_DATE, apply_requests, turn_context
from core.clinic import clinic_today, get_clinic
from core.dates import extract_dates, parse_treatment_date
from core.db import now_of, session_scope
from core.enums import Channel
from core.inbound import clean_text
from core.language import decide as decide_language
from core.models import Conversation, Escalation, Message, Patient
from core.outcomes import apply_screen, screen_reply
from core.phones import display, find_in_text
from core.ports import Assistant, AssistantReply, AssistantUnavailable, Clock
from core.recovery import recovery_for_conversation
from core.screening import Screener
from core.segments import ask_assistant
from core.spool import Spool
from core.topics import TOPIC_IDS
from core.triage import Level, TriageResult
from core.triage.replies import reply_language
from core.turn import TurnContext, embedding_key
from core.turn_lock import TurnLocks, conversation_of, waiting_before

log = logging.getLogger("aftercare.conversations")

SMS_CHANNEL = Channel.SMS.value
WEB_CHANNEL = Channel.WEB.value
MAX_TEXT = 2000


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": list(self.buttons)}


@dataclass
class TurnResult:
    message_id: str | None
    conversation_id: str
    replies: list[Reply]
    topic: str | None
    escalation: dict[str, str] | None
    stored: bool = True  # False when the database was down and the message went to the spool


@dataclass
class _Plan:
    message_id: str
    conversation_id: str
    channel: str
    text: str
    assistant_text: str | None
    day: int | None
    today: date
    takeover: bool
    opted_out: bool
    sms_to: str | None
    triage: TriageResult
    escalation_ref: dict[str, str] | None
    escalation_reply: str | None
    ask_date: bool
    clinic_name: str
    clinic_phone: str
    context: TurnContext
    extra_replies: list[str] = field(default_factory=list)  # after the escalation reply (the callback number)
    skip_assistant: bool = False  # the message answered our own question (a callback number)
    takeover_note: str | None = None  # staff took over: tell the patient once that a person will reply here
    language: str = "en"  # what this turn is answered in (core/language.py)


# The words are in content/en/conversation.yml.
say = content.Area(
    "conversation",
    (
        "ask_treatment_date",
        "holding_reply",
        "ask_callback_number",
        "callback_number_saved",
        "team_will_reply",
        "photo_received",
        "photo_not_saved",
        "language_switched",
    ),
)
AWAIT_CALLBACK = "callback_phone"  # Conversation.awaiting while we wait for a callback number


def _ask_date_text() -> str:
    return say("ask_treatment_date")


def holding_reply(clinic_phone: str) -> str:
    return say("holding_reply", case="phone" if clinic_phone else None, clinic_phone=display(clinic_phone))


def _reachable(conv: Conversation, patient: Patient | None) -> bool:
    """Whether staff have a number to call this patient back on."""
    return bool((patient is not None and patient.phone) or conv.phone or conv.callback_phone)


class ConversationService:
    def __init__(
        self,
        *,
        session_factory: sessionmaker,
        assistant: Assistant,
        clock: Clock,
        spool: Spool | None = None,
        assistant_timeout_s: float = 8.0,
        public_url: str = "",
        screener: Screener | None = None,
        turn_locks: TurnLocks | None = None,
    ) -> None:
        self.session_factory = session_factory
        # one turn at a time per conversation, across replicas on PostgreSQL (core/turn_lock.py)
        self.turn_locks = turn_locks or TurnLocks()
        self.screener = screener or Screener()
        # Paging while the database is down: the SMS sender (set by the SMS channel's set-up) and the
        # clinic's on-call number and name as last read from the database.
        self.pager: Callable[[str, str], Any] | None = None
        self.last_known_oncall: tuple[str, str] | None = None  # (phone, clinic name)
        self.assistant = assistant
        self.clock = clock
        self.spool = spool
        self.assistant_timeout_s = assistant_timeout_s
        self.public_url = public_url

    # ------------------------------------------------------------------ receive
    def receive(
        self,
        session: Session,
        *,
        conversation: Conversation,
        text: str,
        external_id: str | None = None,
        media_urls: list[str] | None = None,
    ) -> tuple[Message, bool]:
        """Store an inbound message. Returns (message, created); a repeated external id is not stored twice."""
        text = clean_text(text)
        if external_id:
            existing = session.execute(
                select(Message).where(Message.channel == conversation.channel, Message.external_id == external_id)
            ).scalar_one_or_none()
            if existing is not None:
                return existing, False
        session.flush()  # earlier pending changes must not be rolled back with a duplicate's savepoint
        msg = Message(
            conversation_id=conversation.id,
            direction="in",
            author="patient",
            channel=conversation.channel,
            text=text,
            external_id=external_id,
            media_urls=media_urls or None,
            status="received",
        )
        conversation.last_message_at = now_of(session)
        try:
            with session.begin_nested():
                session.add(msg)
                session.flush()
        except IntegrityError:
            existing = session.execute(
                select(Message).where(Message.channel == conversation.channel, Message.external_id == external_id)
            ).scalar_one()
            return existing, False
        return msg, True

    # ------------------------------------------------------------------ process
    async def process(self, message_id: str) -> TurnResult:
        """Answer one stored inbound message (idempotent: an answered message is not answered again).

        Under the conversation's turn lock; the conversation's earlier messages still waiting are
        answered first, so the patient's turns are answered in the order they were sent, whichever
        request or replica got there first. (SMS turns come through core.sms.channel, which holds
        the lock itself and calls :meth:`process_held`.)"""
        conversation_id = await asyncio.to_thread(conversation_of, self.session_factory, message_id)
        async with self.turn_locks.hold(conversation_id):
            for earlier in await asyncio.to_thread(waiting_before, self.session_factory, message_id):
                await self.process_held(earlier)
            return await self.process_held(message_id)

    async def process_held(self, message_id: str) -> TurnResult:
        """:meth:`process` for a caller that holds the conversation's turn lock."""
        plan = await asyncio.to_thread(self._prepare, message_id)
        if isinstance(plan, TurnResult):
            return plan
        with content.speaking(plan.language):
            return await self._answer(plan)

    async def _answer(self, plan: _Plan) -> TurnResult:
        replies: list[Reply] = []
        topic: str | None = None
        turn = None
        assistant_failed = False
        asked_date = False
        level = plan.triage.level.value if plan.triage is not None else "none"
        if plan.escalation_reply:
            replies.append(Reply(plan.escalation_reply))
        if plan.takeover:
            # staff are talking to the patient: only the emergency reply goes out (and, once, a note
            # that a team member will answer here, so a patient writing at night is not met by silence)
            if level != "emergency":
                replies = [Reply(plan.takeover_note)] if plan.takeover_note else []
        elif level == "emergency":
            pass  # the call-911 reply never waits on the assistant
        elif plan.skip_assistant:
            pass  # the message answered our own question (a callback number)
        elif plan.assistant_text is not None:
            try:
                # a message that asks several things is asked one question at a time (core/segments.py)
                asking = ask_assistant(
                    self.assistant,
                    plan.conversation_id,
                    plan.assistant_text,
                    plan.context.to_metadata(),
                    split=not plan.escalation_reply,
                    day_unknown=plan.ask_date,
                )
                turn = await asyncio.wait_for(asking, timeout=self.assistant_timeout_s)
            except (AssistantUnavailable, asyncio.TimeoutError, OSError) as exc:
                log.warning("assistant unavailable for message %s: %s", plan.message_id, type(exc).__name__)
                assistant_failed = True
            if plan.ask_date and (turn is None or turn.intent not in TOPIC_IDS or turn.intent == "symptom_report"):
                # a symptom whose meaning depends on the day: ask for the date before reassuring
                turn, assistant_failed, asked_date = None, False, True
                replies.append(Reply(_ask_date_text()))
                topic = "symptom_report"
            elif turn is not None:
                topic = turn.topic or (turn.intent if turn.intent in TOPIC_IDS else None)
                for r in turn.replies:
                    # the screen already answered the symptom: keep the assistant's answer to a real
                    # question ("...and can I wear makeup?"), not its symptom line or a clarifying question
                    if plan.escalation_reply and (turn.intent not in TOPIC_IDS or turn.intent == "symptom_report"):
                        continue
                    replies.append(Reply(r.text, list(r.buttons)))
            elif not plan.escalation_reply:
                replies.append(Reply(holding_reply(plan.clinic_phone)))
        if not (plan.takeover and level != "emergency"):
            replies.extend(Reply(t) for t in plan.extra_replies)  # the callback question, last
        if topic is None and plan.escalation_ref is not None:
            topic = "symptom_report"
        return await asyncio.to_thread(self._finish, plan, replies, topic, turn, assistant_failed, asked_date)

    def _prepare(self, message_id: str) -> _Plan | TurnResult:
        screen = self.screener.screen
        with session_scope(self.session_factory) as s:
            msg = s.get(Message, message_id)
            if msg is None:
                raise LookupError(f"unknown message {message_id}")
            conv = s.get(Conversation, msg.conversation_id)
            if msg.status == "answered":
                return self._stored_result(s, msg)
            msg.status = "processing"
            clinic = get_clinic(s)
            if clinic.oncall_phone:
                self.last_known_oncall = (clinic.oncall_phone, clinic.name)
            today = clinic_today(s, self.clock)
            rec = recovery_for_conversation(s, conv.id, today)
            text = (msg.text or "")[:MAX_TEXT]  # the full text stays stored; the assistant reads the first 2,000 characters
            callback_saved: str | None = None
            assistant_text: str | None = text
            screen_texts = [msg.text or ""]  # the screen reads the whole message

            answered_question = bool(conv.awaiting)
            if conv.awaiting and conv.awaiting.startswith(AWAIT_DATE):
                # the answer to "when was your treatment?"
                pending_topic = conv.awaiting.split(":", 1)[1] if ":" in conv.awaiting else ""
                conv.awaiting = None
                when = parse_treatment_date(text, today)
                if when is not None:
                    conv.stated_treatment_on = when
                    rec = recovery_for_conversation(s, conv.id, today)
                    if pending_topic == "symptom_report" and conv.pending_message_id:
                        pending = s.get(Message, conv.pending_message_id)
                        if pending is not None:
                            screen_texts = [pending.text or "", text]
                            assistant_text = None
                    elif pending_topic in TOPIC_IDS:
                        assistant_text = f"/{pending_topic}"
                    else:
                        assistant_text = "/my_recovery_day"
                conv.pending_message_id = None
            elif conv.awaiting == AWAIT_CALLBACK:
                conv.awaiting = None
                given = find_in_text(text)
                if given is not None:
                    conv.callback_phone = given
                    callback_saved = given
            if rec.day is None and not answered_question:
                # "had it monday and it's still red": a treatment date stated in passing is remembered
                # (and screened with) when we know no other
                treated, _ = extract_dates(text, today)
                if treated is not None and treated <= today:
                    conv.stated_treatment_on = treated
                    rec = recovery_for_conversation(s, conv.id, today)

            patient = s.get(Patient, conv.patient_id) if conv.patient_id else None
            if callback_saved is None and not _reachable(conv, patient):
                conv.callback_phone = find_in_text(text)  # "call me at 201 555 0142, my lip is swelling"

            screened = [t for t in screen_texts if t.strip()]
            results = [screen(t, rec.day) for t in screened]
            # the screen's sentence embedding of each text, passed on so the NLU does not compute it again
            embeddings = {t: r.embedding for t, r in zip(screened, results) if r.embedding}
            triage = results[0] if results else screen("", rec.day)
            for r in results[1:]:
                if r.level.rank > triage.level.rank:
                    triage = r
                elif r.expected or r.findings:
                    triage.expected = list(dict.fromkeys([*triage.expected, *r.expected]))
            if assistant_text is None and triage.level == Level.NONE:
                # the re-screened symptom turned out to be expected healing: reassure through the assistant
                assistant_text = "/symptom_report"
                if screen_texts and screen_texts[0]:
                    assistant_text = screen_texts[0]

            escalation_ref = None
            escalation_reply = None
            change = apply_screen(s, triage, conversation_id=conv.id, message_id=msg.id, day=rec.day, public_url=self.public_url)
            extra_replies: list[str] = []
            spoken = decide_language(
                text, current=conv.language, preferred=patient.language if patient else None, model_language=triage.language
            )
            language = conv.language = spoken.language
            if spoken.only_a_request:
                extra_replies.append(say("language_switched", language=language))
            if change is not None:
                escalation_ref = {"id": change.escalation.id, "level": change.escalation.level}
                escalation_reply = screen_reply(
                    triage, clinic_name=clinic.name, clinic_phone=clinic.phone, text=text, language=language
                )
                written_in = reply_language(triage, text)
                if written_in != language:
                    # a red flag in another language than the conversation's, too short to switch it
                    # ("no respiro", "fiebre alta"): the safety reply in the words they wrote first, then ours
                    escalation_reply = (
                        screen_reply(triage, clinic_name=clinic.name, clinic_phone=clinic.phone, text=text, language=written_in)
                        + "\n\n"
                        + escalation_reply
                    )
                if not _reachable(conv, patient):
                    # never promise a call nobody can make: ask for a number
                    extra_replies.append(say("ask_callback_number", language=language))
                    conv.awaiting = AWAIT_CALLBACK
            if callback_saved is not None:
                extra_replies.append(say("callback_number_saved", language=language, phone=display(callback_saved)))

            ask_date = (
                triage.level == Level.NONE
                and triage.needs_day
                and rec.day is None
                and assistant_text is not None
                and not assistant_text.startswith("/")
            )
            context = turn_context(
                s, conv, today=today, day=rec.day, message_id=msg.id, triage=triage, text=text, language=language
            )
            if assistant_text in embeddings:
                context = replace(context, embedding=embeddings[assistant_text], embedded_text=embedding_key(assistant_text))
            return _Plan(
                message_id=msg.id,
                conversation_id=conv.id,
                channel=conv.channel,
                text=text,
                assistant_text=assistant_text,
                day=rec.day,
                today=today,
                takeover=bool(conv.staff_takeover),
                opted_out=bool(patient and patient.opted_out),
                sms_to=(patient.phone if patient and patient.phone else conv.phone),
                triage=triage,
                escalation_ref=escalation_ref,
                escalation_reply=escalation_reply,
                ask_date=ask_date,
                clinic_name=clinic.name,
                clinic_phone=clinic.phone,
                context=context,
                extra_replies=extra_replies,
                skip_assistant=callback_saved is not None or (spoken.only_a_request and change is None),
                takeover_note=self._takeover_note(s, conv, language) if conv.staff_takeover else None,
                language=language,
            )

    def _takeover_note(self, s: Session, conv: Conversation, language: str) -> str | None:
        """ "A team member will reply here", unless it is already the last thing we said."""
        note = say("team_will_reply", language=language)
        last = s.execute(
            select(Message.text)
            .where(Message.conversation_id == conv.id, Message.direction == "out")
            .order_by(Message.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if last == note else note

    def _finish(
        self, plan: _Plan, replies: list[Reply], topic: str | None, turn: Any, assistant_failed: bool, asked_date: bool
    ) -> TurnResult:
        with session_scope(self.session_factory) as s:
            msg = s.get(Message, plan.message_id)
            conv = s.get(Conversation, plan.conversation_id)
            msg.status = "answered"
            msg.processed_at = now_of(s)
            msg.topic = topic
            if turn is not None:
                msg.intent = turn.intent
                msg.confidence = f"{turn.confidence:.3f}" if turn.confidence is not None else None
            if topic:
                conv.last_topic = topic
            if asked_date:
                conv.awaiting = f"{AWAIT_DATE}:symptom_report"
                conv.pending_message_id = msg.id
            elif turn is not None and turn.requests:
                apply_requests(s, conv, turn.requests, today=plan.today, day=plan.day, message_id=msg.id)
            # `escalation` in the reply reports what the red-flag screen opened, raised or joined.
            # Hand-offs (talk to staff, booking, pricing, an assistant that could not answer) still
            # reach the inbox as routine escalations, but they are requests, not clinical findings.
            escalation_ref = plan.escalation_ref
            if assistant_failed and not plan.takeover:
                esc_service.record(
                    s,
                    conversation_id=conv.id,
                    level="routine",
                    reason="the assistant could not answer; the message needs a person",
                    recovery_day=plan.day,
                    message_id=msg.id,
                )
            after = esc_service.active_for_conversation(s, conv.id)
            if escalation_ref is not None and after is not None and after.id == escalation_ref["id"]:
                escalation_ref = {"id": after.id, "level": after.level}
            for r in replies:
                out = Message(
                    conversation_id=conv.id,
                    direction="out",
                    author="bot",
                    channel=conv.channel,
                    text=r.text,
                    buttons=r.buttons or None,
                    status="sent" if conv.channel != SMS_CHANNEL else "queued",
                    topic=topic,
                    reply_to_id=msg.id,
                )
                s.add(out)
                s.flush()
                if conv.channel == SMS_CHANNEL and plan.sms_to and not plan.opted_out:
                    outbox.enqueue(s, to=plan.sms_to, body=r.text, purpose="reply", conversation_id=conv.id, message_id=out.id)
            conv.last_message_at = now_of(s)
            return TurnResult(plan.message_id, conv.id, replies, topic, escalation_ref)

    def _stored_result(self, s: Session, msg: Message) -> TurnResult:
        """The answer already given to ``msg`` (a retried request, or a turn another request or replica took)."""
        outs = list(s.execute(select(Message).where(Message.reply_to_id == msg.id).order_by(Message.created_at)).scalars())
        opened = s.execute(select(Escalation.id, Escalation.level).where(Escalation.trigger_message_id == msg.id)).first()
        escalation = {"id": opened.id, "level": opened.level} if opened is not None else None
        return TurnResult(msg.id, msg.conversation_id, [Reply(m.text, m.buttons or []) for m in outs], msg.topic, escalation)

    # ---------------------------------------------------------- database down (core/outage.py)
    def screen_without_database(
        self, *, channel: str, conversation_id: str | None, text: str, extra: dict[str, Any] | None = None
    ) -> TurnResult:
        """The database is unreachable: screen anyway, answer safely, spool the message for replay."""
        return outage.screen_without_database(self, channel=channel, conversation_id=conversation_id, text=text, extra=extra)

    def replay_spooled(self, record: dict[str, Any]) -> None:
        """Store one spooled message (and its escalation) now that the database is back."""
        outage.replay_spooled(self, record)


def assistant_reply_dicts(replies: list[AssistantReply]) -> list[dict[str, Any]]:
    return [{"text": r.text, "buttons": r.buttons} for r in replies]
