"""Escalations: one open escalation per conversation, raised when needed, never dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from core.db import now_of
from core.enums import CLINICAL_ROLES, CLINICIAN_LEVELS, ESCALATING_LEVELS, EscalationStatus, Level
from core.models import Conversation, Escalation, EscalationEvent, EscalationNote, StaffUser

LEVEL_RANK = {level.value: level.rank for level in Level}
LEVELS = tuple(reversed(ESCALATING_LEVELS))  # most severe first
STATUSES = tuple(s.value for s in EscalationStatus)


class EscalationError(ValueError):
    pass


class AlreadyResolved(EscalationError):
    """The escalation is resolved: it can no longer be acknowledged or resolved again."""


class NotAllowed(EscalationError):
    """The staff member's role may not do this to an escalation of this level (see may_handle)."""


class UnknownAssignee(EscalationError):
    """Escalations are assigned only to an existing, active staff member."""


@dataclass(frozen=True)
class EscalationChange:
    escalation: Escalation
    created: bool
    raised: bool
    previous_level: str | None
    reopened: bool = False  # a new red flag at the escalation's level after someone acknowledged it


def active_for_conversation(session: Session, conversation_id: str) -> Escalation | None:
    """The conversation's escalation that is not resolved yet (open or acknowledged)."""
    return session.execute(
        select(Escalation)
        .where(Escalation.conversation_id == conversation_id, Escalation.status != "resolved")
        .order_by(Escalation.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def record(
    session: Session,
    *,
    conversation_id: str,
    level: str,
    reason: str,
    findings: list[dict] | None = None,
    recovery_day: int | None = None,
    message_id: str | None = None,
) -> EscalationChange:
    """Open an escalation or join the conversation's active one, raising its level if needed."""
    level = str(getattr(level, "value", level))
    if level not in LEVEL_RANK or level == "none":
        raise EscalationError(f"not an escalation level: {level!r}")
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise EscalationError(f"unknown conversation {conversation_id}")
    esc = active_for_conversation(session, conversation_id)
    created = raised = reopened = False
    previous = None
    if esc is None:
        esc = Escalation(
            conversation_id=conversation_id,
            patient_id=conv.patient_id,
            level=level,
            status="open",
            reason=reason,
            findings=findings or [],
            recovery_day=recovery_day,
            trigger_message_id=message_id,
        )
        session.add(esc)
        created = True
    else:
        previous = esc.level
        if LEVEL_RANK[level] > LEVEL_RANK[esc.level]:
            esc.level = level
            esc.reason = reason
            esc.trigger_message_id = message_id or esc.trigger_message_id
            raised = True
            # a raised escalation needs fresh attention even if someone acknowledged the old level
            if esc.status == "acknowledged":
                esc.status = "open"
        elif level in CLINICIAN_LEVELS and LEVEL_RANK[level] == LEVEL_RANK[esc.level] and esc.status == "acknowledged":
            # a new urgent/emergency red flag after someone acknowledged: it needs attention again
            # (the patient wrote again; whoever acknowledged may not be looking at this conversation)
            esc.status = "open"
            esc.trigger_message_id = message_id or esc.trigger_message_id
            reopened = True
        esc.findings = list(esc.findings or []) + list(findings or [])
        if recovery_day is not None:
            esc.recovery_day = recovery_day
        esc.updated_at = now_of(session)
    session.flush()
    session.add(
        EscalationEvent(
            escalation_id=esc.id,
            message_id=message_id,
            level=level,
            reason=reason,
            findings=findings or [],
            recovery_day=recovery_day,
        )
    )
    session.flush()
    return EscalationChange(esc, created, raised, previous, reopened)


def open_or_join(
    session: Session,
    *,
    conversation_id: str,
    level: str,
    reason: str,
    findings: list[dict] | None = None,
    recovery_day: int | None = None,
    message_id: str | None = None,
) -> Escalation:
    """Same as :func:`record`, returning just the escalation (used by the Rasa actions)."""
    return record(
        session,
        conversation_id=conversation_id,
        level=level,
        reason=reason,
        findings=findings,
        recovery_day=recovery_day,
        message_id=message_id,
    ).escalation


def severity_order():
    """ORDER BY: most severe first, then oldest first."""
    return (
        case({level: i for i, level in enumerate(LEVELS)}, value=Escalation.level, else_=len(LEVELS)),
        Escalation.created_at.asc(),
    )


def list_escalations(
    session: Session,
    *,
    status: str | None = None,
    level: str | None = None,
    assignee_id: str | None = None,
    limit: int = 500,
) -> list[Escalation]:
    q = select(Escalation)
    if status:
        q = q.where(Escalation.status == status)
    if level:
        q = q.where(Escalation.level == level)
    if assignee_id:
        q = q.where(Escalation.assignee_id == assignee_id)
    return list(session.execute(q.order_by(*severity_order()).limit(limit)).scalars())


# How soon a clinician must acknowledge (response-time targets, PagerDuty-style): past it the
# inbox marks the escalation overdue. Routine ones have no clock.
RESPONSE_TARGET_S: dict[str, int] = {Level.EMERGENCY.value: 5 * 60, Level.URGENT.value: 15 * 60}


def is_overdue(esc: Escalation, now: datetime) -> bool:
    """Unacknowledged past its level's response-time target."""
    target = RESPONSE_TARGET_S.get(esc.level)
    if target is None or esc.status != EscalationStatus.OPEN.value or esc.created_at is None:
        return False
    created = esc.created_at if esc.created_at.tzinfo else esc.created_at.replace(tzinfo=now.tzinfo)
    return (now - created).total_seconds() >= target


def may_handle(role: str, level: str) -> bool:
    """Who may acknowledge or resolve: urgent and emergency findings need a clinician (or an admin);
    the front desk handles routine ones. Acknowledging clears the clinicians' overdue marker, so a
    front-desk click must not stand in for a clinician's attention."""
    return level not in CLINICIAN_LEVELS or role in CLINICAL_ROLES


def acknowledge(session: Session, esc: Escalation, *, staff_id: str, now: datetime | None = None) -> None:
    if esc.status == "resolved":
        raise AlreadyResolved("escalation is already resolved")
    esc.status = "acknowledged"
    esc.acknowledged_at = now or now_of(session)
    esc.acknowledged_by = staff_id
    esc.next_page_at = None  # someone has it: no more repeat pages (core/paging.py)


def resolve(session: Session, esc: Escalation, *, staff_id: str, note: str, now: datetime | None = None) -> None:
    if esc.status == "resolved":
        raise AlreadyResolved("escalation is already resolved")
    if not note.strip():
        raise EscalationError("a resolution note is required")
    esc.status = "resolved"
    esc.resolved_at = now or now_of(session)
    esc.resolved_by = staff_id
    esc.resolution_note = note.strip()
    esc.next_page_at = None
    if esc.acknowledged_at is None:
        esc.acknowledged_at = esc.resolved_at
        esc.acknowledged_by = staff_id


def assign(session: Session, esc: Escalation, *, assignee_id: str | None) -> None:
    esc.assignee_id = assignee_id


def add_note(session: Session, esc: Escalation, *, staff_id: str, text: str) -> EscalationNote:
    if not text.strip():
        raise EscalationError("a note cannot be empty")
    note = EscalationNote(escalation_id=esc.id, staff_id=staff_id, text=text.strip())
    session.add(note)
    session.flush()
    return note


# ------------------------------------------------------------ what a staff member may do
def acknowledge_as(session: Session, esc: Escalation, *, staff: StaffUser, now: datetime | None = None) -> None:
    """A staff member acknowledges: urgent and emergency ones only a clinician or an admin.

    Raises NotAllowed (the role), AlreadyResolved."""
    if not may_handle(staff.role, esc.level):
        raise NotAllowed("Urgent and emergency escalations are acknowledged by a clinician. Assign it to one, or add a note.")
    acknowledge(session, esc, staff_id=staff.id, now=now)


def resolve_as(session: Session, esc: Escalation, *, staff: StaffUser, note: str, now: datetime | None = None) -> None:
    """A staff member resolves with a note: urgent and emergency ones only a clinician or an admin.

    Raises NotAllowed (the role), AlreadyResolved, EscalationError (no note)."""
    if not may_handle(staff.role, esc.level):
        raise NotAllowed("Urgent and emergency escalations are resolved by a clinician. Assign it to one, or add a note.")
    resolve(session, esc, staff_id=staff.id, note=note, now=now)


def assign_staff(session: Session, esc: Escalation, *, assignee_id: str | None) -> None:
    """Assign to an active staff member (None: to nobody). Raises UnknownAssignee."""
    if assignee_id is not None:
        user = session.get(StaffUser, assignee_id)
        if user is None or not user.active:
            raise UnknownAssignee(f"no active staff member {assignee_id!r}")
    assign(session, esc, assignee_id=assignee_id)
