"""The Assistant port over HTTP: our Rasa server's custom channel (bot/channel.py)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx

from core.ports import AssistantReply, AssistantTurn, AssistantUnavailable
from core.turn import Request


def _urls(value: str) -> list[str]:
    return [u.strip().rstrip("/") for u in value.split(",") if u.strip()]


class RasaAssistant:
    """One or several Rasa servers (``rasa_url`` and ``action_url`` may list several, comma-separated).

    Each conversation goes to the same Rasa server while it answers (rendezvous hashing on the
    conversation id: the server's tracker stays warm, and losing one server moves only its own
    conversations); when that server cannot be reached, the next one in the conversation's order
    takes the turn. With several servers, their tracker store is PostgreSQL (the cluster's
    endpoints file), so the next server knows the conversation too.
    """

    def __init__(self, *, rasa_url: str, action_url: str, timeout_s: float = 8.0, token: str = "") -> None:
        self.rasa_urls = _urls(rasa_url)
        self.rasa_url = self.rasa_urls[0] if self.rasa_urls else ""
        self._headers = {"X-Aftercare-Rasa-Token": token} if token else {}
        self.action_healths = [u.rsplit("/webhook", 1)[0].rstrip("/") + "/health" for u in _urls(action_url)]
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=2.0))

    def order_for(self, conversation_id: str) -> list[str]:
        """The Rasa servers in the order this conversation tries them (highest rendezvous weight first)."""
        return sorted(
            self.rasa_urls,
            key=lambda u: hashlib.sha256(f"{conversation_id}|{u}".encode()).digest(),
            reverse=True,
        )

    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantTurn:
        payload = {"sender": conversation_id, "message": text, "metadata": metadata}
        failure = "no Rasa server configured"
        resp = None
        for url in self.order_for(conversation_id):
            try:
                resp = await self._client.post(f"{url}/webhooks/aftercare/webhook", json=payload, headers=self._headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                # not reached, or it died mid-answer: the next server takes the turn (a slow server
                # is not retried elsewhere: the service's own deadline would pass)
                failure = type(exc).__name__
                resp = None
                continue
            except httpx.HTTPError as exc:
                raise AssistantUnavailable(type(exc).__name__) from exc
            if resp.status_code in (502, 503):
                failure, resp = f"rasa answered {resp.status_code}", None
                continue
            break
        if resp is None:
            raise AssistantUnavailable(failure)
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

    async def _up(self, url: str) -> bool:
        try:
            return (await self._client.get(url, timeout=2.0)).status_code == 200
        except httpx.HTTPError:
            return False

    async def ready(self) -> bool:
        """At least one Rasa server and one action server answer (each Rasa server calls its own)."""
        rasa = await asyncio.gather(*(self._up(f"{u}/") for u in self.rasa_urls))
        actions = await asyncio.gather(*(self._up(u) for u in self.action_healths))
        return any(rasa) and any(actions)

    async def aclose(self) -> None:
        await self._client.aclose()
