"""The embeddable web chat widget and the public chat pages.

- ``GET /widget.js``: the widget a clinic embeds with one ``<script>`` tag (cached, ETag, gzip).
- ``GET /chat/{chat_token}``: a full-page chat bound to one patient (unknown token: friendly 404).
- ``GET /chat``: the same page, anonymous (for a QR code in the clinic).
- ``GET /demo``: a fake clinic website with the widget embedded.

The pages load no inline script or style: everything comes from /widget.js and
/static/widget.css, so they run under a strict Content-Security-Policy.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ContainerDep
from core import content, language, phones
from core import patients as patient_service
from core.clinic import get_clinic
from core.db import session_scope
from core.settings import PROJECT_ROOT

log = logging.getLogger("aftercare.widget")
router = APIRouter(tags=["web chat widget"])

WIDGET_PATH = PROJECT_ROOT / "api" / "static" / "widget.js"
TEMPLATES = Jinja2Templates(directory=str(PROJECT_ROOT / "api" / "templates"))
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
DEFAULT_COLOR = "#0f5f73"

# the widget changes rarely; an hour keeps clinics' pages fast and picks up fixes the same day
WIDGET_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the patient link carries its token in the path
}


# widget.js holds this mark where its own texts go: content/<language>/widget_ui.yml, every
# language, as one JSON object (the browser picks its language; no request needed to show them)
STRINGS_MARK = b"/*AC_STRINGS*/null"


def widget_strings() -> bytes:
    c = content.default()
    table = {
        lang: {key: c.template("widget_ui", key, language=lang) for key in sorted(c.keys("widget_ui", lang))}
        for lang in sorted(c.languages("widget_ui"))
    }
    return json.dumps(table, ensure_ascii=False, sort_keys=True).encode("utf-8")


@dataclass
class _Asset:
    body: bytes
    gz: bytes
    etag: str
    mtime: float


class _WidgetFile:
    """widget.js read once and re-read when the file changes (gzip and ETag precomputed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._asset: _Asset | None = None
        self._lock = threading.Lock()

    def get(self) -> _Asset:
        mtime = self.path.stat().st_mtime
        with self._lock:
            if self._asset is None or self._asset.mtime != mtime:
                body = self.path.read_bytes().replace(STRINGS_MARK, widget_strings(), 1)
                self._asset = _Asset(
                    body=body,
                    gz=gzip.compress(body, compresslevel=9, mtime=0),
                    etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
                    mtime=mtime,
                )
            return self._asset


_WIDGET = _WidgetFile(WIDGET_PATH)


@router.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
def widget_js(request: Request) -> Response:
    asset = _WIDGET.get()
    headers = {
        "Cache-Control": WIDGET_CACHE,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        # embedded on the clinic's own site: allow cross-origin loading, also with crossorigin="anonymous" + SRI
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    inm = request.headers.get("if-none-match", "")
    if asset.etag in [t.strip().removeprefix("W/") for t in inm.split(",")]:
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body = asset.gz
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


def _clinic(container) -> dict:
    """Name, phone, colour and greeting for the pages; neutral defaults when the database is away."""
    try:
        with session_scope(container.session_factory) as s:
            c = get_clinic(s)
            return {
                "name": c.name,
                "phone": c.phone,
                "phone_display": phones.display(c.phone) if c.phone else "",
                "color": c.widget_color if HEX_COLOR.match(c.widget_color or "") else DEFAULT_COLOR,
                "greeting": c.widget_greeting or "",
                "hours": c.hours,
                "booking_url": c.booking_url,
            }
    except SQLAlchemyError:
        log.warning("database unavailable while rendering a public page; using defaults")
        return {
            "name": "Our clinic",
            "phone": "",
            "phone_display": "",
            "color": DEFAULT_COLOR,
            "greeting": "",
            "hours": "",
            "booking_url": "",
        }


CHAT_PAGE_KEYS = (
    "page_title",
    "page_noscript",
    "link_missing_title",
    "link_missing_body",
    "link_expired_title",
    "link_expired_body",
    "link_new_chat",
    "chat_unavailable_title",
    "chat_unavailable_body",
    "page_call_us",
    "page_emergency",
)


def _chat_page_texts(spoken: str, clinic_name: str) -> dict[str, str]:
    """The chat page's own sentences (content/<language>/webchat.yml) in the page's language."""
    lang = spoken or "en"
    return {k: content.default().text("webchat", k, clinic_name=clinic_name, language=lang) for k in CHAT_PAGE_KEYS}


def _browser_language(request: Request) -> str | None:
    return language.normalise(request.headers.get("accept-language", "").split(",")[0].split(";")[0])


def _chat_page(request: Request, context: dict, status_code: int = 200, *, spoken: str | None = None, private: bool = False):
    """chat.html in the patient's language (on file), else the browser's."""
    lang = spoken or _browser_language(request) or "en"
    context = {**context, "t": _chat_page_texts(lang, context["clinic"]["name"]), "page_lang": lang}
    return _page(request, "chat.html", context, status_code, private=private)


def _page(request: Request, name: str, context: dict, status_code: int = 200, *, private: bool = False) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    response.headers["Cache-Control"] = "no-store" if private else "no-cache"
    if private:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@router.get("/chat/{chat_token}", response_class=HTMLResponse, include_in_schema=False)
def patient_chat(chat_token: str, request: Request, container: ContainerDep) -> HTMLResponse:
    clinic = _clinic(container)
    first_name: str | None = None
    preferred: str | None = None
    found = expired = False
    if 8 <= len(chat_token) <= 128:
        try:
            with session_scope(container.session_factory) as s:
                patient, expired = patient_service.patient_of_chat_link(s, chat_token, container.clock.now())
                if patient is not None:
                    found, first_name, preferred = True, patient.first_name, patient.language
        except SQLAlchemyError:
            return _chat_page(request, {"clinic": clinic, "state": "unavailable"}, 503, private=True)
    if not found or expired:
        state = "expired" if found else "missing"
        return _chat_page(request, {"clinic": clinic, "state": state}, 404, spoken=preferred, private=True)
    # the patient's preferred language on file, else the browser's first choice
    spoken = preferred or _browser_language(request)
    custom = clinic["greeting"] if spoken != language.SPANISH else ""  # the clinic's own greeting is English
    greeting = custom or content.default().text(
        "webchat", "widget_greeting_named", first_name=first_name, clinic_name=clinic["name"], language=spoken or "en"
    )
    context = {"clinic": clinic, "state": "ok", "chat_token": chat_token, "greeting": greeting, "lang": preferred}
    return _chat_page(request, context, spoken=spoken, private=True)


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
def anonymous_chat(request: Request, container: ContainerDep) -> HTMLResponse:
    clinic = _clinic(container)
    return _chat_page(request, {"clinic": clinic, "state": "ok", "chat_token": "", "greeting": clinic["greeting"]})


@router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
def demo(request: Request, container: ContainerDep, color: str | None = None, title: str | None = None) -> HTMLResponse:
    """A fake clinic website with the widget embedded; ?color=%23aa3355&title=... try the data- attributes."""
    clinic = _clinic(container)
    base = str(request.base_url).rstrip("/")
    context = {
        "clinic": clinic,
        "color": color if color and HEX_COLOR.match(color) else "",
        "title": (title or "")[:80],
        "snippet": f'<script src="{base}/widget.js" data-clinic-url="{base}" async></script>',
    }
    return _page(request, "demo.html", context)
