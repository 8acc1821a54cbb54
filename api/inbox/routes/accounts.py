"""Staff accounts: one's own password, and (admins) the staff list, new accounts, role,
activation, unlock and password reset."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff, current_session
from api.inbox.routes.common import CSRF, Admin, audit_action, go, not_found
from api.inbox.templating import render
from core import staff as staff_service
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


# ------------------------------------------------------------------ staff (admins)
@router.get("/inbox/staff", dependencies=[Admin])
def staff_page(request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep) -> Response:
    audit_action(session, staff, "staff.list", "staff", "*")
    return render(
        request,
        "staff.html",
        {
            "users": staff_service.list_staff(session),
            "roles": staff_service.ROLES,
            "now": container.clock.now(),
            "is_locked": staff_service.is_locked,
            "form_error": None,
            "form": {},
        },
    )


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
        return render(
            request,
            "staff.html",
            {
                "users": staff_service.list_staff(session),
                "roles": staff_service.ROLES,
                "now": container.clock.now(),
                "is_locked": staff_service.is_locked,
                "form_error": str(exc).capitalize() + ".",
                "form": {"email": email, "display_name": display_name, "role": role},
            },
            status_code=422,
        )
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
        elif action == "unlock":
            staff_service.unlock(session, user)
            detail = "unlocked"
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
