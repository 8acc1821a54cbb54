"""The contract between the conversation service and the assistant's actions, both ways.

The service owns the turn (core.conversations): it knows the patient, the recovery day,
the clinic and the red-flag screen's result, and it sends them with the message as Rasa
metadata (:class:`TurnContext`). The actions only answer: they read the context, write
the reply and return what they want done as :class:`Request` s (remember a date the
patient stated, wait for the treatment date, hand the conversation to staff). The
service applies the requests in the same transaction as the replies. The action server
never opens the database and never screens a message.

Pure: no database, no Rasa.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.enums import CHANNELS, ESCALATING_LEVELS

REQUEST_KEY = "aftercare_request"  # the key of a request in an action's custom JSON message

REMEMBER_DATE = "remember_date"
AWAIT_DATE = "await_date"
HANDOFF = "handoff"
REQUEST_KINDS = (REMEMBER_DATE, AWAIT_DATE, HANDOFF)

ESCALATION_LEVELS = ESCALATING_LEVELS


@dataclass(frozen=True)
class ClinicInfo:
    """What a reply may say about the clinic (from the clinic row, core.clinic.clinic_info)."""

    name: str = "the clinic"
    phone: str = ""
    booking_url: str = ""
    hours: str = ""
    address: str = ""


@dataclass(frozen=True)
class ScreenFacts:
    """What the red-flag screen made of this message (the actions need it to answer a symptom)."""

    level: str = "none"
    expected: tuple[str, ...] = ()  # expected-healing findings the screen recognised
    needs_day: bool = False  # whether the answer depends on the recovery day
    day_used: int | None = None  # a day the message itself stated ("day 3 and still red")


@dataclass(frozen=True)
class TurnContext:
    conversation_id: str
    channel: str
    today: date
    message_id: str | None = None
    day: int | None = None  # the recovery day (None: unknown)
    first_name: str | None = None
    clinic: ClinicInfo = field(default_factory=ClinicInfo)
    language: str = "en"
    escalated: str | None = None  # the level the screen escalated this message to (it has answered it)
    screen: ScreenFacts | None = None
    # the sentence embedding the red-flag screen computed for this text (base64 float32), so the NLU
    # does not compute it a second time; ``embedded_text`` is embedding_key() of the text it belongs to
    embedding: str | None = None
    embedded_text: str | None = None

    def to_metadata(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "today": self.today.isoformat(),
            "message_id": self.message_id,
            "day": self.day,
            "first_name": self.first_name,
            "clinic": {
                "name": self.clinic.name,
                "phone": self.clinic.phone,
                "booking_url": self.clinic.booking_url,
                "hours": self.clinic.hours,
                "address": self.clinic.address,
            },
            "language": self.language,
            "escalated": self.escalated,
            "screen": None
            if self.screen is None
            else {
                "level": self.screen.level,
                "expected": list(self.screen.expected),
                "needs_day": self.screen.needs_day,
                "day_used": self.screen.day_used,
            },
            "embedding": None if not self.embedding else {"of": self.embedded_text, "e5": self.embedding},
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], *, sender: str, today: date) -> TurnContext:
        """Read the context the service sent; anything missing or malformed falls back to "unknown".

        ``today`` is used when the metadata has no date (it always has one from the service).
        """
        channel = str(meta.get("channel") or "").lower()
        clinic = meta.get("clinic") if isinstance(meta.get("clinic"), dict) else {}
        screen = meta.get("screen") if isinstance(meta.get("screen"), dict) else None
        escalated = meta.get("escalated")
        embedding = meta.get("embedding") if isinstance(meta.get("embedding"), dict) else None
        return cls(
            conversation_id=str(meta.get("conversation_id") or sender),
            channel=channel if channel in CHANNELS else "sms",
            today=_iso_date(meta.get("today")) or today,
            message_id=str(meta["message_id"]) if meta.get("message_id") else None,
            day=_day(meta.get("day")),
            first_name=str(meta["first_name"]) if meta.get("first_name") else None,
            clinic=ClinicInfo(
                name=str(clinic.get("name") or ClinicInfo.name),
                phone=str(clinic.get("phone") or ""),
                booking_url=str(clinic.get("booking_url") or ""),
                hours=str(clinic.get("hours") or ""),
                address=str(clinic.get("address") or ""),
            ),
            language="es" if meta.get("language") == "es" else "en",
            escalated=str(escalated) if escalated in ESCALATION_LEVELS else None,
            screen=None
            if screen is None
            else ScreenFacts(
                level=str(screen.get("level") or "none"),
                expected=tuple(str(e) for e in (screen.get("expected") or []) if e),
                needs_day=bool(screen.get("needs_day")),
                day_used=_day(screen.get("day_used")),
            ),
            embedding=str(embedding["e5"]) if embedding and embedding.get("e5") else None,
            embedded_text=str(embedding["of"]) if embedding and embedding.get("e5") and embedding.get("of") else None,
        )


def embedding_key(text: str) -> str:
    """Which text an embedding in the metadata belongs to (the NLU uses it only for that exact text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Request:
    """Something an action wants the service to do after the turn."""

    kind: str
    date: date | None = None  # remember_date
    topic: str | None = None  # await_date: the topic to answer once the date is known
    reason: str | None = None  # handoff: why a person is needed (a routine escalation; levels are the screen's)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.date is not None:
            out["date"] = self.date.isoformat()
        for name in ("topic", "reason"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return {REQUEST_KEY: out}

    @classmethod
    def from_json(cls, raw: Any) -> Request | None:
        """A request from an action's custom message, or None if it is not a well-formed one."""
        body = raw.get(REQUEST_KEY) if isinstance(raw, dict) else None
        if not isinstance(body, dict) or body.get("kind") not in REQUEST_KINDS:
            return None
        kind = body["kind"]
        if kind == REMEMBER_DATE:
            when = _iso_date(body.get("date"))
            return cls(kind, date=when) if when is not None else None
        if kind == AWAIT_DATE:
            topic = body.get("topic")
            return cls(kind, topic=str(topic)[:48]) if isinstance(topic, str) and topic else None
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason:
            return None
        return cls(kind, reason=reason[:500])


def remember_date(when: date) -> Request:
    return Request(REMEMBER_DATE, date=when)


def await_date(topic: str) -> Request:
    return Request(AWAIT_DATE, topic=topic)


def handoff(reason: str) -> Request:
    return Request(HANDOFF, reason=reason)


def _iso_date(raw: Any) -> date | None:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _day(raw: Any) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        return None
    return raw
