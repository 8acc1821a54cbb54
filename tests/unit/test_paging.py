"""Paging that does not give up (core/paging.py): repeats until acknowledged, then the backup too;
acknowledging by replying "1"; a new red flag after an acknowledgement pages again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import paging
from core.clinic import get_clinic
from core.db import session_scope
from core.escalations import acknowledge, resolve
from core.models import AuditLog, Conversation, Escalation, OutboxMessage
from core.outcomes import escalate
from core.sms import InboundSms, SmsChannel

PRIMARY, BACKUP, PATIENT = "+12015550198", "+12015550197", "+12015550123"


@pytest.fixture
def clinic(session_factory):
    with session_scope(session_factory) as s:
        c = get_clinic(s)
        c.name, c.oncall_name, c.oncall_phone = "Glow", "Nurse Joy", PRIMARY
        c.oncall_backup_name, c.oncall_backup_phone = "Dr Lee", BACKUP
        c.page_repeat_minutes, c.page_backup_after = 5, 2
    return session_factory


def new_escalation(factory, level: str = "urgent") -> str:
    with session_scope(factory) as s:
        conv = Conversation(channel="sms", phone=PATIENT)
        s.add(conv)
        s.flush()
        change = escalate(s, conversation_id=conv.id, level=level, reason="test red flag", public_url="http://inbox")
        return change.escalation.id


def pages(factory) -> list[tuple[str, str]]:
    with session_scope(factory) as s:
        rows = s.execute(
            select(OutboxMessage).where(OutboxMessage.purpose == "oncall_alert").order_by(OutboxMessage.created_at)
        ).scalars()
        return [(r.to, r.body) for r in rows]


def repeat(factory) -> int:
    with session_scope(factory) as s:
        return paging.run_repeats(s, public_url="http://inbox")


def test_an_urgent_escalation_pages_at_once_and_repeats_until_acknowledged(clinic, fixed_clock):
    esc_id = new_escalation(clinic)
    assert [to for to, _ in pages(clinic)] == [PRIMARY]
    first = pages(clinic)[0][1]
    assert "URGENT" in first and f"http://inbox/inbox/escalations/{esc_id}" in first and "Reply 1" in first
    assert repeat(clinic) == 0  # not due yet
    fixed_clock.advance(minutes=5)
    assert repeat(clinic) == 1
    assert [to for to, _ in pages(clinic)] == [PRIMARY, PRIMARY]
    assert "REPEAT 2" in pages(clinic)[1][1]
    with session_scope(clinic) as s:
        acknowledge(s, s.get(Escalation, esc_id), staff_id=None)
    fixed_clock.advance(minutes=30)
    assert repeat(clinic) == 0 and len(pages(clinic)) == 2


def test_the_backup_is_paged_after_the_unanswered_pages(clinic, fixed_clock):
    new_escalation(clinic, "emergency")
    fixed_clock.advance(minutes=5)
    repeat(clinic)  # page 2: still the primary only
    fixed_clock.advance(minutes=5)
    repeat(clinic)  # page 3: primary and backup
    assert [to for to, _ in pages(clinic)] == [PRIMARY, PRIMARY, PRIMARY, BACKUP]
    assert "Backup: Nurse Joy has not acknowledged" in pages(clinic)[-1][1]


def test_routine_escalations_page_nobody(clinic, fixed_clock):
    new_escalation(clinic, "routine")
    fixed_clock.advance(minutes=60)
    assert repeat(clinic) == 0 and pages(clinic) == []


def test_resolving_stops_the_repeats(clinic, fixed_clock):
    esc_id = new_escalation(clinic)
    with session_scope(clinic) as s:
        resolve(s, s.get(Escalation, esc_id), staff_id=None, note="called the patient")
    fixed_clock.advance(minutes=10)
    assert repeat(clinic) == 0


def test_a_new_red_flag_after_an_acknowledgement_pages_again(clinic, fixed_clock):
    esc_id = new_escalation(clinic, "emergency")
    with session_scope(clinic) as s:
        acknowledge(s, s.get(Escalation, esc_id), staff_id=None)
        conv_id = s.get(Escalation, esc_id).conversation_id
    with session_scope(clinic) as s:
        change = escalate(s, conversation_id=conv_id, level="emergency", reason="throat closing", public_url="")
        assert change.reopened and change.escalation.status == "open"
    assert len(pages(clinic)) == 2  # the first page and the new one
    with session_scope(clinic) as s:
        # a lower-level follow-up does not re-open an acknowledged emergency
        acknowledge(s, s.get(Escalation, esc_id), staff_id=None)
    with session_scope(clinic) as s:
        assert not escalate(s, conversation_id=conv_id, level="urgent", reason="still red").reopened
    assert len(pages(clinic)) == 2


def channel(factory, clock) -> SmsChannel:
    from core.conversations import ConversationService
    from tests.fakes import FakeAssistant

    service = ConversationService(session_factory=factory, assistant=FakeAssistant(), clock=clock, public_url="http://inbox")
    return SmsChannel(session_factory=factory, conversations=service, clock=clock)


@pytest.mark.parametrize("body", ["1", "ok", "ACK", "Yes", " 1. "])
def test_replying_1_to_the_alert_acknowledges_and_stops_the_repeats(clinic, fixed_clock, body):
    esc_id = new_escalation(clinic)
    stored = channel(clinic, fixed_clock).store(InboundSms(message_sid="SMack1", from_phone=PRIMARY, body=body))
    assert stored.needs_turn is False and stored.queued_replies == 1
    with session_scope(clinic) as s:
        esc = s.get(Escalation, esc_id)
        assert esc.status == "acknowledged" and esc.next_page_at is None
        assert s.query(Conversation).filter(Conversation.phone == PRIMARY).count() == 0  # not a patient
        acks = s.execute(select(AuditLog).where(AuditLog.action == "escalation.acknowledge")).scalars().all()
        assert [a.object_id for a in acks] == [esc_id] and PRIMARY in acks[0].actor_label
    assert "acknowledged (URGENT)" in pages(clinic)[-1][1] and pages(clinic)[-1][0] == PRIMARY
    fixed_clock.advance(minutes=30)
    assert repeat(clinic) == 0


def test_a_twilio_retry_of_the_acknowledgement_is_handled_once(clinic, fixed_clock):
    new_escalation(clinic)
    sms = channel(clinic, fixed_clock)
    sms.store(InboundSms(message_sid="SMack2", from_phone=PRIMARY, body="1"))
    again = sms.store(InboundSms(message_sid="SMack2", from_phone=PRIMARY, body="1"))
    assert again.created is False and again.queued_replies == 0
    assert len(pages(clinic)) == 2  # the page and one confirmation


def test_other_words_from_the_on_call_phone_get_a_how_to_not_the_patient_assistant(clinic, fixed_clock):
    esc_id = new_escalation(clinic)
    stored = channel(clinic, fixed_clock).store(InboundSms(message_sid="SMx", from_phone=BACKUP, body="what is this?"))
    assert stored.needs_turn is False
    assert "Reply 1 to acknowledge" in pages(clinic)[-1][1]
    with session_scope(clinic) as s:
        assert s.get(Escalation, esc_id).status == "open"


def test_a_patient_writing_1_is_still_a_patient(clinic, fixed_clock):
    esc_id = new_escalation(clinic)
    stored = channel(clinic, fixed_clock).store(InboundSms(message_sid="SMp", from_phone=PATIENT, body="1"))
    assert stored.needs_turn is True
    with session_scope(clinic) as s:
        assert s.get(Escalation, esc_id).status == "open"


def test_a_page_sent_during_a_database_outage_is_not_repeated_at_once_but_keeps_repeating(clinic, fixed_clock):
    with session_scope(clinic) as s:
        conv = Conversation(channel="sms", phone=PATIENT)
        s.add(conv)
        s.flush()
        esc_id = escalate(s, conversation_id=conv.id, level="urgent", reason="spooled", page=False).escalation.id
    assert pages(clinic) == []
    fixed_clock.advance(minutes=5)
    assert repeat(clinic) == 1
    with session_scope(clinic) as s:
        assert s.get(Escalation, esc_id).page_count == 2


def test_an_on_call_number_set_after_the_red_flag_is_paged_at_the_next_repeat(session_factory, fixed_clock):
    esc_id = new_escalation(session_factory)  # no on-call phone yet: nothing to send, nothing counted
    assert pages(session_factory) == []
    with session_scope(session_factory) as s:
        assert s.get(Escalation, esc_id).page_count == 0
        get_clinic(s).oncall_phone = PRIMARY
    fixed_clock.advance(minutes=5)
    assert repeat(session_factory) == 1
    assert [to for to, _ in pages(session_factory)] == [PRIMARY]


# ------------------------------------------------------------ business hours and after hours
DAY = "+12015550196"
NY = "America/New_York"


@pytest.fixture
def two_shifts(clinic):
    """The clinic nurse in business hours (Mon-Fri 9-18, New York), the on-call nurse after hours."""
    with session_scope(clinic) as s:
        c = get_clinic(s)
        c.timezone = NY
        c.day_oncall_name, c.day_oncall_phone = "Clinic nurse", DAY
        c.business_days, c.business_start_hour, c.business_end_hour = "0,1,2,3,4", 9, 18
    return clinic


def at_local(clock, weekday_date: str, hour: int, minute: int = 0) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.set(datetime.fromisoformat(f"{weekday_date}T{hour:02d}:{minute:02d}").replace(tzinfo=ZoneInfo(NY)))


def test_business_hours_page_the_business_hours_contact_and_after_hours_the_on_call_phone(two_shifts, fixed_clock):
    at_local(fixed_clock, "2026-11-26", 10)  # a Thursday, 10 am in New York
    new_escalation(two_shifts)
    at_local(fixed_clock, "2026-11-26", 18)  # 6 pm: business hours are over
    new_escalation(two_shifts, level="emergency")
    at_local(fixed_clock, "2026-11-28", 11)  # a Saturday morning: not a business day
    new_escalation(two_shifts)
    assert [to for to, _ in pages(two_shifts)] == [DAY, PRIMARY, PRIMARY]


def test_a_repeat_that_crosses_the_end_of_business_hours_goes_to_whoever_is_on_duty(two_shifts, fixed_clock):
    at_local(fixed_clock, "2026-11-26", 17, 58)
    new_escalation(two_shifts)
    fixed_clock.advance(minutes=5)
    assert repeat(two_shifts) == 1
    assert [to for to, _ in pages(two_shifts)] == [DAY, PRIMARY]


def test_business_hours_are_the_clinics_own_calendar(two_shifts, fixed_clock):
    with session_scope(two_shifts) as s:
        get_clinic(s).timezone = "America/Los_Angeles"
    at_local(fixed_clock, "2026-11-26", 10)  # 10 am in New York is 7 am in Los Angeles: not open yet
    new_escalation(two_shifts)
    assert [to for to, _ in pages(two_shifts)] == [PRIMARY]


def test_with_only_a_business_hours_contact_it_is_paged_at_night_too(two_shifts, fixed_clock):
    """Better someone than no one: an alert never goes nowhere because of the hour."""
    with session_scope(two_shifts) as s:
        get_clinic(s).oncall_phone = ""
    at_local(fixed_clock, "2026-11-26", 23)
    new_escalation(two_shifts)
    assert [to for to, _ in pages(two_shifts)] == [DAY]


def test_every_on_call_number_is_staff_at_any_hour(two_shifts, fixed_clock):
    """The business-hours contact can acknowledge by replying 1 after hours, and is never answered as a patient."""
    at_local(fixed_clock, "2026-11-26", 17, 58)
    esc_id = new_escalation(two_shifts)
    at_local(fixed_clock, "2026-11-26", 19)
    stored = channel(two_shifts, fixed_clock).store(InboundSms(message_sid="SMday1", from_phone=DAY, body="1"))
    assert stored.needs_turn is False
    with session_scope(two_shifts) as s:
        assert s.get(Escalation, esc_id).status == "acknowledged"
        assert s.query(Conversation).filter(Conversation.phone == DAY).count() == 0
        assert paging.is_oncall_number(s, DAY) and paging.is_oncall_number(s, PRIMARY) and paging.is_oncall_number(s, BACKUP)
