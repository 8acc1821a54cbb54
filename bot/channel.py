"""The API's input channel into Rasa: POST /webhooks/aftercare/webhook.

Request (from api/rasa_client.py)::

    {"sender": "<conversation id>", "message": "text or /intent",
     "metadata": core.turn.TurnContext.to_metadata(): the conversation, channel, today, message id,
                 recovery day, first name, clinic, language and what the red-flag screen made of it}

Response (always JSON)::

    {"messages": [{"text": "...", "buttons": [{"title": "...", "payload": "/makeup"}]}],
     "intent": {"name": "makeup", "confidence": 0.93} | null,
     "topic": "makeup" | null,
     "requests": [{"aftercare_request": {"kind": "remember_date", "date": "2026-11-23"}}, ...]}

``requests`` are what the actions want the API to do (core.turn.Request): they arrive as
custom JSON messages and are passed on untouched; the API validates and applies them.

``topic`` is what the actions reported in the ``topic`` slot during this turn
(None for a clarifying question); when no action set it, the intent if it is a
topic id. An empty ``messages`` list with status 200 is deliberate (the API has
already answered an escalated symptom). Bad input is a 400; a failed turn a 500,
a turn with no answer at all (action server down) a 502, a timed-out turn a 504;
each with a JSON body ``{"detail": ..., "messages": [], "intent": null, "topic": null}``.

Registered in bot/credentials.yml as ``bot.channel.AftercareInput:``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import SlotSet, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.enums import CHANNELS
from core.topics import TOPIC_IDS
from core.turn import REQUEST_KEY

log = logging.getLogger("aftercare.channel")

TOPIC_SLOT = "topic"
MAX_TEXT = 2000
TOKEN_HEADER = "X-Aftercare-Rasa-Token"
TOKEN_ENV = "AFTERCARE_RASA_TOKEN"  # generated per run by the supervisor, shared with the API process
DEFAULT_TURN_TIMEOUT_S = 10.0


def _turn_timeout() -> float:
    try:
        return float(os.environ.get("AFTERCARE_RASA_TURN_TIMEOUT", "") or DEFAULT_TURN_TIMEOUT_S)
    except ValueError:
        return DEFAULT_TURN_TIMEOUT_S


def _error(status: int, detail: str) -> HTTPResponse:
    return response.json({"detail": detail, "messages": [], "intent": None, "topic": None}, status=status)


def requests_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions' requests (custom JSON messages carrying core.turn.REQUEST_KEY)."""
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and REQUEST_KEY in m["custom"]]


def clean_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only what the API uses: text and buttons (title, payload)."""
    out = []
    for m in messages:
        text = m.get("text")
        if not text:
            continue
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in (m.get("buttons") or [])
            if isinstance(b, dict) and b.get("title")
        ]
        out.append({"text": str(text), "buttons": buttons})
    return out


def summarise_turn(events: list[Any]) -> tuple[dict[str, Any] | None, str | None, bool]:
    """(intent, topic, whether an action reported the topic) of the latest turn, from the tracker's events."""
    last_user = None
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], UserUttered):
            last_user = i
            break
    if last_user is None:
        return None, None, False
    user: UserUttered = events[last_user]
    intent_name = user.intent_name
    intent = {"name": intent_name, "confidence": user.intent.get("confidence")} if intent_name else None
    topic_set = False
    topic = None
    for event in events[last_user + 1 :]:
        if isinstance(event, SlotSet) and event.key == TOPIC_SLOT:
            topic_set, topic = True, event.value
    if not topic_set:
        topic = intent_name if intent_name in TOPIC_IDS else None
    if topic is not None and topic not in TOPIC_IDS:
        topic = None
    return intent, topic, topic_set


class AftercareInput(InputChannel):
    """A REST-like channel that also returns the intent and the topic of the turn."""

    @classmethod
    def name(cls) -> str:
        return "aftercare"

    def get_metadata(self, request: Request) -> dict[str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        meta = body.get("metadata")
        return dict(meta) if isinstance(meta, dict) else {}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("aftercare_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # only the API may talk to the assistant: everything else would go around the red-flag screen
            expected = os.environ.get(TOKEN_ENV, "")
            if len(expected) < 16:
                return _error(503, f"{TOKEN_ENV} is not set: the channel accepts no messages")
            given = request.headers.get(TOKEN_HEADER) or ""
            if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
                return _error(403, "forbidden")
            try:
                body = request.json
            except Exception:
                body = None
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not sender.strip():
                return _error(400, "'sender' (the conversation id) is required")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "'message' must be non-empty text")
            if len(text) > MAX_TEXT:
                return _error(400, f"'message' is longer than {MAX_TEXT} characters")
            metadata = self.get_metadata(request)
            metadata.setdefault("conversation_id", sender)
            channel = metadata.get("channel") if metadata.get("channel") in CHANNELS else self.name()
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=channel,
                metadata=metadata,
                message_id=str(metadata["message_id"]) if metadata.get("message_id") else None,
            )
            try:
                await asyncio.wait_for(on_new_message(message), timeout=_turn_timeout())
            except asyncio.TimeoutError:
                log.error("aftercare turn timed out for %s", sender)
                return _error(504, "the assistant did not answer in time")
            except Exception as exc:  # never a bare 500
                log.exception("aftercare turn failed for %s", sender)
                return _error(500, f"the assistant failed: {type(exc).__name__}")
            intent, topic, reported = None, None, False
            try:
                tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
                if tracker is not None:
                    intent, topic, reported = summarise_turn(list(tracker.events))
            except Exception:
                log.exception("could not read the tracker for %s", sender)
            messages = clean_messages(collector.messages)
            if not messages and not reported:
                # every custom action reports a topic; silence without one means the action server failed
                return _error(502, "the assistant produced no answer (is the action server up?)")
            return response.json(
                {"messages": messages, "intent": intent, "topic": topic, "requests": requests_of(collector.messages)}
            )

        return hook
