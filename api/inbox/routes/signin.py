"""Sign-in and sign-out: the login form (with its own double-submit CSRF cookie), the second
factor (a TOTP code) when the account has one, and the throttle on failed attempts (per account,
client address and device: core.signin_throttle). Failed and throttled attempts are audited."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import ContainerDep, SessionDep
from api.inbox import auth
from api.inbox.auth import CurrentStaff, current_session, safe_next
from api.inbox.routes.common import CSRF, audit_action, go
from api.inbox.templating import render
from core import signin_throttle as throttle
from core import staff as staff_service
from core import totp
from core.models import Clinic

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE_PATH = auth.LOGIN_PATH  # the sign-in cookies go only to /inbox/login and /inbox/login/code
CODE_PATH = auth.LOGIN_PATH + "/code"


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
        path=LOGIN_COOKIE_PATH,
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


def _client_ip(request: Request) -> str:
    """The address the request came from. Behind a trusted reverse proxy the app's proxy middleware
    has already replaced it with the X-Forwarded-For client (only from AFTERCARE_TRUSTED_PROXIES,
    loopback by default); the header itself is never read here."""
    return (request.client.host if request.client else "") or "unknown"


def _throttled(request: Request, container, session: Session, verdict, *, next: str, email: str, user_id: str) -> Response:
    audit_action(session, None, "auth.throttled", "staff", user_id, detail=f"limit={verdict.limit}")
    session.commit()
    wait = f"{verdict.minutes} minute{'s' if verdict.minutes != 1 else ''}"
    messages = {
        "pair": f"Too many failed attempts for this account from this network. Try again in {wait}.",
        "ip": f"Too many failed sign-in attempts from this network. Try again in {wait}.",
        "account": (
            f"Too many failed attempts for this account. Try again in {wait}, or sign in from a device "
            "you have signed in from before."
        ),
        "device": f"Too many failed attempts from this browser. Try again in {wait}.",
    }
    response = _login_form(request, container, next=next, email=email, status=429, error=messages[verdict.limit], session=session)
    response.headers["Retry-After"] = str(verdict.retry_after)
    return response


def _signed_in(request: Request, session: Session, container, user, *, next: str, device: str | None) -> Response:
    """Every factor passed: a new session, the device cookie, and off to the page asked for."""
    now = container.clock.now()
    settings = container.settings
    ip = _client_ip(request)
    staff_service.complete_sign_in(session, user, client_ip=ip, device=device, now=now)
    # a new sign-in always gets a new session; a session this browser still held ends
    previous = request.cookies.get(auth.cookie_name(settings.secure_cookies))
    if previous:
        old_rec, _, _ = staff_service.load_session(session, cookie_value=previous, now=now, touch=False)
        staff_service.end_session(session, old_rec, now=now)
    raw, rec = staff_service.start_session(session, staff=user, now=now)
    audit_action(session, user, "auth.login", "staff", user.id, detail="totp" if user.totp_enabled else "password")
    session.commit()
    target = safe_next(next)
    if user.role == "admin" and not user.totp_enabled:
        target = auth.ENROL_PATH  # admins set up their second factor before anything else
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.cookie_name(settings.secure_cookies),
        raw,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    device_cookie = throttle.add_device(
        request.cookies.get(auth.DEVICE_COOKIE), staff_id=user.id, secret=settings.secret_key, now=now
    )
    response.set_cookie(
        auth.DEVICE_COOKIE,
        device_cookie,
        max_age=int(throttle.DEVICE_TTL.total_seconds()),
        path=LOGIN_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=LOGIN_COOKIE_PATH)
    response.delete_cookie(auth.SECOND_FACTOR_COOKIE, path=LOGIN_COOKIE_PATH)
    return response


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
    settings = container.settings
    attempt = staff_service.attempt_sign_in(
        session,
        email=email,
        password=password[: staff_service.MAX_PASSWORD * 8],
        client_ip=_client_ip(request),
        device_cookie=request.cookies.get(auth.DEVICE_COOKIE),
        secret=settings.secret_key,
        now=now,
    )
    existing = staff_service.by_email(session, email) if email else None
    if attempt.throttled is not None:
        return _throttled(
            request, container, session, attempt.throttled, next=next, email=email, user_id=existing.id if existing else ""
        )
    user = attempt.user
    if user is None:
        # what was typed is recorded only when it names an account (people type passwords into the email box)
        audit_action(
            session,
            None,
            "auth.login_failed",
            "staff",
            existing.id if existing else "",
            detail="" if existing else "unknown account",
        )
        session.commit()
        return _login_form(
            request,
            container,
            next=next,
            email=email,
            status=401,
            error="Wrong email or password.",
            session=session,
        )
    if user.totp_enabled:
        session.commit()  # a rehashed password is kept
        ticket = staff_service.second_factor_ticket(user, secret=settings.secret_key, now=now)
        target = CODE_PATH + (f"?next={quote(safe_next(next), safe='/')}" if next else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            auth.SECOND_FACTOR_COOKIE,
            ticket,
            max_age=int(staff_service.SECOND_FACTOR_TTL.total_seconds()),
            path=LOGIN_COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
        )
        return response
    return _signed_in(request, session, container, user, next=next, device=attempt.device)


# ------------------------------------------------------------------ second factor
def _code_form(request: Request, container, session: Session, *, next: str = "", error: str = "", status: int = 200) -> Response:
    token = auth.new_login_csrf()
    request.state.clinic_name = getattr(request.state, "clinic_name", None) or _public_clinic_name(request, session)
    response = render(
        request,
        "login_code.html",
        {"csrf_token": token, "next": safe_next(next) if next else "", "code_error": error, "staff": None},
        status_code=status,
    )
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=LOGIN_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=container.settings.secure_cookies,
    )
    return response


def _ticket_user(request: Request, session: Session, container):
    return staff_service.read_second_factor_ticket(
        session,
        request.cookies.get(auth.SECOND_FACTOR_COOKIE),
        secret=container.settings.secret_key,
        now=container.clock.now(),
    )


def _start_over(request: Request, container, session: Session, next: str) -> Response:
    response = _login_form(
        request,
        container,
        next=next,
        why="",
        error="The sign-in took too long or was not finished. Enter your email and password again.",
        status=401,
        session=session,
    )
    response.delete_cookie(auth.SECOND_FACTOR_COOKIE, path=LOGIN_COOKIE_PATH)
    return response


@router.get(CODE_PATH)
def code_page(request: Request, session: SessionDep, container: ContainerDep, next: str = "") -> Response:
    if _ticket_user(request, session, container) is None:
        return RedirectResponse(auth.login_url(safe_next(next) if next else ""), status_code=303)
    return _code_form(request, container, session, next=next)


@router.post(CODE_PATH)
def code_submit(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    csrf_ok: bool = Depends(auth.check_login_csrf),
    code: str = Form(""),
    next: str = Form(""),
) -> Response:
    if not csrf_ok:
        return _code_form(request, container, session, next=next, error="The form expired. Please try again.", status=403)
    user = _ticket_user(request, session, container)
    if user is None:
        return _start_over(request, container, session, next)
    now = container.clock.now()
    ip = _client_ip(request)
    device = throttle.device_for(
        request.cookies.get(auth.DEVICE_COOKIE), staff_id=user.id, secret=container.settings.secret_key, now=now
    )
    verdict = throttle.check(session, email=user.email, client_ip=ip, device=device, now=now)
    if not verdict.allowed:
        return _throttled(request, container, session, verdict, next=next, email=user.email, user_id=user.id)
    if not totp.verify(session, user, code, now=now):
        throttle.record_failure(session, email=user.email, client_ip=ip, device=device, now=now, kind="totp")
        audit_action(session, None, "auth.second_factor_failed", "staff", user.id)
        session.commit()
        return _code_form(
            request,
            container,
            session,
            next=next,
            status=401,
            error="That code is not right, or was already used. Type the code your app shows now.",
        )
    return _signed_in(request, session, container, user, next=next, device=device)


@router.post("/inbox/logout", dependencies=[CSRF])
def logout(request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep) -> Response:
    staff_service.end_session(session, current_session(request), now=container.clock.now())
    audit_action(session, staff, "auth.logout", "staff", staff.id)
    session.commit()
    response = go("/inbox/login", done="signed_out")
    response.delete_cookie(auth.cookie_name(container.settings.secure_cookies), path="/")
    return response
