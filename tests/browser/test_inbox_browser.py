"""The staff inbox in real headless Chromium: a nurse's shift, sign-in failures, patients.

Most tests run the real app with a fake assistant, served by uvicorn in a thread; the
last one runs a whole shift against the real stack (trained Rasa model, action server).
Screenshots go to test-artifacts/inbox/ (gitignored).
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from core import staff as staff_service
from core.clock import SystemClock
from core.db import make_engine, make_session_factory, session_scope
from core.models import Conversation, Escalation, Message
from tests.conftest import ROOT
from tests.staff_helpers import enrol_totp, next_code

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "inbox"
PW = "correct horse battery staple"
RED_FLAG = "there's pus and yellow crusts on my cheek and it feels hot"


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api(base_url: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"{}")


def sign_in(page, base_url: str, email: str = "joy@clinic.test", password: str = PW, code=None) -> None:
    """The sign-in form; ``code`` (a callable giving the authenticator app's code) for a second factor."""
    page.goto(f"{base_url}/inbox/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    if code is not None:
        page.wait_for_url(f"{base_url}/inbox/login/code")
        page.fill("input[name=code]", code())
        page.click("button[type=submit]")


# ------------------------------------------------------------------------ the shift
def test_a_shift_new_escalation_arrives_live_then_acknowledge_reply_takeover_resolve(inbox_server, watched_page):
    page, base = watched_page, inbox_server.base_url

    # signed out: the inbox sends the browser to the sign-in page
    page.goto(f"{base}/inbox")
    assert "/inbox/login" in page.url
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    assert page.locator("#no-escalations").is_visible()
    page.evaluate("window.__sameDocument = true")

    # a patient writes a red flag in the web chat while the inbox is open
    sid = api(base, "POST", "/api/v1/chat/sessions", {"chat_token": inbox_server.chat_token})["session_id"]
    reply = api(base, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": RED_FLAG})
    assert reply["escalation"]["level"] == "urgent"

    row = page.locator("tr.esc-row").first
    row.wait_for(timeout=15_000)  # the page polls every 5 s
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert "URGENT" in row.inner_text() and "needs acknowledging" in row.inner_text().lower()
    assert "Ana Lopez" in row.inner_text() and "day 2" in row.inner_text()
    assert page.locator("#attention").is_visible()
    assert page.title().startswith("(1) ")
    shot(page, "01-inbox-new-escalation")

    # open it
    row.locator("a").first.click()
    page.wait_for_url("**/inbox/escalations/*")
    esc_url = page.url
    body = page.inner_text("body")
    for expected in [RED_FLAG, "Ana Lopez", "+12015550123", "day 2", "Why it escalated", "Not acknowledged"]:
        assert expected in body, expected
    assert page.locator("li.msg-trigger").count() == 1
    shot(page, "02-escalation-detail")

    page.click("#ack-button")
    page.wait_for_url("**?done=acknowledged")
    assert page.locator("#esc-status").inner_text() == "Acknowledged"

    # reply without taking over; it reaches the patient's web chat
    page.fill("#reply-text", "Hi Ana, this is Joy, the nurse. Can you send a photo?")
    page.uncheck("input[name=take_over]")
    page.click("#reply-form button[type=submit]")
    page.wait_for_url("**done=replied")
    assert "Staff: Nurse Joy" in page.inner_text("#transcript")
    messages = api(base, "GET", f"/api/v1/chat/sessions/{sid}/messages")["messages"]
    assert messages[-1]["author"] == "staff" and "Can you send a photo?" in messages[-1]["text"]

    # take over, and the patient's next message shows up on the open page by itself
    page.click("#takeover-button")
    page.wait_for_url("**done=taken_over")
    assert "Taken over" in page.inner_text("#takeover-card")
    answer = api(base, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": "ok, sending it now"})
    # the assistant stays quiet; the patient is told once that a team member will reply here
    assert [r["text"] for r in answer["replies"]] == [
        "Thanks, your message is with the clinic team. A team member will reply here."
    ]
    page.locator("#transcript li", has_text="ok, sending it now").wait_for(timeout=15_000)
    shot(page, "03-taken-over")

    page.click("#handback-button")
    page.wait_for_url("**done=handed_back")
    assert "The assistant is answering" in page.inner_text("#takeover-card")

    # resolve (a note is required)
    page.click("details.resolve summary")
    page.fill("#resolve-form textarea[name=note]", "Photo reviewed; booked a check today at 4pm.")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_url("**done=resolved")
    assert "Resolved" in page.inner_text("#actions-card")
    assert "booked a check" in page.inner_text("#actions-card")
    shot(page, "04-resolved")

    page.goto(f"{base}/inbox")
    assert page.locator("tr.esc-row").count() == 0
    assert page.problems == []  # type: ignore[attr-defined]
    with session_scope(inbox_server.sf) as s:
        esc = s.get(Escalation, esc_url.rsplit("/", 1)[-1].split("?")[0])
        assert esc.status == "resolved"
        assert s.get(Conversation, esc.conversation_id).staff_takeover is False


def test_wrong_password_is_refused(inbox_server, watched_page):
    page, base = watched_page, inbox_server.base_url
    sign_in(page, base, password="not the password")
    assert "/inbox/login" in page.url
    assert "Wrong email or password" in page.inner_text("#login-error")
    assert not [c for c in page.context.cookies() if c["name"] == "aftercare_staff"]
    shot(page, "05-login-wrong-password")
    page.goto(f"{base}/inbox")
    assert "/inbox/login" in page.url


def test_signed_out_requests_are_redirected_and_sign_out_works(inbox_server, watched_page):
    page, base = watched_page, inbox_server.base_url
    page.goto(f"{base}/inbox/patients/{inbox_server.patient_id}")
    assert "/inbox/login?next=/inbox/patients/" in page.url
    assert "Lopez" not in page.content()
    shot(page, "06-signed-out-redirect")
    page.fill("input[name=email]", "dan@clinic.test")
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/inbox/patients/{inbox_server.patient_id}")  # back where they were going
    page.click("text=Sign out")
    page.wait_for_url("**/inbox/login?done=signed_out")
    page.goto(f"{base}/inbox")
    assert "/inbox/login" in page.url
    assert page.problems == []  # type: ignore[attr-defined]


def test_signed_out_while_the_inbox_is_open_is_shown(inbox_server, watched_page):
    page, base = watched_page, inbox_server.base_url
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    # the session ends on the server (e.g. an admin deactivated it, or the idle timeout)
    with session_scope(inbox_server.sf) as s:
        user = staff_service.by_email(s, "joy@clinic.test")
        staff_service.end_all_sessions(s, staff_id=user.id)
    page.locator("#session-banner").wait_for(state="visible", timeout=15_000)
    assert "signed out" in page.inner_text("#session-banner")
    assert page.title().startswith("(signed out)")
    shot(page, "07-signed-out-banner")


# Records each desktop notification the page makes (the real Notification still runs) and each
# tone it plays (the real oscillator still runs): what the nurse's browser was asked to show.
ALERT_SPY = """
(() => {
  window.__notes = [];
  window.__tones = 0;
  const Real = window.Notification;
  if (Real) {
    class Recorded extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notes.push({ title, body: (options || {}).body, tag: (options || {}).tag,
                              sticky: !!(options || {}).requireInteraction });
      }
    }
    Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
    Recorded.requestPermission = (...a) => Real.requestPermission(...a);
    window.Notification = Recorded;
  }
  const osc = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__tones += 1; return osc.call(this); };
})();
"""


def wait_until(page, expression: str, timeout_s: float = 15.0) -> None:
    """Poll a JS expression (page.wait_for_function evaluates a string, which the inbox's CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout_s} s: {expression}")
        page.wait_for_timeout(200)


def test_desktop_and_sound_alerts_for_a_new_red_flag_name_no_patient(inbox_server, context):
    """Opt-in desktop notifications and a sound for new urgent/emergency escalations; the notification
    says the level only (it can show on a locked screen); the choice survives a reload."""
    base = inbox_server.base_url
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(ALERT_SPY)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    assert page.locator("#alert-controls").is_visible()
    assert page.inner_text("#alert-state") == "Desktop alerts are off."
    page.click("#desktop-alerts")
    wait_until(page, "document.getElementById('alert-state').textContent.includes('on in this browser')")
    assert page.inner_text("#desktop-alerts") == "Turn off desktop alerts"
    page.check("#sound-alerts")
    assert page.evaluate("window.__tones") == 1  # a sample tone when sound is turned on
    shot(page, "23-alerts-on")

    sid = api(base, "POST", "/api/v1/chat/sessions", {"chat_token": inbox_server.chat_token})["session_id"]
    assert api(base, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": RED_FLAG})["escalation"]["level"] == "urgent"
    wait_until(page, "window.__notes.length === 1")
    [note] = page.evaluate("window.__notes")
    assert note["title"] == "URGENT escalation" and note["sticky"] is False
    assert "Ana" not in note["body"] and "Lopez" not in note["body"] and "pus" not in note["body"]
    assert page.evaluate("window.__tones") == 2
    # the next polls do not alert again for the same escalation
    page.wait_for_timeout(6_000)
    assert page.evaluate("window.__notes.length") == 1

    # a reload keeps the choices and does not alert for what is already on the page
    page.reload()
    wait_until(page, "document.getElementById('alert-state').textContent.includes('on in this browser')")
    assert page.is_checked("#sound-alerts")
    page.wait_for_timeout(6_000)
    assert page.evaluate("window.__notes.length") == 0
    page.click("#desktop-alerts")
    assert page.inner_text("#alert-state") == "Desktop alerts are off."
    assert problems == []


def test_the_inbox_says_when_it_cannot_reach_the_server_and_recovers(inbox_server, watched_page):
    """A nurse must never trust a list that silently stopped updating (server down, network gone)."""
    page, base = watched_page, inbox_server.base_url
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    assert page.locator("#connection-banner").is_hidden()
    inbox_server.thread.stop()
    try:
        page.locator("#connection-banner").wait_for(state="visible", timeout=20_000)
        text = page.inner_text("#connection-banner")
        assert "Connection lost at" in text and "not updating" in text
        assert page.title().startswith("(offline) ")
        shot(page, "24-connection-lost")
    finally:
        inbox_server.thread.start()
    page.locator("#connection-banner").wait_for(state="hidden", timeout=20_000)
    assert "Reconnected at" in page.inner_text("#live-status")
    assert not page.title().startswith("(offline)")
    # the page's own script raised nothing (failed fetches while the server was down are expected)
    assert [p for p in page.problems if p.startswith("pageerror")] == []  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ patients
def test_patients_import_and_copy_chat_link(inbox_server, watched_page, tmp_path):
    page, base = watched_page, inbox_server.base_url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    sign_in(page, base, email="dan@clinic.test")
    page.wait_for_url(f"{base}/inbox")
    page.click("nav >> text=Patients")
    page.click("text=Import from CSV")
    csv_path = tmp_path / "patients.csv"
    yesterday = (inbox_server.app.state.container.clock.today() - timedelta(days=1)).isoformat()
    csv_path.write_text(
        "first_name,last_name,phone,procedure,area,performed_on\n"
        f"Bea,Smith,+12015550124,microneedling,face,{yesterday}\n"
        f"Cleo,Ng,555-0125,microneedling,face,{yesterday}\n"
        "Dee,Ray,+12015550126,microneedling,face,21/11/2026\n"
        f"Eve,Dup,+12015550123,,,{yesterday}\n"
    )
    page.set_input_files("input[type=file]", str(csv_path))
    page.click("form[enctype] button[type=submit]")
    page.locator("#import-report").wait_for()
    assert page.inner_text("#created-count") == "1" and page.inner_text("#rejected-count") == "3"
    report = page.inner_text("#import-report")
    assert "bad phone" in report and "bad date" in report and "duplicate" in report
    shot(page, "08-import-report")

    page.click("#import-report >> text=Bea Smith")
    page.wait_for_url("**/inbox/patients/*")
    page.click("[data-copy]")
    page.locator(".copy-status", has_text="Copied").wait_for(timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{base}/chat/") and copied == page.input_value("#chat-url")
    shot(page, "09-patient-page")
    assert page.problems == []  # type: ignore[attr-defined]


def test_admin_pages_render(inbox_server, watched_page):
    page, base = watched_page, inbox_server.base_url
    with session_scope(inbox_server.sf) as s:
        boss = staff_service.create_staff(s, email="boss@clinic.test", display_name="Ada Admin", role="admin", password=PW)
        enrol_totp(s, boss, SystemClock())  # admins need a second factor; the server runs on the real clock
        # an on-call alert that could not be delivered shows on the inbox
        conv = Conversation(channel="sms", phone="+12015550999")
        s.add(conv)
        s.flush()
        m = Message(conversation_id=conv.id, direction="in", author="patient", channel="sms", text="I can't breathe well")
        s.add(m)
        s.flush()
        from core import escalations as esc_service
        from core.models import OutboxMessage

        e = esc_service.record(
            s, conversation_id=conv.id, level="emergency", reason="trouble breathing", message_id=m.id
        ).escalation
        s.add(
            OutboxMessage(
                to="+12015550100",
                body="alert",
                purpose="oncall_alert",
                escalation_id=e.id,
                status="dead",
                last_error="21610 unsubscribed recipient",
                attempts=5,
            )
        )
    sign_in(page, base, email="boss@clinic.test", code=lambda: next_code(inbox_server.sf, "boss@clinic.test", SystemClock()))
    page.wait_for_url(f"{base}/inbox")
    assert "EMERGENCY" in page.inner_text("#escalations")
    assert "21610" in page.inner_text("#delivery-problems")
    assert page.inner_text("#problem-count") == "1"
    # another alert fails while the page is open: the count changes and the page says so
    with session_scope(inbox_server.sf) as s:
        from core.models import OutboxMessage

        s.add(OutboxMessage(to="+12015550100", body="alert", purpose="oncall_alert", status="failed", last_error="timeout"))
    page.locator("#problems-changed").wait_for(state="visible", timeout=15_000)
    assert page.inner_text("#problem-count") == "2"
    shot(page, "10-inbox-emergency-and-failed-alert")
    for path, name in [
        ("/inbox/staff", "11-staff"),
        ("/inbox/settings", "12-settings"),
        ("/inbox/audit", "13-audit"),
        ("/inbox/outbox", "14-outbox"),
        ("/inbox/canned", "16-canned-replies"),
    ]:
        page.goto(base + path)
        assert page.locator("h1").count() >= 1
        shot(page, name)
    page.goto(base + "/inbox/audit")
    assert "auth.login" in page.inner_text("#audit")
    assert page.problems == []  # type: ignore[attr-defined]


def test_an_admin_sets_up_two_factor_sign_in_before_anything_else(inbox_server, watched_page):
    from core import totp

    page, base = watched_page, inbox_server.base_url
    with session_scope(inbox_server.sf) as s:
        staff_service.create_staff(s, email="new-admin@clinic.test", display_name="New Admin", role="admin", password=PW)
    sign_in(page, base, email="new-admin@clinic.test")
    page.wait_for_url(f"{base}/inbox/account/2fa")
    assert page.locator("#totp-setup svg").is_visible()  # the QR code, inline (no image from elsewhere)
    shot(page, "15-two-factor-set-up")
    page.goto(f"{base}/inbox/patients")
    assert page.url == f"{base}/inbox/account/2fa?required=1"
    assert page.locator("#totp-required").is_visible()
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("input[name=code]", totp.code_at(secret, SystemClock().now()))
    page.click("#totp-setup button[type=submit]")
    page.wait_for_url(f"{base}/inbox/account?done=totp_enabled")
    assert "On: signing in asks for a code" in page.inner_text("#totp-state")
    page.goto(f"{base}/inbox/staff")
    assert "two-factor on" in page.inner_text("#staff")
    assert page.problems == []  # type: ignore[attr-defined]


# ------------------------------------------------------------------- the real stack
@pytest.mark.stack
def test_end_to_end_shift_on_the_real_stack(stack, browser):
    """Red-flag message through the real Rasa stack -> escalation -> acknowledged -> replied -> resolved."""
    url = f"sqlite:///{stack.data_dir}/stack.db"
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine, SystemClock())) as s:  # the stack runs on the real clock
            if staff_service.by_email(s, "oncall@clinic.test") is None:
                staff_service.create_staff(
                    s, email="oncall@clinic.test", display_name="On-call Nurse", role="clinician", password=PW
                )
    finally:
        engine.dispose()
    base = stack.base_url
    today = SystemClock("America/New_York").today()
    patient = api(
        base,
        "POST",
        "/api/v1/patients",
        {
            "first_name": "Stack",
            "last_name": "Patient",
            "phone": "+12015550777",
            "treatments": [{"performed_on": (today - timedelta(days=3)).isoformat()}],
        },
        token=stack.token,
    )
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, base, email="oncall@clinic.test")
        page.wait_for_url(f"{base}/inbox")
        sid = api(base, "POST", "/api/v1/chat/sessions", {"chat_token": patient["chat_token"]})["session_id"]
        reply = api(base, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": "my face is oozing pus and I have a fever"})
        assert reply["escalation"]["level"] == "urgent"
        row = page.locator(f"tr.esc-row[data-id='{reply['escalation']['id']}']")
        row.wait_for(timeout=15_000)
        assert "Stack Patient" in row.inner_text() and "day 3" in row.inner_text()
        row.locator("a").first.click()
        page.wait_for_url("**/inbox/escalations/*")
        assert "oozing pus" in page.inner_text("#transcript")
        page.click("#ack-button")
        page.wait_for_url("**done=acknowledged")
        page.fill("#reply-text", "This is the on-call nurse; I'm calling you in 5 minutes.")
        page.click("#reply-form button[type=submit]")
        page.wait_for_url("**done=replied")
        messages = api(base, "GET", f"/api/v1/chat/sessions/{sid}/messages")["messages"]
        assert messages[-1]["author"] == "staff"
        page.click("details.resolve summary")
        page.fill("#resolve-form textarea[name=note]", "Called; seen in clinic.")
        page.click("#resolve-form button[type=submit]")
        page.wait_for_url("**done=resolved")
        shot(page, "15-stack-resolved")
        open_ids = [e["id"] for e in api(base, "GET", "/api/v1/escalations?status=open", token=stack.token)]
        assert reply["escalation"]["id"] not in open_ids
        assert errors == []
    finally:
        ctx.close()


WIDE = """Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391)
  .slice(-5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= 391")  # the phone is 390 px wide


def test_the_inbox_on_a_phone_no_sideways_scrolling_actions_first_tap_to_call(inbox_server, phone_page):
    page, base = phone_page, inbox_server.base_url
    sid = api(base, "POST", "/api/v1/chat/sessions", {"chat_token": inbox_server.chat_token})["session_id"]
    api(base, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": RED_FLAG})
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    page.locator("tr.esc-row, .esc-row").first.wait_for(timeout=15_000)
    assert no_sideways_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    shot(page, "20-phone-inbox")
    page.locator(".esc-row a").first.click()
    page.wait_for_url("**/inbox/escalations/*")
    assert no_sideways_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    ack = page.locator("#ack-button").bounding_box()
    assert ack is not None and ack["y"] + ack["height"] <= 844, ack  # acknowledge without scrolling
    call = page.locator("a[href^='tel:']").first
    assert call.get_attribute("href") == "tel:+12015550123"
    shot(page, "21-phone-escalation")
    for path in ("/inbox/patients", "/inbox/outbox", f"/inbox/patients/{inbox_server.patient_id}"):
        page.goto(base + path)
        assert no_sideways_scroll(page), (path, page.evaluate("document.documentElement.scrollWidth"), page.evaluate(WIDE))
    shot(page, "22-phone-patient")


def test_a_nurse_inserts_a_canned_reply_in_the_patients_language_on_her_phone(inbox_server, phone_page):
    """Canned replies (written by an admin: tests/integration/test_inbox.py covers that page) are
    offered above the reply box, filled in for the patient, grouped by language; picking one
    inserts it for editing, and the page still fits a 390 px phone."""
    from core import canned

    page, base = phone_page, inbox_server.base_url
    with session_scope(inbox_server.sf) as s:
        canned.add_reply(s, title="Ask for a photo", language="en", body="Hi {first_name}, could you send a photo of the area?")
        canned.add_reply(
            s, title="Pedir una foto", language="es", body="Hola {first_name}, ¿nos puede enviar una foto de la zona?"
        )
    sid = api(base, "POST", "/api/v1/chat/sessions", {"chat_token": inbox_server.chat_token})["session_id"]
    api(base, "POST", f"/api/v1/chat/sessions/{sid}/messages", {"text": RED_FLAG})
    sign_in(page, base)
    page.wait_for_url(f"{base}/inbox")
    page.locator(".esc-row a").first.wait_for(timeout=15_000)
    page.locator(".esc-row a").first.click()
    page.wait_for_url("**/inbox/escalations/*")
    assert page.locator("#canned-holder").is_visible()
    page.select_option("#canned-pick", label="Pedir una foto")
    assert page.input_value("#reply-text") == "Hola Ana, ¿nos puede enviar una foto de la zona?"
    assert page.input_value("#canned-pick") == ""  # ready for another pick
    page.select_option("#canned-pick", label="Ask for a photo")
    assert page.input_value("#reply-text") == (
        "Hola Ana, ¿nos puede enviar una foto de la zona?\nHi Ana, could you send a photo of the area?"
    )
    assert no_sideways_scroll(page), page.evaluate(WIDE)
    page.locator("#reply-card").scroll_into_view_if_needed()
    shot(page, "25-phone-canned-reply")
    page.fill("#reply-text", "Hola Ana, ¿nos puede enviar una foto de la zona?")
    page.uncheck("input[name=take_over]")
    page.click("#reply-form button[type=submit]")
    page.wait_for_url("**done=replied")
    messages = api(base, "GET", f"/api/v1/chat/sessions/{sid}/messages")["messages"]
    assert messages[-1]["author"] == "staff" and messages[-1]["text"] == "Hola Ana, ¿nos puede enviar una foto de la zona?"
