"""Issue #17 in real headless Chromium: who is waiting (unread and waiting markers, the list's views,
live), search from the top bar, one patient's timeline with the photo inline, the conversations CSV
export; on a desktop and on the nurse's phone (390 x 844), where the alert controls and the
clinic settings fit too. Screenshots in test-artifacts/inbox/."""

from __future__ import annotations

import csv
import io

import pytest

from core import staff as staff_service
from core.clock import SystemClock
from core.db import session_scope
from core.models import MessageMedia
from tests.browser.test_inbox_browser import WIDE, api, no_sideways_scroll, shot, sign_in, wait_until
from tests.staff_helpers import enrol_totp, next_code

pytestmark = pytest.mark.browser

RED_FLAG = "there's pus and yellow crusts on my cheek and it feels hot"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"


def _patient_writes(server, text: str, sid: str | None = None) -> str:
    sid = sid or api(server.base_url, "POST", "/api/v1/chat/sessions", {"chat_token": server.chat_token})["session_id"]
    api(server.base_url, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": text})
    return sid


def test_who_is_waiting_then_search_timeline_and_export_on_a_desktop(inbox_server, watched_page):
    page, base = watched_page, inbox_server.base_url
    sid = _patient_writes(inbox_server, RED_FLAG)
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    row = page.locator(".esc-row").first
    assert "new message" in row.inner_text() and "waiting for a reply" in row.inner_text()
    assert page.inner_text("#view-count-waiting") == "1" and page.inner_text("#view-count-unread") == "1"
    shot(page, "30-inbox-waiting-and-unread")

    # the "waiting for a reply" view, then the escalation: read
    page.click("#views a[data-view=waiting]")
    page.wait_for_url("**view=waiting**")
    assert page.locator(".esc-row").count() == 1
    page.locator(".esc-row a").first.click()
    page.wait_for_url("**/inbox/escalations/*")
    page.goto(f"{base}/inbox?view=unread")
    assert page.locator(".esc-row").count() == 0 and page.locator("#no-escalations").is_visible()
    page.goto(f"{base}/inbox")
    assert "new message" not in page.locator(".esc-row").first.inner_text()

    # the patient writes again while the list is open: the marker comes back by itself
    _patient_writes(inbox_server, "hello? it's spreading to my jaw", sid)
    wait_until(page, "document.querySelector('.esc-row .badge-unread') !== null")
    assert page.inner_text("#view-count-unread") == "1"

    # search from the top bar: the words a patient wrote, marked
    page.fill("#top-q", "spreading")
    page.press("#top-q", "Enter")
    page.wait_for_url("**/inbox/search?q=spreading")
    assert page.inner_text("#search-messages mark") == "spreading"
    # the top bar keeps the words, readable (dark on white, not the bar's white text)
    assert page.input_value("#top-q") == "spreading"
    assert page.evaluate("getComputedStyle(document.getElementById('top-q')).color") != "rgb(255, 255, 255)"
    shot(page, "31-search")
    page.locator("#search-messages a").first.click()
    page.wait_for_url("**/inbox/conversations/*")

    # the timeline: treatment day, messages and a photo inline
    with session_scope(inbox_server.sf) as s:
        from core.models import Message

        last = s.query(Message).filter(Message.author == "patient").order_by(Message.created_at.desc()).first()
        s.add(
            MessageMedia(
                message_id=last.id, source_url="upload:web", status="stored", content_type="image/png", data=PNG, size=len(PNG)
            )
        )
    page.goto(f"{base}/inbox/patients/{inbox_server.patient_id}")
    page.click("#timeline-link")
    page.wait_for_url("**/timeline")
    text = page.inner_text("main")
    assert "Treatment: microneedling, face" in text and "day 0" in text and "day 2" in text
    assert "Escalation opened" in text and "spreading to my jaw" in text
    img = page.locator("img.thumb").first
    img.wait_for()
    assert page.evaluate("(i) => i.complete && i.naturalWidth > 0", img.element_handle())
    shot(page, "32-timeline")

    # export: every message of the conversation, as a CSV download
    page.goto(f"{base}/inbox")
    page.click("#exports summary")
    with page.expect_download() as dl:
        page.click("#export-conversations button[type=submit]")
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8").read())))
    assert [r["author"] for r in rows if r["author"] != "bot"] == ["patient", "patient"]
    assert any("spreading to my jaw" in r["text"] for r in rows) and rows[0]["patient_name"] == "Ana Lopez"
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_new_pages_and_the_alert_controls_and_settings_fit_the_nurses_phone(inbox_server, phone_page):
    page, base = phone_page, inbox_server.base_url
    _patient_writes(inbox_server, RED_FLAG)
    with session_scope(inbox_server.sf) as s:
        boss = staff_service.create_staff(
            s, email="boss@clinic.test", display_name="Ada Admin", role="admin", password="correct horse battery staple"
        )
        enrol_totp(s, boss, SystemClock())
    sign_in(page, base, email="boss@clinic.test", code=lambda: next_code(inbox_server.sf, "boss@clinic.test", SystemClock()))
    page.wait_for_url(f"{base}/inbox")
    page.locator(".esc-row").first.wait_for()
    assert page.locator("#views").is_visible() and page.locator("#top-q").is_visible()
    assert page.locator("#alert-controls").is_visible()
    assert no_sideways_scroll(page), page.evaluate(WIDE)
    shot(page, "33-phone-inbox-views-and-alerts")
    for path, name in [
        ("/inbox/search?q=yellow", "34-phone-search"),
        (f"/inbox/patients/{inbox_server.patient_id}/timeline", "35-phone-timeline"),
        ("/inbox/settings", "36-phone-settings"),
        ("/inbox/canned", "37-phone-canned"),
        ("/inbox/checkins", "38-phone-checkins"),
        ("/inbox/staff", "39-phone-staff"),
        ("/inbox/audit", "40-phone-audit"),
    ]:
        page.goto(base + path)
        assert page.locator("h1").count() >= 1, path
        assert no_sideways_scroll(page), (path, page.evaluate(WIDE))
        shot(page, name)
    page.goto(f"{base}/inbox/settings")
    # the on-call fields can be filled and saved on the phone
    field = page.locator("input[name=oncall_phone]")
    field.scroll_into_view_if_needed()
    box = field.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
