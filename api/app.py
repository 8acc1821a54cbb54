"""The composition root: create_app() builds the FastAPI app and everything it uses.

Nothing is created at import time; tests build apps with fakes at the ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import TimeoutError as SAPoolTimeout

from api import access_log
from api.container import Container
from api.rasa_client import RasaAssistant
from api.routes import health, integration, webchat
from core.clock import SystemClock
from core.conversations import ConversationService
from core.db import make_engine, make_session_factory
from core.ports import Assistant
from core.screening import Screener, load_screener
from core.settings import PROJECT_ROOT, Settings, load_settings
from core.spool import Spool

log = logging.getLogger("aftercare.app")
STATIC_DIR = PROJECT_ROOT / "api" / "static"

Worker = Callable[[Container], Awaitable[None]]


def replay_handler(container: Container) -> Callable[[dict], None]:
    """How one spooled message is stored once the database is back: an SMS consent keyword
    through the SMS channel (it changes the number's consent), anything else through the
    conversation service (stored, red flags escalated, handed to staff)."""

    def handle(record: dict) -> None:
        sms = container.extras.get("sms_channel")
        if sms is not None and sms.replay_spooled(record):
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
        await asyncio.sleep(container.extras.get("spool_interval_s", 3.0))


def _optional_routers() -> list:
    """Routers of the channel/inbox modules."""
    routers = []
    for name in ("api.routes.twilio_sms", "api.routes.widget", "api.inbox.routes", "api.routes.checkins"):
        try:
            module = __import__(name, fromlist=["router"])
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        routers.append(module)
    return routers


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


def create_app(
    settings: Settings | None = None,
    *,
    assistant: Assistant | None = None,
    clock: SystemClock | None = None,
    sms_sender: object | None = None,
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
    )
    container = Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        assistant=assistant,
        clock=clock,
        spool=spool,
        conversations=conversations,
    )
    if sms_sender is not None:
        container.extras["sms_sender"] = sms_sender
    modules = _optional_routers()
    workers: list[Worker] = [_spool_worker]
    for module in modules:
        workers.extend(getattr(module, "WORKERS", []))
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(container)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = (
            [asyncio.create_task(w(container), name=getattr(w, "__name__", "worker")) for w in workers] if start_workers else []
        )
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            close = getattr(assistant, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
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
    origins = sorted({settings.public_url, *settings.allowed_origins})
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
    )
    app.add_exception_handler(SAOperationalError, _database_unavailable)
    app.add_exception_handler(SAInterfaceError, _database_unavailable)
    app.add_exception_handler(SAPoolTimeout, _database_unavailable)
    app.include_router(health.router)
    app.include_router(integration.router)
    app.include_router(webchat.router)
    for module in modules:
        app.include_router(module.router)
        install = getattr(module, "install", None)
        if install is not None:
            install(app, container)  # middleware, exception handlers
    if STATIC_DIR.exists():
        app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
