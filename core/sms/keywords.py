"""SMS consent keywords (STOP / START / HELP) and the opt-out state of a phone number.

Keywords are handled before any NLU, on the whole message only ("can I stop using retinol?"
is a question, not an opt-out). Opt-out state lives per phone number (``SmsOptOut``, also for
numbers that are not patients) and is mirrored on ``Patient.opted_out``; :func:`is_opted_out`
reads both, and the outbox dispatcher checks it at send time, so nothing (replies, check-ins)
reaches an opted-out number.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import content
from core.db import now_of
from core.models import SmsOptOut
from core.patients import by_phone

log = logging.getLogger("aftercare.sms")

# ------------------------------------------------------------------ keywords
STOP = "stop"
START = "start"
HELP = "help"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# a few unambiguous phrasings people use instead of the bare keyword
STOP_PHRASES = frozenset({"STOPTEXTING", "STOPTEXTINGME", "STOPMESSAGINGME", "UNSUBSCRIBEME", "STOPALLMESSAGES"})
# Spanish (issue #18): honoured like the English ones, and confirmed in Spanish. "SI" re-subscribes
# only an opted-out number, like "YES".
SPANISH_STOP_WORDS = frozenset({"PARAR", "PARA", "ALTO", "CANCELAR", "DETENER", "BAJA", "NOMAS", "NOMASMENSAJES"})
SPANISH_START_WORDS = frozenset({"COMENZAR", "INICIAR", "REANUDAR", "SI"})
SPANISH_HELP_WORDS = frozenset({"AYUDA"})
SPANISH_KEYWORDS = SPANISH_STOP_WORDS | SPANISH_START_WORDS | SPANISH_HELP_WORDS
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
    if squashed in STOP_WORDS or squashed in STOP_PHRASES or squashed in SPANISH_STOP_WORDS:
        return STOP
    if squashed in HELP_WORDS or squashed in SPANISH_HELP_WORDS:
        return HELP
    if squashed in START_WORDS or squashed in SPANISH_START_WORDS:
        if squashed in ("YES", "SI") and not opted_out:
            return None
        return START
    return None


def keyword_language(body: str | None) -> str:
    """The language to confirm a keyword in: Spanish for PARAR, COMENZAR, AYUDA..., else English."""
    squashed = re.sub(r"[^A-Z]", "", unicodedata.normalize("NFKD", (body or "").strip()).upper())
    return "es" if squashed in SPANISH_KEYWORDS else "en"


# The words are in content/en/sms.yml (carrier keyword replies follow carrier rules: see that file).
say = content.Area("sms", ("help", "stop", "start", "empty_message", "photo_received", "chat_link"))


def _content_text(key: str, language: str | None, clinic_phone: str | None = None, **values: str) -> str:
    """One of these replies in ``language`` (default: the language being spoken); with the clinic's
    phone when there is one."""
    if clinic_phone is not None:
        values.update(case="phone" if clinic_phone else None, clinic_phone=clinic_phone)  # type: ignore[arg-type]
    return say(key, **values) if language is None else say(key, language=language, **values)


def help_text(clinic_name: str, clinic_phone: str, language: str | None = None) -> str:
    return _content_text("help", language, clinic_phone, clinic_name=clinic_name)


def stop_text(clinic_name: str, clinic_phone: str, language: str | None = None) -> str:
    return _content_text("stop", language, clinic_phone, clinic_name=clinic_name)


def start_text(clinic_name: str, language: str | None = None) -> str:
    return _content_text("start", language, clinic_name=clinic_name)


def empty_prompt(language: str | None = None) -> str:
    return _content_text("empty_message", language)


def photo_note(language: str | None = None) -> str:
    return _content_text("photo_received", language)


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
