"""Browser fixtures: headless Chromium (the machine's, never a downloaded one), servers we can stop.

- ``browser``: Playwright's Chromium from /usr/bin/chromium (skips only when it is absent).
- ``widget_app``: the real app with a fake assistant, served by uvicorn in a thread on a free
  port, so a test can stop and restart it (server down -> offline state -> retry).
- ``other_site``: a plain HTML page on a second port (another origin) that embeds the widget.
- ``inbox_server``: the app with a nurse, a front-desk account and a patient on day 2;
  ``watched_page`` records script errors and CSP violations; ``phone_page`` is 390 x 844.
Screenshots go to test-artifacts/widget/ (gitignored).
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port, make_settings

CHROMIUM = os.environ.get("AFTERCARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = ROOT / "test-artifacts" / "widget"

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))  # type: ignore[attr-defined]
    yield pg


@pytest.fixture(scope="session")
def shots():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save


# ---------------------------------------------------------------- a server we can stop
class ServerThread:
    """uvicorn in a thread; stop() and start() again on the same port."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        self.server = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=2,
            proxy_headers=False,  # as `make run`: the app reads X-Forwarded-For itself
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(15)
            self.server = None


class WidgetAssistant:
    """A fake assistant that answers like the real one would, with quick-reply buttons."""

    def __init__(self) -> None:
        self.delay_s = 0.0
        self.calls: list[str] = []
        self.script: dict[str, tuple[str, list[dict[str, str]]]] = {
            "makeup": (
                "Wait 24 hours before wearing makeup; then use a clean, mineral formula. Guide: https://example.com/aftercare.",
                [
                    {"title": "When can I exercise?", "payload": "/exercise"},
                    {"title": "Talk to staff", "payload": "/talk_to_staff"},
                ],
            ),
            "exercise": ("Skip workouts and saunas for 48 hours.", []),
            "peel": ("Peeling on days 2 to 5 is expected. Let it flake off by itself.", []),
            "html": ('<img src=x onerror="window.__pwned=1"> <b>bold</b> javascript:alert(1) see https://example.com/a?b=1.', []),
        }

    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]):
        import asyncio

        from core.ports import AssistantReply, AssistantTurn

        self.calls.append(text)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        low = text.lower().lstrip("/")
        for key, (reply, buttons) in self.script.items():
            if key in low:
                return AssistantTurn([AssistantReply(reply, list(buttons))], intent=key, confidence=0.95)
        return AssistantTurn([AssistantReply("Could you say that another way?")], intent="nlu_fallback", confidence=0.2)

    async def ready(self) -> bool:
        return True


@dataclass
class WidgetServer:
    base_url: str
    port: int
    app: Any
    assistant: WidgetAssistant
    thread: ServerThread
    other_origin: str
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        self.thread.stop()

    def start(self) -> None:
        self.thread.start()

    @property
    def session_factory(self):
        return self.app.state.container.session_factory


@pytest.fixture
def widget_app(tmp_path):
    """The real app (fake assistant) on a free port; CORS allows ``other_origin``."""
    from api.app import create_app
    from core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'widget.db'}"
    upgrade(url)
    port, other_port = free_port(), free_port()
    other_origin = f"http://localhost:{other_port}"
    settings = make_settings(
        tmp_path,
        url,
        AFTERCARE_PORT=str(port),
        AFTERCARE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        AFTERCARE_ALLOWED_ORIGINS=other_origin,
    )
    assistant = WidgetAssistant()
    app = create_app(settings, assistant=assistant, start_workers=False)
    thread = ServerThread(app, port)
    thread.start()
    server = WidgetServer(f"http://127.0.0.1:{port}", port, app, assistant, thread, other_origin)
    server.extra["other_port"] = other_port
    yield server
    thread.stop()


# ---------------------------------------------------------------- another origin
class _Site(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _site_page(api_base: str) -> bytes:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another clinic site</title>
<link rel="icon" href="data:,"></head>
<body><h1>Rose Aesthetics</h1><p><a href="#about">About us</a></p>
<p id="origin-note">This page is served from another origin than the chat API.</p>
<script src="{api_base}/widget.js" data-clinic-url="{api_base}" data-color="#7a1f5c"
        data-title="Rose Aesthetics" data-greeting="Welcome to Rose Aesthetics!" async></script>
</body></html>""".encode()


def serve_site(port: int, api_base: str) -> _Site:
    body = _site_page(api_base)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    site = _Site(("127.0.0.1", port), Handler)
    threading.Thread(target=site.serve_forever, name=f"site-{port}", daemon=True).start()
    return site


@pytest.fixture
def other_site(widget_app):
    """A plain page on http://localhost:<other port> embedding the widget from the API's origin."""
    port = widget_app.extra["other_port"]
    site = serve_site(port, widget_app.base_url)
    yield f"http://localhost:{port}/"
    site.shutdown()
    site.server_close()


@pytest.fixture
def foreign_site(widget_app):
    """The same page on an origin the clinic did NOT allow (CORS must refuse it)."""
    port = free_port()
    site = serve_site(port, widget_app.base_url)
    yield f"http://localhost:{port}/"
    site.shutdown()
    site.server_close()


# ---------------------------------------------------------------- the staff inbox
INBOX_PW = "correct horse battery staple"


class InboxServer:
    def __init__(self, base_url: str, app, thread: ServerThread) -> None:
        self.base_url = base_url
        self.app = app
        self.thread = thread

    @property
    def sf(self):
        return self.app.state.container.session_factory


@pytest.fixture
def inbox_server(tmp_path):
    from datetime import timedelta

    from api.app import create_app
    from core import staff as staff_service
    from core.clock import SystemClock
    from core.db import session_scope
    from core.migrate import upgrade
    from core.patients import create_patient
    from tests.fakes import FakeAssistant

    url = f"sqlite:///{tmp_path / 'inbox.db'}"
    upgrade(url)
    port = free_port()
    settings = make_settings(tmp_path, url, AFTERCARE_PORT=str(port), AFTERCARE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    app = create_app(settings, assistant=FakeAssistant(), start_workers=False)
    thread = ServerThread(app, port)
    thread.start()
    server = InboxServer(f"http://127.0.0.1:{port}", app, thread)
    today = SystemClock().today()
    with session_scope(server.sf) as s:
        staff_service.create_staff(s, email="joy@clinic.test", display_name="Nurse Joy", role="clinician", password=INBOX_PW)
        staff_service.create_staff(
            s, email="dan@clinic.test", display_name="Dan (front desk)", role="frontdesk", password=INBOX_PW
        )
        p = create_patient(
            s, first_name="Ana", last_name="Lopez", phone="+12015550123", treatments=[{"performed_on": today - timedelta(days=2)}]
        )
        server.chat_token = p.chat_token  # type: ignore[attr-defined]
        server.patient_id = p.id  # type: ignore[attr-defined]
    yield server
    thread.stop()


@pytest.fixture
def watched_page(context):
    """A page that records script errors and CSP violations."""
    pg = context.new_page()
    pg.problems = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.problems.append(f"pageerror: {exc}"))  # type: ignore[attr-defined]

    def on_console(msg):
        if msg.type == "error" or "Content Security Policy" in msg.text:
            pg.problems.append(f"console: {msg.text}")  # type: ignore[attr-defined]

    pg.on("console", on_console)
    yield pg


@pytest.fixture
def phone_page(browser):
    """The nurse on call at 2 am, on her phone (390 x 844)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    yield pg
    ctx.close()
