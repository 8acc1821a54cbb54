"""What the inbox pages share: labels, the audit helper, redirects with a notice, and the
escalation row and conversation context that several pages render."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.container import Container
from api.inbox.auth import require_role, verify_csrf
from api.inbox.templating import age_text, as_utc, render
from core import attention, audit
from core import canned as canned_service
from core import escalations as esc_service
from core import inbox as inbox_service
from core import media as media_service
from core import staff as staff_service
from core.clinic import clinic_today, get_clinic
from core.enums import ACTIVE_ESCALATION_STATUSES, CLINICIAN_LEVELS
from core.models import Conversation, Escalation, Patient, StaffUser
from core.phones import display
from core.recovery import latest_treatment, next_treatment, recovery_for_conversation

LEVEL_LABELS = {"emergency": "EMERGENCY", "urgent": "URGENT", "routine": "Routine"}
STATUS_LABELS = {"open": "Not acknowledged", "acknowledged": "Acknowledged", "resolved": "Resolved"}
CHANNEL_LABELS = {"sms": "SMS", "web": "Web chat"}
STATUS_FILTERS = {
    "active": ACTIVE_ESCALATION_STATUSES,
    "open": ("open",),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
    "all": (),
}
Admin = Depends(require_role("admin"))
CSRF = verify_csrf


def actor_label(staff: StaffUser) -> str:
    return f"{staff.display_name} ({staff.email})"


def audit_action(
    session: Session, staff: StaffUser | None, action: str, object_type: str = "", object_id: str = "", detail: str = ""
) -> None:
    audit.record(
        session,
        actor_id=staff.id if staff else None,
        actor_label=actor_label(staff) if staff else "anonymous",
        action=action,
        object_type=object_type,
        object_id=object_id or "",
        detail=detail,
    )


def go(url: str, *, done: str = "", error: str = "") -> RedirectResponse:
    url, _, fragment = url.partition("#")
    params = {k: v for k, v in (("done", done), ("error", error)) if v}
    sep = "&" if "?" in url else "?"
    target = url + (sep + urlencode(params) if params else "") + ("#" + fragment if fragment else "")
    return RedirectResponse(target, status_code=303)


def not_found(request: Request, what: str) -> Response:
    return render(request, "error.html", {"title": "Not found", "message": f"No such {what}."}, status_code=404)


def staff_names(session: Session) -> dict[str, str]:
    return {u.id: u.display_name for u in staff_service.list_staff(session)}


def who(conv: Conversation | None, patient: Patient | None) -> str:
    if patient is not None:
        return f"{patient.first_name} {patient.last_name}".strip()
    if conv is not None and conv.phone:
        return f"Unknown sender {conv.phone}"
    return "Anonymous web visitor"


def escalation_row(e: Escalation, *, now: datetime, names: dict[str, str], tz: ZoneInfo) -> dict:
    created = as_utc(e.created_at)
    age_s = max(0, int((now - created).total_seconds()))
    conv = e.conversation
    unacked = e.status == "open"
    serious = e.level in CLINICIAN_LEVELS
    return {
        "id": e.id,
        "url": f"/inbox/escalations/{e.id}",
        "level": e.level,
        "level_label": LEVEL_LABELS.get(e.level, e.level),
        "status": e.status,
        "status_label": STATUS_LABELS.get(e.status, e.status),
        "stands_out": unacked and serious,
        "stale": esc_service.is_overdue(e, now),  # past its level's response-time target
        "patient_name": who(conv, e.patient),
        "patient_id": e.patient_id,
        "conversation_id": e.conversation_id,
        "waiting": False,  # the patient wrote last (set by the list, which asks for all rows at once)
        "unread": False,  # a patient message this staff member has not opened
        "channel": conv.channel if conv else "",
        "channel_label": CHANNEL_LABELS.get(conv.channel, conv.channel) if conv else "",
        "takeover": bool(conv and conv.staff_takeover),
        "language": (conv.language if conv else None) or (e.patient.language if e.patient else None),
        "reason": e.reason,
        "recovery_day": e.recovery_day,
        "created_at": created.isoformat(),
        "created_local": created.astimezone(tz).strftime("%b %d, %I:%M %p").replace(" 0", " "),
        "age_seconds": age_s,
        "age": age_text(age_s),
        "assignee_id": e.assignee_id,
        "assignee_name": names.get(e.assignee_id, "") if e.assignee_id else "",
    }


def clinic_tz(session: Session) -> ZoneInfo:
    try:
        return ZoneInfo(get_clinic(session).timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def conversation_context(
    session: Session,
    container: Container,
    conv: Conversation | None,
    patient: Patient | None,
    names: dict[str, str],
    *,
    viewer: StaffUser,
) -> dict:
    """What a page showing one conversation needs; the viewer has now read it up to its last message."""
    messages = inbox_service.transcript(session, conv.id) if conv else []
    if conv is not None and messages:
        attention.mark_read(session, staff_id=viewer.id, conversation_id=conv.id, up_to=messages[-1].created_at)
    outbox_rows = inbox_service.delivery_by_message(session, conv.id) if conv else {}
    today = clinic_today(session, container.clock)
    rec = recovery_for_conversation(session, conv.id, today) if conv else None
    reply_to, not_sendable = (None, None)
    if conv is not None and conv.channel == "sms":
        reply_to, not_sendable = inbox_service.reply_target(session, conv)
    photos = media_service.for_messages(session, [m.id for m in messages])
    clinic = get_clinic(session)
    canned = canned_service.for_conversation(
        session,
        first_name=patient.first_name if patient else None,
        clinic=clinic.name,
        clinic_phone=display(clinic.phone),
    )
    return {
        "canned": canned,
        "canned_languages": canned_service.LANGUAGES,
        "photos": photos,
        "conv": conv,
        "patient": patient,
        "who": who(conv, patient),
        "messages": messages,
        "delivery": outbox_rows,
        "recovery": rec,
        "latest_treatment": latest_treatment(session, patient.id, today) if patient else None,
        "upcoming_treatment": next_treatment(session, patient.id, today) if patient else None,
        "reply_to": reply_to,
        "not_sendable": not_sendable,
        "names": names,
        "channel_labels": CHANNEL_LABELS,
        "last_message_id": messages[-1].id if messages else "",
    }
