"""An SMS whose dispatcher died mid-send is not sent twice (issue #19).

A replica can die between Twilio accepting a message and recording that it did. After the lease
another dispatcher takes the row; before sending it again it asks Twilio's message list (the real
``twilio`` library against a local fake of the REST API) whether the interrupted send went out.
Both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core import outbox
from core.clock import FixedClock
from core.db import make_engine, make_session_factory, session_scope
from core.dispatch import Dispatcher, DispatchPolicy
from core.models import OutboxMessage
from tests.fakes import test_clock
from tests.integration.test_twilio_webhook import ACCOUNT_SID, TWILIO_TOKEN, FakeTwilio

PATIENT = "+12015550123"
OTHER = "+12015550177"
FROM = "+15005550006"


@dataclass
class World:
    clock: FixedClock
    factory: object
    fake: FakeTwilio

    def sender(self, api_base: str | None = None):
        from api.sms.twilio_sender import TwilioSmsSender

        base = api_base or self.fake.base_url
        return TwilioSmsSender(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN, from_number=FROM, api_base=base)

    def dispatcher(self, sender=None) -> Dispatcher:
        policy = DispatchPolicy(lease_s=60, jitter=0.0)
        return Dispatcher(session_factory=self.factory, sender=sender or self.sender(), policy=policy, clock=self.clock)

    def queue(self, body: str, to: str = PATIENT) -> str:
        with session_scope(self.factory) as s:
            return outbox.enqueue(s, to=to, body=body, purpose="checkin").id

    def row(self, oid: str) -> OutboxMessage:
        with session_scope(self.factory) as s:
            return s.get(OutboxMessage, oid)


@pytest.fixture
def world(db_url) -> Iterator[World]:
    clock = test_clock()
    engine = make_engine(db_url)
    try:
        with FakeTwilio() as fake:
            fake.now = clock.now  # Twilio's clock agrees with ours
            yield World(clock, make_session_factory(engine, clock), fake)
    finally:
        engine.dispose()


def test_a_send_interrupted_after_twilio_accepted_it_is_recorded_not_sent_again(world: World) -> None:
    sender = world.sender()
    reached = world.queue("How is your skin today? Reply 1 if all is well.")
    lost = world.queue("A reminder: no makeup for 24 hours.")
    twin = world.queue("How is your skin today? Reply 1 if all is well.", to=OTHER)
    dying = world.dispatcher(sender)
    claimed = {c.id: c for c in dying.claim()}
    assert set(claimed) == {reached, lost, twin}
    # the replica sends two of its rows, then dies before recording either result
    first = sender.send(to=PATIENT, body=claimed[reached].body)
    assert first.ok
    assert dying.deliver(claimed[twin]) == "sent"  # this one it recorded
    assert len(world.fake.requests) == 2

    survivor = world.dispatcher()
    assert survivor.run_once().claimed == 0  # still leased
    world.clock.advance(seconds=61)
    assert survivor.run_once().released == 2

    # the accepted one is recorded with Twilio's id and not sent again ...
    row = world.row(reached)
    assert row.status == "sent" and row.provider_sid == first.provider_id and row.attempts == 1
    assert row.interrupted_at is not None and row.last_error is None
    # ... the one that never reached Twilio is sent now, once
    assert world.row(lost).status == "sent"
    bodies = [r["form"]["Body"] for r in world.fake.requests]
    assert bodies.count("How is your skin today? Reply 1 if all is well.") == 2  # one each, two numbers
    assert bodies.count("A reminder: no makeup for 24 hours.") == 1
    # Twilio was asked by recipient and sender
    assert {q["query"]["To"] for q in world.fake.list_requests} == {PATIENT}
    assert all(q["query"]["From"] == FROM and q["user"] == ACCOUNT_SID for q in world.fake.list_requests)


def test_a_message_another_row_owns_is_not_taken_for_the_interrupted_one(world: World) -> None:
    """The same text sent to the same number by another row is not proof the interrupted row went out."""
    d = world.dispatcher()
    interrupted = world.queue("Reply 1 if all is well.")
    (item,) = d.claim()  # ... dies before sending
    assert item.id == interrupted
    world.clock.advance(seconds=1)
    other = world.queue("Reply 1 if all is well.")
    assert d.run_once().sent == 1  # the other row, same text, same number
    world.clock.advance(seconds=61)
    assert d.run_once().sent == 1
    assert len(world.fake.requests) == 2  # the interrupted row was sent: Twilio's one copy was the other row's
    assert world.row(interrupted).provider_sid != world.row(other).provider_sid


def test_when_twilio_cannot_be_asked_the_interrupted_row_is_sent_again(world: World) -> None:
    """At least once: a duplicate beats a lost message."""
    sender = world.sender()
    d = world.dispatcher(sender)
    oid = world.queue("Reply 1 if all is well.")
    (item,) = d.claim()
    assert sender.send(to=item.to, body=item.body).ok  # reached Twilio; the replica died
    world.clock.advance(seconds=61)
    world.dispatcher(world.sender(api_base="http://127.0.0.1:9")).run_once()  # cannot ask (nor send)
    row = world.row(oid)
    assert row.status == "pending" and row.attempts == 1 and "network error" in row.last_error
    world.clock.advance(seconds=60)
    assert d.run_once().sent == 1  # Twilio reachable again: found, not sent a second time
    assert len(world.fake.requests) == 1
