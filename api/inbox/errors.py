"""What a signed-out or unauthorised staff request gets: the exception handlers of the inbox's
auth errors (create_app installs them)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.inbox import auth
from api.inbox.auth import EnrolmentRequiredError, ForbiddenError, LoginRequiredError
from api.inbox.templating import render


async def login_required(request: Request, exc: LoginRequiredError) -> Response:
    if exc.json:
        return JSONResponse({"detail": "sign in required"}, status_code=401, headers={"Cache-Control": "no-store"})
    response = RedirectResponse(auth.login_url(exc.next_url, exc.reason), status_code=303)
    if exc.reason != "missing":
        response.delete_cookie(auth.cookie_name(request.app.state.container.settings.secure_cookies), path="/")
    return response


async def forbidden(request: Request, exc: ForbiddenError) -> Response:
    if exc.json:
        return JSONResponse({"detail": exc.message}, status_code=403)
    return render(request, "error.html", {"title": "Not allowed", "message": exc.message}, status_code=403)


async def enrolment_required(request: Request, exc: EnrolmentRequiredError) -> Response:
    if exc.json:
        return JSONResponse({"detail": "two-factor set-up required"}, status_code=403)
    return RedirectResponse(auth.ENROL_PATH + "?required=1", status_code=303)
