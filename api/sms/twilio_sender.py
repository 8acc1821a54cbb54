"""The SmsSender port over Twilio's REST API, with the real twilio library.

Errors become a :class:`~core.ports.SendResult` the dispatcher can act on:
429 / 5xx / network errors are retried; other 4xx (21610 opted out, 21211 invalid number,
21614 not a mobile ...) are permanent. 401/403 (wrong credentials) are retried: they are a
configuration problem staff can fix, and the rows go "dead" with a clear error if nobody does.

``api_base`` (AFTERCARE_TWILIO_API_BASE) points the client at another REST endpoint, e.g. a
local fake Twilio in tests: the library still builds every request; only the host changes.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from api.sms.local_sender import LocalOutboxSender
from api.sms.twilio_errors import describe_error, is_opt_out, is_permanent
from core.ports import SendResult
from core.settings import Settings

log = logging.getLogger("aftercare.sms.twilio")
_TWILIO_HOST = re.compile(r"^https://[a-z0-9.-]+\.twilio\.com", re.I)


class RedirectingHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to ``api_base`` instead of https://*.twilio.com."""

    def __init__(self, api_base: str = "", timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")
        if self.api_base and self.session is not None:
            self.session.trust_env = False  # no proxy from the environment for a local endpoint

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        if self.api_base:
            url = _TWILIO_HOST.sub(self.api_base, url)
        return super().request(
            method, url, params=params, data=data, headers=headers, auth=auth, timeout=timeout, allow_redirects=allow_redirects
        )


class TwilioSmsSender:
    name = "twilio"
    delivered_on_accept = False

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        api_base: str = "",
        timeout_s: float = 10.0,
        http_client: TwilioHttpClient | None = None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.client = Client(account_sid, auth_token, http_client=http_client or RedirectingHttpClient(api_base, timeout_s))

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        kwargs: dict = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            return self._rest_error(exc)
        except (requests.RequestException, OSError) as exc:
            return SendResult(ok=False, error=f"network error talking to Twilio: {type(exc).__name__}", permanent=False)
        except TwilioException as exc:
            return SendResult(ok=False, error=f"Twilio client error: {exc}"[:300], permanent=False)
        return SendResult(ok=True, provider_id=message.sid)

    def find_sent(self, *, to: str, body: str, since: datetime) -> list[str]:
        """Sids of outbound messages with this body to ``to`` created since ``since``, newest first.

        Twilio's message list (newest first) filtered by recipient, and by sender when we send
        from a number; read until a message older than ``since``. A queued message has no
        send date yet, so the creation date is compared here rather than the API's DateSent
        filter. Raises on any error: the caller then sends again.
        """
        since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
        want = " ".join(body.split())
        kwargs: dict = {"to": to, "page_size": 50, "limit": 200}
        if not self.messaging_service_sid:
            kwargs["from_"] = self.from_number
        found: list[str] = []
        for message in self.client.messages.stream(**kwargs):
            created = message.date_created
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            if created is not None and created < since:
                break
            if (message.direction or "").startswith("outbound") and " ".join((message.body or "").split()) == want:
                found.append(message.sid)
        return found

    @staticmethod
    def _rest_error(exc: TwilioRestException) -> SendResult:
        status = int(exc.status or 0)
        code = exc.code
        what = describe_error(code, (exc.msg or "").strip()) if code else (exc.msg or "").strip()
        error = f"twilio {code or '-'} (HTTP {status}): {what}"[:500]
        transient = status == 429 or status >= 500 or status in (401, 403) or code == 20429
        return SendResult(ok=False, error=error, permanent=is_permanent(code) or not transient, opted_out=is_opt_out(code))


def make_sender(settings: Settings):
    """Twilio when configured, else the local outbox."""
    if settings.twilio_enabled:
        return TwilioSmsSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base=settings.twilio_api_base,
        )
    if not settings.is_development:
        log.warning(
            "Twilio is not configured (TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN/TWILIO_FROM_NUMBER): SMS go to the local outbox only"
        )
    return LocalOutboxSender()
