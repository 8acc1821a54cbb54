"""The public HTTP contract of docs/api.md, on SQLite and PostgreSQL, over real HTTP-level
requests (TestClient) with a fake assistant at the port. The real assistant is covered in test_stack.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.fakes import FakeAssistant


@pytest.fixture
def api(tmp_path, db_url, fixed_clock):
    from api.app import create_app

    app = create_app(make_settings(tmp_path, db_url), assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app) as c:
        yield c
    app.state.container.engine.dispose()


AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
ANA = {
    "first_name": "Ana",
    "phone": "+12015550123",
    "treatments": [{"procedure": "microneedling", "area": "face", "performed_on": "2026-11-23"}],
}


def test_patients_require_the_token(api):
    assert api.post("/api/v1/patients", json=ANA).status_code == 401
    r = api.post("/api/v1/patients", json=ANA, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "detail" in r.json()


def test_create_patient_then_duplicate_phone_is_409(api):
    r = api.post("/api/v1/patients", json=ANA, headers=AUTH)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] and body["chat_token"]
    r2 = api.post("/api/v1/patients", json=ANA, headers=AUTH)
    assert r2.status_code == 409 and r2.json()["detail"]


@pytest.mark.parametrize(
    "patch",
    [
        {"phone": "2015550123"},
        {"phone": "+1 (201) abc"},
        {"treatments": [{"procedure": "microneedling", "area": "face", "performed_on": "2026-13-45"}]},
        {"treatments": [{"procedure": "microneedling", "area": "face", "performed_on": "yesterday"}]},
        {"first_name": ""},
    ],
)
def test_bad_patient_input_is_422(api, patch):
    r = api.post("/api/v1/patients", json={**ANA, **patch}, headers=AUTH)
    assert r.status_code == 422 and "detail" in r.json()


def test_add_treatment(api):
    pid = api.post("/api/v1/patients", json=ANA, headers=AUTH).json()["id"]
    t = {"procedure": "microneedling", "area": "neck", "performed_on": "2026-11-25"}
    assert api.post(f"/api/v1/patients/{pid}/treatments", json=t, headers=AUTH).status_code == 201
    assert api.post("/api/v1/patients/nope/treatments", json=t, headers=AUTH).status_code == 404
    assert api.post(f"/api/v1/patients/{pid}/treatments", json={**t, "performed_on": "x"}, headers=AUTH).status_code == 422


def test_chat_sessions_and_messages(api):
    token = api.post("/api/v1/patients", json=ANA, headers=AUTH).json()["chat_token"]
    assert api.post("/api/v1/chat/sessions", json={"chat_token": "nope"}).status_code == 404
    sid = api.post("/api/v1/chat/sessions", json={"chat_token": token}).json()["session_id"]
    anon = api.post("/api/v1/chat/sessions", json={})
    assert anon.status_code == 201 and anon.json()["session_id"] != sid
    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "can I wear makeup tomorrow?"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"replies", "topic", "escalation"}
    assert body["topic"] == "makeup" and body["escalation"] is None
    assert body["replies"][0]["text"] and isinstance(body["replies"][0]["buttons"], list)


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001, "x" * 5000])
def test_bad_messages_are_422(api, text):
    sid = api.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    assert api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": text}).status_code == 422


def test_unknown_session_is_404(api):
    assert api.post("/api/v1/chat/sessions/unknown/messages", json={"text": "hi"}).status_code == 404


def test_escalations_sorted_most_severe_then_oldest(api):
    sids = [api.post("/api/v1/chat/sessions", json={}).json()["session_id"] for _ in range(3)]
    a = api.post(f"/api/v1/chat/sessions/{sids[0]}/messages", json={"text": "there is some yellow pus on my cheek"}).json()
    b = api.post(f"/api/v1/chat/sessions/{sids[1]}/messages", json={"text": "i cant breathe and my tongue is swelling"}).json()
    c = api.post(f"/api/v1/chat/sessions/{sids[2]}/messages", json={"text": "I have a fever and chills since last night"}).json()
    assert (
        a["escalation"]["level"] == "urgent" and b["escalation"]["level"] == "emergency" and c["escalation"]["level"] == "urgent"
    )
    rows = api.get("/api/v1/escalations?status=open", headers=AUTH).json()
    assert [r["id"] for r in rows] == [b["escalation"]["id"], a["escalation"]["id"], c["escalation"]["id"]]
    assert set(rows[0]) >= {"id", "level", "status", "patient_id", "conversation_id", "reason", "created_at"}
    assert api.get("/api/v1/escalations?status=bogus", headers=AUTH).status_code == 422
    assert api.get("/api/v1/escalations", headers={}).status_code == 401


def test_healthz_reports_what_is_missing(api):
    api.app.state.container.assistant.down = True
    r = api.get("/healthz")
    assert r.status_code == 503 and "assistant" in r.json()["missing"]
    api.app.state.container.assistant.down = False
    assert api.get("/healthz").json() == {"status": "ok"}


def test_messages_survive_a_restart(tmp_path, db_url, fixed_clock):
    from api.app import create_app

    settings = make_settings(tmp_path, db_url)
    app = create_app(settings, assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app) as c:
        sid = c.post("/api/v1/chat/sessions", json={}).json()["session_id"]
        c.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "makeup?"})
    app.state.container.engine.dispose()
    app2 = create_app(settings, assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app2) as c:
        msgs = c.get(f"/api/v1/chat/sessions/{sid}/messages").json()["messages"]
        assert [m["author"] for m in msgs] == ["patient", "bot"]
    app2.state.container.engine.dispose()


def test_a_nul_character_is_neither_a_500_nor_a_lost_red_flag(api):
    """Issue 16, item 4: on PostgreSQL a NUL gave a 500 and the message was lost."""
    from sqlalchemy import select

    from core.db import session_scope
    from core.models import Escalation, Message

    sid = api.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "I can't\x00 breathe and my throat is closing"})
    assert r.status_code == 200
    assert r.json()["escalation"]["level"] == "emergency"
    with session_scope(api.app.state.container.session_factory) as s:
        texts = [m.text for m in s.execute(select(Message).where(Message.direction == "in")).scalars()]
        assert texts == ["I can't  breathe and my throat is closing"]
        assert [e.level for e in s.execute(select(Escalation)).scalars()] == ["emergency"]
    # the integration API: a NUL in a name is stored without it
    r = api.post("/api/v1/patients", json={**ANA, "first_name": "A\x00na"}, headers=AUTH)
    assert r.status_code in (201, 422), r.text


def test_a_database_outage_is_a_503_with_retry_after_not_a_500(tmp_path, fixed_clock):
    """Issue 16, item 9: chat start, history and the integration API answered 500."""
    from api.app import create_app

    bad = f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}"  # cannot be opened
    app = create_app(make_settings(tmp_path, bad), assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        for r in (
            c.post("/api/v1/chat/sessions", json={}),
            c.get("/api/v1/chat/sessions/some-session/messages"),
            c.get("/api/v1/escalations", headers=AUTH),
            c.post("/api/v1/patients", json=ANA, headers=AUTH),
        ):
            assert r.status_code == 503, (r.request.url, r.status_code, r.text[:200])
            assert r.headers["retry-after"] == "5" and "try again" in r.json()["detail"]
        # a patient's message is still screened and answered (and spooled), never a 503
        r = c.post("/api/v1/chat/sessions/some-session/messages", json={"text": "I can't breathe"})
        assert r.status_code == 200 and "911" in r.json()["replies"][0]["text"]


def test_production_serves_no_interactive_docs_and_no_schema(tmp_path, sqlite_url, fixed_clock):
    """Issue 16, item 14: /docs (scripts from a CDN) and /openapi.json were public in production."""
    from api.app import create_app

    env = {
        "AFTERCARE_ENV": "production",
        "AFTERCARE_PUBLIC_URL": "https://clinic.example",
        "AFTERCARE_API_TOKEN": "prod-token-0123456789abcdefghij",
        "AFTERCARE_SECRET_KEY": "prod-secret-0123456789abcdef0123456789",
    }
    app = create_app(
        make_settings(tmp_path, sqlite_url, **env), assistant=FakeAssistant(), clock=fixed_clock, start_workers=False
    )
    with TestClient(app) as c:
        assert c.get("/docs").status_code == 404
        assert c.get("/openapi.json").status_code == 404
        assert c.get("/healthz").status_code in (200, 503)


def test_development_keeps_the_docs(api):
    assert api.get("/openapi.json").status_code == 200


# ------------------------------------------------------------- limits at the edge (issue #16 item 5)
def new_session(api) -> str:
    return api.post("/api/v1/chat/sessions", json={}).json()["session_id"]


def test_an_oversized_body_is_a_413_before_any_route_reads_it(api):
    sid = new_session(api)
    big = b'{"text": "' + b"a" * (200 * 1024) + b'"}'
    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]

    def chunks():
        for _ in range(100):
            yield b"a" * 4096

    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    ok = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "can I wear makeup?"})
    assert ok.status_code == 200


def test_a_message_flood_is_429_but_a_red_flag_in_it_still_escalates(api):
    api.app.state.container.chat_messages_per_minute = 3
    sid = new_session(api)
    for _ in range(3):
        assert api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "can I wear makeup?"}).status_code == 200
    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "can I wear makeup?"})
    assert r.status_code == 429 and r.headers["retry-after"] and "detail" in r.json()
    red = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "my lips are swelling and I can't breathe"})
    assert red.status_code == 200 and red.json()["escalation"]["level"] == "emergency"


def test_an_idle_chat_session_expires_and_the_history_stays_with_staff(api, fixed_clock):
    """Issue #16 item 16: a session id is a bearer secret for the transcript; it stops working after 30
    idle days (the widget opens a new session on 404 by itself)."""
    sid = new_session(api)
    assert api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "can I wear makeup?"}).status_code == 200
    fixed_clock.advance(days=29)
    assert api.get(f"/api/v1/chat/sessions/{sid}/messages").status_code == 200
    fixed_clock.advance(days=2)
    r = api.get(f"/api/v1/chat/sessions/{sid}/messages")
    assert r.status_code == 404 and r.json()["detail"] == "chat session expired"
    assert api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "hello"}).status_code == 404


def test_a_patients_chat_link_expires_after_90_days(api, fixed_clock):
    """Issue #16 item 16: a chat link is a bearer secret sent by SMS; it stops working 90 days after it
    was issued (the spec's 404 for a token that opens nothing), with a page that says what to do."""
    token = api.post("/api/v1/patients", json=ANA, headers=AUTH).json()["chat_token"]
    fixed_clock.advance(days=89)
    assert api.post("/api/v1/chat/sessions", json={"chat_token": token}).status_code == 201
    assert api.get(f"/chat/{token}").status_code == 200
    fixed_clock.advance(days=2)
    r = api.post("/api/v1/chat/sessions", json={"chat_token": token})
    assert r.status_code == 404 and "expired" in r.json()["detail"]
    page = api.get(f"/chat/{token}")
    assert page.status_code == 404 and "This chat link has expired" in page.text and 'href="/chat"' in page.text
