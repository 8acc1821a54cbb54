"""Limits at the edge: request body size (413) and the web chat's message rate (429).

- Every request body is capped before any route reads it: ``DEFAULT_MAX_BODY`` bytes, more only
  for the CSV patient import and a web chat photo. A declared ``Content-Length`` over the cap is refused at once; a
  chunked body is counted as it arrives and refused when it passes the cap.
- A web chat session may send ``CHAT_MESSAGES_PER_MINUTE`` messages a minute (counted in the
  database, so every replica sees the same count). A message over the limit is still screened:
  **a red flag is never rate-limited out of its escalation**; only ordinary messages get 429.
- Per client address (the real client: X-Forwarded-For is read only from the proxies of
  ``AFTERCARE_TRUSTED_PROXIES``, so behind the clinic's reverse proxy each patient is themselves,
  not the proxy): at most ``CHAT_SESSIONS_PER_HOUR`` new chat sessions an hour, and at most
  ``CHAT_CLIENT_MESSAGES_PER_MINUTE`` messages a minute over all the sessions it opened (a red flag,
  again, always goes through). Only a keyed hash of the address is stored (``client_key``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.inbox import MAX_IMPORT_BYTES
from core.media import MAX_BYTES as MEDIA_MAX_BYTES
from core.settings import DEFAULT_CHAT_CLIENT_MESSAGES_PER_MINUTE, DEFAULT_CHAT_SESSIONS_PER_HOUR

DEFAULT_MAX_BODY = 64 * 1024
LARGE_BODY_PATHS = {"/inbox/patients/import": MAX_IMPORT_BYTES + 64 * 1024}
CHAT_MESSAGES_PER_MINUTE = 20
# per client address: defaults of the settings AFTERCARE_CHAT_SESSIONS_PER_HOUR and
# AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE (core/settings.py)
CHAT_SESSIONS_PER_HOUR = DEFAULT_CHAT_SESSIONS_PER_HOUR
CHAT_CLIENT_MESSAGES_PER_MINUTE = DEFAULT_CHAT_CLIENT_MESSAGES_PER_MINUTE
RETRY_AFTER_S = 30


def client_key(secret: str, address: str | None) -> str:
    """A keyed hash of a client address: enough to count its sessions, useless to recover it."""
    return hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()[:32]


# a photo from the web chat: the image (core.media.MAX_BYTES) plus its caption and the multipart framing
PHOTO_PATH = re.compile(r"^/api/v1/chat/sessions/[^/]{1,128}/photos$")
PHOTO_BODY = MEDIA_MAX_BYTES + 64 * 1024


def body_limit(path: str) -> int:
    if PHOTO_PATH.match(path):
        return PHOTO_BODY
    return LARGE_BODY_PATHS.get(path, DEFAULT_MAX_BODY)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body too large (at most {limit} bytes)"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Pure ASGI middleware: 413 for a body over the path's limit, before the route reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True
            if too_big:
                await _too_large(send, limit)
                return
            await self.app(scope, receive, send)
            return
        # no Content-Length (chunked): read the body up to the limit, then hand it on
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks = []
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
