"""What an action needs to know about the turn: who, which channel, which day.

Nothing happens at import time (rasa-sdk imports every module under actions/):
the database session factory is created lazily by core.runtime on first use, and
every database call is guarded so an unreachable database degrades the answer
to its general (day-unknown) version instead of crashing the action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from rasa_sdk import Tracker

from core.answers import DEFAULT_CLINIC, ClinicInfo
from core.timeline import days_since

log = logging.getLogger("aftercare.actions")

T = TypeVar("T")

CHANNELS = ("sms", "web")
ESCALATION_LEVELS = ("routine", "urgent", "emergency")


def _user_events(tracker: Tracker) -> list[dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the API sent with the latest message.

    ``latest_message["metadata"]`` first; the latest user event's metadata as a
    fallback (older trackers and some test paths only carry it there).
    """
    meta = (tracker.latest_message or {}).get("metadata")
    if isinstance(meta, dict) and meta:
        return meta
    users = _user_events(tracker)
    meta = users[-1].get("metadata") if users else None
    if isinstance(meta, dict) and meta:
        return meta
    meta = tracker.get_slot("session_started_metadata")
    return meta if isinstance(meta, dict) else {}


def previous_user_texts(tracker: Tracker, intent: str) -> list[str]:
    """Texts of earlier user messages classified as ``intent`` (newest first), skipping "/intent" triggers."""
    out = []
    for event in reversed(_user_events(tracker)):
        text = (event.get("text") or "").strip()
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name == intent and text and not text.startswith("/"):
            out.append(text)
    return out


def consecutive_intents(tracker: Tracker, intent: str) -> int:
    """How many of the latest user messages in a row were classified as ``intent``."""
    n = 0
    for event in reversed(_user_events(tracker)):
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name != intent:
            break
        n += 1
    return n


def _parse_iso(raw: Any) -> date | None:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _clinic_today() -> date:
    from core.clock import SystemClock

    try:
        from core.runtime import get_settings

        return SystemClock(get_settings().clinic_timezone).today()
    except Exception:  # settings unusable: the default time zone's calendar is the best we have
        return SystemClock().today()


def with_db(fn: Callable[[Any], T]) -> tuple[bool, T | None]:
    """Run ``fn(session)`` in one transaction. Returns (ok, result); never raises."""
    try:
        from core.db import session_scope
        from core.runtime import get_session_factory

        with session_scope(get_session_factory()) as session:
            return True, fn(session)
    except Exception as exc:
        log.warning("database unavailable in action: %s: %s", type(exc).__name__, exc)
        return False, None


@dataclass
class Turn:
    conversation_id: str
    channel: str
    today: date
    message_id: str | None
    text: str
    intent: str | None
    escalated: str | None  # level the API's red-flag screen escalated this message to (metadata "escalated")
    day: int | None = None  # day of recovery (None: unknown)
    first_name: str | None = None
    clinic: ClinicInfo = DEFAULT_CLINIC

    @property
    def is_trigger(self) -> bool:
        """The message is an intent trigger ("/makeup") sent by the API or a button."""
        return self.text.startswith("/")

    def use_date(self, performed_on: date) -> None:
        self.day = days_since(performed_on, self.today)


def load_turn(tracker: Tracker) -> Turn:
    meta = latest_metadata(tracker)
    latest = tracker.latest_message or {}
    channel = str(meta.get("channel") or "").lower()
    if channel not in CHANNELS:
        channel = "web" if tracker.get_latest_input_channel() == "web" else "sms"
    escalated = meta.get("escalated")
    turn = Turn(
        conversation_id=str(meta.get("conversation_id") or tracker.sender_id),
        channel=channel,
        today=_parse_iso(meta.get("today")) or _clinic_today(),
        message_id=str(meta["message_id"]) if meta.get("message_id") else None,
        text=(latest.get("text") or "").strip(),
        intent=(latest.get("intent") or {}).get("name"),
        escalated=str(escalated) if escalated in ESCALATION_LEVELS else None,
    )

    def read(session: Any) -> tuple[Any, ClinicInfo]:
        from core.clinic import clinic_info
        from core.recovery import recovery_for_conversation

        return recovery_for_conversation(session, turn.conversation_id, turn.today), clinic_info(session)

    ok, result = with_db(read)
    if ok and result is not None:
        recovery, turn.clinic = result
        turn.day, turn.first_name = recovery.day, recovery.first_name
    if turn.day is None:
        # a date the patient gave earlier in this conversation (kept in a slot when the DB could not)
        stated = _parse_iso(tracker.get_slot("treatment_date"))
        if stated is not None and stated <= turn.today:
            turn.use_date(stated)
    return turn


def remember_date(turn: Turn, performed_on: date) -> None:
    def write(session: Any) -> None:
        from core.conversations import remember_treatment_date

        remember_treatment_date(session, turn.conversation_id, performed_on)

    with_db(write)


def await_date(turn: Turn, topic: str) -> None:
    def write(session: Any) -> None:
        from core.conversations import await_treatment_date

        await_treatment_date(session, turn.conversation_id, topic)

    with_db(write)


def escalate(turn: Turn, *, level: str, reason: str, findings: list[dict] | None = None) -> bool:
    """Open (or join) the conversation's escalation. True when it is stored."""

    def write(session: Any) -> bool:
        from core.escalations import open_or_join
        from core.models import Message

        message_id = turn.message_id if turn.message_id and session.get(Message, turn.message_id) else None
        open_or_join(
            session,
            conversation_id=turn.conversation_id,
            level=level,
            reason=reason,
            findings=findings or [],
            recovery_day=turn.day,
            message_id=message_id,
        )
        return True

    ok, stored = with_db(write)
    return bool(ok and stored)
