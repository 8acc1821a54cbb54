"""The MediaFetcher adapter: a patient's MMS photo from Twilio, with the account's credentials.

Twilio can require HTTP basic auth on media URLs; the photo then redirects to Twilio's storage
(httpx drops the Authorization header when a redirect leaves the origin). Only Twilio's hosts
(or the REST base the tests point at) are fetched from: a media URL is never a way to make the
service call an arbitrary address. Bodies are read up to a size limit, then refused.
"""

from __future__ import annotations

from urllib.parse import urlparse

import httpx

from core.media import Fetched, MediaError
from core.settings import Settings

TWILIO_MEDIA_HOSTS = ("api.twilio.com",)
TWILIO_HOST_SUFFIX = ".twilio.com"


class HttpMediaFetcher:
    def __init__(
        self, *, account_sid: str = "", auth_token: str = "", extra_hosts: tuple[str, ...] = (), timeout_s: float = 15.0
    ) -> None:
        self.auth = (account_sid, auth_token) if account_sid and auth_token else None
        self.extra_hosts = tuple(h for h in extra_hosts if h)
        self.timeout_s = timeout_s

    def allowed(self, url: str) -> bool:
        parsed = urlparse(url)
        host = (parsed.hostname or "").lower()
        if parsed.scheme == "https" and (host in TWILIO_MEDIA_HOSTS or host.endswith(TWILIO_HOST_SUFFIX)):
            return True
        return bool(parsed.netloc) and parsed.netloc.lower() in self.extra_hosts

    def fetch(self, url: str, *, max_bytes: int) -> Fetched:
        if not self.allowed(url):
            raise MediaError("not a Twilio media address", permanent=True)
        try:
            with httpx.Client(follow_redirects=True, timeout=self.timeout_s, trust_env=False) as client:
                with client.stream("GET", url, auth=self.auth) as response:
                    if response.status_code in (401, 403, 404, 410):
                        raise MediaError(f"the provider answered {response.status_code}", permanent=True)
                    if response.status_code >= 400:
                        raise MediaError(f"the provider answered {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise MediaError(f"the photo is larger than {max_bytes // (1024 * 1024)} MB", permanent=True)
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise MediaError(f"the photo is larger than {max_bytes // (1024 * 1024)} MB", permanent=True)
                        chunks.append(chunk)
                    return Fetched(response.headers.get("content-type", ""), b"".join(chunks))
        except httpx.HTTPError as exc:
            raise MediaError(f"network error fetching the photo: {type(exc).__name__}") from exc


def make_fetcher(settings: Settings) -> HttpMediaFetcher:
    extra = (urlparse(settings.twilio_api_base).netloc.lower(),) if settings.twilio_api_base else ()
    return HttpMediaFetcher(account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token, extra_hosts=extra)
