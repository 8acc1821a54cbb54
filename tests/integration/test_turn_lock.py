"""One turn at a time per conversation, in the order sent, across replicas (issue #19).

Two "replicas" here are two ConversationService instances with their own engines on the same
database, as two API processes would be. On PostgreSQL they share advisory locks; SQLite is one
replica by design, so there the two turns race inside one service.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from core.clinic import get_clinic
from core.conversations import ConversationService
from core.db import make_engine, make_session_factory, session_scope
from core.models import Conversation, Message
from core.ports import AssistantReply, AssistantTurn
from core.turn_lock import PostgresTurnLocks, TurnLocks, turn_locks_for
from tests.fakes import FakeAssistant, test_clock


class WatchingAssistant(FakeAssistant):
    """Records the order of the texts it is asked and how many turns of a conversation overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.active: dict[str, int] = {}
        self.most_at_once = 0  # turns of one conversation inside the assistant at once
        self.most_overall = 0  # turns of any conversations inside the assistant at once
        self.order: list[str] = []

    async def respond(self, *, conversation_id, text, metadata) -> AssistantTurn:
        self.active[conversation_id] = self.active.get(conversation_id, 0) + 1
        self.most_at_once = max(self.most_at_once, self.active[conversation_id])
        self.most_overall = max(self.most_overall, sum(self.active.values()))
        self.order.append(text)
        try:
            await asyncio.sleep(0.3)
            return AssistantTurn([AssistantReply(f"answer to {text}")], intent="greet", confidence=0.9)
        finally:
            self.active[conversation_id] -= 1


def replica(url: str, assistant, clock) -> tuple[ConversationService, object]:
    engine = make_engine(url)
    factory = make_session_factory(engine, clock)
    service = ConversationService(session_factory=factory, assistant=assistant, clock=clock, turn_locks=turn_locks_for(url))
    return service, engine


def store(service: ConversationService, conv_id: str, text: str) -> str:
    with session_scope(service.session_factory) as s:
        msg, _ = service.receive(s, conversation=s.get(Conversation, conv_id), text=text)
        return msg.id


def test_two_replicas_answer_one_conversation_one_turn_at_a_time_in_order(db_url):
    # a running clock: two processes each stamp their rows from their own (synchronised) clock
    clock = test_clock(ticking=True)
    assistant = WatchingAssistant()
    one, e1 = replica(db_url, assistant, clock)
    # SQLite is one replica: the second "replica" is the same service (its in-process lock)
    two, e2 = replica(db_url, assistant, clock) if db_url.startswith("postgresql") else (one, None)
    with session_scope(one.session_factory) as s:
        c = get_clinic(s)
        c.name, c.phone, c.oncall_phone = "Test Clinic", "+12015550199", "+12015550198"
        conv = Conversation(channel="web")
        s.add(conv)
        s.flush()
        conv_id = conv.id
    first = store(one, conv_id, "hello first")
    second = store(two, conv_id, "hello second")

    async def both():
        # the later message reaches its replica first; the earlier one arrives a moment after
        late = asyncio.create_task(two.process(second))
        await asyncio.sleep(0.05)
        early = asyncio.create_task(one.process(first))
        return await asyncio.gather(early, late)

    try:
        r_first, r_second = asyncio.run(both())
    finally:
        for svc in {one, two}:
            svc.turn_locks.close()
        for e in (e1, e2):
            if e is not None:
                e.dispose()
    assert assistant.most_at_once == 1, "two turns of one conversation ran at once"
    assert assistant.order == ["hello first", "hello second"], "the turns were not answered in the order sent"
    assert r_first.replies[0].text == "answer to hello first"
    assert r_second.replies[0].text == "answer to hello second"
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine, clock)) as s:
        inbound = s.query(Message).filter_by(conversation_id=conv_id, direction="in").all()
        outbound = s.query(Message).filter_by(conversation_id=conv_id, direction="out").all()
        assert {m.status for m in inbound} == {"answered"}
        assert len(outbound) == 2, "a message was answered twice"
    engine.dispose()


def test_different_conversations_do_not_wait_for_each_other(db_url):
    clock = test_clock()
    assistant = WatchingAssistant()
    service, engine = replica(db_url, assistant, clock)
    with session_scope(service.session_factory) as s:
        get_clinic(s).oncall_phone = "+12015550198"
        a, b = Conversation(channel="web"), Conversation(channel="web")
        s.add_all([a, b])
        s.flush()
        ids = a.id, b.id
    m1, m2 = store(service, ids[0], "hi a"), store(service, ids[1], "hi b")

    async def both():
        await asyncio.gather(service.process(m1), service.process(m2))

    try:
        asyncio.run(both())
    finally:
        service.turn_locks.close()
        engine.dispose()
    # behaviour, not timing: both turns were inside the assistant at the same moment
    assert assistant.most_overall == 2, "two conversations were answered one after the other"


def test_postgres_lock_is_shared_between_pools_and_freed_when_a_holder_dies(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("advisory locks are PostgreSQL's")
    waits: list[float] = []
    a = PostgresTurnLocks(db_url, wait_s=10)
    b = PostgresTurnLocks(db_url, wait_s=10, on_wait=waits.append)
    order: list[str] = []

    async def run():
        async def holder():
            async with a.hold("c1"):
                order.append("a in")
                await asyncio.sleep(0.4)
                order.append("a out")

        async def waiter():
            await asyncio.sleep(0.1)
            async with b.hold("c1"):
                order.append("b in")

        await asyncio.gather(holder(), waiter())

    try:
        asyncio.run(run())
        assert order == ["a in", "a out", "b in"]
        assert waits and 0.2 < waits[0] < 5
        # a replica that dies mid-turn: its connection closes and PostgreSQL frees the lock at once
        conn = a.engine.connect()
        assert PostgresTurnLocks._try(conn, "aftercare-turn:c2")
        conn.invalidate()  # the process is gone: the server closes its session
        conn.close()

        async def after_death():
            async with b.hold("c2"):
                return True

        started = time.monotonic()
        assert asyncio.run(after_death())
        assert time.monotonic() - started < 3
    finally:
        a.close()
        b.close()


def test_a_lock_not_obtained_in_time_lets_the_turn_go_ahead(caplog):
    locks = TurnLocks(wait_s=0.2)

    async def run():
        async with locks.hold("c1"):
            async with locks.hold("c1"):  # a second turn of the same conversation, on a stuck first one
                return "went ahead"

    with caplog.at_level(logging.WARNING, logger="core.turn_lock"):
        assert asyncio.run(run()) == "went ahead"
    assert "turn lock not obtained" in caplog.text
    assert locks._locks == {}, "the lock table keeps no entry for a finished conversation"


def test_a_message_a_dead_replica_left_processing_is_answered_before_the_next_one(db_url):
    clock = test_clock(ticking=True)
    assistant = WatchingAssistant()
    service, engine = replica(db_url, assistant, clock)
    with session_scope(service.session_factory) as s:
        get_clinic(s).oncall_phone = "+12015550198"
        conv = Conversation(channel="web")
        s.add(conv)
        s.flush()
        conv_id = conv.id
    orphan = store(service, conv_id, "hello orphan")
    with session_scope(service.session_factory) as s:
        s.get(Message, orphan).status = "processing"  # taken by a replica that was then killed
    later = store(service, conv_id, "hello later")
    try:
        asyncio.run(service.process(later))
    finally:
        service.turn_locks.close()
        engine.dispose()
    # under the lock nobody else can be answering it: it is answered first, not after its lease
    assert assistant.order == ["hello orphan", "hello later"]
