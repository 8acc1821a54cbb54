from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ContainerDep

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz(container: ContainerDep) -> JSONResponse:
    missing = []
    now = time.monotonic()
    if container.health_ok_until > now:
        return JSONResponse({"status": "ok"})
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        missing.append("database")
    if not await container.assistant.ready():
        missing.append("assistant")
    if missing:
        return JSONResponse({"status": "starting", "missing": missing}, status_code=503)
    screener = container.conversations.screener
    if screener.model is None:
        # still serving (the lexicon screens every message), but staff and monitoring must know
        return JSONResponse({"status": "degraded", "degraded": {"triage_model": screener.status}})
    container.health_ok_until = now + 2.0
    return JSONResponse({"status": "ok"})
