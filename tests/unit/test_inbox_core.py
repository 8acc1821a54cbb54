"""core.inbox, the staff-session part of core.staff and the append-only audit log (no HTTP)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, update

from core import audit, inbox
from core import escalations as esc_service
from core import staff as staff_service
from core.db import session_scope
from core.models import AuditLog, Conversation, Message, OutboxMessage, Patient, StaffSession
from core.patients import create_patient

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery staple"
TODAY = date(2026, 11, 26)


@pytest.fixture
def s(session_factory):
    with session_scope(session_factory) as session:
        yield session


def _staff(s, email="nurse@clinic.test", role="clinician"):
    return staff_service.create_staff(s, email=email, display_name=email.split("@")[0].title(), role=role, password=PASSWORD)


def _conversation(s, channel="web", *, phone="+12015550123", opted_out=False, with_patient=True):
    patient = None
    if with_patient:
        patient = create_patient(
            s, first_name="Ana", last_name="Lopez", phone=phone, treatments=[{"performed_on": date(2026, 11, 24)}]
        )
        patient.opted_out = opted_out
    conv = Conversation(channel=channel, patient_id=patient.id if patient else None, phone=phone if channel == "sms" else None)
    s.add(conv)
    s.flush()
    return conv


# ------------------------------------------------------------------------- sessions
def test_session_cookie_is_random_and_only_its_hash_is_stored(s):
    user = _staff(s)
    raw, rec = staff_service.start_session(s, staff=user, now=T0)
    assert len(raw) >= 40
    assert rec.id == staff_service.hash_token(raw) != raw
    assert rec.csrf_token and rec.csrf_token != raw
    raw2, _ = staff_service.start_session(s, staff=user, now=T0)
    assert raw2 != raw


def test_session_idle_timeout_and_activity(s):
    user = _staff(s)
    raw, _ = staff_service.start_session(s, staff=user, now=T0)
    rec, who, why = staff_service.load_session(s, cookie_value=raw, now=T0 + timedelta(minutes=29))
    assert (who.id, why) == (user.id, "ok")
    # that request counted as activity: 29 more minutes are fine
    rec, _, why = staff_service.load_session(s, cookie_value=raw, now=T0 + timedelta(minutes=58))
    assert why == "ok"
    rec, _, why = staff_service.load_session(s, cookie_value=raw, now=T0 + timedelta(minutes=58 + 31))
    assert (rec, why) == (None, "idle")
    # once ended it stays ended
    _, _, why = staff_service.load_session(s, cookie_value=raw, now=T0 + timedelta(minutes=60))
    assert why == "ended"


def test_polling_without_activity_does_not_extend_the_session(s):
    user = _staff(s)
    raw, _ = staff_service.start_session(s, staff=user, now=T0)
    for minute in (5, 10, 20, 29):
        assert staff_service.load_session(s, cookie_value=raw, now=T0 + timedelta(minutes=minute), touch=False)[2] == "ok"
    assert staff_service.load_session(s, cookie_value=raw, now=T0 + timedelta(minutes=30), touch=False)[2] == "idle"


def test_session_absolute_lifetime(s):
    user = _staff(s)
    raw, _ = staff_service.start_session(s, staff=user, now=T0)
    t = T0
    while t < T0 + staff_service.SESSION_MAX - timedelta(minutes=20):
        t += timedelta(minutes=20)
        assert staff_service.load_session(s, cookie_value=raw, now=t)[2] == "ok"
    assert staff_service.load_session(s, cookie_value=raw, now=T0 + staff_service.SESSION_MAX)[2] == "expired"


def test_unknown_cookie_and_deactivated_staff(s):
    admin = _staff(s, "admin@clinic.test", "admin")
    user = _staff(s)
    assert staff_service.load_session(s, cookie_value="nope", now=T0)[2] == "missing"
    assert staff_service.load_session(s, cookie_value=None, now=T0)[2] == "missing"
    raw, _ = staff_service.start_session(s, staff=user, now=T0)
    staff_service.set_active(s, user, False, now=T0)
    assert staff_service.load_session(s, cookie_value=raw, now=T0)[2] == "ended"
    with pytest.raises(staff_service.StaffError):
        staff_service.set_active(s, admin, False)  # the last admin
    with pytest.raises(staff_service.StaffError):
        staff_service.set_role(s, admin, "frontdesk")


def test_password_change_ends_other_sessions(s):
    user = _staff(s)
    raw_a, rec_a = staff_service.start_session(s, staff=user, now=T0)
    raw_b, _ = staff_service.start_session(s, staff=user, now=T0)
    with pytest.raises(staff_service.StaffError):
        staff_service.change_own_password(s, user, current="wrong password!!", new="another long password")
    staff_service.change_own_password(s, user, current=PASSWORD, new="another long password", now=T0, keep_session_id=rec_a.id)
    assert staff_service.load_session(s, cookie_value=raw_a, now=T0)[2] == "ok"
    assert staff_service.load_session(s, cookie_value=raw_b, now=T0)[2] == "ended"
    assert staff_service.authenticate(s, email=user.email, password="another long password", now=T0) is not None


def test_throttled_inactive_and_unknown_accounts_cost_one_hash_check_like_any_other(s, monkeypatch):
    """Issue 16, item 6 (in part): a locked account answered in 22 ms instead of ~250 ms, an oracle.
    Counted, not timed: every answer does exactly one password-hash verification, whether the
    attempt is throttled, the account inactive or unknown."""
    from core import signin_throttle as throttle

    user = _staff(s)
    calls: list[int] = []
    real = staff_service._hasher

    class CountingHasher:  # argon2's PasswordHasher has slots: wrap it instead of patching it
        def verify(self, *a, **kw):
            calls.append(1)
            return real.verify(*a, **kw)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(staff_service, "_hasher", CountingHasher())
    for email in (user.email, "nobody@clinic.test"):
        for _ in range(throttle.PAIR_LIMIT):
            assert staff_service.attempt_sign_in(s, email=email, password="wrong", client_ip="198.51.100.1", now=T0).user is None
    for email, before in ((user.email, "throttled"), ("nobody@clinic.test", "throttled unknown")):
        calls.clear()
        attempt = staff_service.attempt_sign_in(s, email=email, password=PASSWORD, client_ip="198.51.100.1", now=T0)
        assert attempt.user is None and attempt.throttled is not None, before
        assert len(calls) == 1, before
    calls.clear()
    assert staff_service.authenticate(s, email="nobody@clinic.test", password=PASSWORD, now=T0) is None
    assert len(calls) == 1
    user.active = False
    calls.clear()
    assert staff_service.authenticate(s, email=user.email, password=PASSWORD, now=T0) is None
    assert len(calls) == 1


# -------------------------------------------------------------------------- replies
def test_web_reply_is_a_stored_staff_message(s):
    nurse = _staff(s)
    conv = _conversation(s, "web")
    result = inbox.staff_reply(s, conversation=conv, staff=nurse, text="  Hi Ana, this is the nurse.  ")
    assert result.outbox is None and result.not_sent is None
    msg = result.message
    assert (msg.direction, msg.author, msg.channel, msg.staff_id, msg.text) == (
        "out",
        "staff",
        "web",
        nurse.id,
        "Hi Ana, this is the nurse.",
    )
    assert s.execute(select(OutboxMessage)).first() is None


def test_sms_reply_goes_to_the_outbox(s):
    nurse = _staff(s)
    conv = _conversation(s, "sms")
    result = inbox.staff_reply(s, conversation=conv, staff=nurse, text="Please send a photo.")
    assert result.outbox is not None
    assert (result.outbox.purpose, result.outbox.to, result.outbox.status, result.outbox.message_id) == (
        "staff_reply",
        "+12015550123",
        "pending",
        result.message.id,
    )
    assert result.message.status == "queued"


def test_sms_reply_to_an_opted_out_patient_is_kept_but_not_sent(s):
    nurse = _staff(s)
    conv = _conversation(s, "sms", opted_out=True)
    result = inbox.staff_reply(s, conversation=conv, staff=nurse, text="Hello")
    assert result.outbox is None
    assert "opted out" in result.not_sent
    assert result.message.status == "not_sent"
    assert s.execute(select(OutboxMessage)).first() is None


def test_sms_reply_to_an_unknown_number_uses_the_conversation_phone(s):
    nurse = _staff(s)
    conv = _conversation(s, "sms", phone="+12015550999", with_patient=False)
    result = inbox.staff_reply(s, conversation=conv, staff=nurse, text="Hello")
    assert result.outbox.to == "+12015550999"


def test_reply_validation(s):
    nurse = _staff(s)
    conv = _conversation(s, "sms")
    with pytest.raises(inbox.InboxError):
        inbox.staff_reply(s, conversation=conv, staff=nurse, text="   ")
    with pytest.raises(inbox.InboxError):
        inbox.staff_reply(s, conversation=conv, staff=nurse, text="x" * (inbox.MAX_SMS_REPLY + 1))


def test_take_over_and_hand_back(s):
    nurse = _staff(s)
    conv = _conversation(s)
    assert inbox.take_over(s, conversation=conv, staff=nurse) is True
    assert (conv.staff_takeover, conv.takeover_by) == (True, nurse.id)
    assert inbox.take_over(s, conversation=conv, staff=nurse) is False
    assert inbox.taken_over(s) == [conv]
    assert inbox.hand_back(s, conversation=conv, staff=nurse) is True
    assert (conv.staff_takeover, conv.takeover_by) == (False, None)
    assert inbox.hand_back(s, conversation=conv, staff=nurse) is False


# ------------------------------------------------------------- who may handle what
def _escalation(s, level: str, conv: Conversation | None = None):
    conv = conv or _conversation(s, with_patient=False)
    return esc_service.record(s, conversation_id=conv.id, level=level, reason=level).escalation


@pytest.mark.parametrize("level", ["urgent", "emergency"])
def test_only_a_clinician_or_admin_acknowledges_or_resolves_urgent_and_emergency(s, level):
    desk = _staff(s, "desk@clinic.test", role="frontdesk")
    esc = _escalation(s, level)
    with pytest.raises(esc_service.NotAllowed, match="acknowledged by a clinician"):
        esc_service.acknowledge_as(s, esc, staff=desk, now=T0)
    with pytest.raises(esc_service.NotAllowed, match="resolved by a clinician"):
        esc_service.resolve_as(s, esc, staff=desk, note="called her", now=T0)
    assert esc.status == "open"
    for role in ("clinician", "admin"):
        user = _staff(s, f"{role}@clinic.test", role=role)
        other = _escalation(s, level)
        esc_service.acknowledge_as(s, other, staff=user, now=T0)
        assert (other.status, other.acknowledged_by) == ("acknowledged", user.id)
        esc_service.resolve_as(s, other, staff=user, note="seen in clinic", now=T0)
        assert (other.status, other.resolved_by) == ("resolved", user.id)


def test_the_front_desk_handles_routine_escalations(s):
    desk = _staff(s, "desk@clinic.test", role="frontdesk")
    esc = _escalation(s, "routine")
    esc_service.acknowledge_as(s, esc, staff=desk, now=T0)
    esc_service.resolve_as(s, esc, staff=desk, note="booked a visit", now=T0)
    assert esc.status == "resolved"


def test_a_resolved_escalation_is_not_acknowledged_or_resolved_again_and_needs_a_note(s):
    nurse = _staff(s)
    esc = _escalation(s, "urgent")
    with pytest.raises(esc_service.EscalationError) as no_note:
        esc_service.resolve_as(s, esc, staff=nurse, note="  ", now=T0)
    assert not isinstance(no_note.value, esc_service.AlreadyResolved)
    esc_service.resolve_as(s, esc, staff=nurse, note="done", now=T0)
    with pytest.raises(esc_service.AlreadyResolved):
        esc_service.resolve_as(s, esc, staff=nurse, note="again", now=T0)
    with pytest.raises(esc_service.AlreadyResolved):
        esc_service.acknowledge_as(s, esc, staff=nurse, now=T0)


def test_escalations_are_assigned_only_to_active_staff(s):
    nurse = _staff(s)
    gone = _staff(s, "gone@clinic.test")
    gone.active = False
    esc = _escalation(s, "urgent")
    esc_service.assign_staff(s, esc, assignee_id=nurse.id)
    assert esc.assignee_id == nurse.id
    for bad in (gone.id, "no-such-id"):
        with pytest.raises(esc_service.UnknownAssignee):
            esc_service.assign_staff(s, esc, assignee_id=bad)
    assert esc.assignee_id == nurse.id
    esc_service.assign_staff(s, esc, assignee_id=None)
    assert esc.assignee_id is None


@pytest.mark.parametrize(
    ("role", "level", "acknowledged"),
    [
        ("clinician", "urgent", True),
        ("admin", "emergency", True),
        ("frontdesk", "routine", True),
        ("frontdesk", "urgent", False),  # stays open for a clinician
        ("frontdesk", "emergency", False),
    ],
)
def test_a_staff_reply_acknowledges_what_the_role_may_handle(s, role, level, acknowledged):
    user = _staff(s, f"{role}@clinic.test", role=role)
    conv = _conversation(s)
    esc = _escalation(s, level, conv)
    inbox.staff_reply(s, conversation=conv, staff=user, text="We are looking at it.")
    got = inbox.acknowledge_on_reply(s, conversation=conv, staff=user)
    assert (got is esc) == acknowledged
    assert esc.status == ("acknowledged" if acknowledged else "open")
    assert inbox.acknowledge_on_reply(s, conversation=conv, staff=user) is None  # only an open one


def test_outbox_messages_and_delivery_by_message(s):
    conv = _conversation(s, "sms")
    nurse = _staff(s)
    sent = inbox.staff_reply(s, conversation=conv, staff=nurse, text="Hello")
    other = OutboxMessage(to="+12015550199", body="b", purpose="oncall_alert", status="failed")
    s.add(other)
    s.flush()
    assert inbox.delivery_by_message(s, conv.id) == {sent.message.id: sent.outbox}
    assert set(inbox.outbox_messages(s)) == {sent.outbox, other}
    assert inbox.outbox_messages(s, status="failed") == [other]
    assert inbox.outbox_messages(s, purpose="staff_reply") == [sent.outbox]


# ---------------------------------------------------------------------------- lists
def test_inbox_order_and_filters(s):
    nurse = _staff(s)
    convs = [Conversation(channel="web") for _ in range(4)]
    s.add_all(convs)
    s.flush()
    made = []
    for conv, level, minutes in zip(convs, ["routine", "urgent", "emergency", "urgent"], [0, 1, 2, 3], strict=True):
        e = esc_service.record(s, conversation_id=conv.id, level=level, reason=level).escalation
        e.created_at = T0 + timedelta(minutes=minutes)
        made.append(e)
    s.flush()
    routine, urgent_old, emergency, urgent_new = made
    assert inbox.inbox_escalations(s) == [emergency, urgent_old, urgent_new, routine]
    esc_service.acknowledge(s, urgent_old, staff_id=nurse.id)
    esc_service.assign(s, urgent_new, assignee_id=nurse.id)
    esc_service.resolve(s, routine, staff_id=nurse.id, note="done")
    assert inbox.inbox_escalations(s) == [emergency, urgent_old, urgent_new]
    assert inbox.inbox_escalations(s, statuses=("open",)) == [emergency, urgent_new]
    assert inbox.inbox_escalations(s, level="urgent") == [urgent_old, urgent_new]
    assert inbox.inbox_escalations(s, assignee=nurse.id) == [urgent_new]
    assert inbox.inbox_escalations(s, assignee="unassigned") == [emergency, urgent_old]
    assert inbox.inbox_escalations(s, statuses=()) == [emergency, urgent_old, urgent_new, routine]


def test_delivery_problems_are_failed_alerts_and_replies(s):
    conv = Conversation(channel="web")
    s.add(conv)
    s.flush()
    esc = esc_service.record(s, conversation_id=conv.id, level="urgent", reason="x").escalation
    rows = {}
    for purpose, status in [
        ("oncall_alert", "failed"),
        ("oncall_alert", "dead"),
        ("oncall_alert", "sent"),
        ("reply", "failed"),
        ("staff_reply", "undelivered"),
    ]:
        o = OutboxMessage(to="+12015550100", body="b", purpose=purpose, status=status, escalation_id=esc.id)
        s.add(o)
        rows[(purpose, status)] = o
    s.flush()
    got = set(inbox.delivery_problems(s))
    assert got == {rows[("oncall_alert", "failed")], rows[("oncall_alert", "dead")], rows[("staff_reply", "undelivered")]}
    assert [o.status for o in inbox.oncall_alerts(s, esc.id)] == ["failed", "dead", "sent"]


def test_search_patients(s):
    create_patient(s, first_name="Ana", last_name="Lopez", phone="+12015550123")
    create_patient(s, first_name="Bea", last_name="Smith", phone="+12015550456")
    assert [p.first_name for p in inbox.search_patients(s, "lop")] == ["Ana"]
    assert [p.first_name for p in inbox.search_patients(s, "0456")] == ["Bea"]
    assert [p.first_name for p in inbox.search_patients(s, "ana lopez")] == ["Ana"]
    assert len(inbox.search_patients(s, "")) == 2


def test_transcript_after(s):
    conv = Conversation(channel="web")
    s.add(conv)
    s.flush()
    msgs = []
    for i in range(3):
        m = Message(
            conversation_id=conv.id,
            direction="in",
            author="patient",
            channel="web",
            text=str(i),
            created_at=T0 + timedelta(seconds=i),
        )
        s.add(m)
        msgs.append(m)
    s.flush()
    assert inbox.transcript(s, conv.id) == msgs
    assert inbox.transcript(s, conv.id, after_id=msgs[0].id) == msgs[1:]


# ------------------------------------------------------------------------ CSV import
CSV = """first_name,last_name,phone,procedure,area,performed_on
Ana,Lopez,+12015550123,microneedling,face,2026-11-20
Bea,Smith,555-0124,microneedling,face,2026-11-21
Cleo,Ng,+12015550125,microneedling,face,21/11/2026
Dee,Ray,+12015550123,microneedling,neck,2026-11-22
Eve,Old,+12015550999,,,2026-11-01
Fay,Soon,+12015550126,microneedling,face,2026-12-30
Ida,Typo,+12015550130,microneedling,face,2062-12-30
,Nameless,+12015550127,microneedling,face,2026-11-20
Gil,Laser,+12015550128,laser,face,2026-11-20

Hal,Ok,+1 (201) 555-0129,,,2026-11-25
"""


def test_csv_import_reports_each_row(s):
    create_patient(s, first_name="Existing", phone="+12015550999")
    report = inbox.import_patients_csv(s, CSV.encode("utf-8-sig"), today=TODAY)
    assert report.error is None
    by_name = {r.name: r for r in report.rows}
    assert report.created == 3 and report.rejected == 7
    assert by_name["Ana Lopez"].status == "created" and by_name["Ana Lopez"].reasons == []
    assert by_name["Hal Ok"].status == "created"  # spaces and brackets are fine
    assert "bad phone" in by_name["Bea Smith"].reasons[0]
    assert "bad date" in by_name["Cleo Ng"].reasons[0]
    assert "duplicate" in by_name["Dee Ray"].reasons[0] and "line 2" in by_name["Dee Ray"].reasons[0]
    assert "already exists" in by_name["Eve Old"].reasons[0]
    # an upcoming appointment is imported, with a note; a date years ahead is a typo in the year
    assert by_name["Fay Soon"].status == "created"
    assert by_name["Fay Soon"].reasons == ["upcoming appointment on 2026-12-30: check-ins start then"]
    assert by_name["Ida Typo"].status == "rejected" and "more than a year ahead" in by_name["Ida Typo"].reasons[0]
    assert "first_name is missing" in by_name["Nameless"].reasons
    assert "unsupported procedure" in by_name["Gil Laser"].reasons[0]
    assert by_name["Cleo Ng"].line == 4
    ana = s.get(Patient, by_name["Ana Lopez"].patient_id)
    assert [t.performed_on for t in ana.treatments] == [date(2026, 11, 20)]
    hal = s.get(Patient, by_name["Hal Ok"].patient_id)
    assert hal.phone == "+12015550129" and hal.treatments[0].area == "face"
    # rejected rows left nothing behind
    assert s.execute(select(Patient).where(Patient.first_name == "Bea")).first() is None


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", "empty"),
        (b"name,phone\nAna,+12015550123\n", "missing column"),
        ("first_name,phone,performed_on\nAna,+12015550123,2026-11-20\n".encode("utf-16"), "UTF-8"),
    ],
)
def test_csv_import_refuses_bad_files(s, data, error):
    report = inbox.import_patients_csv(s, data, today=TODAY)
    assert error in report.error
    assert report.rows == []


def test_csv_import_minimal_columns(s):
    report = inbox.import_patients_csv(s, "phone,first_name,performed_on\n+12015550123,Ana,2026-11-20\n", today=TODAY)
    assert (report.created, report.rejected) == (1, 0)


# ---------------------------------------------------------------------- audit guard
def test_audit_log_is_append_only(session_factory):
    with session_scope(session_factory) as s:
        entry = audit.record(s, actor_id=None, actor_label="test", action="x.y", object_type="t", object_id="1")
        s.flush()
        entry_id = entry.id
    with pytest.raises(audit.AuditLogImmutableError):
        with session_scope(session_factory) as s:
            s.get(AuditLog, entry_id).detail = "changed"
    with pytest.raises(audit.AuditLogImmutableError):
        with session_scope(session_factory) as s:
            s.delete(s.get(AuditLog, entry_id))
    with pytest.raises(audit.AuditLogImmutableError):
        with session_scope(session_factory) as s:
            s.execute(update(AuditLog).values(detail="changed"))
    with pytest.raises(audit.AuditLogImmutableError):
        with session_scope(session_factory) as s:
            s.execute(delete(AuditLog))
    with session_scope(session_factory) as s:
        assert s.get(AuditLog, entry_id).detail == ""
        assert [a.action for a in audit.search(s, action="x.")] == ["x.y"]


def test_audit_search_filters(s):
    for i in range(5):
        audit.record(s, actor_id="a" if i % 2 else "b", actor_label="t", action=f"escalation.{i}", object_id=str(i))
    audit.record(s, actor_id="a", actor_label="t", action="patient.view", object_id="p")
    s.flush()
    assert len(audit.search(s, action="escalation.")) == 5
    assert {a.actor_id for a in audit.search(s, actor_id="a")} == {"a"}
    newest = audit.search(s, limit=2)
    older = audit.search(s, before_id=newest[-1].id)
    assert all(a.id < newest[-1].id for a in older)


def test_staff_session_rows_are_kept_after_sign_out(s):
    user = _staff(s)
    raw, rec = staff_service.start_session(s, staff=user, now=T0)
    staff_service.end_session(s, rec, now=T0)
    s.flush()
    assert s.get(StaffSession, rec.id).ended_at is not None
    assert staff_service.load_session(s, cookie_value=raw, now=T0)[2] == "ended"


def test_csv_import_reads_us_dates_and_refuses_to_guess_the_rest(s):
    """A clinic's spreadsheet exports 11/23/2026; a day-first or two-digit year is refused, not guessed."""
    data = "first_name,phone,performed_on\nAna,(201) 555-0131,11/23/2026\nBea,+12015550132,23/11/2026\nCy,+12015550133,11/23/26\n"
    report = inbox.import_patients_csv(s, data, today=TODAY)
    by_name = {r.name.strip(): r for r in report.rows}
    assert by_name["Ana"].status == "created"
    assert s.get(Patient, by_name["Ana"].patient_id).treatments[0].performed_on == date(2026, 11, 23)
    assert s.get(Patient, by_name["Ana"].patient_id).phone == "+12015550131"
    assert "bad date" in by_name["Bea"].reasons[0] and "bad date" in by_name["Cy"].reasons[0]


def test_csv_import_with_a_nul_byte_is_not_a_500(s):
    """Issue #16 item 11: the csv module refuses NUL ('line contains NUL'); the import drops it."""
    report = inbox.import_patients_csv(s, b"first_name,phone,performed_on\nA\x00na,+12015550141,2026-11-20\n", today=TODAY)
    assert report.error is None and report.created == 1 and report.rows[0].name.strip() == "Ana"


def test_response_time_targets_by_level(s):
    """An emergency is overdue after 5 unacknowledged minutes, an urgent one after 15; routine never."""
    from datetime import timedelta

    from core.escalations import is_overdue
    from core.models import Conversation, Escalation

    conv = Conversation(channel="web")
    s.add(conv)
    s.flush()
    made = {}
    for level in ("emergency", "urgent", "routine"):
        e = Escalation(conversation_id=conv.id, level=level, status="open", reason="r")
        s.add(e)
        s.flush()
        made[level] = e
    t0 = made["emergency"].created_at
    assert not is_overdue(made["emergency"], t0 + timedelta(minutes=4))
    assert is_overdue(made["emergency"], t0 + timedelta(minutes=5, seconds=1))
    assert not is_overdue(made["urgent"], t0 + timedelta(minutes=10))
    assert is_overdue(made["urgent"], t0 + timedelta(minutes=16))
    assert not is_overdue(made["routine"], t0 + timedelta(days=2))
    made["emergency"].status = "acknowledged"
    assert not is_overdue(made["emergency"], t0 + timedelta(hours=1))


def test_a_large_csv_import_commits_in_batches_not_one_long_transaction(s):
    """Issue #16 item 11: a 5,000-row import in one transaction held SQLite's only write lock for
    8 s (patients' messages waited behind it). The import commits every IMPORT_BATCH rows."""
    from sqlalchemy import event

    commits = []
    event.listen(s, "after_commit", lambda _s: commits.append(1))
    rows = "".join(f"P{i},+1201555{i:04d},2026-11-20\n" for i in range(1, 2 * inbox.IMPORT_BATCH + 2))
    report = inbox.import_patients_csv(s, "first_name,phone,performed_on\n" + rows, today=TODAY)
    assert report.created == 2 * inbox.IMPORT_BATCH + 1
    assert len(commits) >= 2
    # a duplicate across batches is still caught (the earlier batches are committed, not forgotten)
    again = inbox.import_patients_csv(s, "first_name,phone,performed_on\nDup,+12015550001,2026-11-20\n", today=TODAY)
    assert again.created == 0 and "already exists" in again.rows[0].reasons[0]
