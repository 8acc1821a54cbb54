"""Paging that does not give up: the on-call clinician is texted until someone acknowledges.

PagerDuty-style, for a clinic:

- an urgent or emergency escalation that is created, raised or re-opened pages the on-call
  phone at once (:func:`page`);
- while it stays unacknowledged, the page repeats every ``Clinic.page_repeat_minutes``
  (:func:`run_repeats`, a background worker on every API replica: rows are claimed with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so no page goes out twice);
- during the clinic's business hours (days and hours on its own calendar) a business-hours contact,
  when one is set, is paged instead of the on-call phone (:func:`contacts`); a repeat that crosses
  the boundary goes to whoever is on duty then;
- after ``Clinic.page_backup_after`` unanswered pages, the backup contact is paged as well;
- the on-call person acknowledges from the inbox, or by replying "1" to the alert SMS
  (:func:`handle_oncall_sms`); an on-call number is never answered by the patient assistant;
- every page is an outbox row (purpose ``oncall_alert``, with the escalation's id: the inbox
  lists them on the escalation), and an acknowledgement by SMS is in the audit log.

The pages carry the level and a link, never health details (SMS is not private).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, outbox
from core.clinic import get_clinic
from core.db import now_of
from core.enums import CLINICIAN_LEVELS, EscalationStatus
from core.escalations import acknowledge, severity_order
from core.models import AuditLog, Clinic, Escalation

log = logging.getLogger("aftercare.paging")

PAGE_PURPOSE = "oncall_alert"
ACK_PURPOSE = "oncall_alert"  # the confirmation to the on-call phone goes out like a page (never suppressed)
MIN_REPEAT_MINUTES = 1
ACK_WORDS = frozenset({"1", "ACK", "ACKNOWLEDGE", "ACKNOWLEDGED", "OK", "OKAY", "YES", "Y", "ONIT", "GOTIT", "ONMYWAY"})


@dataclass(frozen=True)
class Contact:
    phone: str
    name: str
    backup: bool = False


def business_days(clinic: Clinic) -> set[int]:
    """The clinic's business days, 0 = Monday .. 6 = Sunday."""
    return {int(d) for d in (clinic.business_days or "").split(",") if d.strip().isdigit() and int(d) < 7}


def in_business_hours(clinic: Clinic, now: datetime) -> bool:
    """Whether ``now`` falls in the clinic's business hours, on the clinic's own calendar."""
    try:
        local = now.astimezone(ZoneInfo(clinic.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local = now
    start, end = clinic.business_start_hour, clinic.business_end_hour
    return local.weekday() in business_days(clinic) and start is not None and end is not None and start <= local.hour < end


def contacts(clinic: Clinic, now: datetime | None = None) -> list[Contact]:
    """Who is paged at ``now``: the primary, then the backup (each only if set).

    The primary is the business-hours contact during business hours (when one is set), the on-call
    phone otherwise. A clinic with only a business-hours contact still has it paged at night:
    better someone than no one."""
    out = []
    day = (
        Contact(clinic.day_oncall_phone, clinic.day_oncall_name or "on call (business hours)")
        if clinic.day_oncall_phone
        else None
    )
    night = Contact(clinic.oncall_phone, clinic.oncall_name or "on call") if clinic.oncall_phone else None
    if day is not None and (night is None or (now is not None and in_business_hours(clinic, now))):
        out.append(day)
    elif night is not None:
        out.append(night)
    if clinic.oncall_backup_phone and all(c.phone != clinic.oncall_backup_phone for c in out):
        out.append(Contact(clinic.oncall_backup_phone, clinic.oncall_backup_name or "backup", backup=True))
    return out


def all_contacts(clinic: Clinic) -> list[Contact]:
    """Every on-call number at any hour (a reply from any of them is staff, never a patient)."""
    out = []
    for phone, name, backup in (
        (clinic.oncall_phone, clinic.oncall_name or "on call", False),
        (clinic.day_oncall_phone, clinic.day_oncall_name or "on call (business hours)", False),
        (clinic.oncall_backup_phone, clinic.oncall_backup_name or "backup", True),
    ):
        if phone and all(c.phone != phone for c in out):
            out.append(Contact(phone, name, backup=backup))
    return out


def is_oncall_number(session: Session, phone: str | None) -> bool:
    return bool(phone) and any(c.phone == phone for c in all_contacts(get_clinic(session)))


def _link(public_url: str, esc: Escalation) -> str:
    return f"{public_url}/inbox/escalations/{esc.id}" if public_url else f"escalation {esc.id}"


def page_text(clinic: Clinic, esc: Escalation, *, attempt: int, public_url: str, backup_for: str | None = None) -> str:
    """The on-call SMS: level, link, how to acknowledge. Staff-facing; no health details."""
    head = f"{clinic.name} aftercare: {esc.level.upper()} escalation needs a clinician."
    if attempt > 1:
        head = f"{clinic.name} aftercare: REPEAT {attempt}, still not acknowledged: {esc.level.upper()} escalation."
    if backup_for:
        head += f" (Backup: {backup_for} has not acknowledged.)"
    return f"{head} Open {_link(public_url, esc)} Reply 1 to acknowledge."


def page(session: Session, esc: Escalation, *, public_url: str = "", now: datetime | None = None) -> int:
    """Send the next page for ``esc`` (the first, or a repeat) and schedule the one after.

    Returns how many SMS were queued (0: no on-call number is set; the inbox shows that in red)."""
    clinic = get_clinic(session)
    now = now or now_of(session)
    people = contacts(clinic, now)
    # the next try is scheduled either way: an on-call number set later is paged at the next repeat
    schedule_repeat(esc, clinic, now)
    if not people:
        log.warning("no on-call phone configured; %s escalation %s only in the inbox", esc.level, esc.id)
        return 0
    esc.page_count = (esc.page_count or 0) + 1
    esc.last_paged_at = now
    primary = people[0]
    targets = [primary]
    if len(people) > 1 and esc.page_count > max(clinic.page_backup_after or 0, 1):
        targets.append(people[1])
    for person in targets:
        body = page_text(
            clinic,
            esc,
            attempt=esc.page_count,
            public_url=public_url,
            backup_for=primary.name if person.backup else None,
        )
        outbox.enqueue(
            session,
            to=person.phone,
            body=body,
            purpose=PAGE_PURPOSE,
            escalation_id=esc.id,
            conversation_id=esc.conversation_id,
        )
    return len(targets)


def schedule_repeat(esc: Escalation, clinic: Clinic, now: datetime) -> None:
    """When the next page for ``esc`` is due, unless someone acknowledges first."""
    esc.next_page_at = now + timedelta(minutes=max(clinic.page_repeat_minutes or 0, MIN_REPEAT_MINUTES))


def paged_elsewhere(session: Session, esc: Escalation) -> None:
    """The first page went out another way (during a database outage): count it, repeat from now."""
    esc.page_count = max(esc.page_count or 0, 1)
    schedule_repeat(esc, get_clinic(session), now_of(session))


def due(session: Session, now: datetime, *, limit: int = 50) -> list[Escalation]:
    """Unacknowledged urgent/emergency escalations whose next page is due, claimed for this transaction."""
    q = (
        select(Escalation)
        .where(
            Escalation.status == EscalationStatus.OPEN.value,
            Escalation.level.in_(CLINICIAN_LEVELS),
            Escalation.next_page_at.is_not(None),
            Escalation.next_page_at <= now,
        )
        .order_by(Escalation.next_page_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)  # several replicas: each due page is taken by one
    return list(session.execute(q).scalars())


def run_repeats(session: Session, *, public_url: str = "") -> int:
    """Repeat every due page once. Returns how many escalations were paged again."""
    now = now_of(session)
    escalations = due(session, now)
    for esc in escalations:
        page(session, esc, public_url=public_url, now=now)
    if escalations:
        log.warning("paged on-call again for %d unacknowledged escalation(s)", len(escalations))
    return len(escalations)


# ---------------------------------------------------------------- replies from the on-call phone
_WORD = re.compile(r"[^A-Z0-9]")


def is_acknowledgement(body: str | None) -> bool:
    return _WORD.sub("", (body or "").upper())[:24] in ACK_WORDS


def already_handled(session: Session, message_sid: str) -> bool:
    """A Twilio retry of an on-call SMS we have handled (each one leaves an audit entry)."""
    found = session.execute(
        select(AuditLog.id).where(AuditLog.action == "oncall.sms", AuditLog.object_id == message_sid[:64]).limit(1)
    ).first()
    return found is not None


def handle_oncall_sms(session: Session, *, phone: str, body: str, message_sid: str, public_url: str = "") -> str:
    """An SMS from an on-call number. "1" (or ok/ack/yes) acknowledges the escalations paged to
    that number that are still open; anything else gets a short how-to. Returns the reply."""
    clinic = get_clinic(session)
    person = next((c for c in all_contacts(clinic) if c.phone == phone), None)
    label = f"{person.name if person else 'on call'} by SMS ({phone})"
    ack = is_acknowledgement(body)
    audit.record(
        session,
        actor_id=None,
        actor_label=label,
        action="oncall.sms",
        object_type="sms",
        object_id=message_sid,
        detail="acknowledgement" if ack else "not an acknowledgement",
    )
    if not ack:
        pending = _paged_open(session, phone)
        if not pending:
            return f"{clinic.name} aftercare: no unacknowledged alert for this number."
        return f"{clinic.name} aftercare: {len(pending)} alert(s) waiting. Reply 1 to acknowledge, or open {public_url or 'the inbox'}."
    pending = _paged_open(session, phone)
    now = now_of(session)
    for esc in pending:
        acknowledge(session, esc, staff_id=None, now=now)  # the same acknowledgement as the inbox's (stops the repeats)
        audit.record(
            session, actor_id=None, actor_label=label, action="escalation.acknowledge", object_type="escalation", object_id=esc.id
        )
    if not pending:
        return f"{clinic.name} aftercare: nothing to acknowledge, every alert is already handled."
    levels = ", ".join(sorted({e.level.upper() for e in pending}))
    first = pending[0]
    more = f" and {len(pending) - 1} more" if len(pending) > 1 else ""
    return f"{clinic.name} aftercare: acknowledged ({levels}){more}. Repeats stopped. Open {_link(public_url, first)}"


def _paged_open(session: Session, phone: str) -> list[Escalation]:
    """Open urgent/emergency escalations that have been paged (most severe and oldest first)."""
    if not is_oncall_number(session, phone):
        return []
    return list(
        session.execute(
            select(Escalation)
            .where(
                Escalation.status == EscalationStatus.OPEN.value,
                Escalation.level.in_(CLINICIAN_LEVELS),
                Escalation.page_count > 0,
            )
            .order_by(*severity_order())
        ).scalars()
    )
