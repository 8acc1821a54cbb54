"""Staff accounts: one's own password and second factor (TOTP set-up), and (admins) the staff
list, new accounts, role, activation, lifting the sign-in throttle, password and second-factor reset."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import ContainerDep, SessionDep
from api.inbox import auth
from api.inbox.auth import CurrentStaff, current_session
from api.inbox.routes.common import CSRF, Admin, audit_action, go, not_found
from api.inbox.templating import render
from core import signin_throttle as throttle
from core import staff as staff_service
from core import totp
from core.models import StaffUser

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------------ account
@router.get("/inbox/account")
def account_page(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "account.html", {"form_error": None})


@router.post("/inbox/account/password", dependencies=[CSRF])
def change_password(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    container: ContainerDep,
    current: str = Form(""),
    new: str = Form(""),
    repeat: str = Form(""),
) -> Response:
    problem = None
    if new != repeat:
        problem = "The two new passwords differ."
    else:
        try:
            rec = current_session(request)
            staff_service.change_own_password(
                session, staff, current=current, new=new, now=container.clock.now(), keep_session_id=rec.id if rec else None
            )
        except staff_service.StaffError as exc:
            problem = str(exc).capitalize() + "."
    if problem:
        return render(request, "account.html", {"form_error": problem}, status_code=422)
    audit_action(session, staff, "staff.password_change", "staff", staff.id)
    return go("/inbox/account", done="password_changed")


# ------------------------------------------------------------ second factor (TOTP)
def _enrol_page(request: Request, staff: StaffUser, session, *, error: str = "", status: int = 200) -> Response:
    context: dict = {"form_error": error, "required": staff.role == "admin", "enabled": staff.totp_enabled}
    if not staff.totp_enabled:
        secret = totp.begin_enrolment(staff)
        session.commit()  # the same secret across reloads until it is confirmed
        clinic = getattr(request.state, "clinic_name", "") or "Aftercare"
        uri = totp.provisioning_uri(secret, email=staff.email, issuer=f"{clinic} inbox")
        context.update({"secret": totp.grouped(secret), "uri": uri, "qr_svg": totp.qr_svg(uri)})
    response = render(request, "account_2fa.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # the page shows the secret
    return response


@router.get(auth.ENROL_PATH)
def second_factor_page(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    return _enrol_page(request, staff, session)


@router.post(auth.ENROL_PATH + "/confirm", dependencies=[CSRF])
def second_factor_confirm(
    request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep, code: str = Form("")
) -> Response:
    now = container.clock.now()
    try:
        totp.confirm_enrolment(session, staff, code, now=now)
    except totp.TotpError as exc:
        audit_action(session, staff, "staff.totp_enrol_failed", "staff", staff.id)
        session.commit()
        return _enrol_page(request, staff, session, error=str(exc).capitalize() + ".", status=422)
    rec = current_session(request)
    ended = staff_service.end_all_sessions(session, staff_id=staff.id, now=now, keep_id=rec.id if rec else None)
    audit_action(session, staff, "staff.totp_enabled", "staff", staff.id, detail=f"other_sessions_ended={ended}")
    return go("/inbox/account", done="totp_enabled")


@router.post(auth.ENROL_PATH + "/disable", dependencies=[CSRF])
def second_factor_disable(
    request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep, current: str = Form("")
) -> Response:
    """Staff other than admins may turn their second factor off, with their password."""
    if staff.role == "admin":
        return _enrol_page(request, staff, session, error="Admins must keep two-factor sign-in on.", status=422)
    if not staff_service.password_matches(staff, current):
        audit_action(session, staff, "staff.totp_disable_failed", "staff", staff.id)
        session.commit()
        return _enrol_page(request, staff, session, error="The password is wrong.", status=422)
    totp.reset(staff)
    audit_action(session, staff, "staff.totp_disabled", "staff", staff.id)
    return go("/inbox/account", done="totp_disabled")


# ------------------------------------------------------------------ staff (admins)
@router.get("/inbox/staff", dependencies=[Admin])
def staff_page(request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep) -> Response:
    audit_action(session, staff, "staff.list", "staff", "*")
    return render(request, "staff.html", _staff_context(session, container.clock.now()))


def _staff_context(session, now, *, error: str | None = None, form: dict | None = None) -> dict:
    users = staff_service.list_staff(session)
    return {
        "users": users,
        "roles": staff_service.ROLES,
        "failures": {u.id: throttle.recent_failures(session, email=u.email, now=now) for u in users},
        "form_error": error,
        "form": form or {},
        "min_password": staff_service.MIN_PASSWORD,
    }


@router.post("/inbox/staff", dependencies=[CSRF, Admin])
def create_staff(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    container: ContainerDep,
    email: str = Form(""),
    display_name: str = Form(""),
    role: str = Form("frontdesk"),
    password: str = Form(""),
) -> Response:
    try:
        with session.begin_nested():
            user = staff_service.create_staff(
                session, email=email[:200], display_name=display_name[:200], role=role, password=password
            )
    except staff_service.StaffError as exc:
        context = _staff_context(
            session,
            container.clock.now(),
            error=str(exc).capitalize() + ".",
            form={"email": email, "display_name": display_name, "role": role},
        )
        return render(request, "staff.html", context, status_code=422)
    audit_action(session, staff, "staff.create", "staff", user.id, detail=f"role={user.role}")
    return go("/inbox/staff", done="staff_created")


@router.post("/inbox/staff/{user_id}", dependencies=[CSRF, Admin])
def update_staff(
    user_id: str,
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    container: ContainerDep,
    action: str = Form(""),
    role: str = Form(""),
    password: str = Form(""),
) -> Response:
    user = session.get(StaffUser, user_id[:32])
    if user is None:
        return not_found(request, "staff member")
    now = container.clock.now()
    try:
        if action == "role":
            staff_service.set_role(session, user, role)
            detail = f"role={role}"
        elif action == "deactivate":
            staff_service.set_active(session, user, False, now=now)
            detail = "active=no"
        elif action == "activate":
            staff_service.set_active(session, user, True, now=now)
            detail = "active=yes"
        elif action == "clear_throttle":
            detail = f"throttle_cleared={staff_service.clear_throttle(session, user)}"
        elif action == "reset_totp":
            had = staff_service.reset_second_factor(session, user, now=now)
            detail = "totp_reset" if had else "totp_reset (was off)"
        elif action == "password":
            staff_service.set_password(session, user, password, now=now)
            detail = "password_reset"
        else:
            return render(
                request,
                "error.html",
                {"title": "Unknown action", "message": "Nothing was changed.", "back": "/inbox/staff"},
                status_code=422,
            )
    except staff_service.StaffError as exc:
        return render(
            request,
            "error.html",
            {"title": "Not changed", "message": str(exc).capitalize() + ".", "back": "/inbox/staff"},
            status_code=422,
        )
    audit_action(session, staff, "staff.update", "staff", user.id, detail=detail)
    return go("/inbox/staff", done="staff_updated")
