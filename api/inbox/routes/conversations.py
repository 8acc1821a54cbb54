"""One conversation: the transcript (and its polling endpoint), staff replies, take-over and hand-back."""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff, PollingStaff, safe_next
from api.inbox.routes.common import (
    CSRF,
    LEVEL_LABELS,
    STATUS_LABELS,
    audit_action,
    clinic_tz,
    conversation_context,
    go,
    not_found,
    staff_names,
)
from api.inbox.templating import as_utc, render
from core import attention
from core import escalations as esc_service
from core import inbox as inbox_service
from core import media as media_service
from core.models import Conversation, MessageMedia

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------- conversation page
@router.get("/inbox/conversations/{conversation_id}")
def conversation_page(
    conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    conv = session.get(Conversation, conversation_id[:64])
    if conv is None:
        return not_found(request, "conversation")
    names = staff_names(session)
    ctx = conversation_context(session, container, conv, conv.patient, names, viewer=staff)
    audit_action(session, staff, "conversation.view", "conversation", conv.id, detail=f"patient={conv.patient_id or '-'}")
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
    names = staff_names(session)
    tz = clinic_tz(session)
    rows = inbox_service.transcript(session, conv.id, after_id=after)
    if rows:  # the page is open: what it now shows is read
        attention.mark_read(session, staff_id=staff.id, conversation_id=conv.id, up_to=rows[-1].created_at)
    photos = media_service.for_messages(session, [m.id for m in rows])
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
                    "photos": [{"id": p.id, "status": p.status} for p in photos.get(m.id, [])],
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
        return not_found(request, "conversation")
    url = _return_to(return_to, conv)
    if take_over and inbox_service.take_over(session, conversation=conv, staff=staff):
        audit_action(session, staff, "conversation.takeover", "conversation", conv.id)
    try:
        result = inbox_service.staff_reply(session, conversation=conv, staff=staff, text=text)
    except inbox_service.EmptyReply:
        return go(url, error="empty_reply")
    except inbox_service.InboxError:
        return go(url, error="reply_too_long")
    audit_action(
        session,
        staff,
        "conversation.reply",
        "conversation",
        conv.id,
        detail=f"message={result.message.id} channel={conv.channel} status={result.message.status}",
    )
    esc = inbox_service.acknowledge_on_reply(session, conversation=conv, staff=staff)
    if esc is not None:
        audit_action(session, staff, "escalation.acknowledge", "escalation", esc.id, detail=f"level={esc.level} by=reply")
    if result.not_sent:
        return go(url, error="not_sent")
    return go(url, done="reply_queued" if result.outbox is not None else "replied")


@router.post("/inbox/conversations/{conversation_id}/takeover", dependencies=[CSRF])
def takeover(
    conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, return_to: str = Form("")
) -> Response:
    conv = _conversation_or_404(session, conversation_id)
    if conv is None:
        return not_found(request, "conversation")
    if inbox_service.take_over(session, conversation=conv, staff=staff):
        audit_action(session, staff, "conversation.takeover", "conversation", conv.id)
    return go(_return_to(return_to, conv), done="taken_over")


@router.post("/inbox/conversations/{conversation_id}/handback", dependencies=[CSRF])
def handback(
    conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep, return_to: str = Form("")
) -> Response:
    conv = _conversation_or_404(session, conversation_id)
    if conv is None:
        return not_found(request, "conversation")
    if inbox_service.hand_back(session, conversation=conv, staff=staff):
        audit_action(session, staff, "conversation.handback", "conversation", conv.id)
    return go(_return_to(return_to, conv), done="handed_back")


@router.get("/inbox/media/{media_id}")
def patient_photo(media_id: str, request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    """A photo a patient sent: signed-in staff only, every view audited, never cached."""
    row = session.get(MessageMedia, media_id[:32])
    if row is None or row.status != "stored" or not row.data:
        return not_found(request, "photo")
    audit_action(session, staff, "media.view", "media", row.id)
    return Response(
        row.data,
        media_type=row.content_type or "application/octet-stream",
        headers={
            "Cache-Control": "no-store, private",
            "Content-Disposition": "inline",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        },
    )
