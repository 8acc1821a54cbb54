"""Photo fetches claimed across replicas on PostgreSQL (issue #19): while one replica's claim is
still uncommitted, another's skips the row instead of waiting for it or taking it too."""

from __future__ import annotations

import pytest

from core import media
from core.db import make_engine, make_session_factory, session_scope
from core.models import Conversation, Message
from tests.fakes import test_clock


def test_two_replicas_claiming_at_once_take_different_photos(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED is PostgreSQL's (SQLite has one writer)")
    clock = test_clock()
    e1, e2 = make_engine(db_url), make_engine(db_url)
    one, two = make_session_factory(e1, clock), make_session_factory(e2, clock)
    try:
        with session_scope(one) as s:
            conv = Conversation(channel="sms", phone="+12015550123")
            s.add(conv)
            s.flush()
            msg = Message(
                conversation_id=conv.id, direction="in", author="patient", channel="sms", text="", media_urls=["u1", "u2"]
            )
            s.add(msg)
            s.flush()
            media.register(s, msg)
        s1 = one()
        try:
            first = media.pending(s1, limit=1)  # claimed, not yet committed: its row is locked
            with session_scope(two) as s2:
                second = media.pending(s2)
            s1.commit()
        finally:
            s1.close()
        assert len(first) == 1 and len(second) == 1 and first != second
        with session_scope(two) as s:
            assert media.pending(s) == []  # both claimed
    finally:
        e1.dispose()
        e2.dispose()
