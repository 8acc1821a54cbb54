"""Admin pages: the outbox, the clinic settings, canned replies, the audit log."""

from __future__ import annotations

import re
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.inbox.auth import CurrentStaff
from api.inbox.routes.common import CSRF, Admin, audit_action, go
from api.inbox.templating import render
from core import audit
from core import canned as canned_service
from core import inbox as inbox_service
from core import patients as patient_service
from core import staff as staff_service
from core.clinic import get_clinic

router = APIRouter(include_in_schema=False)


# -------------------------------------------------------------------------- outbox
@router.get("/inbox/outbox")
def outbox_page(request: Request, staff: CurrentStaff, session: SessionDep, status: str = "", purpose: str = "") -> Response:
    rows = inbox_service.outbox_messages(session, status=status[:16], purpose=purpose[:24], limit=200)
    audit_action(session, staff, "outbox.view", "outbox", "*", detail=f"rows={len(rows)}")
    return render(request, "outbox.html", {"rows": rows, "status": status, "purpose": purpose})


# ----------------------------------------------------------------- clinic settings
CLINIC_FIELDS = (
    "name",
    "phone",
    "hours",
    "address",
    "oncall_name",
    "oncall_phone",
    "oncall_backup_name",
    "oncall_backup_phone",
    "day_oncall_name",
    "day_oncall_phone",
    "business_days",
    "business_start_hour",
    "business_end_hour",
    "page_repeat_minutes",
    "page_backup_after",
    "booking_url",
    "widget_color",
    "widget_greeting",
    "timezone",
)
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@router.get("/inbox/settings", dependencies=[Admin])
def settings_page(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    clinic = get_clinic(session)
    form = {f: getattr(clinic, f) if getattr(clinic, f) is not None else "" for f in CLINIC_FIELDS}
    return render(request, "settings.html", {"form": form, "problems": []})


@router.post("/inbox/settings", dependencies=[CSRF, Admin])
def save_settings(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    name: str = Form(""),
    phone: str = Form(""),
    hours: str = Form(""),
    address: str = Form(""),
    oncall_name: str = Form(""),
    oncall_phone: str = Form(""),
    oncall_backup_name: str = Form(""),
    oncall_backup_phone: str = Form(""),
    day_oncall_name: str = Form(""),
    day_oncall_phone: str = Form(""),
    business_days: list[str] = Form([]),
    business_start_hour: str = Form("9"),
    business_end_hour: str = Form("18"),
    page_repeat_minutes: str = Form("5"),
    page_backup_after: str = Form("2"),
    booking_url: str = Form(""),
    widget_color: str = Form(""),
    widget_greeting: str = Form(""),
    timezone: str = Form(""),
) -> Response:
    form = {
        "name": name.strip()[:200],
        "phone": phone.strip(),
        "hours": hours.strip()[:200],
        "address": " ".join(address.split())[:300],
        "oncall_name": oncall_name.strip()[:200],
        "oncall_phone": oncall_phone.strip(),
        "oncall_backup_name": oncall_backup_name.strip()[:200],
        "oncall_backup_phone": oncall_backup_phone.strip(),
        "day_oncall_name": day_oncall_name.strip()[:200],
        "day_oncall_phone": day_oncall_phone.strip(),
        "business_days": ",".join(sorted({d for d in business_days if d in {"0", "1", "2", "3", "4", "5", "6"}})),
        "business_start_hour": business_start_hour.strip(),
        "business_end_hour": business_end_hour.strip(),
        "page_repeat_minutes": page_repeat_minutes.strip(),
        "page_backup_after": page_backup_after.strip(),
        "booking_url": booking_url.strip()[:500],
        "widget_color": widget_color.strip(),
        "widget_greeting": widget_greeting.strip()[:300],
        "timezone": timezone.strip()[:64],
    }
    problems = []
    if not form["name"]:
        problems.append("The clinic name is required.")
    for key, label, lo, hi in (
        ("page_repeat_minutes", "repeat interval", 1, 60),
        ("page_backup_after", "pages before the backup", 1, 10),
        ("business_start_hour", "business hours' start", 0, 23),
        ("business_end_hour", "business hours' end", 1, 24),
    ):
        try:
            form[key] = int(form[key])
            if not lo <= form[key] <= hi:
                raise ValueError
        except ValueError:
            problems.append(f"The {label} must be a whole number from {lo} to {hi}.")
    if isinstance(form["business_start_hour"], int) and isinstance(form["business_end_hour"], int):
        if form["business_start_hour"] >= form["business_end_hour"]:
            problems.append("Business hours must end after they start.")
    if form["day_oncall_phone"] and not form["business_days"]:
        problems.append("Pick at least one business day for the business-hours contact.")
    for key, label in (
        ("phone", "clinic phone"),
        ("oncall_phone", "on-call phone"),
        ("oncall_backup_phone", "backup phone"),
        ("day_oncall_phone", "business-hours phone"),
    ):
        if form[key]:
            try:
                form[key] = patient_service.normalize_phone(form[key])
            except patient_service.PatientError:
                problems.append(f"The {label} must be a phone number, e.g. (201) 555-0123 or +12015550123.")
    if form["booking_url"] and not form["booking_url"].startswith(("https://", "http://")):
        problems.append("The booking link must start with https://.")
    if form["widget_color"] and not HEX_COLOUR.match(form["widget_color"]):
        problems.append("The widget colour must look like #0f5f73.")
    try:
        ZoneInfo(form["timezone"] or "invalid/zone")
    except (ZoneInfoNotFoundError, ValueError):
        problems.append("The time zone must be an IANA name such as America/New_York.")
    if problems:
        return render(request, "settings.html", {"form": form, "problems": problems}, status_code=422)
    clinic = get_clinic(session)
    changed = [f for f in CLINIC_FIELDS if getattr(clinic, f) != form[f]]
    for f in changed:
        setattr(clinic, f, form[f])
    audit_action(session, staff, "clinic.update", "clinic", "1", detail="fields=" + ",".join(changed))
    return go("/inbox/settings", done="settings_saved")


# ------------------------------------------------------------------ canned replies
def _canned_page(request: Request, session, *, form: dict | None = None, error: str = "", status_code: int = 200) -> Response:
    return render(
        request,
        "canned.html",
        {
            "replies": canned_service.list_replies(session),
            "languages": canned_service.LANGUAGES,
            "placeholders": canned_service.PLACEHOLDERS,
            "max_body": canned_service.MAX_BODY,
            "form": form or {"title": "", "language": "en", "body": ""},
            "form_error": error,
        },
        status_code=status_code,
    )


@router.get("/inbox/canned", dependencies=[Admin])
def canned_page(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    return _canned_page(request, session)


@router.post("/inbox/canned", dependencies=[CSRF, Admin])
def add_canned(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    title: str = Form(""),
    language: str = Form("en"),
    body: str = Form(""),
) -> Response:
    try:
        row = canned_service.add_reply(session, title=title, language=language, body=body)
    except canned_service.CannedError as exc:
        form = {"title": title[:200], "language": language[:8], "body": body[:4000]}
        return _canned_page(request, session, form=form, error=f"Not added: {exc}.", status_code=422)
    audit_action(session, staff, "canned.create", "canned_reply", row.id, detail=f"language={row.language}")
    return go("/inbox/canned", done="canned_added")


@router.post("/inbox/canned/{reply_id}", dependencies=[CSRF, Admin])
def save_canned(
    request: Request,
    reply_id: str,
    staff: CurrentStaff,
    session: SessionDep,
    title: str = Form(""),
    language: str = Form("en"),
    body: str = Form(""),
) -> Response:
    try:
        canned_service.update_reply(session, reply_id[:32], title=title, language=language, body=body)
    except canned_service.CannedError as exc:
        return _canned_page(request, session, error=f"Not saved: {exc}.", status_code=422)
    audit_action(session, staff, "canned.update", "canned_reply", reply_id[:32])
    return go("/inbox/canned", done="canned_saved")


@router.post("/inbox/canned/{reply_id}/delete", dependencies=[CSRF, Admin])
def delete_canned(request: Request, reply_id: str, staff: CurrentStaff, session: SessionDep) -> Response:
    try:
        canned_service.delete_reply(session, reply_id[:32])
    except canned_service.CannedError as exc:
        return _canned_page(request, session, error=f"Not deleted: {exc}.", status_code=404)
    audit_action(session, staff, "canned.delete", "canned_reply", reply_id[:32])
    return go("/inbox/canned", done="canned_deleted")


# ----------------------------------------------------------------------- audit log
@router.get("/inbox/audit", dependencies=[Admin])
def audit_page(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    actor: str = Query("", max_length=32),
    action: str = Query("", max_length=64),
    object_id: str = Query("", max_length=64),
    before: int | None = None,
) -> Response:
    rows = audit.search(
        session, actor_id=actor or None, action=action or None, object_id=object_id or None, before_id=before, limit=100
    )
    audit_action(session, staff, "audit.view", "audit", "*")
    more = urlencode(
        {
            k: v
            for k, v in (("actor", actor), ("action", action), ("object_id", object_id), ("before", rows[-1].id if rows else ""))
            if v
        }
    )
    return render(
        request,
        "audit.html",
        {
            "rows": rows,
            "actor": actor,
            "action": action,
            "object_id": object_id,
            "users": staff_service.list_staff(session),
            "more": more if len(rows) == 100 else "",
        },
    )
