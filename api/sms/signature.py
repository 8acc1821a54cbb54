"""Twilio webhook signatures (X-Twilio-Signature), computed and checked with twilio's RequestValidator.

Twilio signs the URL it called. Behind a TLS-terminating proxy the app sees ``http://...`` while
Twilio called ``https://clinic.example/...``, so the URL is rebuilt from ``AFTERCARE_PUBLIC_URL``
plus the request's path and query, never from the request's own scheme and host.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from twilio.request_validator import RequestValidator

from core.settings import Settings

LOCAL_TOKEN_LABEL = b"aftercare-local-twilio-webhook-token"


def webhook_auth_token(settings: Settings) -> str | None:
    """The token webhooks are signed with: TWILIO_AUTH_TOKEN; in development/test without it, a local
    token derived from the secret key (the simulator signs with it). ``None``: accept nothing."""
    if settings.twilio_auth_token:
        return settings.twilio_auth_token
    if settings.is_development:
        return hmac.new(settings.secret_key.encode("utf-8"), LOCAL_TOKEN_LABEL, hashlib.sha256).hexdigest()[:32]
    return None


def webhook_url(settings: Settings, path: str, query: str = "") -> str:
    """The URL Twilio called: the public base URL + path (+ query)."""
    return settings.public_url.rstrip("/") + path + (f"?{query}" if query else "")


class Params:
    """Form fields as the validator wants them (all values of a repeated field)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._data: dict[str, list[str]] = {}
        for k, v in items:
            self._data.setdefault(k, []).append(v)

    def __iter__(self):
        return iter(self._data)

    def getall(self, name: str) -> list[str]:
        return self._data[name]

    def first(self, name: str, default: str = "") -> str:
        values = self._data.get(name)
        return values[0] if values else default


def sign(token: str, url: str, params: Mapping[str, str] | Params) -> str:
    return RequestValidator(token).compute_signature(url, params)


def valid(token: str, url: str, params: Params, signature: str | None) -> bool:
    if not signature:
        return False
    return RequestValidator(token).validate(url, params, signature)
