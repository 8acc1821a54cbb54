"""Sign-in and sign-out: the login form (with its own double-submit CSRF cookie); failed
attempts and lock-outs are audited."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import ContainerDep, SessionDep
from api.inbox import auth
from api.inbox.auth import CurrentStaff, current_session, safe_next
from api.inbox.routes.common import CSRF, audit_action, go
from api.inbox.templating import render
from core import staff as staff_service
from core.models import Clinic

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------------- sign in
@router.get("/inbox/login")
def login_page(request: Request, session: SessionDep, container: ContainerDep, next: str = "", why: str = "") -> Response:
    settings = container.settings
    raw = request.cookies.get(auth.cookie_name(settings.secure_cookies))
    if raw:
        rec, user, _ = staff_service.load_session(session, cookie_value=raw, now=container.clock.now(), touch=False)
        if rec is not None:
            return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, container, next=next, why=why, session=session)


def _login_form(
    request: Request,
    container,
    *,
    next: str = "",
    why: str = "",
    error: str = "",
    email: str = "",
    status: int = 200,
    session: Session | None = None,
) -> Response:
    token = auth.new_login_csrf()
    request.state.clinic_name = getattr(request.state, "clinic_name", None) or _public_clinic_name(request, session)
    notices = {
        "idle": "You were signed out after 30 minutes without activity. Sign in again.",
        "expired": "Your session ended (12 hours). Sign in again.",
    }
    response = render(
        request,
        "login.html",
        {
            "csrf_token": token,
            "next": safe_next(next) if next else "",
            "why": notices.get(why),
            "login_error": error,
            "email": email,
            "staff": None,
        },
        status_code=status,
    )
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/inbox/login",
        httponly=True,
        samesite="strict",
        secure=container.settings.secure_cookies,
    )
    return response


def _public_clinic_name(request: Request, session: Session | None = None) -> str:
    """The clinic's name for the sign-in page (public information).

    Read through the request's own session when it has one: a second session would wait behind
    the first one's SQLite write lock (BEGIN IMMEDIATE) for the whole busy timeout, which is how a
    junk cookie on GET /inbox/login used to freeze the database for 15 s."""
    try:
        if session is not None:
            clinic = session.get(Clinic, 1)  # read only: never create the row from a public page
            return clinic.name if clinic is not None else "Aftercare"
        with request.app.state.container.session_factory() as s:
            clinic = s.get(Clinic, 1)
            return clinic.name if clinic is not None else "Aftercare"
    except Exception:  # the sign-in page must render even if the database is struggling
        return "Aftercare"


@router.post("/inbox/login")
def login(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    csrf_ok: bool = Depends(auth.check_login_csrf),
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
) -> Response:
    email = email.strip()[:200]
    if not csrf_ok:
        return _login_form(
            request,
            container,
            next=next,
            error="The sign-in form expired. Please try again.",
            email=email,
            status=403,
            session=session,
        )
    now = container.clock.now()
    user = staff_service.authenticate(session, email=email, password=password[:1024], now=now)
    if user is None:
        existing = staff_service.by_email(session, email) if email else None
        # what was typed is recorded only when it names an account (people type passwords into the email box)
        audit_action(
            session,
            None,
            "auth.login_failed",
            "staff",
            existing.id if existing else "",
            detail="" if existing else "unknown account",
        )
        if existing is not None and staff_service.is_locked(existing, now):
            audit_action(session, None, "auth.locked_out", "staff", existing.id)
        session.commit()
        return _login_form(
            request,
            container,
            next=next,
            email=email,
            status=401,
            error="Wrong email or password, or the account is locked. After 5 failed attempts an account is locked for 15 minutes.",
            session=session,
        )
    # a new sign-in always gets a new session; a session this browser still held ends
    previous = request.cookies.get(auth.cookie_name(container.settings.secure_cookies))
    if previous:
        old_rec, _, _ = staff_service.load_session(session, cookie_value=previous, now=now, touch=False)
        staff_service.end_session(session, old_rec, now=now)
    raw, rec = staff_service.start_session(session, staff=user, now=now)
    audit_action(session, user, "auth.login", "staff", user.id)
    session.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        auth.cookie_name(container.settings.secure_cookies),
        raw,
        path="/",
        httponly=True,
        samesite="lax",
        secure=container.settings.secure_cookies,
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/inbox/login")
    return response


@router.post("/inbox/logout", dependencies=[CSRF])
def logout(request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep) -> Response:
    staff_service.end_session(session, current_session(request), now=container.clock.now())
    audit_action(session, staff, "auth.logout", "staff", staff.id)
    session.commit()
    response = go("/inbox/login", done="signed_out")
    response.delete_cookie(auth.cookie_name(container.settings.secure_cookies), path="/")
    return response
