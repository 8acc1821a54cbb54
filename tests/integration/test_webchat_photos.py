"""Photos from the web chat (issue #17, "photos, both ways"): size and type checked, stored with the
message for staff, handed to staff as a routine escalation, the caption screened like any message
(a red flag in it escalates at its own level), never lost in a database outage. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.db import session_scope
from core.media import MAX_BYTES
from core.models import Escalation, Message, MessageMedia
from tests.conftest import make_settings
from tests.fakes import FakeAssistant

# a real 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.fixture
def chat(tmp_path, db_url, fixed_clock):
    from api.app import create_app

    app = create_app(make_settings(tmp_path, db_url), assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app) as c:
        c.sid = c.post("/api/v1/chat/sessions", json={}).json()["session_id"]  # type: ignore[attr-defined]
        c.sf = app.state.container.session_factory  # type: ignore[attr-defined]
        yield c
    app.state.container.engine.dispose()


def send(c, data: bytes = PNG, caption: str | None = None, name: str = "photo.png", ctype: str = "image/png"):
    form = {"caption": caption} if caption is not None else {}
    return c.post(f"/api/v1/chat/sessions/{c.sid}/photos", files={"photo": (name, data, ctype)}, data=form)


def test_a_photo_is_kept_for_staff_handed_off_and_acknowledged(chat):
    r = send(chat)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["escalation"]["level"] == "routine" and body["topic"] is None
    [note] = body["replies"]
    assert "passed it to the clinic team" in note["text"] and "reply here" in note["text"] and "911" in note["text"]
    with session_scope(chat.sf) as s:
        [row] = s.execute(select(MessageMedia)).scalars().all()
        assert row.status == "stored" and row.content_type == "image/png" and row.data == PNG
        msg = s.get(Message, row.message_id)
        assert msg.author == "patient" and msg.text == "" and msg.status == "answered"
        [esc] = s.execute(select(Escalation)).scalars().all()
        assert esc.level == "routine" and "photo in the web chat" in esc.reason
    # the transcript (the widget's history after a reload) says a photo was sent
    messages = chat.get(f"/api/v1/chat/sessions/{chat.sid}/messages").json()["messages"]
    assert [(m["author"], m["photos"]) for m in messages] == [("patient", 1), ("bot", 0)]


def test_a_red_flag_in_the_caption_escalates_at_its_own_level(chat):
    r = send(chat, caption="my lips are swelling and my throat feels tight")
    assert r.status_code == 200
    body = r.json()
    assert body["escalation"]["level"] == "emergency"
    assert any("911" in rep["text"] for rep in body["replies"][1:])  # the turn's safety reply after the photo note
    with session_scope(chat.sf) as s:
        assert [e.level for e in s.execute(select(Escalation)).scalars()] == ["emergency"]  # no extra routine one


def test_a_harmless_caption_is_answered_and_the_photo_still_goes_to_staff(chat):
    r = send(chat, caption="can I wear makeup?")
    body = r.json()
    assert body["escalation"]["level"] == "routine" and body["topic"] == "makeup"
    assert "passed it to the clinic team" in body["replies"][0]["text"]
    assert body["replies"][1]["text"] == "No makeup for at least 24 hours."


def test_a_spanish_caption_gets_the_note_in_spanish(chat):
    r = send(chat, caption="tengo la cara muy roja, es normal?")
    assert r.status_code == 200
    assert r.json()["replies"][0]["text"].startswith("Gracias por la foto")


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"%PDF-1.7 not an image", 415, "not a photo"),
        (b"", 415, "not a photo"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_BYTES, 413, "too large"),
    ],
)
def test_what_is_not_a_photo_or_too_large_is_refused_clearly(chat, data, status, words):
    r = send(chat, data=data)
    assert r.status_code == status and words in r.json()["detail"]
    with session_scope(chat.sf) as s:
        assert s.execute(select(MessageMedia)).first() is None


def test_a_declared_image_type_is_not_trusted(chat):
    """The bytes decide, not the file name or the declared type."""
    assert send(chat, data=b"<script>alert(1)</script>", name="x.png", ctype="image/png").status_code == 415


def test_unknown_session_and_missing_file(chat):
    r = chat.post("/api/v1/chat/sessions/nope/photos", files={"photo": ("p.png", PNG, "image/png")})
    assert r.status_code == 404
    r = chat.post(f"/api/v1/chat/sessions/{chat.sid}/photos", data={"caption": "hi"})
    assert r.status_code == 422


def test_a_photo_over_the_edge_limit_is_413_before_it_is_read(chat):
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_BYTES + 200 * 1024)
    r = send(chat, data=big)
    assert r.status_code == 413


def test_in_a_database_outage_the_caption_is_screened_and_spooled(tmp_path, fixed_clock):
    from api.app import create_app

    bad = f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}"
    app = create_app(make_settings(tmp_path, bad), assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(
            "/api/v1/chat/sessions/some-session/photos",
            files={"photo": ("p.png", PNG, "image/png")},
            data={"caption": "I can't breathe"},
        )
        assert r.status_code == 200
        texts = [rep["text"] for rep in r.json()["replies"]]
        assert "911" in texts[0] and "could not be saved" in texts[-1]
        # without a caption there is nothing to screen: a clear 503, the widget asks to send it again
        r = c.post("/api/v1/chat/sessions/some-session/photos", files={"photo": ("p.png", PNG, "image/png")})
        assert r.status_code == 503 and r.headers["retry-after"]
