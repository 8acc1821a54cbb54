"""The inbox (the escalation list and its polling endpoint) and one escalation: view,
acknowledge, assign, note, resolve. Who may do what is core.escalations' to decide."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff, ForbiddenError, PollingStaff
from api.inbox.routes.common import (
    CHANNEL_LABELS,
    CSRF,
    LEVEL_LABELS,
    STATUS_FILTERS,
    STATUS_LABELS,
    audit_action,
    clinic_tz,
    conversation_context,
    escalation_row,
    go,
    not_found,
    staff_names,
    who,
)
from api.inbox.templating import render
from core import attention, export
from core import escalations as esc_service
from core import inbox as inbox_service
from core import staff as staff_service
from core.db import now_of
from core.models import Escalation, StaffUser

router = APIRouter(include_in_schema=False)


VIEWS = {"all": "All", "waiting": "Waiting for a reply", "unread": "New messages for me"}


def _inbox_filters(staff: StaffUser, level: str, status: str, assignee: str, view: str = "") -> dict:
    level = level if level in LEVEL_LABELS else ""
    status = status if status in STATUS_FILTERS else "active"
    assignee_id = staff.id if assignee == "me" else assignee
    return {
        "level": level or None,
        "statuses": STATUS_FILTERS[status],
        "assignee": assignee_id or None,
        "_status": status,
        "view": view if view in VIEWS else "all",
    }


def _inbox_rows(session, staff: StaffUser, f: dict, names: dict) -> tuple[list[dict], dict[str, int]]:
    """The escalation rows of the inbox page and of its polling endpoint (one query, one shape),
    each marked "waiting" (the patient wrote last) and "unread" (by this staff member), and how
    many rows each view holds."""
    tz = clinic_tz(session)
    now = now_of(session)
    rows = [
        escalation_row(e, now=now, names=names, tz=tz)
        for e in inbox_service.inbox_escalations(session, statuses=f["statuses"], level=f["level"], assignee=f["assignee"])
    ]
    # a resolved escalation waits for nobody
    live = [r["conversation_id"] for r in rows if r["status"] != "resolved"]
    waiting = attention.waiting_for_staff(session, live)
    unread = attention.unread_for(session, staff.id, live)
    for r in rows:
        r["waiting"] = r["conversation_id"] in waiting
        r["unread"] = r["conversation_id"] in unread
    counts = {"all": len(rows), "waiting": sum(r["waiting"] for r in rows), "unread": sum(r["unread"] for r in rows)}
    if f["view"] != "all":
        rows = [r for r in rows if r[f["view"]]]
    return rows, counts


# ---------------------------------------------------------------------------- inbox
@router.get("/inbox/escalations.csv")
def export_escalations(request: Request, staff: CurrentStaff, session: SessionDep, status: str = "") -> Response:
    """Every escalation as CSV (spreadsheet formulas neutralised); the export is audited."""
    if status and status not in esc_service.STATUSES:
        status = ""
    body = export.escalations_csv(session, status=status or None)
    audit_action(session, staff, "escalation.export", "escalation", "*", detail=f"status={status or 'all'}")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="escalations.csv"', "Cache-Control": "no-store"},
    )


@router.get("/inbox")
def inbox_page(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    level: str = "",
    status: str = "active",
    assignee: str = "",
    view: str = "",
) -> Response:
    f = _inbox_filters(staff, level, status, assignee, view)
    names = staff_names(session)
    rows, counts = _inbox_rows(session, staff, f, names)
    takeovers = inbox_service.taken_over(session)
    waiting = attention.waiting_for_staff(session, [c.id for c in takeovers])
    unread = attention.unread_for(session, staff.id, [c.id for c in takeovers])
    problems = inbox_service.delivery_problems(session)
    audit_action(
        session, staff, "inbox.view", "escalation", "*", detail=f"status={f['_status']} view={f['view']} rows={len(rows)}"
    )
    query = {k: v for k, v in (("level", level), ("status", f["_status"]), ("assignee", assignee)) if v}
    view_links = {v: "/inbox?" + urlencode({**query, "view": v} if v != "all" else query) for v in VIEWS}
    return render(
        request,
        "inbox.html",
        {
            "rows": rows,
            "filters": {"level": f["level"] or "", "status": f["_status"], "assignee": assignee, "view": f["view"]},
            "poll_query": urlencode({**query, "view": f["view"]} if f["view"] != "all" else query),
            "views": VIEWS,
            "view_counts": counts,
            "view_links": view_links,
            "staff_list": staff_service.list_staff(session, active_only=True),
            "takeovers": [
                {
                    "conv": c,
                    "who": who(c, c.patient),
                    "by": names.get(c.takeover_by, ""),
                    "channel": CHANNEL_LABELS.get(c.channel, c.channel),
                    "waiting": c.id in waiting,
                    "unread": c.id in unread,
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
    view: str = "",
) -> JSONResponse:
    f = _inbox_filters(staff, level, status, assignee, view)
    names = staff_names(session)
    rows, counts = _inbox_rows(session, staff, f, names)
    return JSONResponse(
        {
            "escalations": rows,
            "views": counts,
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
        return not_found(request, "escalation")
    conv = esc.conversation
    patient = esc.patient or (conv.patient if conv else None)
    names = staff_names(session)
    tz = clinic_tz(session)
    ctx = conversation_context(session, container, conv, patient, names, viewer=staff)
    trigger_ids = {ev.message_id for ev in esc.events if ev.message_id}
    audit_action(
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
            "row": escalation_row(esc, now=now_of(session), names=names, tz=tz),
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


def _load_escalation(session, escalation_id: str) -> Escalation | None:
    return session.get(Escalation, escalation_id[:64])


@router.post("/inbox/escalations/{escalation_id}/acknowledge", dependencies=[CSRF])
def acknowledge(
    escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    try:
        esc_service.acknowledge_as(session, esc, staff=staff, now=now_of(session))
    except esc_service.NotAllowed as exc:
        raise ForbiddenError(str(exc))
    except esc_service.AlreadyResolved:
        return go(url, error="already_resolved")
    audit_action(session, staff, "escalation.acknowledge", "escalation", esc.id, detail=f"level={esc.level}")
    return go(url, done="acknowledged")


@router.post("/inbox/escalations/{escalation_id}/assign", dependencies=[CSRF])
def assign(escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, assignee: str = Form("")) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    target = staff.id if assignee == "me" else (assignee[:32] or None)
    try:
        esc_service.assign_staff(session, esc, assignee_id=target)
    except esc_service.UnknownAssignee:
        return go(url, error="unknown_staff")
    audit_action(session, staff, "escalation.assign", "escalation", esc.id, detail=f"assignee={target or 'nobody'}")
    return go(url, done="assigned")


@router.post("/inbox/escalations/{escalation_id}/note", dependencies=[CSRF])
def add_note(escalation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, text: str = Form("")) -> Response:
    esc = _load_escalation(session, escalation_id)
    if esc is None:
        return not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    try:
        note = esc_service.add_note(session, esc, staff_id=staff.id, text=text[:5000])
    except esc_service.EscalationError:
        return go(url, error="empty_note")
    audit_action(session, staff, "escalation.note", "escalation", esc.id, detail=f"note={note.id}")
    return go(url + "#notes", done="noted")


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
        return not_found(request, "escalation")
    url = f"/inbox/escalations/{esc.id}"
    try:
        esc_service.resolve_as(session, esc, staff=staff, note=note[:5000], now=now_of(session))
    except esc_service.NotAllowed as exc:
        raise ForbiddenError(str(exc))
    except esc_service.AlreadyResolved:
        return go(url, error="already_resolved")
    except esc_service.EscalationError:
        return go(url, error="note_required")
    audit_action(session, staff, "escalation.resolve", "escalation", esc.id, detail=f"level={esc.level}")
    conv = esc.conversation
    if hand_back and conv is not None and inbox_service.hand_back(session, conversation=conv, staff=staff):
        audit_action(session, staff, "conversation.handback", "conversation", conv.id, detail=f"escalation={esc.id}")
    return go(url, done="resolved")
