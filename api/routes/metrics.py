"""GET /metrics: Prometheus metrics for operators (api/metrics.py says what is counted).

Scraped per replica from inside the network. Access:

- ``AFTERCARE_METRICS_TOKEN`` set: ``Authorization: Bearer <token>`` is required (401 otherwise);
- unset in development (and tests): open, for a local Prometheus or a look with curl;
- unset elsewhere: 404, as if there were no such page (the figures describe the clinic's
  workload; nothing is served to whoever can reach the port).

Not in the OpenAPI schema: it is not JSON and not part of the public HTTP contract (docs/api.md).
"""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import ContainerDep
from api.metrics import Metrics

router = APIRouter(include_in_schema=False)


def _allowed(request: Request, token: str) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    # bytes: compare_digest raises TypeError on a str with a non-ASCII character
    given_bytes = given.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() != "bearer" or not given_bytes or not hmac.compare_digest(given_bytes, token.encode("utf-8")):
        raise HTTPException(status_code=401, detail="missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics")
async def prometheus_metrics(request: Request, container: ContainerDep) -> Response:
    settings = container.settings
    if settings.metrics_token:
        _allowed(request, settings.metrics_token)
    elif not settings.is_development:
        raise HTTPException(status_code=404, detail="Not Found")
    metrics: Metrics = request.app.state.metrics
    # off the event loop: the scrape reads the database (with its own time limit, never raising)
    body = await asyncio.to_thread(metrics.render)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
