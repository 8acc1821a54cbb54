"""What an action knows about the turn: what the conversation service sent with the message.

The API's conversation service owns the turn (core.conversations): it sends the
recovery day, the patient's first name, the clinic, the language and the red-flag
screen's result as metadata (core.turn.TurnContext). Actions read it here and return
what they want done as requests (core.turn.Request); they never open the database.
Nothing happens at import time (rasa-sdk imports every module under actions/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.clock import SystemClock
from core.timeline import days_since
from core.turn import ClinicInfo, Request, ScreenFacts, TurnContext


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


def consecutive_intents(tracker: Tracker, intent: str) -> int:
    """How many of the latest user messages in a row were classified as ``intent``."""
    n = 0
    for event in reversed(_user_events(tracker)):
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name != intent:
            break
        n += 1
    return n


@dataclass
class Turn:
    """One turn as an action sees it: the service's context, the text, and the requests to return."""

    context: TurnContext
    text: str
    intent: str | None
    day: int | None  # the recovery day this answer uses (the context's, or a date stated in the message)
    requests: list[Request] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return self.context.conversation_id

    @property
    def channel(self) -> str:
        return self.context.channel

    @property
    def today(self) -> date:
        return self.context.today

    @property
    def first_name(self) -> str | None:
        return self.context.first_name

    @property
    def clinic(self) -> ClinicInfo:
        return self.context.clinic

    @property
    def language(self) -> str:
        return self.context.language

    @property
    def escalated(self) -> str | None:
        return self.context.escalated

    @property
    def screen(self) -> ScreenFacts | None:
        return self.context.screen

    @property
    def is_trigger(self) -> bool:
        """The message is an intent trigger ("/makeup") sent by the API or a button."""
        return self.text.startswith("/")

    def use_date(self, performed_on: date) -> None:
        self.day = days_since(performed_on, self.today)

    def ask(self, request: Request) -> None:
        self.requests.append(request)


def load_turn(tracker: Tracker) -> Turn:
    latest = tracker.latest_message or {}
    # today always comes with the message; the system clock is only a last resort for a bare tracker
    context = TurnContext.from_metadata(latest_metadata(tracker), sender=tracker.sender_id, today=SystemClock().today())
    return Turn(
        context=context,
        text=(latest.get("text") or "").strip(),
        intent=(latest.get("intent") or {}).get("name"),
        day=context.day,
    )


def send_requests(dispatcher: CollectingDispatcher, turn: Turn) -> None:
    """Hand the turn's requests to the API (custom JSON messages; bot/channel.py passes them on)."""
    for request in turn.requests:
        dispatcher.utter_message(json_message=request.to_json())
