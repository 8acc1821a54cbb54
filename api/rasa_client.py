"""The Assistant port over HTTP: our Rasa server's custom channel (bot/channel.py)."""

from __future__ import annotations

from typing import Any

import httpx

from core.ports import AssistantReply, AssistantTurn, AssistantUnavailable
from core.turn import Request


class RasaAssistant:
    def __init__(self, *, rasa_url: str, action_url: str, timeout_s: float = 8.0, token: str = "") -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self._headers = {"X-Aftercare-Rasa-Token": token} if token else {}
        self.action_health = action_url.rsplit("/webhook", 1)[0].rstrip("/") + "/health"
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=2.0))

    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantTurn:
        try:
            resp = await self._client.post(
                f"{self.rasa_url}/webhooks/aftercare/webhook",
                json={"sender": conversation_id, "message": text, "metadata": metadata},
                headers=self._headers,
            )
        except httpx.HTTPError as exc:
            raise AssistantUnavailable(type(exc).__name__) from exc
        if resp.status_code != 200:
            raise AssistantUnavailable(f"rasa answered {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise AssistantUnavailable("rasa answered no JSON") from exc
        if isinstance(body, list):  # plain REST channel shape
            body = {"messages": body}
        replies = []
        for m in body.get("messages") or []:
            text_out = (m.get("text") or "").strip()
            if not text_out:
                continue
            buttons = [
                {"title": str(b.get("title", ""))[:80], "payload": str(b.get("payload", ""))[:200]}
                for b in (m.get("buttons") or [])
                if b.get("title")
            ]
            replies.append(AssistantReply(text_out, buttons))
        intent = (body.get("intent") or {}).get("name")
        confidence = (body.get("intent") or {}).get("confidence")
        requests = [r for r in (Request.from_json(raw) for raw in body.get("requests") or []) if r is not None]
        return AssistantTurn(replies=replies, intent=intent, confidence=confidence, topic=body.get("topic"), requests=requests)

    async def ready(self) -> bool:
        try:
            r1 = await self._client.get(f"{self.rasa_url}/", timeout=2.0)
            r2 = await self._client.get(self.action_health, timeout=2.0)
        except httpx.HTTPError:
            return False
        return r1.status_code == 200 and r2.status_code == 200

    async def aclose(self) -> None:
        await self._client.aclose()
