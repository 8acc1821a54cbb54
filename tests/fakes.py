"""Fakes at the ports, for unit tests only (the product and end-to-end tests use the real parts)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.ports import AssistantReply, AssistantTurn, AssistantUnavailable, SendResult


class FakeAssistant:
    """Answers by keyword; can be told to be down or slow."""

    def __init__(self, answers: dict[str, tuple[str, str]] | None = None) -> None:
        self.answers = answers or {"makeup": ("makeup", "No makeup for at least 24 hours.")}
        self.calls: list[dict[str, Any]] = []
        self.down = False
        self.delay_s = 0.0

    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantTurn:
        self.calls.append({"conversation_id": conversation_id, "text": text, "metadata": metadata})
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
