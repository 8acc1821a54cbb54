"""Security headers for every response (pure ASGI middleware).

Staff pages get the strict policy: nothing but our own scripts and styles, no
framing, no referrer, no caching of patient data. The patient-facing pieces
that clinics embed on their own sites (``/widget.js``, ``/chat/...``, ``/demo``
and the web-chat API) keep the same script/style policy but may be framed.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
CSP_STRICT = CSP_BASE + "; frame-ancestors 'none'"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# May be embedded in (or loaded by) a clinic's own web site.
EMBEDDABLE_PREFIXES = ("/widget.js", "/widget", "/chat/", "/demo", "/api/v1/chat/", "/static/")
# FastAPI's interactive docs load their own inline script; keep them usable in development.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/openapi.json")


def headers_for(path: str, *, hsts: bool) -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
    ]
    if hsts:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    if path in DOCS_PATHS:
        headers.append(("X-Frame-Options", "DENY"))
        return headers
    if path == "/demo" or path.startswith(EMBEDDABLE_PREFIXES):
        headers.append(("Content-Security-Policy", CSP_BASE))
        return headers
    headers.append(("Content-Security-Policy", CSP_STRICT))
    headers.append(("X-Frame-Options", "DENY"))
    headers.append(("Cross-Origin-Opener-Policy", "same-origin"))
    if path.startswith("/inbox") and not path.startswith("/inbox/static/"):
        # staff pages show patient data: never keep them in a browser or proxy cache
        headers.append(("Cache-Control", "no-store"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the headers unless the response already set them (a route may know better)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), hsts=self.hsts)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app, *, hsts: bool = False) -> None:
    app.add_middleware(SecurityHeadersMiddleware, hsts=hsts)
