"""A web chat message sent again with the same Idempotency-Key (the widget's retry after a lost
response, or a replica that died mid-turn) is stored and answered once (issue #19)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.db import make_engine, make_session_factory, session_scope
from core.models import Escalation, Message
from tests.conftest import make_settings
from tests.fakes import FakeAssistant


@pytest.fixture
def api(tmp_path, db_url, fixed_clock):
    from api.app import create_app

    assistant = FakeAssistant({"makeup": ("makeup", "No makeup for at least 24 hours.")})
    app = create_app(make_settings(tmp_path, db_url), assistant=assistant, clock=fixed_clock, start_workers=False)
    with TestClient(app) as c:
        c.assistant = assistant  # type: ignore[attr-defined]
        c.db_url = db_url  # type: ignore[attr-defined]
        c.clock = fixed_clock  # type: ignore[attr-defined]
        yield c
    app.state.container.engine.dispose()


def session(api) -> str:
    return api.post("/api/v1/chat/sessions", json={}).json()["session_id"]


def post(api, sid: str, text: str, key: str | None):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": text}, headers=headers)


def rows(api, **where) -> list[Message]:
    engine = make_engine(api.db_url)
    try:
        with session_scope(make_session_factory(engine, api.clock)) as s:
            found = s.query(Message).filter_by(**where).order_by(Message.created_at).all()
            s.expunge_all()
            return found
    finally:
        engine.dispose()


def test_a_retried_message_is_answered_once_with_the_same_answer(api):
    sid = session(api)
    first = post(api, sid, "can I wear makeup tomorrow?", "key-1")
    again = post(api, sid, "can I wear makeup tomorrow?", "key-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(api.assistant.calls) == 1
    assert len(rows(api, direction="in")) == 1
    # the next message is answered on its own, and a retry of the first still returns only its own answer
    post(api, sid, "and makeup on day 3?", "key-2")
    assert post(api, sid, "can I wear makeup tomorrow?", "key-1").json() == first.json()
    assert len(api.assistant.calls) == 2


def test_a_retried_red_flag_reports_its_escalation_and_pages_once(api):
    sid = session(api)
    first = post(api, sid, "there is yellow crust on my chin and it is spreading", "flag-1").json()
    again = post(api, sid, "there is yellow crust on my chin and it is spreading", "flag-1").json()
    assert first["escalation"] and again["escalation"] == first["escalation"]
    assert again["replies"] == first["replies"]
    engine = make_engine(api.db_url)
    with session_scope(make_session_factory(engine, api.clock)) as s:
        assert s.query(Escalation).count() == 1
    engine.dispose()


def test_a_message_left_unanswered_by_a_dead_replica_is_answered_on_retry(api):
    sid = session(api)
    post(api, sid, "can I wear makeup tomorrow?", "lost-1")
    engine = make_engine(api.db_url)
    with session_scope(make_session_factory(engine, api.clock)) as s:
        # as a replica killed mid-turn leaves it: stored, taken, no answer
        s.query(Message).filter_by(direction="out").delete()
        s.query(Message).filter_by(direction="in").update({"status": "processing"})
    engine.dispose()
    again = post(api, sid, "can I wear makeup tomorrow?", "lost-1")
    assert again.status_code == 200
    assert "24 hours" in again.json()["replies"][0]["text"]
    assert len(rows(api, direction="in")) == 1


def test_the_same_key_with_another_text_is_refused_and_keys_are_per_session(api):
    sid = session(api)
    assert post(api, sid, "can I wear makeup tomorrow?", "k").status_code == 200
    r = post(api, sid, "something else entirely", "k")
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]
    other = session(api)
    assert post(api, other, "something else entirely", "k").status_code == 200  # another session's key is its own
    assert len(rows(api, direction="in")) == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 101, "é"])
def test_a_malformed_key_is_422(api, key):
    sid = session(api)
    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "hi"}, headers={"Idempotency-Key": key.encode("utf-8")})
    assert r.status_code == 422
    assert rows(api, direction="in") == []


def test_without_a_key_every_post_is_a_new_message(api):
    sid = session(api)
    post(api, sid, "can I wear makeup tomorrow?", None)
    post(api, sid, "can I wear makeup tomorrow?", None)
    assert len(rows(api, direction="in")) == 2
