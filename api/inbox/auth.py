"""Staff authentication for the inbox: server-side sessions, roles and CSRF.

Use in routes (also by other modules that add staff pages under /inbox)::

    from api.inbox.auth import CurrentStaff, require_role, verify_csrf

    @router.get("/inbox/thing")
    def page(staff: CurrentStaff): ...                      # signed-in staff, any role

    @router.post("/inbox/thing", dependencies=[verify_csrf, require_role("admin")])
    def change(...): ...

``require_role(...)`` and ``verify_csrf`` work both bare in ``dependencies=[...]``
/ ``Annotated[...]`` and wrapped in ``Depends(...)``. A signed-out browser is
redirected to /inbox/login (HTML) or gets 401 (JSON under /inbox/api/).
"""

# No `from __future__ import annotations` here: FastAPI reads these annotations at run time
# from callable objects that have no module globals.

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from sqlalchemy.orm import Session

from api.deps import ContainerDep, SessionDep, get_container
from core import staff as staff_service
from core.clinic import get_clinic
from core.models import StaffSession, StaffUser

COOKIE = "aftercare_staff"
SECURE_COOKIE = "__Host-aftercare_staff"  # __Host-: Secure, Path=/, no Domain
LOGIN_CSRF_COOKIE = "aftercare_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/inbox/login"
DEVICE_COOKIE = "aftercare_device"  # signed: this browser signed in to these accounts before (throttle only)
SECOND_FACTOR_COOKIE = "aftercare_2fa"  # signed, 5 minutes: the password was right, the code is next
ENROL_PATH = "/inbox/account/2fa"
# what an admin without a second factor may reach (everything else sends them to ENROL_PATH)
ENROLMENT_PATHS = frozenset({ENROL_PATH, ENROL_PATH + "/confirm", "/inbox/logout"})


@dataclass(frozen=True)
class StaffView:
    id: str
    email: str
    display_name: str
    role: str
    totp_enabled: bool = False


class LoginRequiredError(Exception):
    """Raised by the auth dependency; turned into a redirect (pages) or 401 (JSON)."""

    def __init__(self, *, json: bool, next_url: str = "", reason: str = "missing") -> None:
        super().__init__(reason)
        self.json = json
        self.next_url = next_url
        self.reason = reason


class EnrolmentRequiredError(Exception):
    """An admin without a second factor asked for anything but its set-up: redirect (pages) or 403 (JSON)."""

    def __init__(self, *, json: bool) -> None:
        super().__init__("two-factor set-up required")
        self.json = json


class ForbiddenError(Exception):
    """A signed-in staff member without the role (403), or a failed CSRF check."""

    def __init__(self, message: str, *, json: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.json = json


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(("/inbox/api/", "/simulator/api/")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def safe_next(target: str | None) -> str:
    """Only a local /inbox path (or the development SMS simulator); anything else (other hosts, //evil) goes to /inbox."""
    if target == "/simulator":
        return target
    if not target or not target.startswith("/inbox") or target.startswith("//") or "\\" in target:
        return "/inbox"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(LOGIN_PATH):
        return "/inbox"
    return target


def login_url(next_url: str = "", reason: str = "") -> str:
    query = []
    if next_url and next_url != "/inbox":
        query.append("next=" + quote(next_url, safe="/"))
    if reason in ("idle", "expired"):
        query.append("why=" + reason)
    return LOGIN_PATH + ("?" + "&".join(query) if query else "")


def _resolve(request: Request, session: Session, container, *, touch: bool) -> StaffUser:
    cached = getattr(request.state, "staff", None)
    if cached is not None:
        return cached
    raw = request.cookies.get(cookie_name(container.settings.secure_cookies))
    rec, user, why = staff_service.load_session(session, cookie_value=raw, now=container.clock.now(), touch=touch)
    if rec is None:
        if why in ("idle", "expired", "inactive"):
            session.commit()  # the session ends for good, even though this request fails
        path = request.url.path + (("?" + request.url.query) if request.url.query else "")
        raise LoginRequiredError(json=wants_json(request), next_url=path if request.method == "GET" else "", reason=why)
    if user.role == "admin" and not user.totp_enabled and request.url.path not in ENROLMENT_PATHS:
        # admins need a second factor (NIST 800-63B AAL2, ASVS 2.2.3): until it is set up their
        # session reaches nothing but the set-up page and sign-out
        session.commit()  # the session's activity stamp
        raise EnrolmentRequiredError(json=wants_json(request))
    request.state.staff = user
    # a plain copy for templates, usable after the database session has closed (error pages)
    request.state.staff_view = StaffView(
        id=user.id, email=user.email, display_name=user.display_name, role=user.role, totp_enabled=user.totp_enabled
    )
    request.state.staff_session = rec
    request.state.csrf_token = rec.csrf_token
    clinic = get_clinic(session)
    request.state.clinic_name = clinic.name
    request.state.clinic_tz = clinic.timezone
    request.state.oncall_missing = not clinic.oncall_phone
    return user


def current_staff(request: Request, session: SessionDep, container: ContainerDep) -> StaffUser:
    """The signed-in staff member (this request counts as activity for the idle timeout)."""
    return _resolve(request, session, container, touch=True)


def current_staff_polling(request: Request, session: SessionDep, container: ContainerDep) -> StaffUser:
    """For background polling: only counts as activity when the page says a person is there
    (``?active=1``), so an unattended screen still signs out after the idle timeout."""
    return _resolve(request, session, container, touch=request.query_params.get("active") == "1")


CurrentStaff = Annotated[StaffUser, Depends(current_staff)]
PollingStaff = Annotated[StaffUser, Depends(current_staff_polling)]


def current_session(request: Request) -> StaffSession | None:
    return getattr(request.state, "staff_session", None)


class _RequireRole(DependsParam):
    """``require_role("admin")``: usable as ``dependencies=[...]``, in ``Annotated`` or in ``Depends()``."""

    def __init__(self, roles: tuple) -> None:
        self.roles = roles
        super().__init__(dependency=self.__call__, use_cache=True)

    def __call__(self, request: Request, staff: CurrentStaff) -> StaffUser:
        if staff.role not in self.roles:
            raise ForbiddenError(f"This page needs the {' or '.join(self.roles)} role.", json=wants_json(request))
        return staff


def require_role(*roles: str) -> _RequireRole:
    for role in roles:
        if role not in staff_service.ROLES:
            raise ValueError(f"unknown role {role!r}")
    return _RequireRole(tuple(roles))


def _same_origin(request: Request, container) -> bool:
    """Refuse requests a browser marks as coming from another site.

    ``Sec-Fetch-Site`` is sent by current browsers whatever the referrer policy; ``Origin``
    is checked when it carries one (with ``Referrer-Policy: no-referrer`` browsers send
    ``Origin: null`` even for our own forms, so "null" says nothing). The CSRF token is
    the main defence; this is a second one.
    """
    if request.headers.get("sec-fetch-site", "") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    ours = {f"{request.url.scheme}://{request.url.netloc}"}
    public = container.settings.public_url
    if public:
        p = urlsplit(public)
        ours.add(f"{p.scheme}://{p.netloc}")
    return origin.rstrip("/") in ours


async def _submitted_token(request: Request) -> str:
    token = request.headers.get(CSRF_HEADER, "")
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request; the route reads the same form
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


class _VerifyCsrf(DependsParam):
    """Every state-changing request of a signed-in staff member carries the session's CSRF
    token (hidden form field ``csrf_token`` or header ``X-CSRF-Token``); otherwise 403."""

    def __init__(self) -> None:
        super().__init__(dependency=self.__call__, use_cache=True)

    async def __call__(self, request: Request, staff: CurrentStaff, container: ContainerDep) -> None:
        expected = getattr(request.state, "csrf_token", "") or ""
        submitted = await _submitted_token(request)
        if not expected or not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
            raise ForbiddenError(
                "The form had expired or did not come from this site. Go back, reload the page and try again.",
                json=wants_json(request),
            )
        if not _same_origin(request, container):
            raise ForbiddenError("The request did not come from this site.", json=wants_json(request))


verify_csrf = _VerifyCsrf()


# ------------------------------------------------------------------ login-form CSRF
def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


async def check_login_csrf(request: Request) -> bool:
    """The sign-in form (no session yet) uses a double-submit cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    submitted = await _submitted_token(request)
    container = get_container(request)
    return bool(cookie and submitted and hmac.compare_digest(cookie.encode(), submitted.encode())) and _same_origin(
        request, container
    )
