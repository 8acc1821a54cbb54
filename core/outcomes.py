"""What a red-flag screen result leads to, decided in one place.

Every path that screens a patient's message (a conversation turn, an SMS from a number
that opted out, a message replayed after a database outage) calls these functions, so
"which escalation, at which level, who is paged, with which words" is written once:

- :func:`apply_screen` opens, joins or raises the conversation's escalation for a result
  at routine or above, and pages the on-call clinician when an urgent or emergency
  escalation is created, raised, or re-opened by a new red flag after an acknowledgement;
- :func:`escalate` does the same for a level already decided (a spooled record, a hand-off);
  paging itself, and its repeats until someone acknowledges, is core/paging.py;
- :func:`screen_reply` is the patient's reply to an escalated message, in their language;
- :func:`findings_payload` is how findings are stored (escalation and spool alike).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from core import escalations as esc_service
from core import paging, phones
from core.enums import CLINICIAN_LEVELS
from core.escalations import EscalationChange
from core.triage import TriageResult, patient_reply, reason_text, reply_language

log = logging.getLogger("aftercare.outcomes")

PAGED_LEVELS = CLINICIAN_LEVELS


def findings_payload(triage: TriageResult) -> list[dict[str, str]]:
    return [{"code": f.code, "level": f.level.value, "matched": f.matched, "rule": f.rule} for f in triage.findings]


def apply_screen(
    session: Session,
    triage: TriageResult,
    *,
    conversation_id: str,
    message_id: str | None,
    day: int | None,
    public_url: str = "",
    reason_suffix: str = "",
) -> EscalationChange | None:
    """Record what the screen found (None when it found nothing that escalates)."""
    if not triage.escalates:
        return None
    return escalate(
        session,
        conversation_id=conversation_id,
        level=triage.level.value,
        reason=reason_text(triage, day) + reason_suffix,
        findings=findings_payload(triage),
        day=day,
        message_id=message_id,
        public_url=public_url,
    )


def escalate(
    session: Session,
    *,
    conversation_id: str,
    level: str,
    reason: str,
    findings: list[dict[str, Any]] | None = None,
    day: int | None = None,
    message_id: str | None = None,
    public_url: str = "",
    page: bool = True,
) -> EscalationChange:
    """Open, join or raise the conversation's escalation; page on-call when an urgent or emergency one
    is created or raised (``page=False`` when it was paged already, e.g. during a database outage)."""
    change = esc_service.record(
        session,
        conversation_id=conversation_id,
        level=level,
        reason=reason,
        findings=findings or [],
        recovery_day=day,
        message_id=message_id,
    )
    if page and level in PAGED_LEVELS and (change.created or change.raised or change.reopened):
        paging.page(session, change.escalation, public_url=public_url)
    elif not page and level in PAGED_LEVELS and (change.created or change.raised):
        paging.paged_elsewhere(session, change.escalation)  # repeats continue from now until someone acknowledges
    return change


def hand_photos_to_staff(
    s: Session,
    *,
    conversation_id: str,
    message_id: str,
    count: int,
    via: str,
    caption_escalates: bool,
    day: int | None,
) -> Any:
    """Photos go to staff (the assistant cannot look at them): a routine escalation, unless the
    caption's own red flag escalates, which the turn on the caption does (:func:`apply_screen`).
    Returns the escalation recorded, or None."""
    if caption_escalates:
        return None
    return esc_service.record(
        s,
        conversation_id=conversation_id,
        level="routine",
        reason=f"patient sent {count} photo{'s' if count != 1 else ''} {via}; a person needs to look",
        recovery_day=day,
        message_id=message_id,
    ).escalation


def outage_page_text(clinic_name: str, level: str) -> str:
    """The on-call SMS sent while the database is down (no link: the escalation is not stored yet)."""
    return (
        f"{clinic_name} aftercare: {level.upper()} red flag received while the database is down. Check the inbox when it is back."
    )


def screen_reply(triage: TriageResult, *, clinic_name: str, clinic_phone: str, text: str, language: str | None = None) -> str:
    """The patient's reply to a message the screen escalated, in the conversation's language (given),
    else the language they wrote in."""
    shown = phones.display(clinic_phone)  # "(201) 555-0199", as a US patient writes it
    return patient_reply(triage, clinic_name=clinic_name, clinic_phone=shown, language=language or reply_language(triage, text))
