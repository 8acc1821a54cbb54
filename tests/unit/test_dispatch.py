"""core.dispatch: claiming, sending, retries, permanent errors, suppression, delivery receipts."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from api.sms.twilio_errors import describe_error, is_opt_out, is_permanent
from core import outbox
from core.clock import FixedClock
from core.db import make_engine, make_session_factory, session_scope
from core.dispatch import Dispatcher, DispatchPolicy, record_delivery, requeue
from core.models import Conversation, Message, OutboxMessage, SmsOptOut
from core.ports import SendResult
from core.sms import set_opt_out
from tests.fakes import FakeSmsSender, test_clock

PHONE = "+12015550123"


class ScriptedSender:
    """Answers from a script, then succeeds; thread-safe; remembers every call."""

    def __init__(self, script: list[SendResult] | None = None, delivered_on_accept: bool = False) -> None:
        self.script = list(script or [])
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        self.delivered_on_accept = delivered_on_accept

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        with self.lock:
            self.calls.append({"to": to, "body": body, "status_callback": status_callback})
            if self.script:
                return self.script.pop(0)
            return SendResult(ok=True, provider_id="SM" + uuid.uuid4().hex)


def queue(
    factory, body: str = "Hello", to: str = PHONE, purpose: str = "reply", at: datetime | None = None, with_message: bool = False
) -> str:
    with session_scope(factory) as s:
        message_id = None
        conv_id = None
        if with_message:
            conv = Conversation(channel="sms", phone=to)
            s.add(conv)
            s.flush()
            m = Message(conversation_id=conv.id, direction="out", author="bot", channel="sms", text=body, status="queued")
            s.add(m)
            s.flush()
            message_id, conv_id = m.id, conv.id
        row = outbox.enqueue(s, to=to, body=body, purpose=purpose, message_id=message_id, conversation_id=conv_id)
        if at is not None:
            row.next_attempt_at = at
        return row.id


def get(factory, outbox_id: str) -> OutboxMessage:
    with session_scope(factory) as s:
        return s.get(OutboxMessage, outbox_id)


def make(factory, sender, clock: FixedClock | None = None, **policy) -> Dispatcher:
    # the dispatcher reads the same clock that stamps the rows, unless a test passes another
    clock = clock or factory.kw["info"]["clock"]
    return Dispatcher(
        session_factory=factory,
        sender=sender,
        status_callback_url="https://clinic.example/webhooks/twilio/status",
        policy=DispatchPolicy(jitter=0.0, **policy),
        clock=clock,
    )


# ---------------------------------------------------------------------- sending
def test_sends_due_rows_and_records_the_provider_id(session_factory) -> None:
    sender = ScriptedSender()
    oid = queue(session_factory, "Hi **there**", with_message=True)
    stats = make(session_factory, sender).run_once()
    assert stats.sent == 1
    row = get(session_factory, oid)
    assert row.status == "sent" and row.attempts == 1 and row.provider_sid.startswith("SM") and len(row.provider_sid) == 34
    assert sender.calls == [{"to": PHONE, "body": "Hi there", "status_callback": "https://clinic.example/webhooks/twilio/status"}]
    with session_scope(session_factory) as s:
        assert s.get(Message, row.message_id).status == "sent"


def test_a_local_sender_marks_rows_delivered(session_factory) -> None:
    oid = queue(session_factory)
    make(session_factory, ScriptedSender(delivered_on_accept=True)).run_once()
    assert get(session_factory, oid).status == "delivered"


def test_rows_not_yet_due_wait(session_factory, fixed_clock) -> None:
    clock = fixed_clock
    oid = queue(session_factory, at=clock.now() + timedelta(minutes=5))
    sender = ScriptedSender()
    d = make(session_factory, sender, clock)
    assert d.run_once().claimed == 0
    clock.advance(seconds=301)
    assert d.run_once().sent == 1
    assert get(session_factory, oid).status == "sent"


def test_fake_sms_sender_from_the_shared_fakes_works(session_factory) -> None:
    sender = FakeSmsSender()
    queue(session_factory, "one")
    make(session_factory, sender).run_once()
    assert sender.sent == [{"to": PHONE, "body": "one"}]


# ---------------------------------------------------------------------- retries
def test_transient_errors_back_off_exponentially_then_succeed(session_factory, fixed_clock) -> None:
    clock = fixed_clock
    flaky = [SendResult(ok=False, error="twilio 20429 (HTTP 429): Too Many Requests")] * 2 + [
        SendResult(ok=False, error="network error talking to Twilio: ConnectTimeout")
    ]
    sender = ScriptedSender(flaky)
    d = make(session_factory, sender, clock, base_delay_s=2.0)
    oid = queue(session_factory)
    delays = []
    for _ in range(3):
        assert d.run_once().retried == 1
        row = get(session_factory, oid)
        delay = (row.next_attempt_at.replace(tzinfo=timezone.utc) - clock.now()).total_seconds()
        delays.append(round(delay))
        assert row.status == "pending" and "retrying" in row.last_error
        assert d.run_once().claimed == 0  # not due yet
        clock.advance(seconds=delay)
    assert delays == [2, 4, 8]
    assert d.run_once().sent == 1
    row = get(session_factory, oid)
    assert row.status == "sent" and row.attempts == 4 and row.last_error is None


def test_gives_up_after_max_attempts_and_says_why(session_factory, fixed_clock) -> None:
    clock = fixed_clock
    sender = ScriptedSender([SendResult(ok=False, error="twilio - (HTTP 503): Service Unavailable")] * 10)
    d = make(session_factory, sender, clock, max_attempts=3, base_delay_s=1.0)
    oid = queue(session_factory, with_message=True)
    for _ in range(3):
        d.run_once()
        clock.advance(seconds=60)
    row = get(session_factory, oid)
    assert row.status == "dead" and row.attempts == 3
    assert "gave up after 3 attempts" in row.last_error and "503" in row.last_error
    assert d.run_once().claimed == 0 and len(sender.calls) == 3
    with session_scope(session_factory) as s:
        assert s.get(Message, row.message_id).status == "dead"
        # staff can send it again
        requeue(s, oid, now=clock.now())
    sender.script = []
    assert d.run_once().sent == 1


@pytest.mark.parametrize(
    "result,words",
    [
        # as the Twilio adapter reports them (api/sms/twilio_errors.py translates the codes)
        (SendResult(ok=False, error=f"twilio 21211 (HTTP 400): {describe_error(21211)}", permanent=True), "invalid phone number"),
        (SendResult(ok=False, error=f"twilio 21614 (HTTP 400): {describe_error(21614)}", permanent=True), "not a mobile number"),
        (SendResult(ok=False, error=f"twilio 21610 (HTTP 400): {describe_error(21610)}", opted_out=True), "replied STOP"),
    ],
)
def test_permanent_errors_are_not_retried(session_factory, fixed_clock, result, words) -> None:
    clock = fixed_clock
    sender = ScriptedSender([result])
    d = make(session_factory, sender, clock)
    oid = queue(session_factory)
    assert d.run_once().failed == 1
    clock.advance(seconds=3600)
    assert d.run_once().claimed == 0
    row = get(session_factory, oid)
    assert row.status == "failed" and row.attempts == 1 and words in row.last_error and "not retried" in row.last_error
    assert len(sender.calls) == 1


def test_21610_records_the_opt_out_and_later_messages_are_suppressed(session_factory) -> None:
    sender = ScriptedSender([SendResult(ok=False, error="twilio 21610 (HTTP 400): unsubscribed", permanent=True, opted_out=True)])
    d = make(session_factory, sender)
    queue(session_factory, "first")
    d.run_once()
    with session_scope(session_factory) as s:
        assert s.get(SmsOptOut, PHONE).source == "provider_error"
    later = queue(session_factory, "check-in", purpose="checkin")
    assert d.run_once().suppressed == 1
    assert get(session_factory, later).status == "suppressed"
    assert len(sender.calls) == 1


def test_a_raising_sender_is_retried(session_factory) -> None:
    class Boom:
        def send(self, **_):
            raise RuntimeError("adapter bug")

    oid = queue(session_factory)
    make(session_factory, Boom()).run_once()
    row = get(session_factory, oid)
    assert row.status == "pending" and "adapter bug" in row.last_error


def test_a_retry_keeps_the_recipients_later_messages_behind_it(session_factory, fixed_clock) -> None:
    clock = fixed_clock
    sender = ScriptedSender([SendResult(ok=False, error="twilio - (HTTP 500): oops")])
    d = make(session_factory, sender, clock, base_delay_s=5.0)
    first = queue(session_factory, "first")
    second = queue(session_factory, "second")
    other = queue(session_factory, "other", to="+12015550777")
    d.run_once()
    assert get(session_factory, first).status == "pending"
    assert get(session_factory, second).status == "pending" and get(session_factory, second).attempts == 0
    assert get(session_factory, other).status == "sent"
    clock.advance(seconds=5)
    d.run_once()
    assert [c["body"] for c in sender.calls] == ["first", "other", "first", "second"]


# ---------------------------------------------------------------------- suppression, formatting
def test_opted_out_numbers_get_nothing_but_on_call_alerts_and_keyword_replies_go(session_factory) -> None:
    with session_scope(session_factory) as s:
        set_opt_out(s, PHONE, opted_out=True, keyword="STOP")
    reply = queue(session_factory, "reply", with_message=True)
    checkin = queue(session_factory, "checkin", purpose="checkin")
    alert = queue(session_factory, "ALERT", purpose="oncall_alert")
    confirm = queue(session_factory, "You're unsubscribed", purpose="keyword_reply")
    sender = ScriptedSender()
    stats = make(session_factory, sender).run_once()
    assert stats.suppressed == 2 and stats.sent == 2
    assert get(session_factory, reply).status == "suppressed" and "opted out" in get(session_factory, reply).last_error
    assert get(session_factory, checkin).status == "suppressed"
    assert {c["body"] for c in sender.calls} == {"ALERT", "You're unsubscribed"}
    assert get(session_factory, alert).status == get(session_factory, confirm).status == "sent"
    with session_scope(session_factory) as s:
        assert s.get(Message, get(session_factory, reply).message_id).status == "suppressed"


def test_a_long_reply_becomes_ordered_parts_each_one_sms(session_factory) -> None:
    text = "**Aftercare.** " + " ".join(f"Point {i}: keep it clean and protected from the sun." for i in range(15))
    oid = queue(session_factory, text, with_message=True)
    sender = ScriptedSender()
    stats = make(session_factory, sender).run_once()
    assert stats.sent == len(sender.calls) >= 3
    bodies = [c["body"] for c in sender.calls]
    assert bodies[0].startswith("Aftercare. Point 0") and all(len(b) <= 320 for b in bodies)
    assert " ".join(bodies) == text.replace("**", "")
    with session_scope(session_factory) as s:
        rows = list(s.execute(select(OutboxMessage).order_by(OutboxMessage.created_at)).scalars())
        assert [r.body for r in rows] == bodies and rows[0].id == oid
        assert len({r.message_id for r in rows}) == 1 and all(r.status == "sent" for r in rows)


def test_buttons_of_the_transcript_message_are_offered_as_a_reply_line(session_factory) -> None:
    oid = queue(session_factory, "Was it today?", with_message=True)
    with session_scope(session_factory) as s:
        s.get(Message, get(session_factory, oid).message_id).buttons = [
            {"title": "Yes", "payload": "/affirm"},
            {"title": "No", "payload": "/deny"},
        ]
    sender = ScriptedSender()
    make(session_factory, sender).run_once()
    assert sender.calls[0]["body"] == "Was it today?\nReply: Yes / No"


def test_rows_stuck_in_sending_are_released_after_the_lease(session_factory, fixed_clock) -> None:
    clock = fixed_clock
    oid = queue(session_factory)
    d = make(session_factory, ScriptedSender(), clock, lease_s=60)
    claimed = d.claim()  # ... and the process dies before sending
    assert [c.id for c in claimed] == [oid] and get(session_factory, oid).status == "sending"
    assert d.run_once().claimed == 0
    clock.advance(seconds=61)
    stats = d.run_once()
    assert stats.released == 1 and stats.sent == 1


def test_a_released_reply_is_sent_as_formatted_at_its_first_claim(session_factory, fixed_clock) -> None:
    """Its parts were split and its reply line added then; a second claim must not add them again."""
    long = " ".join(f"Sentence number {i} about caring for your skin." for i in range(12))
    oid = queue(session_factory, long, with_message=True)
    with session_scope(session_factory) as s:
        s.get(Message, get(session_factory, oid).message_id).buttons = [
            {"title": "Yes", "payload": "/affirm"},
            {"title": "No", "payload": "/deny"},
        ]
    sender = ScriptedSender()
    d = make(session_factory, sender, fixed_clock, lease_s=60, max_chars=160)
    first = d.claim()  # formatted and split, then the process dies before sending
    assert len(first) > 1
    fixed_clock.advance(seconds=61)
    stats = d.run_once()
    assert stats.released == len(first) and stats.sent == len(first)
    assert [c["body"] for c in sender.calls] == [c.body for c in first]
    assert sum("Reply: Yes / No" in c["body"] for c in sender.calls) == 1
    with session_scope(session_factory) as s:
        assert s.query(OutboxMessage).count() == len(first)


# ---------------------------------------------------------------------- concurrency (both databases)
def test_concurrent_dispatchers_never_send_a_row_twice(db_url) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine, test_clock())
    try:
        ids = {queue(factory, f"m{i}", to=f"+1201555{i:04d}") for i in range(40)}
        sender = ScriptedSender()
        dispatchers = [make(factory, sender, batch_size=7) for _ in range(4)]
        barrier = threading.Barrier(len(dispatchers))
        errors: list[BaseException] = []

        def run(d: Dispatcher) -> None:
            try:
                barrier.wait()
                for _ in range(20):
                    d.run_once()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        bodies = [c["body"] for c in sender.calls]
        assert sorted(bodies) == sorted(f"m{i}" for i in range(40))  # each exactly once
        with session_scope(factory) as s:
            rows = list(s.execute(select(OutboxMessage)).scalars())
            assert {r.id for r in rows} == ids and all(r.status == "sent" and r.attempts == 1 for r in rows)
    finally:
        engine.dispose()


def test_async_pass_sends_in_parallel_across_recipients(db_url) -> None:
    import asyncio

    engine = make_engine(db_url)
    factory = make_session_factory(engine, test_clock())
    try:
        for i in range(10):
            queue(factory, f"m{i}", to=f"+1201555{i:04d}")
        sender = ScriptedSender()
        stats = asyncio.run(make(factory, sender, concurrency=4).run_once_async())
        assert stats.sent == 10 and len(sender.calls) == 10
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- delivery receipts
def test_delivery_receipts_move_forward_only(session_factory) -> None:
    oid = queue(session_factory, with_message=True)
    make(session_factory, ScriptedSender()).run_once()
    sid = get(session_factory, oid).provider_sid
    with session_scope(session_factory) as s:
        assert record_delivery(s, provider_sid=sid, status="queued").status == "sent"
        assert record_delivery(s, provider_sid=sid, status="delivered").status == "delivered"
        assert record_delivery(s, provider_sid=sid, status="sent").status == "delivered"
        assert record_delivery(s, provider_sid=sid, status="failed", error=describe_error("30003")).status == "delivered"
        assert record_delivery(s, provider_sid="SMunknown", status="delivered") is None


def test_undelivered_receipt_is_readable_and_21610_opts_out(session_factory) -> None:
    oid = queue(session_factory, with_message=True)
    make(session_factory, ScriptedSender()).run_once()
    sid = get(session_factory, oid).provider_sid
    with session_scope(session_factory) as s:
        row = record_delivery(s, provider_sid=sid, status="undelivered", error=describe_error("30006"))
        assert row.status == "undelivered" and "30006: landline" in row.last_error
        assert s.get(Message, row.message_id).status == "undelivered"
    oid2 = queue(session_factory, "again")
    make(session_factory, ScriptedSender()).run_once()
    with session_scope(session_factory) as s:
        record_delivery(
            s, provider_sid=get(session_factory, oid2).provider_sid, status="failed", error=describe_error(21610), opted_out=True
        )
        assert s.get(SmsOptOut, PHONE).opted_out


def test_describe_error() -> None:
    assert describe_error(21610).startswith("21610: the recipient replied STOP")
    assert describe_error("30007") == "30007: filtered by the carrier as spam"
    assert describe_error(12345, "odd") == "12345: odd"
    assert describe_error(None, "plain") == "plain"


def test_the_adapter_reads_the_codes_core_never_does() -> None:
    assert is_opt_out(21610) and is_opt_out("21610") and not is_opt_out(30003) and not is_opt_out(None)
    assert is_permanent(21211) and is_permanent("21614") and not is_permanent(30003) and not is_permanent("x")
