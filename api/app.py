"""The composition root: create_app() builds the FastAPI app and everything it uses.

Every part is always present and wired here by name: the container's fields, the routers, the
inbox's error pages and static files, and the background workers (BACKGROUND_WORKERS).
Nothing is created at import time; tests build apps with fakes at the ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import TimeoutError as SAPoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import access_log
from api.container import Container
from api.inbox import errors as inbox_errors
from api.inbox import routes as inbox
from api.inbox.auth import EnrolmentRequiredError, ForbiddenError, LoginRequiredError
from api.inbox.templating import HERE as INBOX_DIR
from api.limits import BodySizeLimit
from api.metrics import make_metrics
from api.rasa_client import RasaAssistant
from api.routes import checkins, health, integration, metrics, twilio_sms, webchat, widget
from api.schemas import finish_openapi
from api.security import install_security_headers
from api.sms.media_fetcher import make_fetcher
from api.sms.twilio_sender import make_sender
from core import media, paging
from core.clock import SystemClock
from core.conversations import ConversationService
from core.db import make_engine, make_session_factory, session_scope
from core.ports import Assistant, SmsSender
from core.screening import Screener, load_screener
from core.settings import PROJECT_ROOT, Settings, load_settings
from core.sms import SmsChannel
from core.spool import Spool
from core.turn_lock import turn_locks_for

log = logging.getLogger("aftercare.app")
STATIC_DIR = PROJECT_ROOT / "api" / "static"

Worker = Callable[[Container], Awaitable[None]]


def replay_handler(container: Container) -> Callable[[dict], None]:
    """How one spooled message is stored once the database is back: an SMS consent keyword
    through the SMS channel (it changes the number's consent), anything else through the
    conversation service (stored, red flags escalated, handed to staff)."""

    def handle(record: dict) -> None:
        if container.sms_channel.replay_spooled(record):
            return
        container.conversations.replay_spooled(record)

    return handle


async def _spool_worker(container: Container) -> None:
    """Replay messages that arrived while the database was down, until they are stored."""
    handle = replay_handler(container)
    while True:
        try:
            if container.spool.pending():
                done = await asyncio.to_thread(container.spool.drain, handle)
                if done:
                    log.warning("replayed %d spooled message(s) into the database", done)
        except Exception:  # keep retrying; never die
            log.exception("spool replay failed; will retry")
        await asyncio.sleep(container.spool_interval_s)


def repeat_pages_once(container: Container) -> int:
    with session_scope(container.session_factory) as s:
        return paging.run_repeats(s, public_url=container.settings.public_url)


async def _paging_worker(container: Container) -> None:
    """Page on-call again for every urgent/emergency escalation nobody has acknowledged yet."""
    while True:
        try:
            if await asyncio.to_thread(repeat_pages_once, container):
                sms_runtime = container.sms_runtime
                if sms_runtime is not None:
                    sms_runtime.wakeup.set()  # send the pages now, not at the dispatcher's next tick
        except Exception:  # keep paging; never die
            log.exception("repeat paging failed; will retry")
        await asyncio.sleep(container.paging_interval_s)


def fetch_media_once(container: Container) -> int:
    """Fetch the photos patients sent (outside any transaction), then keep them."""
    if container.media_fetcher is None:
        return 0
    with session_scope(container.session_factory) as s:
        todo = media.pending(s)
    stored = 0
    for media_id, url in todo:
        result = media.fetch(url, container.media_fetcher)
        with session_scope(container.session_factory) as s:
            stored += media.record(s, media_id, result) == "stored"
    return stored


async def _media_worker(container: Container) -> None:
    """Fetch MMS photos so staff can see them in the inbox."""
    while True:
        try:
            await asyncio.to_thread(fetch_media_once, container)
        except Exception:  # keep trying; never die
            log.exception("fetching photos failed; will retry")
        await asyncio.sleep(container.media_interval_s)


# what runs in the app's lifespan (create_app(start_workers=False) runs none of them)
BACKGROUND_WORKERS: tuple[Worker, ...] = (
    _spool_worker,  # replay messages spooled while the database was down
    _paging_worker,  # repeat on-call pages until someone acknowledges
    _media_worker,  # fetch the photos patients send by MMS
    twilio_sms.sms_dispatch_worker,  # send the outbox
    twilio_sms.sms_recovery_worker,  # answer inbound SMS stored but never answered
    checkins.checkin_worker,  # queue the proactive check-ins that are due
)


RETRY_AFTER_S = 5


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is briefly unreachable: 503 with Retry-After, not a 500 (paths that receive a
    patient's message screen and spool it instead, and never get here)."""
    log.error("database unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse(
        {"detail": "The service is briefly unavailable. Please try again in a few seconds."},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own answer, except that a 405's ``Allow`` names every method of the path: Starlette
    names only those of the first route that matched it (``Allow: POST`` where GET works too)."""
    if exc.status_code == 405:
        methods: set[str] = set()
        for route in request.app.router.routes:
            if getattr(route, "methods", None) and route.matches(request.scope)[0] != Match.NONE:
                methods |= route.methods
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(request, exc)


def create_app(
    settings: Settings | None = None,
    *,
    assistant: Assistant | None = None,
    clock: SystemClock | None = None,
    sms_sender: SmsSender | None = None,
    start_workers: bool = True,
    screener: Screener | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    access_log.install()
    engine = make_engine(settings.database_url)
    clock = clock or SystemClock(settings.clinic_timezone)
    session_factory = make_session_factory(engine, clock)
    assistant = assistant or RasaAssistant(
        rasa_url=settings.rasa_url, action_url=settings.action_url, timeout_s=settings.rasa_timeout_s, token=settings.rasa_token
    )
    spool = Spool(settings.data_dir / "spool" / "inbound.jsonl")
    conversations = ConversationService(
        session_factory=session_factory,
        assistant=assistant,
        clock=clock,
        spool=spool,
        assistant_timeout_s=settings.rasa_timeout_s,
        public_url=settings.public_url,
        # the red-flag screen: the lexicon, raised by the learned model (loaded once per process)
        screener=screener or load_screener(settings.triage_model, settings.triage_threads),
        # one turn at a time per conversation: advisory locks on PostgreSQL (every replica), else in-process
        turn_locks=turn_locks_for(settings.database_url, wait_s=2 * settings.rasa_timeout_s + 15),
    )
    sender = sms_sender if sms_sender is not None else make_sender(settings)
    # while the database is down, on-call is paged through the sender directly (no outbox row)
    conversations.pager = lambda to, body: sender.send(to=to, body=body)
    sms_channel = SmsChannel(
        session_factory=session_factory,
        conversations=conversations,
        clock=clock,
        # a turn still "processing" after this long was interrupted: the recovery sweep answers it
        processing_lease_s=max(60.0, 2 * settings.rasa_timeout_s + 15),
        screener=conversations.screener,
    )
    container = Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        assistant=assistant,
        clock=clock,
        spool=spool,
        conversations=conversations,
        sms_sender=sender,
        sms_channel=sms_channel,
        # photos are fetched with the Twilio account's credentials; without Twilio there is nothing to fetch from
        media_fetcher=make_fetcher(settings) if settings.twilio_enabled else None,
        chat_sessions_per_hour=settings.chat_sessions_per_hour,
        chat_client_messages_per_minute=settings.chat_client_messages_per_minute,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(w(container), name=w.__name__) for w in BACKGROUND_WORKERS] if start_workers else []
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            if isinstance(assistant, RasaAssistant):  # its HTTP client (fakes have nothing to close)
                with contextlib.suppress(Exception):
                    await assistant.aclose()
            conversations.turn_locks.close()
            engine.dispose()

    app = FastAPI(
        title="Aftercare assistant",
        version="0.1.0",
        lifespan=lifespan,
        # the interactive docs (which load scripts from a CDN) and the schema only outside production
        docs_url="/docs" if settings.is_development else None,
        openapi_url="/openapi.json" if settings.is_development else None,
        redoc_url=None,
    )
    app.state.container = container
    app.state.metrics = make_metrics(container)  # GET /metrics; counts the container's turns from here on
    conversations.turn_locks.on_wait = app.state.metrics.observe_lock_wait  # how long turns queue per conversation
    default_openapi = app.openapi

    def openapi() -> dict:
        return finish_openapi(default_openapi())  # cached by FastAPI; finishing it twice changes nothing

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(StarletteHTTPException, _http_error)
    origins = sorted({settings.public_url, *settings.allowed_origins})
    app.add_middleware(BodySizeLimit)  # 413 before any route reads an oversized body
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Idempotency-Key"],  # the widget names each message it may retry
        allow_credentials=False,
    )
    # outermost: the real client address from X-Forwarded-For, only when the peer is a trusted proxy
    # (uvicorn's own middleware, configured from our settings; `make run` turns uvicorn's default off)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_exception_handler(SAOperationalError, _database_unavailable)
    app.add_exception_handler(SAInterfaceError, _database_unavailable)
    app.add_exception_handler(SAPoolTimeout, _database_unavailable)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(integration.router)
    app.include_router(webchat.router)
    app.include_router(twilio_sms.router)
    app.include_router(widget.router)
    app.include_router(inbox.router)
    # the staff inbox: security headers on every response, its static files, its sign-in and 403 pages
    install_security_headers(app, hsts=settings.secure_cookies)
    app.mount("/inbox/static", StaticFiles(directory=str(INBOX_DIR / "static")), name="inbox-static")
    app.add_exception_handler(LoginRequiredError, inbox_errors.login_required)
    app.add_exception_handler(ForbiddenError, inbox_errors.forbidden)
    app.add_exception_handler(EnrolmentRequiredError, inbox_errors.enrolment_required)
    app.include_router(checkins.router)
    if STATIC_DIR.exists():
        app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
