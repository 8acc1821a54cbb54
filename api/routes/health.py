from __future__ import annotations

import asyncio
import time
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import text

from api.deps import ContainerDep
from api.schemas import ApiModel
from core.clinic import get_clinic
from core.db import session_scope

router = APIRouter()


class Alive(ApiModel):
    status: Literal["alive"]


class Ready(ApiModel):
    status: Literal["ok", "degraded"]
    degraded: dict[str, str] | None = Field(None, description="what is degraded (the learned red-flag model is off)")


class NotReady(ApiModel):
    status: Literal["starting"]
    missing: list[Literal["database", "assistant", "oncall_contacts"]]


def _database_ok(container) -> bool:
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _oncall_set(container) -> bool:
    with session_scope(container.session_factory) as s:
        return bool(get_clinic(s).oncall_phone)


@router.get("/healthz/live", tags=["health"], response_model=Alive)
async def live() -> JSONResponse:
    """Liveness: the process answers. Stays up while Rasa or the database is down, so a load balancer
    or supervisor never pulls the one part that can still screen, escalate and answer safely
    (readiness, with what is degraded, is /healthz)."""
    return JSONResponse({"status": "alive"})


@router.get(
    "/healthz",
    tags=["health"],
    response_model=Ready,
    responses={503: {"model": NotReady, "description": "Not ready: what is missing (docs/api.md)"}},
)
async def healthz(container: ContainerDep) -> JSONResponse:
    missing = []
    now = time.monotonic()
    if container.health_ok_until > now:
        return JSONResponse({"status": "ok"})
    # the database checks run in a thread: on the event loop, a SELECT waiting for SQLite's write lock
    # (up to its 15 s busy timeout) stalled every request, including the one holding the lock, whose
    # commit needs the loop; /healthz then said "database" missing (found by make fuzz)
    if not await asyncio.to_thread(_database_ok, container):
        missing.append("database")
    if not await container.assistant.ready():
        missing.append("assistant")
    if (
        not container.settings.is_development
        and "database" not in missing
        and not await asyncio.to_thread(_oncall_set, container)
    ):
        # a production clinic whose red-flag alerts would reach nobody is not ready (the service still
        # answers patients and the inbox, where an admin sets the on-call contacts)
        missing.append("oncall_contacts")
    if missing:
        return JSONResponse({"status": "starting", "missing": missing}, status_code=503)
    screener = container.conversations.screener
    if screener.model is None:
        # still serving (the lexicon screens every message), but staff and monitoring must know
        return JSONResponse({"status": "degraded", "degraded": {"triage_model": screener.status}})
    container.health_ok_until = now + 2.0
    return JSONResponse({"status": "ok"})
