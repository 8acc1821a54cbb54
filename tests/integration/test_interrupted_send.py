"""An SMS whose dispatcher died mid-send is not sent twice (issue #19).

A replica can die between Twilio accepting a message and recording that it did. After the lease
another dispatcher takes the row; before sending it again it asks Twilio's message list (the real
``twilio`` library against a local fake of the REST API) whether the interrupted send went out.
Both databases.
"""

from __future__ import annotations

from core import outbox
from core.db import make_engine, make_session_factory, session_scope
from core.dispatch import Dispatcher, DispatchPolicy
from core.models import OutboxMessage
from tests.fakes import test_clock
from tests.integration.test_twilio_webhook import ACCOUNT_SID, TWILIO_TOKEN, FakeTwilio

PATIENT = "+12015550123"
OTHER = "+12015550177"
FROM = "+15005550006"


def _queue(factory, body: str, to: str = PATIENT) -> str:
    with session_scope(factory) as s:
        return outbox.enqueue(s, to=to, body=body, purpose="checkin").id


def _row(factory, oid: str) -> OutboxMessage:
    with session_scope(factory) as s:
        return s.get(OutboxMessage, oid)


def test_a_send_interrupted_after_twilio_accepted_it_is_recorded_not_sent_again(db_url) -> None:
    from api.sms.twilio_sender import TwilioSmsSender

    clock = test_clock()
    engine = make_engine(db_url)
    factory = make_session_factory(engine, clock)
    try:
        with FakeTwilio() as fake:
            fake.now = clock.now  # Twilio's clock agrees with ours
            sender = TwilioSmsSender(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN, from_number=FROM, api_base=fake.base_url)

            def dispatcher() -> Dispatcher:
                return Dispatcher(
                    session_factory=factory, sender=sender, policy=DispatchPolicy(lease_s=60, jitter=0.0), clock=clock
                )

            reached = _queue(factory, "How is your skin today? Reply 1 if all is well.")
            lost = _queue(factory, "A reminder: no makeup for 24 hours.")
            twin = _queue(factory, "How is your skin today? Reply 1 if all is well.", to=OTHER)
            dying = dispatcher()
            claimed = {c.id: c for c in dying.claim()}
            assert set(claimed) == {reached, lost, twin}
            # the replica sends two of its rows, then dies before recording either result
            first = sender.send(to=PATIENT, body=claimed[reached].body)
            assert first.ok
            assert dying.deliver(claimed[twin]) == "sent"  # this one it recorded
            assert len(fake.requests) == 2

            survivor = dispatcher()
            assert survivor.run_once().claimed == 0  # still leased
            clock.advance(seconds=61)
            stats = survivor.run_once()
            assert stats.released == 2

            # the accepted one is recorded with Twilio's id and not sent again ...
            row = _row(factory, reached)
            assert row.status == "sent" and row.provider_sid == first.provider_id and row.attempts == 1
            assert row.interrupted_at is not None and row.last_error is None
            # ... the one that never reached Twilio is sent now, once
            assert _row(factory, lost).status == "sent"
            bodies = [r["form"]["Body"] for r in fake.requests]
            assert bodies.count("How is your skin today? Reply 1 if all is well.") == 2  # one each, two numbers
            assert bodies.count("A reminder: no makeup for 24 hours.") == 1
            # Twilio was asked by recipient and sender
            assert {q["query"]["To"] for q in fake.list_requests} == {PATIENT}
            assert all(q["query"]["From"] == FROM and q["user"] == ACCOUNT_SID for q in fake.list_requests)
    finally:
        engine.dispose()


def test_a_message_another_row_owns_is_not_taken_for_the_interrupted_one(db_url) -> None:
    """The same text sent to the same number by another row is not proof the interrupted row went out."""
    from api.sms.twilio_sender import TwilioSmsSender

    clock = test_clock()
    engine = make_engine(db_url)
    factory = make_session_factory(engine, clock)
    try:
        with FakeTwilio() as fake:
            fake.now = clock.now
            sender = TwilioSmsSender(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN, from_number=FROM, api_base=fake.base_url)
            d = Dispatcher(session_factory=factory, sender=sender, policy=DispatchPolicy(lease_s=60, jitter=0.0), clock=clock)
            interrupted = _queue(factory, "Reply 1 if all is well.")
            (item,) = d.claim()  # ... dies before sending
            assert item.id == interrupted
            clock.advance(seconds=1)
            other = _queue(factory, "Reply 1 if all is well.")
            assert d.run_once().sent == 1  # the other row, same text, same number
            clock.advance(seconds=61)
            assert d.run_once().sent == 1
            assert len(fake.requests) == 2  # the interrupted row was sent: Twilio's one copy was the other row's
            assert _row(factory, interrupted).provider_sid != _row(factory, other).provider_sid
    finally:
        engine.dispose()


def test_when_twilio_cannot_be_asked_the_interrupted_row_is_sent_again(db_url) -> None:
    """At least once: a duplicate beats a lost message."""
    from api.sms.twilio_sender import TwilioSmsSender

    clock = test_clock()
    engine = make_engine(db_url)
    factory = make_session_factory(engine, clock)
    try:
        with FakeTwilio() as fake:
            fake.now = clock.now
            sender = TwilioSmsSender(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN, from_number=FROM, api_base=fake.base_url)
            d = Dispatcher(session_factory=factory, sender=sender, policy=DispatchPolicy(lease_s=60, jitter=0.0), clock=clock)
            oid = _queue(factory, "Reply 1 if all is well.")
            (item,) = d.claim()
            assert sender.send(to=item.to, body=item.body).ok  # reached Twilio; the replica died
            broken = TwilioSmsSender(
                account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN, from_number=FROM, api_base="http://127.0.0.1:9"
            )
            d2 = Dispatcher(session_factory=factory, sender=broken, policy=DispatchPolicy(lease_s=60, jitter=0.0), clock=clock)
            clock.advance(seconds=61)
            d2.run_once()  # cannot ask (nor send): retried later, not recorded as sent
            row = _row(factory, oid)
            assert row.status == "pending" and row.attempts == 1 and "network error" in row.last_error
            clock.advance(seconds=60)
            assert d.run_once().sent == 1  # Twilio reachable again: found, not sent a second time
            assert len(fake.requests) == 1
    finally:
        engine.dispose()
