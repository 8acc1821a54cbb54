"""Issue #17, "an inbox that shows who is waiting" and "front desk": unread and waiting markers and
their views, search across patients and conversations, one patient's timeline, and conversations
as CSV, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.models import AuditLog, CheckinSend, Conversation, Message, MessageMedia, Treatment
from tests.integration.test_inbox import _inbox

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def ib(tmp_path, db_url, fake_assistant, fixed_clock):
    inbox = _inbox(tmp_path, db_url, fake_assistant, fixed_clock)
    with inbox.client:
        yield inbox


def _patient_says(ib, ids, text: str) -> None:
    ib.clock.advance(minutes=1)
    r = ib.client.post(f"/api/v1/chat/sessions/{ids['session_key']}/messages", json={"text": text})
    assert r.status_code == 200, r.text


def _rows(ib, **params) -> dict:
    r = ib.client.get("/inbox/api/escalations", params=params)
    assert r.status_code == 200
    return r.json()


# ------------------------------------------------------------------- unread and waiting
def test_each_staff_member_has_their_own_unread_marker_until_they_open_the_conversation(ib):
    ids = ib.seed()
    ib.staff("nurse@clinic.test")
    ib.staff("desk@clinic.test", role="frontdesk")
    desk = ib.new_client()
    ib.login("nurse@clinic.test")
    ib.login("desk@clinic.test", client=desk)

    [row] = _rows(ib)["escalations"]
    assert row["unread"] and row["waiting"]  # nobody has opened it; the patient wrote last
    assert _rows(ib)["views"] == {"all": 1, "waiting": 1, "unread": 1}

    # the nurse opens the escalation: read for her, still unread for the front desk
    assert ib.client.get(f"/inbox/escalations/{ids['esc']}").status_code == 200
    assert not _rows(ib)["escalations"][0]["unread"]
    assert desk.get("/inbox/api/escalations").json()["escalations"][0]["unread"]
    assert _rows(ib, view="unread")["escalations"] == []
    assert "You have read every message." in ib.client.get("/inbox?view=unread").text

    # a new patient message makes it unread again, for her too
    _patient_says(ib, ids, "it is getting worse")
    data = _rows(ib, view="unread")
    assert [r["id"] for r in data["escalations"]] == [ids["esc"]]
    page = ib.client.get("/inbox")
    assert "new message" in page.text and 'id="view-count-unread">1<' in page.text

    # the open conversation page's polling marks what it shows as read
    assert ib.client.get(f"/inbox/api/conversations/{ids['conv']}/messages").status_code == 200
    assert not _rows(ib)["escalations"][0]["unread"]


def test_waiting_for_a_reply_ends_when_staff_reply_and_a_resolved_escalation_waits_for_nobody(ib):
    ids = ib.seed()
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    assert [r["id"] for r in _rows(ib, view="waiting")["escalations"]] == [ids["esc"]]
    assert "waiting for a reply" in ib.client.get("/inbox").text

    ib.clock.advance(minutes=2)
    r = ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "Hi Ana, I'm calling you now.", "return_to": "/inbox"})
    assert r.status_code == 303
    assert _rows(ib, view="waiting")["escalations"] == []
    assert _rows(ib)["views"]["waiting"] == 0
    assert "No patient is waiting for a reply." in ib.client.get("/inbox?view=waiting").text

    # the patient answers: waiting again
    _patient_says(ib, ids, "ok thank you, my number is the same")
    assert _rows(ib)["views"]["waiting"] == 1
    # the assistant's answer to that message does not count as a reply
    with session_scope(ib.sf) as s:
        authors = [m.author for m in s.execute(select(Message).order_by(Message.created_at)).scalars()]
    assert authors[-1] == "bot"
    ib.post(f"/inbox/escalations/{ids['esc']}/acknowledge")
    ib.post(f"/inbox/escalations/{ids['esc']}/resolve", {"note": "called, fine"})
    assert _rows(ib, status="all")["views"]["waiting"] == 0


def test_an_unknown_view_falls_back_to_all(ib):
    ib.seed()
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    assert len(_rows(ib, view="<script>")["escalations"]) == 1
    assert ib.client.get("/inbox?view=%00").status_code == 200


# ------------------------------------------------------------------------------ search
def test_search_finds_patients_by_name_and_any_phone_format_and_messages_by_their_words(ib):
    ids = ib.seed(phone="+12015550142", text="There is YELLOW crust on my chin since this morning")
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")

    for q in ("lopez", "Ana Lo", "(201) 555-0142", "201-555-0142", "5550142"):
        page = ib.client.get("/inbox/search", params={"q": q})
        assert page.status_code == 200
        assert f'/inbox/patients/{ids["patient"]}"' in page.text, q

    page = ib.client.get("/inbox/search", params={"q": "yellow crust"})
    assert f"/inbox/conversations/{ids['conv']}" in page.text
    assert "<mark>YELLOW crust</mark> on my chin" in page.text  # the match marked, case kept
    assert "1 result for" in page.text

    # the assistant's own answers are not searched; LIKE wildcards are taken literally
    with session_scope(ib.sf) as s:
        s.add(Message(conversation_id=ids["conv"], direction="out", author="bot", channel="web", text="zinc oxide 100%"))
    assert "No message matches." in ib.client.get("/inbox/search", params={"q": "zinc"}).text
    assert "No message matches." in ib.client.get("/inbox/search", params={"q": "%_%"}).text

    # too short, empty, NUL: a clear answer, no error
    assert "at least 2 characters" in ib.client.get("/inbox/search", params={"q": "a"}).text
    assert ib.client.get("/inbox/search", params={"q": ""}).status_code == 200
    assert ib.client.get("/inbox/search", params={"q": "pus\x00"}).status_code == 200

    # audited with counts only, never the words searched
    with session_scope(ib.sf) as s:
        rows = [a for a in s.execute(select(AuditLog).where(AuditLog.action == "search")).scalars()]
    assert rows and all("crust" not in (a.detail or "") and "lopez" not in (a.detail or "") for a in rows)
    # signed out: nothing
    assert ib.new_client().get("/inbox/search?q=crust", follow_redirects=False).status_code == 303


def test_search_finds_conversations_from_numbers_not_on_file(ib):
    with session_scope(ib.sf) as s:
        s.add(Conversation(channel="sms", phone="+13055550199"))
        s.add(Conversation(channel="web", session_key="sk-anon", callback_phone="+13055550111"))
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    page = ib.client.get("/inbox/search", params={"q": "305 555 0199"}).text
    assert "Unknown sender +13055550199" in page
    page = ib.client.get("/inbox/search", params={"q": "(305) 555-0111"}).text
    assert "callback +13055550111" in page


# ---------------------------------------------------------------------------- timeline
def test_the_patient_timeline_shows_treatments_days_messages_photos_escalations_notes_and_checkins(ib):
    ids = ib.seed(text="my cheek is swollen and hot")
    with session_scope(ib.sf) as s:
        m = s.get(Message, ids["message"])
        s.add(
            MessageMedia(
                message_id=m.id, source_url="upload:web", status="stored", content_type="image/png", data=PNG, size=len(PNG)
            )
        )
        t = s.execute(select(Treatment).where(Treatment.patient_id == ids["patient"])).scalar_one()
        s.add(CheckinSend(treatment_id=t.id, patient_id=ids["patient"], step_key="day1", status="skipped", skip_reason="paused"))
    ib.staff("nurse@clinic.test", name="Joy")
    ib.login("nurse@clinic.test")
    ib.clock.advance(minutes=4)
    ib.post(f"/inbox/escalations/{ids['esc']}/acknowledge")
    ib.post(f"/inbox/escalations/{ids['esc']}/note", {"text": "Called her, photo looks red."})

    page = ib.client.get(f"/inbox/patients/{ids['patient']}/timeline")
    assert page.status_code == 200
    text = page.text
    # in order: the treatment (day 0) ... the message, its photo, the escalation, Joy's acknowledgement and note
    order = [
        "Treatment:</strong> microneedling, face",
        "my cheek is swollen and hot",
        'alt="Photo the patient sent"',
        "Escalation opened",
        "Acknowledged by Joy",
        "Called her, photo looks red.",
    ]
    positions = [text.index(x) for x in order]
    assert positions == sorted(positions)
    assert "day 0</span>" in text and "day 2</span>" in text  # Nov 24 treatment, Nov 26 message
    assert "Check-in day1 not sent: check-ins paused by staff" in text
    assert f"/inbox/patients/{ids['patient']}/timeline" in ib.client.get(f"/inbox/patients/{ids['patient']}").text
    with session_scope(ib.sf) as s:
        [entry] = s.execute(select(AuditLog).where(AuditLog.action == "patient.timeline")).scalars().all()
        assert entry.object_id == ids["patient"] and "swollen" not in (entry.detail or "")
    assert ib.client.get("/inbox/patients/nope/timeline").status_code == 404


def test_a_patient_with_nothing_yet_has_an_empty_timeline(ib):
    from core.patients import create_patient

    with session_scope(ib.sf) as s:
        pid = create_patient(s, first_name="Zoe", last_name="Kim", phone=None, treatments=[]).id
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    assert "Nothing yet" in ib.client.get(f"/inbox/patients/{pid}/timeline").text


# -------------------------------------------------------------------------------- export
def test_conversations_export_every_message_with_formulas_neutralised_and_a_date_range(ib):
    ids = ib.seed(text="=cmd|' /C calc'!A0 and it hurts")
    with session_scope(ib.sf) as s:
        s.add(
            MessageMedia(message_id=ids["message"], source_url="upload:web", status="stored", content_type="image/png", data=PNG)
        )
    ib.staff("nurse@clinic.test", name="Joy")
    ib.login("nurse@clinic.test")
    ib.clock.advance(minutes=1)
    ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "-Hi Ana, calling now", "return_to": "/inbox"})

    r = ib.client.get("/inbox/conversations.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store" and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["author"] for x in rows] == ["patient", "staff"]
    assert rows[0]["text"].startswith("'=cmd") and rows[0]["photos"] == "1" and rows[0]["patient_name"] == "Ana Lopez"
    assert rows[1]["text"].startswith("'-Hi Ana") and rows[1]["staff_name"] == "Joy"
    # E.164 starts with "+": neutralised too (a spreadsheet shows the number as text, without the quote)
    assert rows[0]["phone"] == "'+12015550123"

    # the clinic's calendar days, both included (the seed is Nov 26 in New York)
    assert (
        len(list(csv.DictReader(io.StringIO(ib.client.get("/inbox/conversations.csv?from=2026-11-26&to=2026-11-26").text)))) == 2
    )
    assert list(csv.DictReader(io.StringIO(ib.client.get("/inbox/conversations.csv?from=2026-11-27").text))) == []
    assert list(csv.DictReader(io.StringIO(ib.client.get("/inbox/conversations.csv?to=2026-11-25").text))) == []
    bad = ib.client.get("/inbox/conversations.csv?from=11/26/2026")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    assert ib.client.get("/inbox/conversations.csv?from=2026-11-27&to=2026-11-26").status_code == 422

    one = ib.client.get(f"/inbox/conversations/{ids['conv']}/export.csv")
    assert one.status_code == 200 and len(list(csv.DictReader(io.StringIO(one.text)))) == 2
    assert ib.client.get("/inbox/conversations/nope/export.csv").status_code == 404

    with session_scope(ib.sf) as s:
        details = [a.detail for a in s.execute(select(AuditLog).where(AuditLog.action == "conversation.export")).scalars()]
    assert details and all("hurts" not in d for d in details)
    assert "messages=2" in details[0]
    assert ib.new_client().get("/inbox/conversations.csv", follow_redirects=False).status_code == 303


def test_an_export_of_days_without_messages_is_a_file_with_its_header_only(ib):
    """An export of a day with no message is an empty file with its header, not an error."""
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    r = ib.client.get("/inbox/conversations.csv", params={"from": date(2030, 1, 1).isoformat()})
    assert r.status_code == 200 and r.text.splitlines()[0].startswith("conversation_id,channel,patient_name")


# ------------------------------------------------------------------ upcoming appointments
def test_an_upcoming_appointment_is_shown_as_such_and_does_not_hide_the_current_recovery(ib):
    """Issue #17, front desk: future appointments are accepted. A patient on day 2 of one treatment
    who books the next one keeps day 2 everywhere; the booking shows as upcoming."""
    ids = ib.seed()  # treated Nov 24; the clock is Nov 26
    ib.staff("desk@clinic.test", role="frontdesk")
    ib.login("desk@clinic.test")
    r = ib.post(f"/inbox/patients/{ids['patient']}/treatments", {"performed_on": "2026-12-22", "area": "neck"})
    assert r.status_code == 303
    page = ib.client.get(f"/inbox/patients/{ids['patient']}").text
    assert "day 2 of recovery" in page and "upcoming</span>" in page
    assert "next Dec 22, 2026" in ib.client.get("/inbox/patients").text
    esc = ib.client.get(f"/inbox/escalations/{ids['esc']}").text
    assert "Next appointment Dec 22, 2026" in esc and "microneedling, face, Nov 24, 2026" in esc
    timeline = ib.client.get(f"/inbox/patients/{ids['patient']}/timeline").text
    assert "Upcoming appointment:</strong> microneedling, neck" in timeline
    assert timeline.index("Treatment:</strong> microneedling, face") < timeline.index("Upcoming appointment")
    # the assistant still counts from the treatment that happened
    r = ib.client.post(f"/api/v1/chat/sessions/{ids['session_key']}/messages", json={"text": "can I wear makeup"})
    assert r.status_code == 200
    with session_scope(ib.sf) as s:
        from core.recovery import recovery_for_conversation

        assert recovery_for_conversation(s, ids["conv"], date(2026, 11, 26)).day == 2
