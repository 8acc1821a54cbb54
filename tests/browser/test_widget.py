"""The web chat widget in real headless Chromium.

The first test drives the real stack (API + Rasa + action server); the others use the real app
with a fake assistant on a server the test can stop (offline state), a second origin (CORS) and
a database the test can write staff replies into. Screenshots: test-artifacts/widget/*.png.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LAUNCHER = re.compile(r"^Chat with")
FIRST_SENTENCE = re.compile(r"(?<=[.!])\s|\n")


# ---------------------------------------------------------------- helpers
def launcher(page: Page):
    return page.get_by_role("button", name=LAUNCHER)


def composer(page: Page):
    return page.get_by_label("Type your message")


def open_widget(page: Page) -> None:
    launcher(page).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(composer(page)).to_be_focused()


def ask(page: Page, text: str) -> None:
    composer(page).fill(text)
    composer(page).press("Enter")


def bot_messages(page: Page):
    return page.locator(".ac-msg.ac-bot:not(.ac-greeting)")


def wait_focus(page: Page, target: str, timeout_s: float = 5.0) -> str:
    """Focus moves on the next tick (setTimeout 0): wait for it instead of reading it at once."""

    deadline = time.monotonic() + timeout_s
    got = focused_in_widget(page)
    while got != target and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        got = focused_in_widget(page)
    return got


def focused_in_widget(page: Page) -> str:
    """What has focus: 'launcher', 'input', ... inside the widget's shadow root, or the page's tag."""
    return page.evaluate(
        """() => {
            const host = document.querySelector('[data-aftercare-widget]');
            if (document.activeElement !== host) return 'page:' + (document.activeElement || {}).tagName;
            const a = host.shadowRoot.activeElement;
            if (!a) return 'host';
            if (a.classList.contains('ac-launcher')) return 'launcher';
            if (a.id === 'ac-input') return 'input';
            return a.className || a.tagName;
        }"""
    )


def contrast(fg: str, bg: str) -> float:
    def lum(css: str) -> float:
        r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])

        def ch(v: int) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)

    a, b = lum(fg), lum(bg)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def styles(page: Page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        "e => { const s = getComputedStyle(e); return {color: s.color, background: s.backgroundColor, border: s.borderTopColor, width: e.getBoundingClientRect().width, height: e.getBoundingClientRect().height}; }"
    )


# ---------------------------------------------------------------- the real stack
@pytest.mark.stack
def test_real_assistant_history_and_emergency(stack, page, shots):
    page.goto(f"{stack.base_url}/demo")
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    shots(page, "01-demo-closed")
    open_widget(page)
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")

    ask(page, "can I wear makeup tomorrow?")
    expect(page.locator(".ac-typing")).to_be_visible()
    expect(bot_messages(page).first).to_be_visible(timeout=30_000)
    answer = bot_messages(page).first.inner_text()
    assert "can't answer right now" not in answer, answer
    assert re.search(r"makeup|make-up|24 hours", answer, re.I), answer
    quick = page.locator(".ac-qr")
    expect(quick.first).to_be_visible()
    assert quick.count() >= 1
    expect(page.locator(".ac-typing")).to_be_hidden()
    shots(page, "02-answer-with-buttons")

    # history survives a reload (session id in localStorage, transcript from the API)
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # it was open: it stays open
    expect(page.locator(".ac-msg.ac-patient").filter(has_text="can I wear makeup tomorrow?")).to_be_visible(timeout=10_000)
    expect(bot_messages(page).first).to_contain_text(answer.splitlines()[0][:40])
    shots(page, "03-history-after-reload")

    # a quick reply sends its payload and shows its title
    title = page.locator(".ac-qr").first.inner_text()
    count = bot_messages(page).count()
    page.locator(".ac-qr").first.click()
    expect(page.locator(".ac-msg.ac-patient").last).to_contain_text(title)
    page.wait_for_function(
        f"() => document.querySelector('[data-aftercare-widget]').shadowRoot.querySelectorAll('.ac-bot:not(.ac-greeting)').length > {count}",
        timeout=30_000,
    )

    # an emergency: the call-911 wording first, styled to stand out, announced as an alert
    ask(page, "I can't breathe and my throat is swelling")
    alert = page.locator(".ac-emergency")
    expect(alert.first).to_be_visible(timeout=30_000)
    bubble = alert.first.locator(".ac-bubble")
    expect(bubble).to_have_attribute("role", "alert")
    text = alert.first.locator(".ac-text").inner_text()
    assert "911" in FIRST_SENTENCE.split(text.strip())[0], text  # triage policy: the first line says call 911
    expect(alert.first.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    look = styles(page, ".ac-emergency .ac-bubble")
    assert look["background"] != "rgb(255, 255, 255)" and look["border"] != look["background"]
    assert contrast(look["color"], look["background"]) >= 4.5
    shots(page, "04-emergency")

    # the emergency styling survives a reload too
    page.reload()
    expect(page.locator(".ac-emergency").first).to_be_visible(timeout=10_000)
    assert not page.errors  # type: ignore[attr-defined]


# ---------------------------------------------------------------- fake assistant
def test_a_rate_limited_message_is_kept_and_the_patient_is_told_why_and_where_urgent_help_is(widget_app, page, shots):
    """Issue #16 item 5: a 429 is not "can't reach the clinic": the text is kept and 911 is named."""
    widget_app.app.state.container.chat_messages_per_minute = 1
    page.goto(f"{widget_app.base_url}/demo")
    open_widget(page)
    ask(page, "can I wear makeup tomorrow?")
    expect(bot_messages(page).first).to_contain_text("24 hours")
    ask(page, "is peeling on day 3 normal?")
    expect(page.locator(".ac-msg.ac-failed")).to_contain_text("is peeling on day 3 normal?", timeout=20_000)
    banner = page.locator(".ac-banner")
    expect(banner).to_contain_text("Too many messages")
    expect(banner).to_contain_text("911")
    shots(page, "05b-rate-limited")


def test_offline_keeps_the_message_and_retry_delivers_it(widget_app, page, shots):
    page.goto(f"{widget_app.base_url}/demo")
    open_widget(page)
    ask(page, "can I wear makeup tomorrow?")
    expect(bot_messages(page).first).to_contain_text("24 hours")

    widget_app.stop()
    ask(page, "is peeling on day 3 normal?")
    failed = page.locator(".ac-msg.ac-failed")
    expect(failed).to_have_count(1, timeout=20_000)
    expect(failed).to_contain_text("is peeling on day 3 normal?")
    expect(failed).to_contain_text("Not sent")
    banner = page.locator(".ac-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("can't reach")
    expect(page.locator(".ac-typing")).to_be_hidden()
    shots(page, "05-offline-message-kept")

    # the unsent message survives a reload of the page too (served here by another page on the same origin)
    stored = page.evaluate(
        "() => Object.entries(localStorage).filter(([k]) => k.startsWith('aftercare-chat:')).map(([, v]) => v)"
    )
    assert any("is peeling on day 3 normal?" in v for v in stored)

    widget_app.start()
    failed.get_by_role("button", name=re.compile("^Retry")).click()
    expect(page.locator(".ac-msg.ac-failed")).to_have_count(0, timeout=20_000)
    expect(bot_messages(page).last).to_contain_text("Peeling on days 2 to 5 is expected", timeout=20_000)
    expect(banner).to_be_hidden()
    assert widget_app.assistant.calls.count("is peeling on day 3 normal?") == 1
    shots(page, "06-retry-delivered")


def test_unsent_message_is_restored_after_reload(widget_app, other_site, page):
    page.goto(other_site)
    open_widget(page)
    widget_app.stop()
    ask(page, "is peeling on day 3 normal?")
    expect(page.locator(".ac-msg.ac-failed")).to_have_count(1, timeout=20_000)
    page.reload()  # the page lives on another server: it reloads while the API is down
    expect(page.locator(".ac-msg.ac-failed")).to_contain_text("is peeling on day 3 normal?", timeout=10_000)
    widget_app.start()
    page.locator(".ac-banner").get_by_role("button", name="Retry").click()
    expect(bot_messages(page).last).to_contain_text("Peeling on days 2 to 5", timeout=20_000)


def test_cross_origin_embed(widget_app, other_site, page, shots):
    page.goto(other_site)
    assert page.evaluate("location.origin") != widget_app.base_url
    expect(launcher(page)).to_have_accessible_name("Chat with Rose Aesthetics")
    open_widget(page)
    expect(page.locator(".ac-greeting")).to_contain_text("Welcome to Rose Aesthetics!")
    ask(page, "can I wear makeup tomorrow?")
    expect(bot_messages(page).first).to_contain_text("24 hours")
    expect(page.get_by_role("button", name="When can I exercise?")).to_be_visible()
    # the clinic colour is used, with a readable text colour
    head = styles(page, ".ac-head")
    assert head["background"] == "rgb(122, 31, 92)"
    assert contrast(head["color"], head["background"]) >= 4.5
    shots(page, "07-cross-origin-embed")
    assert not page.errors  # type: ignore[attr-defined]


def test_cors_refuses_an_origin_the_clinic_did_not_allow(widget_app, foreign_site, page):
    page.goto(foreign_site)
    open_widget(page)
    ask(page, "can I wear makeup tomorrow?")
    expect(page.locator(".ac-msg.ac-failed")).to_have_count(1, timeout=20_000)
    expect(page.locator(".ac-banner")).to_be_visible()
    assert widget_app.assistant.calls == []


def test_keyboard_and_screen_reader_basics(widget_app, page, shots):
    page.goto(f"{widget_app.base_url}/demo")
    expect(launcher(page)).to_be_visible()
    for _ in range(40):
        page.keyboard.press("Tab")
        if focused_in_widget(page) == "launcher":
            break
    assert focused_in_widget(page) == "launcher"
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Our clinic")).to_be_visible()
    assert wait_focus(page, "input") == "input"
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    page.keyboard.type("can I wear makeup tomorrow?")
    page.keyboard.press("Enter")
    expect(bot_messages(page).first).to_contain_text("24 hours")
    shots(page, "08-keyboard-open")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    assert wait_focus(page, "launcher") == "launcher"
    # the close button works from the keyboard too
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("button", name="Close chat").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert wait_focus(page, "launcher") == "launcher"


def test_typing_indicator_while_waiting(widget_app, page):
    widget_app.assistant.delay_s = 1.5
    page.goto(f"{widget_app.base_url}/demo")
    open_widget(page)
    ask(page, "can I wear makeup tomorrow?")
    typing = page.get_by_role("status").filter(has_text="typing")
    expect(typing).to_be_visible()
    expect(page.locator(".ac-msg.ac-patient")).to_contain_text("can I wear makeup tomorrow?")
    expect(bot_messages(page).first).to_contain_text("24 hours")
    expect(typing).to_be_hidden()


def test_replies_are_rendered_as_text_and_links_are_safe(widget_app, page):
    page.goto(f"{widget_app.base_url}/demo")
    open_widget(page)
    ask(page, "<b>html</b> please")
    reply = bot_messages(page).first
    expect(reply).to_contain_text('<img src=x onerror="window.__pwned=1"> <b>bold</b>')
    expect(page.locator(".ac-msg.ac-patient")).to_contain_text("<b>html</b> please")
    assert reply.locator("img, b").count() == 0
    assert page.evaluate("window.__pwned") is None
    links = reply.get_by_role("link")
    expect(links).to_have_count(1)  # javascript:alert(1) stays text
    expect(links).to_have_attribute("href", "https://example.com/a?b=1")
    expect(links).to_have_attribute("target", "_blank")
    assert "noopener" in links.get_attribute("rel")


def test_staff_reply_arrives_without_reload(widget_app, page, shots):
    from sqlalchemy import select

    from core.db import session_scope
    from core.models import Conversation, Message

    page.goto(f"{widget_app.base_url}/demo")
    open_widget(page)
    ask(page, "can I wear makeup tomorrow?")
    expect(bot_messages(page).first).to_contain_text("24 hours")
    with session_scope(widget_app.session_factory) as s:
        conv = s.execute(select(Conversation).where(Conversation.channel == "web")).scalar_one()
        s.add(
            Message(
                conversation_id=conv.id,
                direction="out",
                author="staff",
                channel="web",
                text="Hi, this is Dana from the clinic. How is your skin today?",
                status="sent",
            )
        )
        conv.staff_takeover = True
    staff = page.locator(".ac-msg.ac-staff")
    expect(staff).to_contain_text("this is Dana", timeout=12_000)  # polling brings it (no reload)
    expect(staff.locator(".ac-who")).to_have_text("Clinic team")
    expect(page.locator(".ac-sub")).to_contain_text("clinic team has joined")
    shots(page, "09-staff-reply")

    # closed widget: a new staff message shows as an unread badge on the launcher
    page.keyboard.press("Escape")
    with session_scope(widget_app.session_factory) as s:
        conv = s.execute(select(Conversation).where(Conversation.channel == "web")).scalar_one()
        s.add(
            Message(
                conversation_id=conv.id,
                direction="out",
                author="staff",
                channel="web",
                text="Let us know if anything changes.",
                status="sent",
            )
        )
    expect(page.locator(".ac-badge")).to_have_text("1", timeout=40_000)
    expect(launcher(page)).to_have_accessible_name(re.compile("1 new message"))


def test_patient_link_full_page_chat(widget_app, browser, shots):
    import httpx

    r = httpx.post(
        f"{widget_app.base_url}/api/v1/patients",
        json={
            "first_name": "Ana",
            "phone": "+12015550123",
            "treatments": [
                {
                    "procedure": "microneedling",
                    "area": "face",
                    "performed_on": (widget_app.app.state.container.clock.today() - timedelta(days=3)).isoformat(),
                }
            ],
        },
        headers={"Authorization": "Bearer test-token-0123456789abcdef"},
    )
    assert r.status_code == 201, r.text
    token = r.json()["chat_token"]
    ctx = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        page.goto(f"{widget_app.base_url}/chat/{token}")
        expect(page.locator(".ac-greeting")).to_contain_text("Hi Ana!")
        expect(page.get_by_role("button", name=LAUNCHER)).to_have_count(0)
        ask(page, "can I wear makeup tomorrow?")
        expect(bot_messages(page).first).to_contain_text("24 hours")
        shots(page, "10-patient-link-mobile")

        from sqlalchemy import select

        from core.db import session_scope
        from core.models import Conversation, Patient

        with session_scope(widget_app.session_factory) as s:
            conv = s.execute(select(Conversation).where(Conversation.channel == "web")).scalar_one()
            patient = s.execute(select(Patient)).scalar_one()
            assert conv.patient_id == patient.id

        page.reload()
        expect(page.locator(".ac-msg.ac-patient")).to_contain_text("can I wear makeup tomorrow?")

        missing = page.goto(f"{widget_app.base_url}/chat/not-a-real-token-123")
        assert missing.status == 404
        expect(page.get_by_role("heading", name="We couldn't find this chat link")).to_be_visible()
        shots(page, "11-unknown-link")
    finally:
        ctx.close()


def test_small_screen_gets_a_full_screen_panel(widget_app, browser, shots):
    ctx = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        page.goto(f"{widget_app.base_url}/demo?color=%23f4c2d7")
        shots(page, "12-mobile-closed")
        launcher(page).click()
        panel = styles(page, ".ac-panel")
        assert panel["width"] == 375 and panel["height"] == 700
        # a light clinic colour gets dark text (WCAG AA)
        head = styles(page, ".ac-head")
        assert contrast(head["color"], head["background"]) >= 4.5
        ask(page, "can I wear makeup tomorrow?")
        expect(bot_messages(page).first).to_contain_text("24 hours")
        qr = styles(page, ".ac-qr")
        assert contrast(qr["color"], qr["background"]) >= 4.5
        shots(page, "13-mobile-open-light-colour")
        page.get_by_role("button", name="Close chat").click()
        expect(page.get_by_role("dialog")).to_be_hidden()
    finally:
        ctx.close()


def test_strict_csp_does_not_block_the_widget(widget_app, page):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    resp = page.goto(f"{widget_app.base_url}/demo")
    assert "unsafe-inline" not in resp.headers["content-security-policy"]
    open_widget(page)
    # the shadow-root stylesheet applied (it would be unstyled if CSP blocked it)
    assert styles(page, ".ac-panel")["width"] == 380
    assert violations == []


def test_a_patient_sends_a_photo_with_a_caption_and_staff_get_it(widget_app, page, shots, tmp_path):
    """Issue #17: the nurse asks for a photo; the patient attaches one (camera or file), sees it sent
    with its progress, gets told a person will look, and the photo is kept for staff. Wrong files
    and photos over 5 MB are refused in the browser with a clear message, before any upload."""
    from PIL import Image
    from sqlalchemy import select

    from core.db import session_scope
    from core.models import Escalation, MessageMedia

    photo = tmp_path / "cheek.png"
    Image.new("RGB", (160, 120), (214, 150, 140)).save(photo)  # a skin-toned square, big enough to see
    sent = photo.read_bytes()
    page.goto(f"{widget_app.base_url}/demo")
    open_widget(page)
    attach = page.get_by_role("button", name="Send a photo")
    expect(attach).to_be_visible()
    composer(page).fill("here is my cheek")
    with page.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files(str(photo))
    mine = page.locator(".ac-msg.ac-patient").last
    expect(mine.locator("img.ac-photo")).to_be_visible()
    expect(mine).to_contain_text("here is my cheek")
    expect(bot_messages(page).first).to_contain_text("Thanks for the photo", timeout=15_000)
    expect(mine.locator(".ac-state")).to_have_text("")  # sent
    expect(composer(page)).to_have_value("")
    shots(page, "20-photo-sent")
    with session_scope(widget_app.session_factory) as s:
        [row] = s.execute(select(MessageMedia)).scalars().all()
        assert row.status == "stored" and row.data == sent
        assert [e.level for e in s.execute(select(Escalation)).scalars()] == ["routine"]

    # refused in the browser, before any upload
    big = tmp_path / "huge.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 + 10))
    page.locator(".ac-file").set_input_files(str(big))
    expect(page.locator(".ac-banner")).to_contain_text("too large")
    doc = tmp_path / "notes.txt"
    doc.write_text("not a photo")
    page.locator(".ac-file").set_input_files(str(doc))
    expect(page.locator(".ac-banner")).to_contain_text("not a photo")
    with session_scope(widget_app.session_factory) as s:
        assert len(s.execute(select(MessageMedia)).scalars().all()) == 1

    # after a reload the history says a photo was sent
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # it was open: it stays open
    expect(page.locator(".ac-msg.ac-patient .ac-photo-label")).to_have_text("Photo sent", timeout=15_000)
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.stack
def test_a_spanish_browser_gets_the_widget_and_the_answers_in_spanish(stack, browser, shots):
    """Issue #18: a browser set to es-US gets the widget's own words in Spanish, a Spanish greeting,
    and answers in Spanish from the real assistant; a Spanish red flag gets the Spanish 911 line."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-US")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{stack.base_url}/demo")
        spanish_launcher = page.get_by_role("button", name=re.compile(r"^Chat con"))
        expect(spanish_launcher).to_be_visible()
        spanish_launcher.click()
        box = page.get_by_label("Escriba su mensaje")
        expect(box).to_be_focused()
        expect(box).to_have_attribute("placeholder", "Escriba su pregunta…")
        expect(page.locator(".ac-sub")).to_contain_text("En una emergencia, llame al 911")
        expect(page.locator(".ac-greeting")).to_contain_text("¡Hola!")
        box.fill("hola, puedo usar maquillaje mañana?")
        box.press("Enter")
        expect(bot_messages(page).first).to_be_visible(timeout=30_000)
        answer = bot_messages(page).first.inner_text()
        assert re.search(r"maquillaje", answer, re.I) and "makeup" not in answer.lower(), answer
        shots(page, "20-spanish-answer")

        box.fill("no puedo respirar y se me esta cerrando la garganta")
        box.press("Enter")
        alert = page.locator(".ac-emergency")
        expect(alert.first).to_be_visible(timeout=30_000)
        assert "911" in alert.first.locator(".ac-text").inner_text()
        expect(alert.first.get_by_role("link", name="Llamar al 911")).to_have_attribute("href", "tel:911")
        shots(page, "21-spanish-emergency")
        assert errors == []
    finally:
        ctx.close()


def test_a_refusal_from_the_server_is_explained_in_the_widgets_language(stack, browser, shots):
    """Issue #18: the server's error details are English; a Spanish widget says why in Spanish, and
    the message it could not send carries the idempotency key it will retry with."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-US")
    page = ctx.new_page()
    keys: list[str] = []

    def refuse(route):
        keys.append(route.request.headers.get("idempotency-key", ""))
        route.fulfill(status=422, content_type="application/json", body='{"detail": "text must not be empty"}')

    page.route(
        "**/api/v1/chat/sessions/*/messages", lambda route: refuse(route) if route.request.method == "POST" else route.continue_()
    )
    try:
        page.goto(f"{stack.base_url}/chat")
        box = page.get_by_label("Escriba su mensaje")
        box.fill("hola")
        box.press("Enter")
        expect(page.get_by_text("el servidor de la clínica lo rechazó")).to_be_visible(timeout=15_000)
        expect(page.get_by_text("text must not be empty")).to_have_count(0)
        assert len(keys) == 1 and len(keys[0]) >= 16, keys
        shots(page, "22-spanish-refusal")
    finally:
        ctx.close()
