"""FastAPI dependencies (Annotated aliases)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.container import Container


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_db(container: ContainerDep) -> Iterator[Session]:
    session = container.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]


# Documents the scheme in the OpenAPI schema (``security`` on each integration operation); the check
# itself is below, on the raw header, so a missing or malformed one is the contract's 401, not a 403.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="ApiToken", description="AFTERCARE_API_TOKEN")


def require_api_token(
    request: Request,
    container: ContainerDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    # bytes: compare_digest raises TypeError on a str with a non-ASCII character (a 500, issue 16 item 12)
    given = token.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() != "bearer" or not given or not hmac.compare_digest(given, container.settings.api_token.encode("utf-8")):
        raise HTTPException(status_code=401, detail="missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


ApiToken = Depends(require_api_token)
