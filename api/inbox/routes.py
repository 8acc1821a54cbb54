"""The staff inbox: sign-in, escalations, conversations, patients, audit, admin pages.

Server-rendered HTML (Jinja2) plus one external script (inbox.js) that polls two
small JSON endpoints. Every page view of patient data and every action is written
to the audit log (ids only, never message text).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import ContainerDep, SessionDep
from api.inbox import auth
from api.inbox.auth import (
    CurrentStaff,
    ForbiddenError,
    PollingStaff,
    current_session,
    require_role,
    safe_next,
    verify_csrf,
)
from api.inbox.templating import age_text, as_utc, render
from core import audit
from core import escalations as esc_service
from core import inbox as inbox_service
from core import patients as patient_service
from core import staff as staff_service
from core.clinic import get_clinic
from core.db import now_of
from core.models import Clinic, Conversation, Escalation, OutboxMessage, Patient, StaffUser
from core.recovery import recovery_for_conversation

log = logging.getLogger("aftercare.inbox")
router = APIRouter(include_in_schema=False)

LEVEL_LABELS = {"emergency": "EMERGENCY", "urgent": "URGENT", "routine": "Routine"}
STATUS_LABELS = {"open": "Not acknowledged", "acknowledged": "Acknowledged", "resolved": "Resolved"}
CHANNEL_LABELS = {"sms": "SMS", "web": "Web chat"}
STALE_AFTER_S = 15 * 60  # an unacknowledged urgent/emergency older than this is flagged as overdue
STATUS_FILTERS = {
    "active": ("open", "acknowledged"),
    "open": ("open",),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
    "all": (),
}
Admin = Depends(require_role("admin"))
CSRF = verify_csrf


# ----------------------------------------------------------------------- plumbing
def _actor(staff: StaffUser) -> str:
    return f"{staff.display_name} ({staff.email})"


def _audit(session, staff: StaffUser | None, action: str, object_type: str = "", object_id: str = "", detail: str = "") -> None:
    audit.record(
        session,
        actor_id=staff.id if staff else None,
        actor_label=_actor(staff) if staff else "anonymous",
        action=action,
        object_type=object_type,
        object_id=object_id or "",
        detail=detail,
    )


def _go(url: str, *, done: str = "", error: str = "") -> RedirectResponse:
    url, _, fragment = url.partition("#")
    params = {k: v for k, v in (("done", done), ("error", error)) if v}
    sep = "&" if "?" in url else "?"
    target = url + (sep + urlencode(params) if params else "") + ("#" + fragment if fragment else "")
    return RedirectResponse(target, status_code=303)


def _not_found(request: Request, what: str) -> Response:
    return render(request, "error.html", {"title": "Not found", "message": f"No such {what}."}, status_code=404)


def _staff_names(session) -> dict[str, str]:
    return {u.id: u.display_name for u in staff_service.list_staff(session)}


def _who(conv: Conversation | None, patient: Patient | None) -> str:
    if patient is not None:
        return f"{patient.first_name} {patient.last_name}".strip()
    if conv is not None and conv.phone:
        return f"Unknown sender {conv.phone}"
    return "Anonymous web visitor"


def _escalation_row(e: Escalation, *, now: datetime, names: dict[str, str], tz: ZoneInfo) -> dict:
    created = as_utc(e.created_at)
    age_s = max(0, int((now - created).total_seconds()))
    conv = e.conversation
    unacked = e.status == "open"
    serious = e.level in ("emergency", "urgent")
    return {
        "id": e.id,
        "url": f"/inbox/escalations/{e.id}",
        "level": e.level,
        "level_label": LEVEL_LABELS.get(e.level, e.level),
        "status": e.status,
        "status_label": STATUS_LABELS.get(e.status, e.status),
        "stands_out": unacked and serious,
        "stale": unacked and serious and age_s >= STALE_AFTER_S,
        "patient_name": _who(conv, e.patient),
        "patient_id": e.patient_id,
        "channel": conv.channel if conv else "",
        "channel_label": CHANNEL_LABELS.get(conv.channel, conv.channel) if conv else "",
        "takeover": bool(conv and conv.staff_takeover),
        "reason": e.reason,
        "recovery_day": e.recovery_day,
        "created_at": created.isoformat(),
        "created_local": created.astimezone(tz).strftime("%b %d, %I:%M %p").replace(" 0", " "),
        "age_seconds": age_s,
        "age": age_text(age_s),
        "assignee_id": e.assignee_id,
        "assignee_name": names.get(e.assignee_id, "") if e.assignee_id else "",
    }


def _clinic_tz(session) -> ZoneInfo:
    try:
        return ZoneInfo(get_clinic(session).timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _inbox_filters(staff: StaffUser, level: str, status: str, assignee: str) -> dict:
    level = level if level in LEVEL_LABELS else ""
    status = status if status in STATUS_FILTERS else "active"
    assignee_id = staff.id if assignee == "me" else assignee
    return {"level": level or None, "statuses": STATUS_FILTERS[status], "assignee": assignee_id or None, "_status": status}


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
        _audit(
            session,
            None,
            "auth.login_failed",
            "staff",
            existing.id if existing else "",
            detail="" if existing else "unknown account",
        )
        if existing is not None and staff_service.is_locked(existing, now):
            _audit(session, None, "auth.locked_out", "staff", existing.id)
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
    _audit(session, user, "auth.login", "staff", user.id)
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
    _audit(session, staff, "auth.logout", "staff", staff.id)
    session.commit()
    response = _go("/inbox/login", done="signed_out")
    response.delete_cookie(auth.cookie_name(container.settings.secure_cookies), path="/")
    return response


def _inbox_rows(session, f: dict, names: dict) -> list[dict]:
    """The escalation rows of the inbox page and of its polling endpoint (one query, one shape)."""
    tz = _clinic_tz(session)
    now = now_of(session)
    return [
        _escalation_row(e, now=now, names=names, tz=tz)
        for e in inbox_service.inbox_escalations(session, statuses=f["statuses"], level=f["level"], assignee=f["assignee"])
    ]


# ---------------------------------------------------------------------------- inbox
@router.get("/inbox")
def inbox_page(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    level: str = "",
    status: str = "active",
    assignee: str = "",
) -> Response:
    f = _inbox_filters(staff, level, status, assignee)
    names = _staff_names(session)
    rows = _inbox_rows(session, f, names)
    takeovers = inbox_service.taken_over(session)
    problems = inbox_service.delivery_problems(session)
    _audit(session, staff, "inbox.view", "escalation", "*", detail=f"status={f['_status']} rows={len(rows)}")
    query = {k: v for k, v in (("level", level), ("status", f["_status"]), ("assignee", assignee)) if v}
    return render(
        request,
        "inbox.html",
        {
            "rows": rows,
            "filters": {"level": f["level"] or "", "status": f["_status"], "assignee": assignee},
            "poll_query": urlencode(query),
            "staff_list": staff_service.list_staff(session, active_only=True),
            "takeovers": [
                {
                    "conv": c,
                    "who": _who(c, c.patient),
                    "by": names.get(c.takeover_by, ""),
                    "channel": CHANNEL_LABELS.get(c.channel, c.channel),
                }
                for c in takeovers
            ],
            "problems": problems,
            "level_labels": LEVEL_LABELS,
        },
    )


@router.get("/inbox/api/escalations")
def inbox_api(
    staff: PollingStaff,
    session: SessionDep,
    level: str = "",
    status: str = "active",
    assignee: str = "",
) -> JSONResponse:
    f = _inbox_filters(staff, level, status, assignee)
    names = _staff_names(session)
    rows = _inbox_rows(session, f, names)
    return JSONResponse(
        {
            "escalations": rows,
            "unacknowledged_serious": sum(1 for r in rows if r["stands_out"]),
            "takeovers": len(inbox_service.taken_over(session)),
            "delivery_problems": len(inbox_service.delivery_problems(session)),
            "server_time": now_of(session).isoformat(),
        }
    )


# ----------------------------------------------------------------- escalation page
@router.get("/inbox/escalations/{escalation_id}")
def escalation_page(
    escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    esc = session.get(Escalation, escalation_id[:64])
    if esc is None:
        return _not_found(request, "escalation")
    conv = esc.conversation
    patient = esc.patient or (conv.patient if conv else None)
    names = _staff_names(session)
    tz = _clinic_tz(session)
    ctx = _conversation_context(session, container, conv, patient, names)
    trigger_ids = {ev.message_id for ev in esc.events if ev.message_id}
    _audit(
        session,
        staff,
        "escalation.view",
        "escalation",
        esc.id,
        detail=f"conversation={esc.conversation_id} patient={esc.patient_id or '-'}",
    )
    return render(
        request,
        "escalation.html",
        {
            **ctx,
            "esc": esc,
            "row": _escalation_row(esc, now=now_of(session), names=names, tz=tz),
            "events": esc.events,
            "notes": esc.notes,
            "alerts": inbox_service.oncall_alerts(session, esc.id),
            "trigger_ids": trigger_ids,
            "names": names,
            "staff_list": staff_service.list_staff(session, active_only=True),
            "can_resolve": esc_service.may_handle(staff.role, esc.level),
            "return_to": f"/inbox/escalations/{esc.id}",
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
        },
    )


def _conversation_context(session, container, conv: Conversation | None, patient: Patient | None, names: dict[str, str]) -> dict:
    messages = inbox_service.transcript(session, conv.id) if conv else []
    outbox_rows = (
        {
            o.message_id: o
            for o in session.execute(select(OutboxMessage).where(OutboxMessage.conversation_id == conv.id)).scalars()
            if o.message_id
        }
        if conv
        else {}
    )
    rec = recovery_for_conversation(session, conv.id, container.clock.today()) if conv else None
    reply_to, not_sendable = (None, None)
    if conv is not None and conv.channel == "sms":
        reply_to, not_sendable = inbox_service.reply_target(session, conv)
    return {
        "conv": conv,
        "patient": patient,
        "who": _who(conv, patient),
        "messages": messages,
        "delivery": outbox_rows,
        "recovery": rec,
        "latest_treatment": inbox_service.latest_treatment(session, patient.id) if patient else None,
        "reply_to": reply_to,
        "not_sendable": not_sendable,
        "names": names,
        "channel_labels": CHANNEL_LABELS,
        "last_message_id": messages[-1].id if messages else "",
    }


def _load_escalation(session, escalation_id: str) -> Escalation | None:
    return session.get(Escalation, escalation_id[:64])


@router.post("/inbox/escalations/{escalation_id}/acknowledge", dependencies=[CSRF])
def acknowledge(
    escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return _not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    if not esc_service.may_handle(staff.role, esc.level):
        raise ForbiddenError("Urgent and emergency escalations are acknowledged by a clinician. Assign it to one, or add a note.")
    try:
        esc_service.acknowledge(session, esc, staff_id=staff.id, now=now_of(session))
    except esc_service.EscalationError:
        return _go(url, error="already_resolved")
    _audit(session, staff, "escalation.acknowledge", "escalation", esc.id, detail=f"level={esc.level}")
    return _go(url, done="acknowledged")


@router.post("/inbox/escalations/{escalation_id}/assign", dependencies=[CSRF])
def assign(escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, assignee: str = Form("")) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return _not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    target: str | None = None
    if assignee == "me":
        target = staff.id
    elif assignee:
        user = session.get(StaffUser, assignee[:32])
        if user is None or not user.active:
            return _go(url, error="unknown_staff")
        target = user.id
    esc_service.assign(session, esc, assignee_id=target)
    _audit(session, staff, "escalation.assign", "escalation", esc.id, detail=f"assignee={target or 'nobody'}")
    return _go(url, done="assigned")


@router.post("/inbox/escalations/{escalation_id}/note", dependencies=[CSRF])
def add_note(escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, text: str = Form("")) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return _not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    try:
        note = esc_service.add_note(session, esc, staff_id=staff.id, text=text[:5000])
    except esc_service.EscalationError:
        return _go(url, error="empty_note")
    _audit(session, staff, "escalation.note", "escalation", esc.id, detail=f"note={note.id}")
    return _go(url + "#notes", done="noted")


@router.post("/inbox/escalations/{escalation_id}/resolve", dependencies=[CSRF])
def resolve(
    escalation_id: str,
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    note: str = Form(""),
    hand_back: str = Form(""),
) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return _not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    if not esc_service.may_handle(staff.role, esc.level):
        raise ForbiddenError("Urgent and emergency escalations are resolved by a clinician. Assign it to one, or add a note.")
    if esc.status == "resolved":
        return _go(url, error="already_resolved")
    try:
        esc_service.resolve(session, esc, staff_id=staff.id, note=note[:5000], now=now_of(session))
    except esc_service.EscalationError:
        return _go(url, error="note_required")
    _audit(session, staff, "escalation.resolve", "escalation", esc.id, detail=f"level={esc.level}")
    conv = esc.conversation
    if hand_back and conv is not None and inbox_service.hand_back(session, conversation=conv, staff=staff):
        _audit(session, staff, "conversation.handback", "conversation", conv.id, detail=f"escalation={esc.id}")
    return _go(url, done="resolved")


# --------------------------------------------------------------- conversation page
@router.get("/inbox/conversations/{conversation_id}")
def conversation_page(
    conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    conv = session.get(Conversation, conversation_id[:64])
    if conv is None:
        return _not_found(request, "conversation")
    names = _staff_names(session)
    ctx = _conversation_context(session, container, conv, conv.patient, names)
    _audit(session, staff, "conversation.view", "conversation", conv.id, detail=f"patient={conv.patient_id or '-'}")
    return render(
        request,
        "conversation.html",
        {
            **ctx,
            "escalations": inbox_service.conversation_escalations(session, conv.id),
            "return_to": f"/inbox/conversations/{conv.id}",
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
        },
    )


@router.get("/inbox/api/conversations/{conversation_id}/messages")
def conversation_messages_api(
    conversation_id: str,
    staff: PollingStaff,
    session: SessionDep,
    after: str | None = Query(None, max_length=64),
) -> JSONResponse:
    """New messages for an open conversation page (part of a view already audited)."""
    conv = session.get(Conversation, conversation_id[:64])
    if conv is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    names = _staff_names(session)
    tz = _clinic_tz(session)
    rows = inbox_service.transcript(session, conv.id, after_id=after)
    esc = esc_service.active_for_conversation(session, conv.id)
    return JSONResponse(
        {
            "messages": [
                {
                    "id": m.id,
                    "author": m.author,
                    "author_label": _author_label(m.author, names.get(m.staff_id or "", "")),
                    "direction": m.direction,
                    "channel": m.channel,
                    "text": m.text,
                    "status": m.status,
                    "created_at": as_utc(m.created_at).isoformat(),
                    "created_local": as_utc(m.created_at).astimezone(tz).strftime("%b %d, %I:%M:%S %p").replace(" 0", " "),
                }
                for m in rows
            ],
            "staff_takeover": bool(conv.staff_takeover),
            "escalation": {"id": esc.id, "level": esc.level, "status": esc.status} if esc else None,
        }
    )


def _author_label(author: str, staff_name: str) -> str:
    if author == "patient":
        return "Patient"
    if author == "bot":
        return "Assistant"
    if author == "staff":
        return f"Staff: {staff_name}" if staff_name else "Staff"
    return "System"


def _conversation_or_404(session, conversation_id: str) -> Conversation | None:
    return session.get(Conversation, conversation_id[:64])


def _return_to(value: str, conv: Conversation) -> str:
    target = safe_next(value)
    return target if target != "/inbox" else f"/inbox/conversations/{conv.id}"


@router.post("/inbox/conversations/{conversation_id}/reply", dependencies=[CSRF])
def reply(
    conversation_id: str,
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    text: str = Form(""),
    take_over: str = Form(""),
    return_to: str = Form(""),
) -> Response:
    conv = _conversation_or_404(session, conversation_id)
    if conv is None:
        return _not_found(request, "conversation")
    url = _return_to(return_to, conv)
    if take_over and inbox_service.take_over(session, conversation=conv, staff=staff):
        _audit(session, staff, "conversation.takeover", "conversation", conv.id)
    try:
        result = inbox_service.staff_reply(session, conversation=conv, staff=staff, text=text)
    except inbox_service.InboxError as exc:
        return _go(url, error="empty_reply" if "empty" in str(exc) else "reply_too_long")
    _audit(
        session,
        staff,
        "conversation.reply",
        "conversation",
        conv.id,
        detail=f"message={result.message.id} channel={conv.channel} status={result.message.status}",
    )
    # a staff member answering the patient is on it: an unacknowledged escalation becomes acknowledged
    esc = esc_service.active_for_conversation(session, conv.id)
    if esc is not None and esc.status == "open" and esc_service.may_handle(staff.role, esc.level):
        esc_service.acknowledge(session, esc, staff_id=staff.id, now=now_of(session))
        _audit(session, staff, "escalation.acknowledge", "escalation", esc.id, detail=f"level={esc.level} by=reply")
    if result.not_sent:
        return _go(url, error="not_sent")
    return _go(url, done="reply_queued" if result.outbox is not None else "replied")


@router.post("/inbox/conversations/{conversation_id}/takeover", dependencies=[CSRF])
def takeover(
    conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, return_to: str = Form("")
) -> Response:
    conv = _conversation_or_404(session, conversation_id)
    if conv is None:
        return _not_found(request, "conversation")
    if inbox_service.take_over(session, conversation=conv, staff=staff):
        _audit(session, staff, "conversation.takeover", "conversation", conv.id)
    return _go(_return_to(return_to, conv), done="taken_over")


@router.post("/inbox/conversations/{conversation_id}/handback", dependencies=[CSRF])
def handback(
    conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, return_to: str = Form("")
) -> Response:
    conv = _conversation_or_404(session, conversation_id)
    if conv is None:
        return _not_found(request, "conversation")
    if inbox_service.hand_back(session, conversation=conv, staff=staff):
        _audit(session, staff, "conversation.handback", "conversation", conv.id)
    return _go(_return_to(return_to, conv), done="handed_back")


# ------------------------------------------------------------------------ patients
@router.get("/inbox/patients")
def patients_page(request: Request, staff: CurrentStaff, session: SessionDep, q: str = Query("", max_length=100)) -> Response:
    rows = inbox_service.search_patients(session, q)
    latest = {p.id: inbox_service.latest_treatment(session, p.id) for p in rows}
    _audit(session, staff, "patient.list", "patient", "*", detail=f"search={'yes' if q else 'no'} rows={len(rows)}")
    return render(request, "patients.html", {"patients": rows, "q": q, "latest": latest})


@router.get("/inbox/patients/new")
def new_patient_page(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "patient_new.html", {"form": {}, "form_error": None})


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


@router.post("/inbox/patients/new", dependencies=[CSRF])
def create_patient(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    first_name: str = Form(""),
    last_name: str = Form(""),
    phone: str = Form(""),
    performed_on: str = Form(""),
    area: str = Form("face"),
) -> Response:
    form = {"first_name": first_name, "last_name": last_name, "phone": phone, "performed_on": performed_on, "area": area}
    when = _parse_date(performed_on) if performed_on else None
    problem = None
    if performed_on and when is None:
        problem = "The treatment date must be a date (YYYY-MM-DD)."
    if problem is None:
        try:
            with session.begin_nested():
                patient = patient_service.create_patient(
                    session,
                    first_name=first_name[:100],
                    last_name=last_name[:100],
                    phone=phone[:32] or None,
                    treatments=[{"performed_on": when, "area": area[:64] or "face"}] if when else [],
                )
        except patient_service.DuplicatePhone:
            problem = "A patient with this phone number already exists."
        except patient_service.PatientError as exc:
            problem = str(exc).capitalize() + "."
    if problem is not None:
        return render(request, "patient_new.html", {"form": form, "form_error": problem}, status_code=422)
    _audit(session, staff, "patient.create", "patient", patient.id, detail=f"treatments={1 if when else 0}")
    return _go(f"/inbox/patients/{patient.id}", done="patient_created")


@router.get("/inbox/patients/import")
def import_page(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "patient_import.html", {"report": None, "columns": inbox_service.CSV_COLUMNS})


@router.post("/inbox/patients/import", dependencies=[CSRF])
def import_patients(
    request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep, file: UploadFile = File(...)
) -> Response:
    data = file.file.read(inbox_service.MAX_IMPORT_BYTES + 1)
    report = inbox_service.import_patients_csv(session, data, today=container.clock.today())
    detail = f"created={report.created} rejected={report.rejected}" + (" file_refused" if report.error else "")
    _audit(session, staff, "patient.import", "patient", "*", detail=detail)
    status = 422 if report.error and not report.rows else 200
    return render(request, "patient_import.html", {"report": report, "columns": inbox_service.CSV_COLUMNS}, status_code=status)


@router.get("/inbox/patients/{patient_id}")
def patient_page(
    patient_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    patient = session.get(Patient, patient_id[:64])
    if patient is None:
        return _not_found(request, "patient")
    convs = inbox_service.patient_conversations(session, patient.id)
    escs = {c.id: inbox_service.conversation_escalations(session, c.id) for c in convs}
    today = container.clock.today()
    latest = inbox_service.latest_treatment(session, patient.id)
    day = (today - latest.performed_on).days if latest and latest.performed_on <= today else None
    _audit(session, staff, "patient.view", "patient", patient.id)
    return render(
        request,
        "patient.html",
        {
            "patient": patient,
            "treatments": list(reversed(patient.treatments)),
            "conversations": convs,
            "escalations": escs,
            "chat_url": f"{container.settings.public_url}/chat/{patient.chat_token}",
            "day": day,
            "today": today.isoformat(),
            "channel_labels": CHANNEL_LABELS,
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
        },
    )


@router.post("/inbox/patients/{patient_id}/treatments", dependencies=[CSRF])
def add_treatment(
    patient_id: str,
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    performed_on: str = Form(""),
    area: str = Form("face"),
) -> Response:
    patient = session.get(Patient, patient_id[:64])
    if patient is None:
        return _not_found(request, "patient")
    when = _parse_date(performed_on)
    if when is None:
        return render(
            request,
            "error.html",
            {
                "title": "Treatment not added",
                "message": "The treatment date must be a date (YYYY-MM-DD).",
                "back": f"/inbox/patients/{patient.id}",
            },
            status_code=422,
        )
    t = patient_service.add_treatment(session, patient=patient, performed_on=when, area=area[:64] or "face")
    _audit(session, staff, "treatment.create", "patient", patient.id, detail=f"treatment={t.id}")
    return _go(f"/inbox/patients/{patient.id}", done="treatment_added")


# -------------------------------------------------------------------------- outbox
@router.get("/inbox/outbox")
def outbox_page(request: Request, staff: CurrentStaff, session: SessionDep, status: str = "", purpose: str = "") -> Response:
    q = select(OutboxMessage)
    if status:
        q = q.where(OutboxMessage.status == status[:16])
    if purpose:
        q = q.where(OutboxMessage.purpose == purpose[:24])
    rows = list(session.execute(q.order_by(OutboxMessage.created_at.desc()).limit(200)).scalars())
    _audit(session, staff, "outbox.view", "outbox", "*", detail=f"rows={len(rows)}")
    return render(request, "outbox.html", {"rows": rows, "status": status, "purpose": purpose})


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
    _audit(session, staff, "staff.password_change", "staff", staff.id)
    return _go("/inbox/account", done="password_changed")


# -------------------------------------------------------------------------- admin
@router.get("/inbox/staff", dependencies=[Admin])
def staff_page(request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep) -> Response:
    _audit(session, staff, "staff.list", "staff", "*")
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
    _audit(session, staff, "staff.create", "staff", user.id, detail=f"role={user.role}")
    return _go("/inbox/staff", done="staff_created")


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
        return _not_found(request, "staff member")
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
    _audit(session, staff, "staff.update", "staff", user.id, detail=detail)
    return _go("/inbox/staff", done="staff_updated")


CLINIC_FIELDS = (
    "name",
    "phone",
    "hours",
    "oncall_name",
    "oncall_phone",
    "booking_url",
    "widget_color",
    "widget_greeting",
    "timezone",
)
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@router.get("/inbox/settings", dependencies=[Admin])
def settings_page(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    clinic = get_clinic(session)
    return render(request, "settings.html", {"form": {f: getattr(clinic, f) or "" for f in CLINIC_FIELDS}, "problems": []})


@router.post("/inbox/settings", dependencies=[CSRF, Admin])
def save_settings(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    name: str = Form(""),
    phone: str = Form(""),
    hours: str = Form(""),
    oncall_name: str = Form(""),
    oncall_phone: str = Form(""),
    booking_url: str = Form(""),
    widget_color: str = Form(""),
    widget_greeting: str = Form(""),
    timezone: str = Form(""),
) -> Response:
    form = {
        "name": name.strip()[:200],
        "phone": phone.strip(),
        "hours": hours.strip()[:200],
        "oncall_name": oncall_name.strip()[:200],
        "oncall_phone": oncall_phone.strip(),
        "booking_url": booking_url.strip()[:500],
        "widget_color": widget_color.strip(),
        "widget_greeting": widget_greeting.strip()[:300],
        "timezone": timezone.strip()[:64],
    }
    problems = []
    if not form["name"]:
        problems.append("The clinic name is required.")
    for key, label in (("phone", "clinic phone"), ("oncall_phone", "on-call phone")):
        if form[key]:
            try:
                form[key] = patient_service.normalize_phone(form[key])
            except patient_service.PatientError:
                problems.append(f"The {label} must be in E.164 format, e.g. +12015550123.")
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
    changed = [f for f in CLINIC_FIELDS if (getattr(clinic, f) or "") != form[f]]
    for f in changed:
        setattr(clinic, f, form[f])
    _audit(session, staff, "clinic.update", "clinic", "1", detail="fields=" + ",".join(changed))
    return _go("/inbox/settings", done="settings_saved")


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
    _audit(session, staff, "audit.view", "audit", "*")
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
