"""The SMS channel, framework-free: consent keywords, SMS text formatting, and the inbound flow.

* Keywords (STOP / START / HELP) are handled before any NLU, on the whole message only
  ("can I stop using retinol?" is a question, not an opt-out).
* Opt-out state lives per phone number (``SmsOptOut``, also for numbers that are not patients)
  and is mirrored on ``Patient.opted_out``; :func:`is_opted_out` reads both, and the outbox
  dispatcher checks it at send time, so nothing (replies, check-ins) reaches an opted-out number.
* :func:`format_sms` turns an assistant reply into plain SMS text: no markdown, GSM-7 friendly
  punctuation, split at sentence boundaries into parts of at most ``MAX_CHARS`` characters and
  ``MAX_SEGMENTS`` segments.
* :class:`SmsChannel` stores an inbound SMS once per MessageSid and decides what happens next;
  the web adapter (api/routes/twilio_sms.py) answers Twilio at once and runs :meth:`SmsChannel.handle`
  in the background.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import Session, sessionmaker

from core import content, outbox
from core import escalations as esc_service
from core.clinic import clinic_today, get_clinic
from core.conversations import ConversationService
from core.db import now_of, session_scope
from core.models import Conversation, Message, SmsOptOut
from core.outcomes import apply_screen
from core.patients import by_phone
from core.recovery import recovery_for_conversation
from core.screening import Screener

log = logging.getLogger("aftercare.sms")

SMS_CHANNEL = "sms"
MAX_CHARS = 320  # per outgoing message
MAX_SEGMENTS = 3  # per outgoing message (3 x 153 GSM-7 characters, or 3 x 67 UCS-2)
MAX_PROCESS_CHARS = 2000  # what the assistant sees of a very long SMS (the full text is stored)
MAX_MEDIA = 10  # Twilio sends at most 10 media per MMS

# ------------------------------------------------------------------ keywords
STOP = "stop"
START = "start"
HELP = "help"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# a few unambiguous phrasings people use instead of the bare keyword
STOP_PHRASES = frozenset({"STOPTEXTING", "STOPTEXTINGME", "STOPMESSAGINGME", "UNSUBSCRIBEME", "STOPALLMESSAGES"})
KEYWORD_PURPOSE = "keyword_reply"  # outbox purpose of STOP/START/HELP confirmations


def keyword_of(body: str | None, *, opt_out_type: str | None = None, opted_out: bool = False) -> str | None:
    """STOP / START / HELP for a whole-message keyword, else ``None``.

    ``opt_out_type`` is Twilio's ``OptOutType`` field (sent when Advanced Opt-Out is on); when
    present it wins. "YES" re-subscribes only a number that is opted out: otherwise it is an
    answer to a question and goes to the assistant.
    """
    kind = (opt_out_type or "").strip().upper()
    if kind in {"STOP", "START", "HELP"}:
        return kind.lower()
    text = (body or "").strip()
    if not text or len(text) > 40:
        return None
    # "Stop.", "STOP!", "opt-out", "Opt out" -> letters only, upper case
    squashed = re.sub(r"[^A-Z]", "", unicodedata.normalize("NFKD", text).upper())
    if not squashed or re.search(r"[0-9?]", text):
        return None
    if squashed in STOP_WORDS or squashed in STOP_PHRASES:
        return STOP
    if squashed in HELP_WORDS:
        return HELP
    if squashed in START_WORDS:
        if squashed == "YES" and not opted_out:
            return None
        return START
    return None


# The words are in content/en/sms.yml (carrier keyword replies follow carrier rules: see that file).
say = content.Area("sms", ("help", "stop", "start", "empty_message", "photo_received"))


def help_text(clinic_name: str, clinic_phone: str) -> str:
    return say("help", case="phone" if clinic_phone else None, clinic_name=clinic_name, clinic_phone=clinic_phone)


def stop_text(clinic_name: str, clinic_phone: str) -> str:
    return say("stop", case="phone" if clinic_phone else None, clinic_name=clinic_name, clinic_phone=clinic_phone)


def start_text(clinic_name: str) -> str:
    return say("start", clinic_name=clinic_name)


EMPTY_PROMPT = say("empty_message")
PHOTO_NOTE = say("photo_received")


# ------------------------------------------------------------------ opt-out state
def is_opted_out(session: Session, phone: str | None) -> bool:
    """True when this number must not get texts: it sent STOP (and no START since), or staff opted it out."""
    if not phone:
        return False
    row = session.get(SmsOptOut, phone)
    if row is not None and row.opted_out:
        return True
    patient = by_phone(session, phone)
    return bool(patient is not None and patient.opted_out)


def _opted_out(session: Session, phone: str, patient) -> bool:
    """:func:`is_opted_out` with the number's patient already loaded (one query fewer)."""
    if patient is not None and patient.opted_out:
        return True
    row = session.get(SmsOptOut, phone)
    return bool(row is not None and row.opted_out)


def set_opt_out(session: Session, phone: str, *, opted_out: bool, keyword: str | None = None, source: str = "keyword") -> None:
    """Record STOP (``opted_out=True``) or START for a number, and mirror it on the patient with that phone."""
    now = now_of(session)
    row = session.get(SmsOptOut, phone)
    if row is None:
        row = SmsOptOut(
            phone=phone, opted_out=opted_out, keyword=(keyword or "")[:32] or None, source=source[:24], updated_at=now
        )
        session.add(row)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same number's keyword stored concurrently
            row = session.get(SmsOptOut, phone, populate_existing=True)
    if row is not None:
        row.opted_out = opted_out
        row.keyword = (keyword or "")[:32] or None
        row.source = source[:24]
        row.updated_at = now
    patient = by_phone(session, phone)
    if patient is not None:
        patient.opted_out = opted_out
        patient.opted_out_at = now if opted_out else None
    session.flush()


# ------------------------------------------------------------------ formatting
# GSM 03.38 basic character set and its extension table (extension characters cost two septets)
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
# typographic characters an assistant likes to write, mapped to GSM-7 so a message is not
# sent as UCS-2 (70 characters per segment instead of 160) for one curly quote
GSM_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": " - ",
    "\u2015": " - ",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u25cf": "-",
    "\u25aa": "-",
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\ufeff": "",
    "\u00ad": "",
    "\u2122": "(TM)",
    "\u00ae": "(R)",
    "\u00a9": "(C)",
    "\u00b0": " degrees",
}


def gsm_friendly(text: str) -> str:
    """Replace typographic punctuation with its GSM-7 equivalent (emoji and other scripts stay)."""
    return "".join(GSM_REPLACEMENTS.get(ch, ch) for ch in text)


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def encoding_of(text: str) -> str:
    return "GSM-7" if is_gsm(text) else "UCS-2"


def segment_count(text: str) -> int:
    """How many SMS segments ``text`` costs (GSM-7: 160, or 153 per part; UCS-2: 70, or 67 per part)."""
    if not text:
        return 1
    if is_gsm(text):
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units (emoji are two)
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def fits(text: str, max_chars: int = MAX_CHARS, max_segments: int = MAX_SEGMENTS) -> bool:
    return len(text) <= max_chars and segment_count(text) <= max_segments


_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^```.*$", re.M), ""),  # code fences
    (re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)"), r"\2"),  # images -> their URL
    (re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)"), r"\1 (\2)"),  # links -> "text (url)"
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"<br\s*/?>", re.I), "\n"),
    (re.compile(r"</?(?:p|div|li|ul|ol)\b[^>]*>", re.I), "\n"),
    (re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*\b[^>]*>"), ""),  # any other HTML tag
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.M), ""),  # headings
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),  # block quotes
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^(\s*)[*+\u2022]\s+", re.M), r"\1- "),  # bullets -> "- "
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S), r"\1"),  # bold
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__", re.S), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # inline code
]


def plain_text(text: str) -> str:
    """Markdown/HTML to plain SMS text; whitespace tidied; GSM-7 friendly punctuation."""
    out = html.unescape(text or "").replace("\r\n", "\n").replace("\r", "\n")
    for pattern, repl in _MD_RULES:
        out = pattern.sub(repl, out)
    out = gsm_friendly(out)
    out = re.sub(r"[ ]{2,}", " ", out)
    out = re.sub(r"[ ]+\n", "\n", out)
    out = re.sub(r"\n[ ]+(?!- )", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*(\s+)|\n+")


def _units(text: str) -> list[tuple[str, str]]:
    """Split into (sentence, separator-after) pairs; separators are kept to rejoin naturally."""
    units: list[tuple[str, str]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        ws_start = m.start(1) if m.group(1) is not None else m.start()
        piece, ws = text[pos:ws_start], text[ws_start : m.end()]
        sep = "\n\n" if ws.count("\n") > 1 else ("\n" if "\n" in ws else " ")
        if piece.strip():
            units.append((piece.strip(), sep))
        pos = m.end()
    tail = text[pos:]
    if tail.strip():
        units.append((tail.strip(), ""))
    return units


def _split_long(sentence: str, ok: Callable[[str], bool], max_chars: int) -> list[str]:
    """A sentence that does not fit on its own: split between words (and inside a very long word)."""
    chunks: list[str] = []
    cur = ""
    for word in sentence.split(" "):
        candidate = f"{cur} {word}" if cur else word
        if ok(candidate):
            cur = candidate
            continue
        if cur:
            chunks.append(cur)
        cur = ""
        while word and not ok(word):
            cut = min(len(word), max_chars)
            while cut > 1 and not ok(word[:cut]):
                cut -= 1
            chunks.append(word[:cut])
            word = word[cut:]
        cur = word
    if cur:
        chunks.append(cur)
    return chunks


def split_sms(text: str, *, max_chars: int = MAX_CHARS, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """Split at sentence boundaries into parts that each fit; a part never ends mid-word if avoidable."""
    text = text.strip()
    if not text:
        return []

    def ok(s: str) -> bool:
        return fits(s, max_chars, max_segments)

    if ok(text):
        return [text]
    parts: list[str] = []
    cur = ""
    cur_sep = ""
    for sentence, sep in _units(text):
        candidate = f"{cur}{cur_sep}{sentence}" if cur else sentence
        if ok(candidate):
            cur, cur_sep = candidate, sep
            continue
        if cur:
            parts.append(cur.strip())
        if ok(sentence):
            cur, cur_sep = sentence, sep
        else:
            pieces = _split_long(sentence, ok, max_chars)
            parts.extend(p.strip() for p in pieces[:-1])
            cur, cur_sep = pieces[-1], sep
    if cur.strip():
        parts.append(cur.strip())
    return [p for p in parts if p]


def format_sms(text: str, buttons: list[dict[str, Any]] | None = None, *, max_chars: int = MAX_CHARS) -> list[str]:
    """An assistant reply as SMS parts: plain text, quick-reply buttons as a "Reply ..." line, split to fit.

    Idempotent on its own output: formatting a part again gives that part back.
    """
    body = plain_text(text)
    titles = [plain_text(str(b.get("title", ""))) for b in (buttons or []) if isinstance(b, dict) and b.get("title")]
    titles = [t for t in titles if t]
    if titles:
        body = f"{body}\nReply: {' / '.join(titles)}" if body else f"Reply: {' / '.join(titles)}"
    return split_sms(body, max_chars=max_chars)


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
    ) -> None:
        self.screener = screener or Screener()
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
            patient = by_phone(s, phone)
            conv = _latest_conversation(s, phone)
            new_conv = conv is None
            if conv is None:
                conv = Conversation(channel=SMS_CHANNEL, phone=phone, patient_id=patient.id if patient else None)
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
                queued += self._photos(s, conv, msg, text, opted_out)
            if not text:
                if not inbound.media_urls:
                    queued += self._reply(s, conv, msg, [EMPTY_PROMPT], opted_out=opted_out)
                msg.status = "answered"
                msg.processed_at = now_of(s)
                return Stored(msg.id, conv.id, created=True, needs_turn=False, queued_replies=queued)
            return Stored(msg.id, conv.id, created=True, needs_turn=True, queued_replies=queued)

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
        if keyword == STOP:
            set_opt_out(s, phone, opted_out=True, keyword=word, source=source)
            text = stop_text(clinic.name, clinic.phone)
        elif keyword == START:
            set_opt_out(s, phone, opted_out=False, keyword=word, source=source)
            text = start_text(clinic.name)
        else:
            text = help_text(clinic.name, clinic.phone)
        msg.status = "answered"
        msg.processed_at = now_of(s)
        msg.intent = f"sms_{keyword}"
        if advanced:
            return 0  # Twilio Advanced Opt-Out already answered the keyword: never a second reply
        # keyword confirmations are the one reply an opted-out number may still get (CTIA); the dispatcher allows them
        return self._reply(s, conv, msg, [text], opted_out=False, purpose=KEYWORD_PURPOSE, author="system")

    def _photos(self, s: Session, conv: Conversation, msg: Message, text: str, opted_out: bool) -> int:
        """Photos go to staff: a routine escalation unless the text's own red flag already escalates."""
        covered = False
        if text:  # the turn will escalate the text's own red flag (core.outcomes.apply_screen)
            day = recovery_for_conversation(s, conv.id, clinic_today(s, self.clock)).day
            covered = self.screener.screen(text, day).escalates
        if not covered:
            n = len(msg.media_urls or [])
            esc_service.record(
                s,
                conversation_id=conv.id,
                level="routine",
                reason=f"patient sent {n} photo{'s' if n != 1 else ''} by SMS; a person needs to look",
                message_id=msg.id,
            )
        return self._reply(s, conv, msg, [PHOTO_NOTE], opted_out=opted_out)

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
        """Store outbound messages in the transcript and queue them in the outbox (none to an opted-out number)."""
        if opted_out or not conv.phone:
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
        mid-turn) is taken too. Returns what to do: "turn" | "opted_out", or None (someone else has it / done).
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
            return "opted_out" if is_opted_out(s, conv.phone) else "turn"

    async def handle(self, message_id: str, *, allow_stale: bool = False) -> str | None:
        """Answer one stored inbound SMS (idempotent; safe to call from the webhook task and the recovery sweep)."""
        kind = await asyncio.to_thread(self.claim, message_id, allow_stale=allow_stale)
        if kind is None:
            return None
        if kind == "opted_out":
            await asyncio.to_thread(self._screen_only, message_id)
        else:
            await self.conversations.process(message_id)
        return kind

    def _screen_only(self, message_id: str) -> None:
        """An opted-out number wrote: no assistant, no reply; a red flag still escalates (and alerts on-call)."""
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
                reason_suffix=" (patient has opted out of texts: call them)",
            )
            if change is not None:
                msg.topic = "symptom_report"
            else:
                esc_service.record(
                    s,
                    conversation_id=conv.id,
                    level="routine",
                    reason="message from a number that opted out of texts (STOP); no automatic reply was sent",
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
