"""The real service end to end: trained Rasa model, action server, API, SQLite, real HTTP."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.stack


def chat(stack, text: str, chat_token: str | None = None, session_id: str | None = None) -> tuple[str, dict]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        if session_id is None:
            body = {"chat_token": chat_token} if chat_token else {}
            session_id = c.post("/api/v1/chat/sessions", json=body).json()["session_id"]
        r = c.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": text})
        assert r.status_code == 200, r.text
        return session_id, r.json()


def new_patient(stack, phone: str, performed_on: str) -> dict:
    r = httpx.post(
        f"{stack.base_url}/api/v1/patients",
        json={
            "first_name": "Test",
            "phone": phone,
            "treatments": [{"procedure": "microneedling", "area": "face", "performed_on": performed_on}],
        },
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_healthz_is_ok(stack):
    assert httpx.get(f"{stack.base_url}/healthz").json() == {"status": "ok"}


def test_anonymous_makeup_question_gets_the_facts(stack):
    _, body = chat(stack, "can i wear makeup tomorrow")
    assert body["topic"] == "makeup"
    text = " ".join(r["text"] for r in body["replies"])
    assert "24 hours" in text
    assert body["escalation"] is None


def test_patient_link_knows_the_day(stack):
    from datetime import timedelta

    from core.clock import SystemClock

    today = SystemClock("America/New_York").today()
    p = new_patient(stack, "+12015550901", (today - timedelta(days=3)).isoformat())
    _, body = chat(stack, "when can i put makeup back on", chat_token=p["chat_token"])
    assert body["topic"] == "makeup"
    assert "day 3" in " ".join(r["text"] for r in body["replies"]).lower()


def test_emergency_through_the_real_stack(stack):
    _, body = chat(stack, "my lips and face are swelling up fast with hives and its hard to breathe")
    assert body["escalation"]["level"] == "emergency"
    assert "911" in body["replies"][0]["text"].splitlines()[0]


def test_red_flag_with_a_question_escalates_and_answers(stack):
    _, body = chat(stack, "can I wear makeup tmrw? also theres some yellow crust on my chin")
    assert body["escalation"]["level"] == "urgent"
    rows = httpx.get(
        f"{stack.base_url}/api/v1/escalations?status=open", headers={"Authorization": f"Bearer {stack.token}"}
    ).json()
    assert body["escalation"]["id"] in [r["id"] for r in rows]


def test_greeting_and_out_of_scope(stack):
    _, hi = chat(stack, "hello")
    assert hi["topic"] == "greet" and hi["replies"]
    _, pizza = chat(stack, "can you order me a pizza")
    assert pizza["topic"] == "out_of_scope"


def test_unknown_date_then_relative_answer(stack):
    sid, first = chat(stack, "my face is still pretty red")
    assert first["escalation"] is None
    _, second = chat(stack, "5 days ago", session_id=sid)
    assert second["escalation"] and second["escalation"]["level"] == "routine"


def test_no_message_text_in_any_process_log(stack):
    marker = "zebrastripe"
    chat(stack, f"my {marker} cheek has yellow crust and pus")
    chat(stack, f"can i wear {marker} foundation tomorrow")
    log = (stack.data_dir / "stack.log").read_text(errors="ignore")
    assert "POST /api/v1/chat/sessions" in log  # the log is really being written
    assert marker not in log.lower()


def test_access_log_keeps_no_chat_token_or_session_id(stack):
    """The patient's chat link and a web chat session id are bearer capabilities: the access
    log records the route and status, not the capability."""
    import time

    from core.clock import SystemClock

    today = SystemClock("America/New_York").today().isoformat()
    p = new_patient(stack, "+12015550917", today)
    page = httpx.get(f"{stack.base_url}/chat/{p['chat_token']}?utm_source={p['chat_token']}", timeout=10)
    assert page.status_code == 200
    session_id, _ = chat(stack, "hi", chat_token=p["chat_token"])
    log_file = stack.data_dir / "stack.log"
    deadline = time.time() + 5
    while time.time() < deadline and "GET /chat/<token>?utm_source=<redacted>" not in log_file.read_text(errors="ignore"):
        time.sleep(0.1)
    log = log_file.read_text(errors="ignore")
    assert "GET /chat/<token>?utm_source=<redacted>" in log
    assert "POST /api/v1/chat/sessions/<session>/messages" in log
    assert p["chat_token"] not in log
    assert session_id not in log


def test_the_learned_screen_catches_what_no_keyword_names_in_spanish_too(stack):
    """Through the real API process: the learned model is loaded at start-up and screens first."""
    _, body = chat(stack, "me desmaye en la cocina hace rato y todavia me siento muy mal")
    assert body["escalation"]["level"] == "emergency"
    first = body["replies"][0]["text"].splitlines()[0]
    assert first.startswith("Llame al 911")
    rows = httpx.get(
        f"{stack.base_url}/api/v1/escalations?status=open", headers={"Authorization": f"Bearer {stack.token}"}
    ).json()
    assert body["escalation"]["id"] in [r["id"] for r in rows]


def test_the_action_server_answers_only_rasa_on_loopback(stack):
    """Issue 16, item 2: it listened on 0.0.0.0 with no authentication."""
    import socket

    from core.settings import port_plan

    action_port = port_plan(stack.port)[1]
    url = f"http://127.0.0.1:{action_port}/webhook"
    body = {"next_action": "action_symptom_report", "tracker": {"sender_id": "x", "slots": {}, "events": []}, "domain": {}}
    assert httpx.post(url, json=body, timeout=10).status_code == 403
    assert (
        httpx.post(url, json=body, headers={"X-Aftercare-Action-Token": "wrong-token-0123456789"}, timeout=10).status_code == 403
    )
    token = stack._env["AFTERCARE_ACTION_TOKEN"]
    assert httpx.post(url, json=body, headers={"X-Aftercare-Action-Token": token}, timeout=10).status_code != 403
    assert httpx.get(f"http://127.0.0.1:{action_port}/health", timeout=10).status_code == 200
    # not reachable on another address of this host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
            own = s.getsockname()[0]
        except OSError:
            own = None
    if own and not own.startswith("127."):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{own}:{action_port}/health", timeout=3)


def test_nothing_reaches_the_assistant_around_the_red_flag_screen(stack):
    """Issue 16, item 15: Rasa's REST channel was enabled and our channel took any local caller."""
    from core.settings import port_plan

    rasa = f"http://127.0.0.1:{port_plan(stack.port)[0]}"
    body = {"sender": "local-process", "message": "i cant breathe"}
    assert httpx.post(f"{rasa}/webhooks/rest/webhook", json=body, timeout=10).status_code == 404
    assert httpx.post(f"{rasa}/webhooks/aftercare/webhook", json=body, timeout=10).status_code == 403
    wrong = {"X-Aftercare-Rasa-Token": "not-the-token-0123456789"}
    assert httpx.post(f"{rasa}/webhooks/aftercare/webhook", json=body, headers=wrong, timeout=10).status_code == 403
    right = {"X-Aftercare-Rasa-Token": stack._env["AFTERCARE_RASA_TOKEN"]}
    assert httpx.post(f"{rasa}/webhooks/aftercare/webhook", json=body, headers=right, timeout=30).status_code == 200
