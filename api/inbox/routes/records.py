"""Finding and keeping records: search across patients and conversations, one patient's timeline,
and conversations as CSV. Every view and export is audited (ids and counts, never the search
words or message text)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff
from api.inbox.routes.common import (
    CHANNEL_LABELS,
    LEVEL_LABELS,
    STATUS_LABELS,
    audit_action,
    clinic_tz,
    not_found,
    staff_names,
    who,
)
from api.inbox.templating import render
from core import export
from core import search as search_service
from core.clinic import clinic_today
from core.models import Conversation, Patient
from core.patient_history import patient_history

router = APIRouter(include_in_schema=False)


@router.get("/inbox/search")
def search_page(request: Request, staff: CurrentStaff, session: SessionDep, q: str = Query("", max_length=500)) -> Response:
    result = search_service.search(session, q)
    if result.query:
        audit_action(
            session,
            staff,
            "search",
            "patient",
            "*",
            detail=f"patients={len(result.patients)} messages={len(result.messages)} numbers={len(result.numbers)}",
        )
    return render(
        request,
        "search.html",
        {
            "result": result,
            "search_q": result.query,
            "min_query": search_service.MIN_QUERY,
            "who": who,
            "channel_labels": CHANNEL_LABELS,
            "names": staff_names(session),
        },
    )


@router.get("/inbox/patients/{patient_id}/timeline")
def patient_timeline(
    patient_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    patient = session.get(Patient, patient_id[:32])
    if patient is None:
        return not_found(request, "patient")
    history = patient_history(session, patient, clinic_tz(session), clinic_today(session, container.clock))
    audit_action(session, staff, "patient.timeline", "patient", patient.id, detail=f"messages={history.messages}")
    return render(
        request,
        "timeline.html",
        {
            "patient": patient,
            "history": history,
            "names": staff_names(session),
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
            "channel_labels": CHANNEL_LABELS,
        },
    )


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw and raw.strip() else None
    except ValueError:
        return None


@router.get("/inbox/conversations.csv")
def export_conversations(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    start: str = Query("", max_length=10, alias="from"),
    end: str = Query("", max_length=10, alias="to"),
) -> Response:
    """Every message of every conversation, one row each, between two of the clinic's calendar
    days (both included; either may be left out)."""
    tz = clinic_tz(session)
    first, last = _day(start), _day(end)
    if (start.strip() and first is None) or (end.strip() and last is None) or (first and last and first > last):
        return render(
            request,
            "error.html",
            {"title": "Export", "message": "Give the dates as YYYY-MM-DD, the first on or before the last."},
            status_code=422,
        )
    since = datetime.combine(first, time(0, 0), tzinfo=tz) if first else None
    until = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=tz) if last else None
    body, n = export.conversations_csv(session, since=since, until=until, staff_names=staff_names(session))
    audit_action(
        session, staff, "conversation.export", "conversation", "*", detail=f"from={first or '-'} to={last or '-'} messages={n}"
    )
    return _csv(body, "conversations.csv")


@router.get("/inbox/conversations/{conversation_id}/export.csv")
def export_conversation(conversation_id: str, request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    conv = session.get(Conversation, conversation_id[:64])
    if conv is None:
        return not_found(request, "conversation")
    body, n = export.conversations_csv(session, conversation_id=conv.id, staff_names=staff_names(session))
    audit_action(session, staff, "conversation.export", "conversation", conv.id, detail=f"messages={n}")
    return _csv(body, f"conversation-{conv.id}.csv")
