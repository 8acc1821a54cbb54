"""Proactive check-ins: the scheduler on SQLite and PostgreSQL, the worker, the staff pages,
and a patient's reply to a check-in going through triage.

Times: the clinic is in New York. 2026-11-02 is a Monday after the end of daylight
saving time (UTC-5), so 14:05 UTC is 09:05 local.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import checkins
from core.clinic import get_clinic
from core.clock import FixedClock
from core.db import make_engine, make_session_factory, session_scope
from core.models import AuditLog, CheckinSend, Conversation, Escalation, Message, OutboxMessage, Patient, Treatment
from core.patients import add_treatment, create_patient
from tests.fakes import test_clock

NY = ZoneInfo("America/New_York")
TREATED = date(2026, 11, 2)


def local(d: date, hour: int, minute: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=tz).astimezone(timezone.utc)


def day(n: int) -> date:
    return TREATED + timedelta(days=n)


@pytest.fixture
def factory(db_url):
    engine = make_engine(db_url)
    yield make_session_factory(engine, test_clock())
    engine.dispose()


def setup_clinic(factory, *, tz: str = "America/New_York", start: int = 9, end: int = 19) -> None:
    with session_scope(factory) as s:
        clinic = get_clinic(s)
        clinic.name = "Glow Test MedSpa"
        clinic.phone = "+12015550199"
        clinic.timezone = tz
        clinic.checkin_hour_start = start
        clinic.checkin_hour_end = end
        checkins.ensure_default_plan(s)


def add_patient(factory, *, name: str = "Ana", phone: str | None = "+12015550100", treated: date = TREATED, **flags) -> str:
    with session_scope(factory) as s:
        p = create_patient(s, first_name=name, phone=phone, treatments=[{"performed_on": treated}])
        for k, v in flags.items():
            setattr(p, k, v)
        return p.id


def run(factory, at: datetime) -> list[checkins.CheckinOutcome]:
    with session_scope(factory) as s:
        return checkins.run_due(s, now=at)


def sends(factory, patient_id: str | None = None) -> list[CheckinSend]:
    with session_scope(factory) as s:
        q = select(CheckinSend).order_by(CheckinSend.created_at, CheckinSend.step_key)
        if patient_id:
            q = q.where(CheckinSend.patient_id == patient_id)
        return list(s.execute(q).scalars())


def outbox_rows(factory) -> list[OutboxMessage]:
    with session_scope(factory) as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.created_at)).scalars())


@pytest.fixture
def clinic(factory):
    setup_clinic(factory)
    return factory


# ---------------------------------------------------------------------- when it sends
def test_day1_goes_out_on_day1_at_the_local_sending_hour(clinic):
    pid = add_patient(clinic)
    assert run(clinic, local(day(0), 12)) == []  # treatment day: nothing yet
    assert run(clinic, local(day(1), 8, 59)) == []  # before the window
    out = run(clinic, local(day(1), 9, 5))
    assert [(o.step_key, o.status) for o in out] == [("day1", "queued")]
    assert out[0].local_time.hour == 9 and out[0].local_time.date() == day(1)

    [item] = outbox_rows(clinic)
    assert item.purpose == "checkin" and item.to == "+12015550100" and item.status == "pending"
    assert item.body.startswith("Hi Ana, it's Glow Test MedSpa checking in") and "Reply STOP to opt out" in item.body
    with session_scope(clinic) as s:
        [send] = s.execute(select(CheckinSend)).scalars().all()
        assert (send.patient_id, send.step_key, send.status, send.outbox_id) == (pid, "day1", "queued", item.id)
        conv = s.get(Conversation, item.conversation_id)
        assert conv.channel == "sms" and conv.patient_id == pid and conv.phone == "+12015550100"
        msg = s.get(Message, item.message_id)
        assert (msg.direction, msg.author, msg.channel, msg.text, msg.topic) == ("out", "bot", "sms", item.body, "checkin")
        assert msg.conversation_id == conv.id


def test_a_patient_answered_in_spanish_gets_the_spanish_check_in(clinic):
    """Issue #18: the preferred language (or the SMS conversation's) picks the step's Spanish text,
    sent as GSM-7 (accents outside the SMS alphabet folded), within the English one's 2 segments."""
    pid = add_patient(clinic, language="es")
    en_id = add_patient(clinic, name="Bea", phone="+12015550101")
    run(clinic, local(day(1), 9, 5))
    by_patient = {}
    with session_scope(clinic) as s:
        for send in s.execute(select(CheckinSend)).scalars():
            by_patient[send.patient_id] = s.get(OutboxMessage, send.outbox_id).body
    assert by_patient[pid].startswith("Hola, Ana, le escribe Glow Test MedSpa")
    assert "PARAR" in by_patient[pid] and checkins.is_gsm7(by_patient[pid])
    assert checkins.sms_segments(by_patient[pid]) <= checkins.MAX_SEGMENTS
    assert by_patient[en_id].startswith("Hi Bea")
    # a step whose English an admin rewrote keeps no stale default Spanish on an upgrade
    with session_scope(clinic) as s:
        steps = {st.key: st for st in checkins.plan_steps(s)}
        steps["day3"].body, steps["day3"].body_es = "Hi {first_name}, {clinic}: how is day 3?", None
        steps["day7"].body_es = None
        changed = checkins.add_default_spanish(s)
        assert [c.key for c in changed] == ["day7"] and steps["day3"].body_es is None


def test_nothing_before_a_steps_day_and_each_step_on_its_own_day(clinic):
    pid = add_patient(clinic)
    run(clinic, local(day(1), 10))
    assert run(clinic, local(day(2), 10)) == []
    assert [o.step_key for o in run(clinic, local(day(3), 10))] == ["day3"]
    assert run(clinic, local(day(6), 18, 59)) == []
    assert [o.step_key for o in run(clinic, local(day(7), 9))] == ["day7"]
    assert run(clinic, local(day(27), 12)) == []
    assert [o.step_key for o in run(clinic, local(day(28), 12))] == ["week4"]
    assert run(clinic, local(day(29), 12)) == []
    assert [(s.step_key, s.status) for s in sends(clinic, pid)] == [
        ("day1", "queued"),
        ("day3", "queued"),
        ("day7", "queued"),
        ("week4", "queued"),
    ]


def test_quiet_hours_wait_for_the_window_and_never_skip(clinic):
    add_patient(clinic)
    assert run(clinic, local(day(1), 7)) == []  # 7am local: wait
    assert run(clinic, local(day(1), 19, 0)) == []  # the window ends at 19:00
    assert run(clinic, local(day(1), 23, 30)) == []
    assert sends(clinic) == []  # waiting is not skipping
    assert [o.status for o in run(clinic, local(day(2), 9, 5))] == ["queued"]  # next morning, still in time


def test_the_window_follows_the_clinics_time_zone(factory):
    setup_clinic(factory, tz="America/Los_Angeles")
    add_patient(factory)
    la = ZoneInfo("America/Los_Angeles")
    assert run(factory, local(day(1), 9, 5, tz=NY)) == []  # 06:05 in Los Angeles
    assert [o.status for o in run(factory, local(day(1), 9, 5, tz=la))] == ["queued"]


def test_the_day_follows_the_clinics_calendar_not_utc(clinic):
    add_patient(clinic)
    # 01:30 UTC on day 1 is still day 0 (20:30) in New York, and outside the window anyway
    assert run(clinic, datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc)) == []
    with session_scope(clinic) as s:
        get_clinic(s).checkin_hour_end = 23
    assert run(clinic, datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc)) == []  # 20:30 on day 0
    assert [o.step_key for o in run(clinic, datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc))] == ["day1"]


# ---------------------------------------------------------------------- never twice
def test_no_duplicate_after_a_restart(db_url, clinic):
    add_patient(clinic)
    at = local(day(1), 9, 5)
    assert len(run(clinic, at)) == 1
    assert run(clinic, at) == []
    assert run(clinic, at + timedelta(minutes=1)) == []
    # a "restart": a new engine and sessions, the same moment
    engine = make_engine(db_url)
    try:
        assert run(make_session_factory(engine, test_clock()), at + timedelta(hours=2)) == []
    finally:
        engine.dispose()
    assert len(outbox_rows(clinic)) == 1
    assert len(sends(clinic)) == 1


def test_two_workers_racing_send_once(clinic):
    """Worker A has claimed the step but not committed; worker B runs meanwhile; A commits."""
    add_patient(clinic)
    at = local(day(1), 9, 5)
    a = clinic()
    result_b: list = []
    errors: list = []
    try:
        out_a = checkins.run_due(a, now=at)
        assert len(out_a) == 1

        def worker_b() -> None:
            try:
                result_b.extend(run(clinic, at))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        t = threading.Thread(target=worker_b)
        t.start()
        time.sleep(0.5)  # B is now blocked on A's claim (PostgreSQL) or on the write lock (SQLite)
        a.commit()
        t.join(timeout=30)
    finally:
        a.close()
    assert not errors, errors
    assert result_b == []
    assert len(outbox_rows(clinic)) == 1
    assert len(sends(clinic)) == 1


# ---------------------------------------------------------------------- skips
def test_opted_out_patient_is_skipped(clinic):
    pid = add_patient(clinic, opted_out=True)
    out = run(clinic, local(day(1), 10))
    assert [(o.status, o.skip_reason) for o in out] == [("skipped", "opted_out")]
    assert outbox_rows(clinic) == []
    assert [(s.status, s.skip_reason, s.outbox_id) for s in sends(clinic, pid)] == [("skipped", "opted_out", None)]


def test_a_number_that_texted_stop_before_it_was_a_patient_is_skipped(clinic):
    from core.sms import set_opt_out

    with session_scope(clinic) as s:
        set_opt_out(s, "+12015550100", opted_out=True, keyword="STOP")
    add_patient(clinic)
    assert [(o.status, o.skip_reason) for o in run(clinic, local(day(1), 10))] == [("skipped", "opted_out")]
    assert outbox_rows(clinic) == []


def test_paused_patient_gets_nothing_until_resumed(clinic):
    pid = add_patient(clinic, checkins_paused=True)
    out = run(clinic, local(day(1), 10))
    assert [(o.status, o.skip_reason) for o in out] == [("skipped", "paused")]
    assert outbox_rows(clinic) == []
    with session_scope(clinic) as s:
        checkins.set_paused(s, patient_id=pid, paused=False, actor_id=None, actor_label="Nurse Joy")
    assert run(clinic, local(day(2), 10)) == []  # the paused step is not sent late
    assert [o.status for o in run(clinic, local(day(3), 10))] == ["queued"]  # the plan carries on
    with session_scope(clinic) as s:
        actions = [a.action for a in s.execute(select(AuditLog).where(AuditLog.object_id == pid)).scalars()]
    assert actions == ["checkins.resume"]


def test_patient_without_a_phone_is_skipped(clinic):
    add_patient(clinic, phone=None)
    assert [(o.status, o.skip_reason) for o in run(clinic, local(day(1), 10))] == [("skipped", "no_phone")]
    assert outbox_rows(clinic) == []


def test_inactive_step_is_not_sent(clinic):
    with session_scope(clinic) as s:
        step = next(st for st in checkins.plan_steps(s) if st.key == "day1")
        checkins.update_step(s, step_id=step.id, body=step.body, day=step.day, active=False, actor_id=None, actor_label="admin")
    add_patient(clinic)
    assert run(clinic, local(day(1), 10)) == []
    assert [o.step_key for o in run(clinic, local(day(3), 10))] == ["day3"]


def test_stale_steps_are_skipped_after_downtime(clinic):
    """Down from day 0 to day 6: no day-1 message on day 6; the next step goes out on its day."""
    pid = add_patient(clinic)
    out = run(clinic, local(day(6), 10))
    assert sorted((o.step_key, o.status, o.skip_reason) for o in out) == [
        ("day1", "skipped", "superseded"),
        ("day3", "skipped", "stale"),
    ]
    assert outbox_rows(clinic) == []
    assert [o.step_key for o in run(clinic, local(day(7), 10))] == ["day7"]
    assert {s.step_key for s in sends(clinic, pid)} == {"day1", "day3", "day7"}


def test_after_short_downtime_only_the_latest_due_step_is_sent(clinic):
    add_patient(clinic)
    out = run(clinic, local(day(3), 10))
    assert sorted((o.step_key, o.status, o.skip_reason) for o in out) == [
        ("day1", "skipped", "superseded"),
        ("day3", "queued", None),
    ]
    assert len(outbox_rows(clinic)) == 1


def test_a_step_two_days_late_still_goes_out(clinic):
    add_patient(clinic)
    out = run(clinic, local(day(9), 10))  # day 7 step, two days late
    assert ("day7", "queued") in [(o.step_key, o.status) for o in out]


def test_open_urgent_escalation_or_staff_takeover_holds_the_cheerful_message(clinic):
    pid = add_patient(clinic)
    with session_scope(clinic) as s:
        conv = Conversation(channel="sms", patient_id=pid, phone="+12015550100")
        s.add(conv)
        s.flush()
        s.add(Escalation(conversation_id=conv.id, patient_id=pid, level="urgent", status="open", reason="pus"))
    assert [o.skip_reason for o in run(clinic, local(day(1), 10))] == ["open_escalation"]
    with session_scope(clinic) as s:
        s.execute(select(Escalation)).scalar_one().status = "resolved"
        s.execute(select(Conversation)).scalar_one().staff_takeover = True
    assert [o.skip_reason for o in run(clinic, local(day(3), 10))] == ["staff_takeover"]
    assert outbox_rows(clinic) == []


# ---------------------------------------------------------------------- treatments
def test_a_newer_treatment_stops_the_old_plan_and_starts_a_new_one(clinic):
    pid = add_patient(clinic)
    run(clinic, local(day(1), 10))
    run(clinic, local(day(3), 10))
    with session_scope(clinic) as s:
        new = add_treatment(s, patient=s.get(Patient, pid), performed_on=day(5))
        new_id = new.id
        old_id = s.execute(select(Treatment.id).where(Treatment.performed_on == TREATED)).scalar_one()
    assert [(o.treatment_id, o.step_key) for o in run(clinic, local(day(6), 10))] == [(new_id, "day1")]
    # day 7 of the old treatment = day 2 of the new one: nothing
    assert run(clinic, local(day(7), 10)) == []
    assert [(o.treatment_id, o.step_key) for o in run(clinic, local(day(8), 10))] == [(new_id, "day3")]
    old_steps = {s.step_key for s in sends(clinic, pid) if s.treatment_id == old_id}
    assert old_steps == {"day1", "day3"}  # the old plan's day7 and week4 never go out


def test_a_booked_future_treatment_does_not_stop_the_current_plan(clinic):
    pid = add_patient(clinic)
    with session_scope(clinic) as s:
        add_treatment(s, patient=s.get(Patient, pid), performed_on=day(30))
    assert [o.step_key for o in run(clinic, local(day(1), 10))] == ["day1"]
    assert [(o.step_key, o.status) for o in run(clinic, local(day(7), 10))] == [("day3", "skipped"), ("day7", "queued")]


def test_reuses_the_patients_sms_conversation(clinic):
    pid = add_patient(clinic)
    with session_scope(clinic) as s:
        conv = Conversation(channel="sms", phone="+12015550100")  # texted us before they were a patient
        s.add(conv)
        s.flush()
        conv_id = conv.id
    [out] = run(clinic, local(day(1), 10))
    assert out.conversation_id == conv_id
    [out] = run(clinic, local(day(3), 10))
    assert out.conversation_id == conv_id
    with session_scope(clinic) as s:
        assert s.get(Conversation, conv_id).patient_id == pid
        assert s.execute(select(func.count()).select_from(Conversation)).scalar_one() == 1


# ---------------------------------------------------------------------- what staff see
def test_delivery_failure_shows_in_the_patients_checkin_view(clinic):
    pid = add_patient(clinic)
    run(clinic, local(day(1), 10))
    run(clinic, local(day(3), 10))
    with session_scope(clinic) as s:
        first = s.execute(
            select(OutboxMessage)
            .join(CheckinSend, CheckinSend.outbox_id == OutboxMessage.id)
            .where(CheckinSend.step_key == "day1")
        ).scalar_one()
        first.status = "delivered"
        second = s.execute(
            select(OutboxMessage)
            .join(CheckinSend, CheckinSend.outbox_id == OutboxMessage.id)
            .where(CheckinSend.step_key == "day3")
        ).scalar_one()
        second.status = "failed"
        second.last_error = "30006 landline or unreachable carrier"
    with session_scope(clinic) as s:
        view = checkins.patient_checkins(s, patient_id=pid, today=day(4))
    assert view.day == 4
    states = {
        sv.step.key: (sv.state, sv.send.delivery if sv.send else None, sv.send.failed if sv.send else None) for sv in view.steps
    }
    assert states == {
        "day1": ("sent", "delivered", False),
        "day3": ("sent", "failed", True),
        "day7": ("upcoming", None, None),
        "week4": ("upcoming", None, None),
    }
    day3 = next(sv for sv in view.steps if sv.step.key == "day3")
    assert day3.send.last_error.startswith("30006")


# ---------------------------------------------------------------------- the demo
def test_demo_thirty_days_each_checkin_once_at_the_right_local_time(tmp_path, sqlite_url, fake_assistant):
    """The app's worker pass, with the clock moved hour by hour over 30 days (across the end of DST)."""
    from api.app import create_app
    from api.routes.checkins import run_once
    from tests.conftest import make_settings

    treated = date(2026, 10, 26)  # daylight saving time ends on Nov 1: day 7 is the first day in EST
    clock = FixedClock(local(treated, 0))
    app = create_app(make_settings(tmp_path, sqlite_url), assistant=fake_assistant, clock=clock, start_workers=False)
    container = app.state.container
    setup_clinic(container.session_factory)
    pid = add_patient(container.session_factory, name="Dev", phone="+12015550105", treated=treated)
    add_patient(container.session_factory, name="Eva", phone="+12015550110", treated=treated, opted_out=True)

    sent: list[checkins.CheckinOutcome] = []
    for _ in range(30 * 24 + 1):
        sent.extend(o for o in run_once(container) if o.status == "queued")
        clock.advance(hours=1)

    assert [(o.step_key, o.patient_id) for o in sent] == [("day1", pid), ("day3", pid), ("day7", pid), ("week4", pid)]
    for o in sent:
        step_day = {"day1": 1, "day3": 3, "day7": 7, "week4": 28}[o.step_key]
        assert o.local_time.date() == treated + timedelta(days=step_day)
        assert (o.local_time.hour, o.local_time.minute) == (9, 0)  # the first tick of the window, local time
    with session_scope(container.session_factory) as s:
        rows = list(s.execute(select(OutboxMessage).where(OutboxMessage.purpose == "checkin")).scalars())
        assert sorted(r.to for r in rows) == ["+12015550105"] * 4
        conv = s.execute(select(Conversation).where(Conversation.patient_id == pid)).scalar_one()
        assert [m.topic for m in conv.messages] == ["checkin"] * 4
        assert s.execute(select(func.count()).select_from(CheckinSend).where(CheckinSend.status == "skipped")).scalar_one() == 4
    app.state.container.engine.dispose()


def test_worker_loop_runs_passes_and_survives_errors(tmp_path, sqlite_url, fake_assistant):
    import asyncio

    from api.app import BACKGROUND_WORKERS, create_app
    from api.routes import checkins as routes
    from tests.conftest import make_settings

    clock = FixedClock(local(day(1), 9, 30))
    app = create_app(make_settings(tmp_path, sqlite_url), assistant=fake_assistant, clock=clock, start_workers=False)
    container = app.state.container
    container.checkin_interval_s = 0.01
    setup_clinic(container.session_factory)
    add_patient(container.session_factory)
    assert routes.checkin_worker in BACKGROUND_WORKERS

    calls = {"n": 0}
    real = checkins.run_due

    def flaky(session, *, now):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(session, now=now)

    async def go() -> None:
        task = asyncio.create_task(routes.checkin_worker(container))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if calls["n"] >= 3:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    routes.service.run_due = flaky
    try:
        asyncio.run(go())
    finally:
        routes.service.run_due = real
    assert calls["n"] >= 3
    assert len(outbox_rows(container.session_factory)) == 1
    container.engine.dispose()


# ---------------------------------------------------------------------- a reply to a check-in
def test_a_red_flag_reply_to_a_checkin_escalates(app_with_fakes, fixed_clock):
    """The patient answers the day-3 check-in by SMS: the reply lands in the check-in's conversation
    (the SMS channel's routing by phone), is screened, escalates, and is answered by SMS."""
    triage = pytest.importorskip("core.triage")
    if not hasattr(triage, "screen"):
        pytest.skip("core.triage is not written yet")
    import asyncio

    from core.sms import InboundSms, SmsChannel

    container = app_with_fakes.state.container
    factory = container.session_factory
    setup_clinic(factory)
    treated = fixed_clock.today() - timedelta(days=3)
    pid = add_patient(factory, treated=treated)
    [out] = [o for o in run(factory, fixed_clock.now()) if o.status == "queued"]
    assert out.step_key == "day3"

    channel = SmsChannel(session_factory=factory, conversations=container.conversations, clock=fixed_clock)
    stored = channel.store(
        InboundSms(message_sid="SM" + "1" * 32, from_phone="+12015550100", body="my face is hot and there's yellow pus and crust")
    )
    assert stored.created and stored.needs_turn
    assert stored.conversation_id == out.conversation_id  # the reply has the check-in as context
    assert asyncio.run(channel.handle(stored.message_id)) == "turn"

    with session_scope(factory) as s:
        esc = s.execute(select(Escalation).where(Escalation.patient_id == pid)).scalar_one()
        assert esc.level in ("urgent", "emergency")
        assert esc.conversation_id == out.conversation_id and esc.recovery_day == 3
        texts = [(m.direction, m.topic) for m in s.get(Conversation, out.conversation_id).messages]
        assert texts[0] == ("out", "checkin") and texts[1][0] == "in" and texts[-1][0] == "out"
        # the safety reply went back to the patient's phone, in the same conversation as the check-in
        replies = list(s.execute(select(OutboxMessage).where(OutboxMessage.purpose == "reply")).scalars())
        assert replies and all(r.to == "+12015550100" and r.conversation_id == out.conversation_id for r in replies)
    # and the next check-in is held while the urgent escalation is open
    assert [o.skip_reason for o in run(factory, fixed_clock.now() + timedelta(days=4))] == ["open_escalation"]


# ---------------------------------------------------------------------- the staff pages


@pytest.fixture
def staff_client(app_with_fakes, fixed_clock):
    pytest.importorskip("api.inbox.auth")
    from fastapi.testclient import TestClient

    from core.staff import create_staff, start_session
    from tests.staff_helpers import enrol_totp

    factory = app_with_fakes.state.container.session_factory
    setup_clinic(factory)
    logins = {}
    with session_scope(factory) as s:
        for role in ("admin", "clinician"):
            user = create_staff(
                s, email=f"{role}@test.clinic", display_name=f"Test {role}", role=role, password="correct horse battery"
            )
            if role == "admin":
                enrol_totp(s, user, fixed_clock)  # admins need a second factor
            raw, rec = start_session(s, staff=user, now=fixed_clock.now())
            logins[role] = (raw, rec.csrf_token, user.id)

    with TestClient(app_with_fakes) as client:

        def as_(role: str) -> tuple[TestClient, str]:
            raw, csrf, _ = logins[role]
            client.cookies.clear()
            client.cookies.set("aftercare_staff", raw)
            return client, csrf

        as_.factory = factory  # type: ignore[attr-defined]
        as_.ids = {r: v[2] for r, v in logins.items()}  # type: ignore[attr-defined]
        yield as_


def test_pages_need_a_signed_in_staff_member(staff_client):
    client, _ = staff_client("admin")
    client.cookies.clear()
    r = client.get("/inbox/checkins", follow_redirects=False)
    assert r.status_code in (303, 307) and "/inbox/login" in r.headers["location"]


def test_admin_edits_a_step_with_csrf(staff_client):
    client, csrf = staff_client("admin")
    page = client.get("/inbox/checkins")
    assert page.status_code == 200 and "Reply STOP to opt out" in page.text and 'name="csrf_token"' in page.text
    with session_scope(staff_client.factory) as s:
        step = next(st for st in checkins.plan_steps(s) if st.key == "day3")
    form = {"body": "Hi {first_name}, {clinic} here. How is day 3 going? Just reply.", "day": "4", "active": "on"}

    r = client.post(f"/inbox/checkins/steps/{step.id}", data=form, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = client.post(f"/inbox/checkins/steps/{step.id}", data={**form, "csrf_token": "wrong"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(f"/inbox/checkins/steps/{step.id}", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with session_scope(staff_client.factory) as s:
        saved = s.get(type(step), step.id)
        assert (saved.body, saved.day, saved.active) == (form["body"], 4, True)
        entry = s.execute(select(AuditLog).where(AuditLog.action == "checkin_step.update")).scalar_one()
        assert entry.actor_id == staff_client.ids["admin"] and entry.object_id == step.id
        assert "How is day 3" not in entry.detail  # the audit log never holds message text

    # turning a step off
    r = client.post(
        f"/inbox/checkins/steps/{step.id}", data={"body": form["body"], "day": "4", "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    with session_scope(staff_client.factory) as s:
        assert s.get(type(step), step.id).active is False


def test_admin_edits_the_spanish_text_beside_the_english_one(staff_client):
    client, csrf = staff_client("admin")
    page = client.get("/inbox/checkins").text
    assert 'name="body_es"' in page and "PARAR" in page
    with session_scope(staff_client.factory) as s:
        step = next(st for st in checkins.plan_steps(s) if st.key == "day3")
        english = step.body
    form = {"body": english, "day": "3", "active": "on", "csrf_token": csrf}
    r = client.post(
        f"/inbox/checkins/steps/{step.id}",
        data={**form, "body_es": "Hola {first_name}, ¿cómo va el día 3?"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with session_scope(staff_client.factory) as s:
        assert s.get(type(step), step.id).body_es == "Hola {first_name}, ¿cómo va el día 3?"
    # emptied: Spanish patients get the English text; too long: refused like the English
    client.post(f"/inbox/checkins/steps/{step.id}", data={**form, "body_es": ""})
    with session_scope(staff_client.factory) as s:
        assert s.get(type(step), step.id).body_es is None
    r = client.post(f"/inbox/checkins/steps/{step.id}", data={**form, "body_es": "á" * 400})
    assert r.status_code == 422


def test_invalid_step_edits_are_refused_and_explained(staff_client):
    client, csrf = staff_client("admin")
    with session_scope(staff_client.factory) as s:
        step = next(st for st in checkins.plan_steps(s) if st.key == "day1")
        original = step.body
    for form, words in (
        ({"body": "x" * 400, "day": "1"}, "too long"),
        ({"body": "Hi {name}", "day": "1"}, "placeholders"),
        ({"body": "Hi", "day": "soon"}, "whole number"),
        ({"body": "Hi", "day": "-1"}, "whole number"),
    ):
        r = client.post(f"/inbox/checkins/steps/{step.id}", data={**form, "active": "on", "csrf_token": csrf})
        assert r.status_code == 422 and words in r.text
    with session_scope(staff_client.factory) as s:
        assert s.get(type(step), step.id).body == original


def test_only_admins_edit_the_plan(staff_client):
    client, csrf = staff_client("clinician")
    page = client.get("/inbox/checkins")
    assert page.status_code == 200 and "<textarea" not in page.text  # read-only for other roles
    with session_scope(staff_client.factory) as s:
        step = checkins.plan_steps(s)[0]
    r = client.post(
        f"/inbox/checkins/steps/{step.id}",
        data={"body": "Hi", "day": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = client.post("/inbox/checkins/plan/defaults", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 403


def test_admin_adds_the_default_plan_to_an_empty_clinic(staff_client):
    from core.models import CheckinStep

    with session_scope(staff_client.factory) as s:
        for st in checkins.plan_steps(s):
            s.delete(st)
    client, csrf = staff_client("admin")
    assert "No check-in steps yet" in client.get("/inbox/checkins").text
    r = client.post("/inbox/checkins/plan/defaults", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with session_scope(staff_client.factory) as s:
        assert s.execute(select(func.count()).select_from(CheckinStep)).scalar_one() == len(checkins.DEFAULT_PLAN)


def test_patient_page_shows_sends_delivery_failures_and_pause_resume(staff_client, fixed_clock):
    factory = staff_client.factory
    treated = fixed_clock.today() - timedelta(days=3)
    pid = add_patient(factory, name="Chloe", treated=treated)
    run(factory, fixed_clock.now() - timedelta(days=2))  # day 1, 10:00 local
    run(factory, fixed_clock.now())  # day 3
    with session_scope(factory) as s:
        rows = {
            send.step_key: s.get(OutboxMessage, send.outbox_id)
            for send in s.execute(select(CheckinSend).where(CheckinSend.patient_id == pid)).scalars()
        }
        rows["day1"].status = "delivered"
        rows["day3"].status = "failed"
        rows["day3"].last_error = "30003 unreachable handset"

    client, csrf = staff_client("clinician")
    page = client.get(f"/inbox/checkins/patients/{pid}")
    assert page.status_code == 200
    assert "Chloe" in page.text and "day 3" in page.text
    assert "delivery-delivered" in page.text and "delivery-failed" in page.text and "30003 unreachable handset" in page.text
    listing = client.get("/inbox/checkins")
    assert "30003 unreachable handset" in listing.text and f"/inbox/checkins/patients/{pid}" in listing.text

    r = client.post(f"/inbox/checkins/patients/{pid}/pause", data={}, follow_redirects=False)
    assert r.status_code == 403  # CSRF
    r = client.post(f"/inbox/checkins/patients/{pid}/pause", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/inbox/checkins/patients/{pid}?done=paused"
    assert "Resume check-ins" in client.get(f"/inbox/checkins/patients/{pid}").text
    with session_scope(factory) as s:
        assert s.get(Patient, pid).checkins_paused is True
    assert [o.skip_reason for o in run(factory, fixed_clock.now() + timedelta(days=4))] == ["paused"]  # day 7
    r = client.post(f"/inbox/checkins/patients/{pid}/resume", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/inbox/checkins/patients/{pid}?done=resumed"
    assert "Check-ins resumed" in client.get(r.headers["location"]).text
    with session_scope(factory) as s:
        assert s.get(Patient, pid).checkins_paused is False
        actions = [
            (a.action, a.actor_id)
            for a in s.execute(select(AuditLog).where(AuditLog.object_id == pid).order_by(AuditLog.id)).scalars()
            if a.action.startswith("checkins.")
        ]
    clinician = staff_client.ids["clinician"]
    assert ("checkins.pause", clinician) in actions and ("checkins.resume", clinician) in actions
    assert ("checkins.view", clinician) in actions
    assert client.get("/inbox/checkins/patients/nope").status_code == 404
