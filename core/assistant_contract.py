"""The conversation service's side of the contract with the assistant's actions (core.turn).

:func:`turn_context` is what the actions are told about a turn (read from the database);
:func:`apply_requests` does what they asked for, in the turn's own transaction. The service
(core.conversations) is the one owner of the stated treatment date and of the "waiting for
the treatment date" sub-dialogue (``Conversation.awaiting``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core.clinic import clinic_info
from core.models import Conversation, Patient
from core.outcomes import escalate
from core.triage import TriageResult, reply_language
from core.turn import AWAIT_DATE as REQ_AWAIT_DATE
from core.turn import HANDOFF, REMEMBER_DATE, Request, ScreenFacts, TurnContext

AWAIT_DATE = "treatment_date"  # Conversation.awaiting = "treatment_date:<topic>"


def apply_requests(
    session: Session,
    conv: Conversation,
    requests: list[Request],
    *,
    today: date,
    day: int | None,
    message_id: str | None,
) -> None:
    """Do what the assistant's actions asked for (core.turn), in the turn's own transaction.

    The conversation service is the one owner of the "waiting for the treatment date"
    sub-dialogue (``Conversation.awaiting``) and of the stated treatment date.
    """
    for request in requests:
        if request.kind == REMEMBER_DATE and request.date is not None and request.date <= today:
            conv.stated_treatment_on = request.date
            if conv.awaiting and conv.awaiting.startswith(AWAIT_DATE):
                conv.awaiting = None
        elif request.kind == REQ_AWAIT_DATE and request.topic:
            conv.awaiting = f"{AWAIT_DATE}:{request.topic}"[:64]
        elif request.kind == HANDOFF and request.reason:
            # a request for a person (talk to staff, booking, a symptom nobody placed): routine, no page
            escalate(
                session,
                conversation_id=conv.id,
                level="routine",
                reason=request.reason,
                day=day,
                message_id=message_id,
                page=False,
            )


def turn_context(
    session: Session,
    conv: Conversation,
    *,
    today: date,
    day: int | None,
    message_id: str | None,
    triage: TriageResult | None,
    text: str,
    language: str | None = None,
) -> TurnContext:
    """What the assistant's actions are told about this turn (sent as Rasa metadata, core.turn)."""
    patient = session.get(Patient, conv.patient_id) if conv.patient_id else None
    return TurnContext(
        conversation_id=conv.id,
        channel=conv.channel,
        today=today,
        message_id=message_id,
        day=day,
        first_name=patient.first_name if patient is not None else None,
        clinic=clinic_info(session),
        language=language or (reply_language(triage, text) if triage is not None else "en"),
        escalated=triage.level.value if triage is not None and triage.escalates else None,
        screen=None
        if triage is None
        else ScreenFacts(
            level=triage.level.value,
            expected=tuple(triage.expected),
            needs_day=triage.needs_day,
            day_used=triage.day_used,
        ),
    )
