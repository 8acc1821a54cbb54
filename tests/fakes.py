"""Fakes at the ports, for unit tests only (the product and end-to-end tests use the real parts)."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from typing import Any

from core.clock import FixedClock
from core.ports import AssistantReply, AssistantTurn, AssistantUnavailable, SendResult

# The one fake clock of the suite: core.clock.FixedClock, started here unless a test says otherwise.
# 2026-11-26 15:00 UTC = 10:00 in New York. Nothing in the suite reads the wall clock's date.
T0 = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)


def test_clock(at: datetime = T0, tz: str = "America/New_York", *, ticking: bool = False) -> FixedClock:
    """A clock that moves only when told (``advance``/``set``), or also in real time with ``ticking``."""
    return FixedClock(at, tz, ticking=ticking)


test_clock.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class FakeAssistant:
    """Answers by keyword; can be told to be down or slow."""

    def __init__(self, answers: dict[str, tuple[str, str]] | None = None) -> None:
        self.answers = answers or {"makeup": ("makeup", "No makeup for at least 24 hours.")}
        self.calls: list[dict[str, Any]] = []
        self.down = False
        self.delay_s = 0.0
        self.hold: threading.Event | None = None  # when set to an Event: every answer waits until it is set

    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantTurn:
        self.calls.append({"conversation_id": conversation_id, "text": text, "metadata": metadata})
        while self.hold is not None and not self.hold.is_set():
            await asyncio.sleep(0.01)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.down:
            raise AssistantUnavailable("fake is down")
        low = text.lower().lstrip("/")
        for key, (intent, reply) in self.answers.items():
            if key in low:
                return AssistantTurn([AssistantReply(reply)], intent=intent, confidence=0.9)
        return AssistantTurn([AssistantReply("Could you say that another way?")], intent="nlu_fallback", confidence=0.2)

    async def ready(self) -> bool:
        return not self.down


class FakeSmsSender:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_next: list[SendResult] = []

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        if self.fail_next:
            return self.fail_next.pop(0)
        self.sent.append({"to": to, "body": body})
        return SendResult(ok=True, provider_id=f"SM{len(self.sent):032d}")


class ActionsAssistant:
    """The real Rasa actions, run in process, with intents chosen by keyword instead of the NLU model.

    It carries the service's metadata to the actions and their requests back, exactly as
    bot/channel.py and api/rasa_client.py do over HTTP: the contract of core.turn end to end
    without starting Rasa.
    """

    def __init__(self, intents: dict[str, str]) -> None:
        self.intents = intents  # keyword -> intent (first match wins); no match: nlu_fallback
        self.calls: list[dict[str, Any]] = []

    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantTurn:
        from rasa_sdk import Tracker
        from rasa_sdk.executor import CollectingDispatcher

        from actions import actions
        from bot.channel import requests_of
        from core.turn import Request

        self.calls.append({"conversation_id": conversation_id, "text": text, "metadata": metadata})
        low = text.lower().lstrip("/")
        intent = next((i for k, i in self.intents.items() if k in low), "nlu_fallback")
        action = {
            "symptom_report": actions.ActionSymptomReport,
            "inform_treatment_date": actions.ActionInformTreatmentDate,
            "talk_to_staff": actions.ActionStaffRequest,
            "out_of_guide": actions.ActionNoGuidance,
            "nlu_fallback": actions.ActionClarify,
        }.get(intent, actions.ActionAnswerTopic)()
        parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [], "intent_ranking": []}
        tracker = Tracker.from_dict(
            {
                "sender_id": conversation_id,
                "slots": {},
                "latest_message": dict(parse, metadata=metadata),
                "events": [{"event": "user", "text": text, "parse_data": parse, "metadata": metadata}],
                "active_loop": {},
            }
        )
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, tracker, {})
        replies = [AssistantReply(m["text"], list(m.get("buttons") or [])) for m in dispatcher.messages if m.get("text")]
        requests = [r for r in (Request.from_json(raw) for raw in requests_of(dispatcher.messages)) if r is not None]
        return AssistantTurn(replies, intent=intent, confidence=0.9, requests=requests)

    async def ready(self) -> bool:
        return True
