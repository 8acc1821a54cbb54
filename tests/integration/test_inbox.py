"""The staff inbox over HTTP (TestClient), on SQLite and PostgreSQL: sign-in, sessions,
CSRF, roles, the escalation actions, patients and the CSV import, the audit log."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import escalations as esc_service
from core import staff as staff_service
from core.db import session_scope
from core.models import AuditLog, Conversation, Escalation, EscalationNote, Message, OutboxMessage, Patient, StaffSession
from core.patients import create_patient
from tests.conftest import make_settings
from tests.staff_helpers import enrol_totp, next_code

PW = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Inbox:
    app: Any
    client: TestClient
    clock: Any
    assistant: Any

    @property
    def sf(self):
        return self.app.state.container.session_factory

    def new_client(self, ip: str | None = None) -> TestClient:
        """Another browser; ``ip`` is the address it connects from (the throttle counts per address)."""
        return TestClient(self.app, client=(ip, 50000)) if ip else TestClient(self.app)

    def staff(self, email: str, role: str = "clinician", name: str | None = None, totp: bool | None = None) -> str:
        """A staff account; admins (or ``totp=True``) get a second factor, enrolled on the injected clock."""
        with session_scope(self.sf) as s:
            user = staff_service.create_staff(
                s, email=email, display_name=name or email.split("@")[0].title(), role=role, password=PW
            )
            if totp if totp is not None else role == "admin":
                enrol_totp(s, user, self.clock)
            return user.id

    def login(
        self,
        email: str,
        password: str = PW,
        client: TestClient | None = None,
        next: str = "",
        code: str | None = None,
        headers: dict | None = None,
    ):
        """Password, then (when the account has a second factor) the code its app would show."""
        c = client or self.client
        page = c.get("/inbox/login")
        token = CSRF_RE.search(page.text).group(1)
        data = {"email": email, "password": password, "csrf_token": token}
        if next:
            data["next"] = next
        r = c.post("/inbox/login", data=data, follow_redirects=False, headers=headers)
        if r.status_code == 303 and r.headers["location"].startswith("/inbox/login/code"):
            return self.second_factor(email, client=c, code=code, next=next, headers=headers)
        return r

    def second_factor(
        self, email: str, *, client: TestClient | None = None, code: str | None = None, next: str = "", headers=None
    ):
        c = client or self.client
        page = c.get("/inbox/login/code")
        token = CSRF_RE.search(page.text).group(1)
        data = {"code": code if code is not None else next_code(self.sf, email, self.clock), "csrf_token": token}
        if next:
            data["next"] = next
        return c.post("/inbox/login/code", data=data, follow_redirects=False, headers=headers)

    def csrf(self, client: TestClient | None = None, path: str = "/inbox") -> str:
        page = (client or self.client).get(path)
        assert page.status_code == 200, page.text[:500]
        return CSRF_RE.search(page.text).group(1)

    def post(self, path: str, data: dict | None = None, client: TestClient | None = None, **kw):
        c = client or self.client
        return c.post(path, data={"csrf_token": self.csrf(c), **(data or {})}, follow_redirects=False, **kw)

    def seed(
        self, *, level: str = "urgent", channel: str = "web", phone: str = "+12015550123", text: str = "there is pus"
    ) -> dict:
        """A patient with a conversation, one inbound message and an escalation (no assistant involved)."""
        with session_scope(self.sf) as s:
            p = create_patient(
                s, first_name="Ana", last_name="Lopez", phone=phone, treatments=[{"performed_on": date(2026, 11, 24)}]
            )
            conv = Conversation(
                channel=channel,
                patient_id=p.id,
                session_key=f"sk-{p.id}" if channel == "web" else None,
                phone=phone if channel == "sms" else None,
            )
            s.add(conv)
            s.flush()
            # answered, as the screen leaves an escalated message (a "received" one is still to be answered:
            # the conversation's next turn would answer it first)
            m = Message(conversation_id=conv.id, direction="in", author="patient", channel=channel, text=text, status="answered")
            s.add(m)
            s.flush()
            findings = [{"code": "pus", "level": level, "matched": "pus", "rule": "infection signs"}]
            e = esc_service.record(
                s,
                conversation_id=conv.id,
                level=level,
                reason=f"{level}: pus on day 2",
                findings=findings,
                recovery_day=2,
                message_id=m.id,
            ).escalation
            return {"esc": e.id, "conv": conv.id, "patient": p.id, "session_key": conv.session_key, "message": m.id}

    def audit_actions(self) -> list[str]:
        with session_scope(self.sf) as s:
            return [a.action for a in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]


def _inbox(tmp_path, url, assistant, clock, **env) -> Inbox:
    from api.app import create_app

    app = create_app(make_settings(tmp_path, url, **env), assistant=assistant, clock=clock, start_workers=False)
    return Inbox(app, TestClient(app), clock, assistant)


@pytest.fixture
def ib(tmp_path, db_url, fake_assistant, fixed_clock):
    inbox = _inbox(tmp_path, db_url, fake_assistant, fixed_clock)
    with inbox.client:
        yield inbox


@pytest.fixture
def ib_sqlite(tmp_path, sqlite_url, fake_assistant, fixed_clock):
    inbox = _inbox(tmp_path, sqlite_url, fake_assistant, fixed_clock)
    with inbox.client:
        yield inbox


# ----------------------------------------------------------------------- signed out
def test_signed_out_browser_gets_no_patient_data(ib):
    ids = ib.seed()
    c = ib.client
    for path in [
        "/inbox",
        f"/inbox/escalations/{ids['esc']}",
        f"/inbox/conversations/{ids['conv']}",
        "/inbox/patients",
        f"/inbox/patients/{ids['patient']}",
        "/inbox/outbox",
        "/inbox/audit",
    ]:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/inbox/login"), path
        assert "Lopez" not in r.text and "pus" not in r.text
    r = c.get(f"/inbox/escalations/{ids['esc']}", follow_redirects=False)
    assert r.headers["location"] == f"/inbox/login?next=/inbox/escalations/{ids['esc']}"
    for path in ["/inbox/api/escalations", f"/inbox/api/conversations/{ids['conv']}/messages"]:
        r = c.get(path)
        assert r.status_code == 401
        assert r.json() == {"detail": "sign in required"}
    # an action without a session is refused before anything else
    r = c.post(f"/inbox/escalations/{ids['esc']}/acknowledge", data={"csrf_token": "x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/inbox/login")
    with session_scope(ib.sf) as s:
        assert s.get(Escalation, ids["esc"]).status == "open"


# ------------------------------------------------------------------------- sign in
def test_sign_in_cookie_and_server_side_session(ib):
    ib.staff("nurse@clinic.test")
    r = ib.login("nurse@clinic.test", next="/inbox/patients")
    assert r.status_code == 303 and r.headers["location"] == "/inbox/patients"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("aftercare_staff=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development/test only
    raw = ib.client.cookies.get("aftercare_staff")
    with session_scope(ib.sf) as s:
        rows = list(s.execute(select(StaffSession)).scalars())
        assert [r.id for r in rows] == [staff_service.hash_token(raw)]
    assert ib.client.get("/inbox").status_code == 200
    assert "auth.login" in ib.audit_actions()


def test_wrong_password_is_throttled_per_account_and_address_without_locking_the_owner_out(ib):
    """Issue 16, item 6: five failures locked the account for 15 minutes, so anyone could keep the
    on-call nurse out. Now that address waits (429 + Retry-After); the nurse elsewhere signs in."""
    from core import signin_throttle as throttle

    ib.staff("nurse@clinic.test")
    attacker = ib.new_client("198.51.100.7")
    r = ib.login("nurse@clinic.test", "wrong password", client=attacker)
    assert r.status_code == 401
    assert "Wrong email or password" in r.text
    assert "aftercare_staff" not in attacker.cookies
    for _ in range(throttle.PAIR_LIMIT - 1):
        assert ib.login("nurse@clinic.test", "wrong password", client=attacker).status_code == 401
    # that address now waits, even with the right password (it is not checked)
    r = ib.login("nurse@clinic.test", client=attacker)
    assert r.status_code == 429 and "aftercare_staff" not in attacker.cookies
    assert r.headers["retry-after"] == str(int(throttle.WINDOW.total_seconds()))
    assert "Too many failed attempts" in r.text and "15 minutes" in r.text
    # the owner, from her own network, is not locked out
    nurse = ib.new_client("203.0.113.20")
    assert ib.login("nurse@clinic.test", client=nurse).status_code == 303
    assert nurse.get("/inbox").status_code == 200
    # an email without an account is throttled the same way (nothing to learn about which exist)
    for _ in range(throttle.PAIR_LIMIT):
        assert ib.login("nobody@clinic.test", "wrong password", client=attacker).status_code == 401
    assert ib.login("nobody@clinic.test", "wrong password", client=attacker).status_code == 429
    # the window slides on: the attacker's address may try again later
    ib.clock.advance(minutes=15)
    assert ib.login("nurse@clinic.test", client=attacker).status_code == 303
    actions = ib.audit_actions()
    assert actions.count("auth.login_failed") == 2 * throttle.PAIR_LIMIT
    assert actions.count("auth.throttled") == 2
    with session_scope(ib.sf) as s:
        details = " ".join(a.detail + a.actor_label for a in s.execute(select(AuditLog)).scalars())
        assert "nobody@clinic.test" not in details and "wrong password" not in details


def test_password_spraying_from_one_address_is_slowed_across_accounts(ib, monkeypatch):
    from core import signin_throttle as throttle

    monkeypatch.setattr(throttle, "IP_LIMIT", 6)
    ib.staff("nurse@clinic.test")
    sprayer = ib.new_client("198.51.100.8")
    for i in range(6):
        assert ib.login(f"user{i}@clinic.test", "Winter2026!", client=sprayer).status_code == 401
    r = ib.login("nurse@clinic.test", client=sprayer)
    assert r.status_code == 429 and "from this network" in r.text and int(r.headers["retry-after"]) > 0
    assert ib.login("nurse@clinic.test", client=ib.new_client("203.0.113.21")).status_code == 303


def test_a_guessing_campaign_from_many_addresses_does_not_keep_the_owner_out(ib, monkeypatch):
    """Over the account-wide limit, browsers new to the account wait; the nurse's own browser (it
    holds a signed device cookie from her last sign-in) still gets in (OWASP device cookies)."""
    from core import signin_throttle as throttle

    monkeypatch.setattr(throttle, "ACCOUNT_LIMIT", 6)
    monkeypatch.setattr(throttle, "PAIR_LIMIT", 3)
    ib.staff("nurse@clinic.test")
    nurse = ib.new_client("203.0.113.22")
    assert ib.login("nurse@clinic.test", client=nurse).status_code == 303
    assert nurse.cookies.get("aftercare_device")
    assert ib.post("/inbox/logout", client=nurse).status_code == 303
    for ip in ("198.51.100.1", "198.51.100.2"):
        for _ in range(3):
            assert ib.login("nurse@clinic.test", "guess guess guess", client=ib.new_client(ip)).status_code == 401
    r = ib.login("nurse@clinic.test", client=ib.new_client("198.51.100.3"))
    assert r.status_code == 429 and "a device you have signed in from before" in r.text
    assert ib.login("nurse@clinic.test", client=nurse).status_code == 303
    assert nurse.get("/inbox").status_code == 200
    # a forged device cookie is worth nothing
    forged = ib.new_client("198.51.100.4")
    forged.cookies.set("aftercare_device", nurse.cookies.get("aftercare_device")[:-4] + "0000", path="/inbox/login")
    assert ib.login("nurse@clinic.test", client=forged).status_code == 429


def test_login_form_needs_its_csrf_token(ib):
    ib.staff("nurse@clinic.test")
    ib.client.get("/inbox/login")
    r = ib.client.post("/inbox/login", data={"email": "nurse@clinic.test", "password": PW}, follow_redirects=False)
    assert r.status_code == 403
    r = ib.client.post(
        "/inbox/login", data={"email": "nurse@clinic.test", "password": PW, "csrf_token": "forged"}, follow_redirects=False
    )
    assert r.status_code == 403


def test_next_never_leaves_the_inbox(ib):
    ib.staff("nurse@clinic.test")
    for target in ["//evil.example/x", "https://evil.example/", "/inbox/login", "/\\evil.example"]:
        r = ib.login("nurse@clinic.test", next=target, client=ib.new_client())
        assert r.headers["location"] == "/inbox", target


def test_csrf_less_post_is_rejected(ib):
    ids = ib.seed()
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    url = f"/inbox/escalations/{ids['esc']}/acknowledge"
    assert ib.client.post(url, follow_redirects=False).status_code == 403
    assert ib.client.post(url, data={"csrf_token": "not-the-token"}, follow_redirects=False).status_code == 403
    token = ib.csrf()
    r = ib.client.post(url, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    with session_scope(ib.sf) as s:
        assert s.get(Escalation, ids["esc"]).status == "open"
    # the header form works too (for scripts on our own pages)
    r = ib.client.post(url, headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert r.status_code == 303
    with session_scope(ib.sf) as s:
        assert s.get(Escalation, ids["esc"]).status == "acknowledged"
    # another session's token is not accepted
    ib.staff("desk@clinic.test", "frontdesk")
    other = ib.new_client()
    ib.login("desk@clinic.test", client=other)
    r = other.post(f"/inbox/escalations/{ids['esc']}/note", data={"csrf_token": token, "text": "x"}, follow_redirects=False)
    assert r.status_code == 403


def test_sign_out_ends_the_session_server_side(ib):
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    raw = ib.client.cookies.get("aftercare_staff")
    r = ib.post("/inbox/logout")
    assert r.status_code == 303 and r.headers["location"] == "/inbox/login?done=signed_out"
    # replaying the old cookie does not work: the session ended on the server
    replay = ib.new_client()
    replay.cookies.set("aftercare_staff", raw)
    assert replay.get("/inbox", follow_redirects=False).status_code == 303
    assert replay.get("/inbox/api/escalations").status_code == 401
    with session_scope(ib.sf) as s:
        assert s.get(StaffSession, staff_service.hash_token(raw)).ended_at is not None
    assert "auth.logout" in ib.audit_actions()


def test_idle_timeout_and_absolute_lifetime(ib):
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    ib.clock.advance(minutes=20)
    assert ib.client.get("/inbox").status_code == 200  # activity
    ib.clock.advance(minutes=20)
    # background polling alone does not keep a session alive...
    assert ib.client.get("/inbox/api/escalations").status_code == 200
    ib.clock.advance(minutes=11)
    r = ib.client.get("/inbox", follow_redirects=False)
    assert r.status_code == 303 and "why=idle" in r.headers["location"]
    assert "signed out after 30 minutes" in ib.client.get(r.headers["location"]).text
    # ...but polling from a page a person is using does
    ib.login("nurse@clinic.test")
    for _ in range(3):
        ib.clock.advance(minutes=20)
        assert ib.client.get("/inbox/api/escalations?active=1").status_code == 200
    # and nothing lives longer than 12 hours
    for _ in range(32):  # 11 h 40 min in all, active every 20 minutes
        ib.clock.advance(minutes=20)
        assert ib.client.get("/inbox").status_code == 200
    ib.clock.advance(minutes=20)
    r = ib.client.get("/inbox", follow_redirects=False)
    assert r.status_code == 303 and "why=expired" in r.headers["location"]


def test_production_cookie_is_secure_host_only(tmp_path, sqlite_url, fake_assistant, fixed_clock):
    inbox = _inbox(
        tmp_path,
        sqlite_url,
        fake_assistant,
        fixed_clock,
        AFTERCARE_ENV="production",
        AFTERCARE_PUBLIC_URL="https://clinic.example",
    )
    inbox.client = TestClient(inbox.app, base_url="https://clinic.example")
    inbox.staff("nurse@clinic.test")
    r = inbox.login("nurse@clinic.test")
    assert r.status_code == 303
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("__Host-aftercare_staff=")][0]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Domain" not in cookie
    assert inbox.client.get("/inbox").status_code == 200
    assert "max-age=31536000" in inbox.client.get("/inbox").headers["strict-transport-security"]


def test_production_is_not_ready_until_on_call_contacts_are_set(tmp_path, sqlite_url, fake_assistant, fixed_clock):
    """Alerts that would reach nobody: readiness says so in production; the inbox still works to fix it."""
    from core.clinic import get_clinic

    inbox = _inbox(
        tmp_path,
        sqlite_url,
        fake_assistant,
        fixed_clock,
        AFTERCARE_ENV="production",
        AFTERCARE_PUBLIC_URL="https://clinic.example",
    )
    inbox.client = TestClient(inbox.app, base_url="https://clinic.example")
    r = inbox.client.get("/healthz")
    assert r.status_code == 503 and r.json()["missing"] == ["oncall_contacts"]
    assert inbox.client.get("/inbox/login").status_code == 200
    with session_scope(inbox.sf) as s:
        get_clinic(s).oncall_phone = "+12015550198"
    assert inbox.client.get("/healthz").json() == {"status": "ok"}


# ------------------------------------------------------------------------- the shift
def test_inbox_lists_most_severe_then_oldest(ib):
    a = ib.seed(level="routine", phone="+12015550001")
    b = ib.seed(level="urgent", phone="+12015550002")
    c = ib.seed(level="emergency", phone="+12015550003")
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    data = ib.client.get("/inbox/api/escalations").json()
    assert [r["id"] for r in data["escalations"]] == [c["esc"], b["esc"], a["esc"]]
    assert data["unacknowledged_serious"] == 2
    first = data["escalations"][0]
    assert first["level_label"] == "EMERGENCY" and first["stands_out"] and first["status_label"] == "Not acknowledged"
    assert first["patient_name"] == "Ana Lopez" and first["recovery_day"] == 2
    html = ib.client.get("/inbox").text
    assert html.index(c["esc"]) < html.index(b["esc"]) < html.index(a["esc"])
    assert "Needs acknowledging" in html  # text, not colour alone
    assert [r["id"] for r in ib.client.get("/inbox/api/escalations?level=urgent").json()["escalations"]] == [b["esc"]]
    assert ib.client.get("/inbox/api/escalations?assignee=me").json()["escalations"] == []
    assert len(ib.client.get("/inbox/api/escalations?assignee=unassigned").json()["escalations"]) == 3


def test_escalation_detail_shows_transcript_patient_reasons_and_alerts(ib):
    ids = ib.seed()
    with session_scope(ib.sf) as s:
        s.add(
            OutboxMessage(
                to="+12015550100",
                body="alert",
                purpose="oncall_alert",
                escalation_id=ids["esc"],
                status="failed",
                last_error="30003 unreachable",
                attempts=3,
            )
        )
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    html = ib.client.get(f"/inbox/escalations/{ids['esc']}").text
    for expected in [
        "Ana Lopez",
        "+12015550123",
        "there is pus",
        "day 2",
        "urgent: pus on day 2",
        "infection signs",
        "30003 unreachable",
        "failed",
        "Web chat",
        "Nov 24, 2026",
    ]:
        assert expected in html, expected
    inbox_html = ib.client.get("/inbox").text
    assert "Messages that did not go out" in inbox_html and "On-call alert" in inbox_html and "30003 unreachable" in inbox_html
    assert "escalation.view" in ib.audit_actions()


def test_shift_actions_on_a_web_conversation(ib):
    ids = ib.seed()
    nurse = ib.staff("nurse@clinic.test", name="Nurse Joy")
    desk = ib.staff("desk@clinic.test", "frontdesk", name="Desk Dan")
    ib.login("nurse@clinic.test")
    base = f"/inbox/escalations/{ids['esc']}"

    r = ib.post(f"{base}/acknowledge")
    assert r.headers["location"] == f"{base}?done=acknowledged"
    r = ib.post(f"{base}/assign", {"assignee": desk})
    assert r.status_code == 303
    r = ib.post(f"{base}/assign", {"assignee": "nobody-such"})
    assert "error=unknown_staff" in r.headers["location"]
    r = ib.post(f"{base}/note", {"text": "Called her, no answer."})
    assert r.status_code == 303
    r = ib.post(f"{base}/note", {"text": "   "})
    assert "error=empty_note" in r.headers["location"]
    with session_scope(ib.sf) as s:
        esc = s.get(Escalation, ids["esc"])
        assert (esc.status, esc.acknowledged_by, esc.assignee_id) == ("acknowledged", nurse, desk)
        assert [n.text for n in s.execute(select(EscalationNote)).scalars()] == ["Called her, no answer."]

    # reply on the web channel: the widget's transcript shows it
    r = ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "Hi Ana, this is Joy, the nurse.", "return_to": base})
    assert r.headers["location"] == f"{base}?done=replied"
    widget = ib.client.get(f"/api/v1/chat/sessions/{ids['session_key']}/messages").json()
    assert widget["messages"][-1]["author"] == "staff" and widget["messages"][-1]["text"] == "Hi Ana, this is Joy, the nurse."
    assert widget["staff_takeover"] is False

    # take over: the assistant goes quiet for a non-emergency message
    r = ib.post(f"/inbox/conversations/{ids['conv']}/takeover", {"return_to": base})
    assert r.headers["location"] == f"{base}?done=taken_over"
    assert ib.client.get(f"/api/v1/chat/sessions/{ids['session_key']}/messages").json()["staff_takeover"] is True
    calls = len(ib.assistant.calls)
    r = ib.client.post(f"/api/v1/chat/sessions/{ids['session_key']}/messages", json={"text": "can I wear makeup?"})
    # the assistant is quiet; the patient is told once that a team member will reply here (issue #17)
    assert r.status_code == 200 and [x["text"] for x in r.json()["replies"]] == [
        "Thanks, your message is with the clinic team. A team member will reply here."
    ]
    assert len(ib.assistant.calls) == calls
    live = ib.client.get(f"/inbox/api/conversations/{ids['conv']}/messages").json()
    assert live["messages"][-2]["text"] == "can I wear makeup?" and live["staff_takeover"] is True
    assert "Taken over" in ib.client.get(base).text

    r = ib.post(f"/inbox/conversations/{ids['conv']}/handback", {"return_to": base})
    assert r.headers["location"] == f"{base}?done=handed_back"
    r = ib.client.post(f"/api/v1/chat/sessions/{ids['session_key']}/messages", json={"text": "can I wear makeup?"})
    assert r.json()["replies"][0]["text"] == "No makeup for at least 24 hours."

    # resolve needs a note
    r = ib.post(f"{base}/resolve", {"note": "  "})
    assert "error=note_required" in r.headers["location"]
    r = ib.post(f"{base}/resolve", {"note": "Spoke on the phone; antibiotics prescribed."})
    assert r.headers["location"] == f"{base}?done=resolved"
    with session_scope(ib.sf) as s:
        esc = s.get(Escalation, ids["esc"])
        assert (esc.status, esc.resolved_by, esc.resolution_note) == (
            "resolved",
            nurse,
            "Spoke on the phone; antibiotics prescribed.",
        )
    assert ib.client.get("/inbox/api/escalations").json()["escalations"] == []
    assert "Spoke on the phone" in ib.client.get(base).text
    assert "error=already_resolved" in ib.post(f"{base}/acknowledge").headers["location"]

    actions = ib.audit_actions()
    for action in [
        "escalation.view",
        "escalation.acknowledge",
        "escalation.assign",
        "escalation.note",
        "conversation.reply",
        "conversation.takeover",
        "conversation.handback",
        "escalation.resolve",
    ]:
        assert action in actions, action
    with session_scope(ib.sf) as s:
        rows = list(s.execute(select(AuditLog)).scalars())
        blob = " ".join(f"{a.actor_label} {a.detail} {a.object_id}" for a in rows)
        for secret in ["Joy, the nurse", "antibiotics", "no answer", "makeup", "pus"]:
            assert secret not in blob
        assert all(a.actor_id == nurse for a in rows if a.action.startswith(("escalation.", "conversation.")))


def test_reply_with_take_over_and_auto_acknowledge(ib):
    ids = ib.seed()
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    r = ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "On it.", "take_over": "1"})
    assert r.headers["location"] == f"/inbox/conversations/{ids['conv']}?done=replied"
    with session_scope(ib.sf) as s:
        assert s.get(Conversation, ids["conv"]).staff_takeover is True
        assert s.get(Escalation, ids["esc"]).status == "acknowledged"
    r = ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "  "})
    assert "error=empty_reply" in r.headers["location"]
    ib.post(f"/inbox/escalations/{ids['esc']}/resolve", {"note": "done", "hand_back": "1"})
    with session_scope(ib.sf) as s:
        assert s.get(Conversation, ids["conv"]).staff_takeover is False


def test_sms_reply_is_queued_in_the_outbox_unless_opted_out(ib):
    ids = ib.seed(channel="sms", phone="+12015550777")
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    r = ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "Please call us."})
    assert "done=reply_queued" in r.headers["location"]
    with session_scope(ib.sf) as s:
        out = s.execute(select(OutboxMessage).where(OutboxMessage.purpose == "staff_reply")).scalar_one()
        assert (out.to, out.body, out.conversation_id) == ("+12015550777", "Please call us.", ids["conv"])
        s.get(Patient, ids["patient"]).opted_out = True
    page = ib.client.get(f"/inbox/escalations/{ids['esc']}").text
    assert "opted out" in page
    r = ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "Second try"})
    assert "error=not_sent" in r.headers["location"]
    with session_scope(ib.sf) as s:
        assert len(list(s.execute(select(OutboxMessage).where(OutboxMessage.purpose == "staff_reply")).scalars())) == 1


def test_red_flag_chat_message_reaches_the_inbox(ib):
    """The real path: a patient's red-flag web chat message opens an escalation staff can see."""
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    with session_scope(ib.sf) as s:
        p = create_patient(
            s, first_name="Ana", last_name="Lopez", phone="+12015550123", treatments=[{"performed_on": date(2026, 11, 24)}]
        )
        token = p.chat_token
    sid = ib.client.post("/api/v1/chat/sessions", json={"chat_token": token}).json()["session_id"]
    r = ib.client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": "there's pus and yellow crusts, I think it's infected"}
    )
    esc = r.json()["escalation"]
    assert esc and esc["level"] == "urgent"
    rows = ib.client.get("/inbox/api/escalations").json()["escalations"]
    assert [x["id"] for x in rows] == [esc["id"]]
    assert rows[0]["patient_name"] == "Ana Lopez" and rows[0]["recovery_day"] == 2
    html = ib.client.get(f"/inbox/escalations/{esc['id']}").text
    assert "yellow crusts" in html


# ------------------------------------------------------------------------- roles
def test_roles(ib):
    routine = ib.seed(level="routine", phone="+12015550001")
    urgent = ib.seed(level="urgent", phone="+12015550002")
    ib.staff("admin@clinic.test", "admin")
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    for path in ["/inbox/audit", "/inbox/staff", "/inbox/settings"]:
        r = ib.client.get(path)
        assert r.status_code == 403 and "admin" in r.text
    r = ib.client.post("/inbox/settings", data={"csrf_token": ib.csrf(), "name": "X", "timezone": "UTC"}, follow_redirects=False)
    assert r.status_code == 403
    # front desk resolves routine escalations, not urgent ones
    r = ib.post(f"/inbox/escalations/{urgent['esc']}/resolve", {"note": "ok"})
    assert r.status_code == 403
    r = ib.post(f"/inbox/escalations/{routine['esc']}/resolve", {"note": "booked a visit"})
    assert r.status_code == 303
    assert "resolved by a clinician" in ib.client.get(f"/inbox/escalations/{urgent['esc']}").text
    admin = ib.new_client()
    ib.login("admin@clinic.test", client=admin)
    assert admin.get("/inbox/audit").status_code == 200


def test_admin_manages_staff_and_settings(ib):
    admin_id = ib.staff("admin@clinic.test", "admin")
    ib.login("admin@clinic.test")
    r = ib.post(
        "/inbox/staff", {"email": "New@Clinic.test", "display_name": "New Nurse", "role": "clinician", "password": "short"}
    )
    assert r.status_code == 422 and "at least 12" in r.text
    r = ib.post("/inbox/staff", {"email": "New@Clinic.test", "display_name": "New Nurse", "role": "clinician", "password": PW})
    assert r.status_code == 303
    with session_scope(ib.sf) as s:
        new_id = staff_service.by_email(s, "new@clinic.test").id
    nurse = ib.new_client()
    assert ib.login("new@clinic.test", client=nurse).status_code == 303
    assert nurse.get("/inbox").status_code == 200
    assert ib.post(f"/inbox/staff/{new_id}", {"action": "role", "role": "frontdesk"}).status_code == 303
    assert ib.post(f"/inbox/staff/{new_id}", {"action": "deactivate"}).status_code == 303
    assert nurse.get("/inbox", follow_redirects=False).status_code == 303  # their session ended
    assert ib.login("new@clinic.test", client=ib.new_client()).status_code == 401
    r = ib.post(f"/inbox/staff/{admin_id}", {"action": "deactivate"})
    assert r.status_code == 422 and "last active admin" in r.text

    r = ib.post(
        "/inbox/settings", {"name": "Glow Clinic", "phone": "201 555 0100", "oncall_phone": "nope", "timezone": "Mars/Base"}
    )
    assert r.status_code == 422 and "on-call phone" in r.text and "time zone" in r.text
    r = ib.post(
        "/inbox/settings",
        {
            "name": "Glow Clinic",
            "phone": "+1 201 555 0100",
            "hours": "Mon-Fri 9-6",
            "oncall_name": "Dr. Kim",
            "oncall_phone": "+12015550111",
            "booking_url": "https://glow.example/book",
            "widget_color": "#7a1f5c",
            "widget_greeting": "Hi!",
            "timezone": "America/Chicago",
        },
    )
    assert r.headers["location"] == "/inbox/settings?done=settings_saved"
    assert ib.client.get("/api/v1/chat/config").json()["color"] == "#7a1f5c"
    page = ib.client.get("/inbox/settings").text
    assert "Glow Clinic" in page and "+12015550100" in page
    actions = ib.audit_actions()
    assert "staff.create" in actions and "staff.update" in actions and "clinic.update" in actions


def test_change_own_password(ib):
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    other = ib.new_client()
    ib.login("nurse@clinic.test", client=other)
    r = ib.post("/inbox/account/password", {"current": "wrong", "new": "brand new password", "repeat": "brand new password"})
    assert r.status_code == 422
    r = ib.post("/inbox/account/password", {"current": PW, "new": "brand new password", "repeat": "brand new password"})
    assert r.status_code == 303
    assert ib.client.get("/inbox").status_code == 200
    assert other.get("/inbox", follow_redirects=False).status_code == 303
    assert ib.login("nurse@clinic.test", "brand new password", client=ib.new_client()).status_code == 303


def test_common_and_breached_passwords_are_refused_wherever_a_password_is_set(ib, tmp_path, monkeypatch, capsys):
    """Issue 16, item 6: `password1234` was accepted (12 characters). NIST 800-63B 5.1.1.2."""
    admin_id = ib.staff("admin@clinic.test", "admin")
    nurse_id = ib.staff("nurse@clinic.test")
    ib.login("admin@clinic.test")
    for weak in ("password1234", "Password1234!", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "NewNurse2026!!"):
        r = ib.post(
            "/inbox/staff", {"email": "new@clinic.test", "display_name": "New Nurse", "role": "clinician", "password": weak}
        )
        assert r.status_code == 422, weak
        assert "common" in r.text or "easy to guess" in r.text or "your own name" in r.text, weak
    r = ib.post(f"/inbox/staff/{nurse_id}", {"action": "password", "password": "password1234"})
    assert r.status_code == 422 and "common" in r.text
    r = ib.post("/inbox/account/password", {"current": PW, "new": "letmein12345", "repeat": "letmein12345"})
    assert r.status_code == 422 and "common" in r.text
    long_phrase = "a quiet heron waits by the mill pond at dawn " * 2  # 90 characters: long pass phrases are welcome
    r = ib.post(f"/inbox/staff/{nurse_id}", {"action": "password", "password": long_phrase})
    assert r.status_code == 303
    assert ib.login("nurse@clinic.test", long_phrase, client=ib.new_client()).status_code == 303
    assert admin_id

    from api import cli

    monkeypatch.setenv("AFTERCARE_ENV", "test")
    monkeypatch.setenv("AFTERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("AFTERCARE_ADMIN_PASSWORD", "password1234")
    assert cli.main(["create-admin", "--email", "boss@clinic.test", "--name", "Boss"]) == 1
    assert "common" in capsys.readouterr().err


def test_second_factor_enrol_sign_in_and_a_replayed_code_refused(ib):
    """Issue 16, item 6: no second factor. TOTP (RFC 6238) set up under the staff member's name."""
    from core import totp

    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    page = ib.client.get("/inbox/account/2fa")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "otpauth://totp/" in page.text and "<svg" in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    r = ib.post(
        "/inbox/account/2fa/confirm", {"code": "000000" if totp.code_at(secret, ib.clock.now()) != "000000" else "111111"}
    )
    assert r.status_code == 422 and "does not match" in r.text
    r = ib.post("/inbox/account/2fa/confirm", {"code": totp.code_at(secret, ib.clock.now())})
    assert r.status_code == 303 and r.headers["location"] == "/inbox/account?done=totp_enabled"
    assert "On: signing in asks for a code" in ib.client.get("/inbox/account").text

    # sign-in: password, then the code; no session before the code
    phone = ib.new_client("203.0.113.30")
    page = phone.get("/inbox/login")
    token = CSRF_RE.search(page.text).group(1)
    r = phone.post(
        "/inbox/login", data={"email": "nurse@clinic.test", "password": PW, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/inbox/login/code"
    assert "aftercare_staff" not in phone.cookies
    assert phone.get("/inbox", follow_redirects=False).status_code == 303
    r = ib.second_factor("nurse@clinic.test", client=phone, code="12345")
    assert r.status_code == 401 and "not right" in r.text and "aftercare_staff" not in phone.cookies
    code = next_code(ib.sf, "nurse@clinic.test", ib.clock)
    r = ib.second_factor("nurse@clinic.test", client=phone, code=code)
    assert r.status_code == 303 and r.headers["location"] == "/inbox"
    assert phone.get("/inbox").status_code == 200

    # the same code again (seen over a shoulder): refused, even with the right password
    other = ib.new_client("203.0.113.31")
    assert ib.login("nurse@clinic.test", client=other, code=code).status_code == 401
    assert "aftercare_staff" not in other.cookies
    # the half-way ticket expires
    ib.clock.advance(minutes=6)
    assert other.get("/inbox/login/code", follow_redirects=False).headers["location"].startswith("/inbox/login")
    r = ib.second_factor(
        "nurse@clinic.test", client=ib.new_client("203.0.113.32"), code=next_code(ib.sf, "nurse@clinic.test", ib.clock)
    )
    assert r.status_code == 401 and "Enter your email and password again" in r.text

    actions = ib.audit_actions()
    assert "staff.totp_enrol_failed" in actions and "staff.totp_enabled" in actions
    assert actions.count("auth.second_factor_failed") == 2
    with session_scope(ib.sf) as s:
        details = " ".join(a.detail for a in s.execute(select(AuditLog)).scalars())
        assert code not in details and secret not in details


def test_second_factor_guesses_count_in_the_throttle(ib):
    from core import signin_throttle as throttle

    ib.staff("nurse@clinic.test", totp=True)
    guesser = ib.new_client("198.51.100.40")
    for _ in range(throttle.PAIR_LIMIT):
        assert ib.login("nurse@clinic.test", client=guesser, code="000001").status_code == 401
    r = ib.login("nurse@clinic.test", client=guesser)
    assert r.status_code == 429 and "retry-after" in r.headers


def test_an_admin_without_a_second_factor_sets_it_up_before_anything_else(ib):
    """Issue 16, item 6: TOTP is required for admins. Signed in with the password alone, an
    admin's session reaches only the set-up page and sign-out."""
    from core import totp

    ids = ib.seed()
    admin_id = ib.staff("boss@clinic.test", "admin", totp=False)
    r = ib.login("boss@clinic.test")
    assert r.status_code == 303 and r.headers["location"] == "/inbox/account/2fa"
    for path in ["/inbox", "/inbox/staff", "/inbox/audit", "/inbox/account", f"/inbox/patients/{ids['patient']}"]:
        r = ib.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/inbox/account/2fa?required=1", path
        assert "Lopez" not in r.text
    r = ib.client.get("/inbox/api/escalations")
    assert r.status_code == 403 and r.json() == {"detail": "two-factor set-up required"}
    page = ib.client.get("/inbox/account/2fa")
    assert page.status_code == 200 and "Admin accounts need two-factor sign-in" in page.text
    token = CSRF_RE.search(page.text).group(1)
    r = ib.client.post(
        f"/inbox/staff/{admin_id}", data={"csrf_token": token, "action": "role", "role": "frontdesk"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/inbox/account/2fa")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    r = ib.client.post(
        "/inbox/account/2fa/confirm",
        data={"csrf_token": token, "code": totp.code_at(secret, ib.clock.now())},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert ib.client.get("/inbox/staff").status_code == 200
    # an admin cannot turn it off
    r = ib.post("/inbox/account/2fa/disable", {"current": PW})
    assert r.status_code == 422 and "Admins must keep" in r.text
    # signing in now asks for the code
    assert ib.login("boss@clinic.test", client=ib.new_client(), code="000000").status_code in (401,)


def test_a_lost_phone_reset_by_an_admin_or_the_operator_is_audited(ib, tmp_path, monkeypatch, capsys):
    nurse_id = ib.staff("nurse@clinic.test", totp=True)
    ib.staff("admin@clinic.test", "admin")
    nurse = ib.new_client()
    assert ib.login("nurse@clinic.test", client=nurse).status_code == 303
    ib.login("admin@clinic.test")
    assert ib.post(f"/inbox/staff/{nurse_id}", {"action": "reset_totp"}).status_code == 303
    assert nurse.get("/inbox", follow_redirects=False).status_code == 303  # her sessions ended
    r = ib.login("nurse@clinic.test", client=ib.new_client())
    assert r.status_code == 303 and r.headers["location"] == "/inbox"  # password alone again (not an admin)
    with session_scope(ib.sf) as s:
        assert [a.detail for a in s.execute(select(AuditLog).where(AuditLog.action == "staff.update")).scalars()] == [
            "totp_reset"
        ]

    from api import cli
    from core.db import make_engine, make_session_factory
    from tests.fakes import test_clock

    url = f"sqlite:///{tmp_path / 'reset.db'}"
    monkeypatch.setenv("AFTERCARE_ENV", "test")
    monkeypatch.setenv("AFTERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    monkeypatch.setenv("AFTERCARE_ADMIN_PASSWORD", PW)
    assert cli.main(["create-admin", "--email", "boss@clinic.test", "--name", "Boss"]) == 0
    engine = make_engine(url)
    clock = test_clock()
    with session_scope(make_session_factory(engine, clock)) as s:
        enrol_totp(s, staff_service.by_email(s, "boss@clinic.test"), clock)
    capsys.readouterr()
    assert cli.main(["reset-totp", "nobody@clinic.test"]) == 1
    assert cli.main(["reset-totp", "Boss@clinic.test"]) == 0
    assert "removed" in capsys.readouterr().out
    with session_scope(make_session_factory(engine, clock)) as s:
        assert not staff_service.by_email(s, "boss@clinic.test").totp_enabled
        assert [a.action for a in s.execute(select(AuditLog)).scalars()][-1] == "staff.totp_reset"
    engine.dispose()


# ------------------------------------------------------------------------ patients
def test_add_patient_treatment_and_patient_page(ib):
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    r = ib.post(
        "/inbox/patients/new", {"first_name": "Ana", "last_name": "Lopez", "phone": "555-01", "performed_on": "2026-11-20"}
    )
    assert r.status_code == 422 and "must be a phone number" in r.text
    # the front desk types numbers as people write them (issue #17); stored as E.164
    r = ib.post(
        "/inbox/patients/new",
        {"first_name": "Ana", "last_name": "Lopez", "phone": "(201) 555-0123", "performed_on": "2026-11-20"},
    )
    assert r.status_code == 303
    pid = r.headers["location"].split("/")[-1].split("?")[0]
    r = ib.post("/inbox/patients/new", {"first_name": "Other", "phone": "+12015550123"})
    assert r.status_code == 422 and "already exists" in r.text
    page = ib.client.get(f"/inbox/patients/{pid}").text
    with session_scope(ib.sf) as s:
        token = s.get(Patient, pid).chat_token
    assert f"/chat/{token}" in page and "Copy link" in page and "Nov 20, 2026" in page and "day 6" in page
    r = ib.post(f"/inbox/patients/{pid}/treatments", {"performed_on": "2026-11-25", "area": "neck"})
    assert r.status_code == 303
    assert "neck" in ib.client.get(f"/inbox/patients/{pid}").text
    assert ib.post(f"/inbox/patients/{pid}/treatments", {"performed_on": "soon"}).status_code == 422
    listing = ib.client.get("/inbox/patients?q=lop").text
    assert "Ana" in listing
    assert "No patient matches" in ib.client.get("/inbox/patients?q=zzz").text
    actions = ib.audit_actions()
    assert (
        "patient.create" in actions and "patient.view" in actions and "treatment.create" in actions and "patient.list" in actions
    )
    with session_scope(ib.sf) as s:
        blob = " ".join(a.detail for a in s.execute(select(AuditLog)).scalars())
        assert "lop" not in blob and "Lopez" not in blob


def test_csv_import_report(ib):
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    with session_scope(ib.sf) as s:
        create_patient(s, first_name="Existing", phone="+12015550999")
    csv_text = (
        "first_name,last_name,phone,procedure,area,performed_on\n"
        "Ana,Lopez,+12015550123,microneedling,face,2026-11-20\n"
        "Bea,Smith,555-0124,microneedling,face,2026-11-21\n"
        "Cleo,Ng,+12015550125,microneedling,face,21/11/2026\n"
        "Dee,Ray,+12015550123,microneedling,face,2026-11-22\n"
        "Eve,Old,+12015550999,,,2026-11-01\n"
    )
    r = ib.client.post(
        "/inbox/patients/import",
        data={"csrf_token": ib.csrf()},
        files={"file": ("patients.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 200
    assert re.search(r'id="created-count">1<', r.text) and re.search(r'id="rejected-count">4<', r.text)
    for reason in [
        "bad phone",
        "bad date",
        "duplicate: the same phone is on line 2",
        "duplicate: a patient with this phone already exists",
    ]:
        assert reason in r.text, reason
    # without the CSRF token nothing is imported
    r = ib.client.post(
        "/inbox/patients/import",
        files={"file": ("p.csv", b"first_name,phone,performed_on\nZed,+12015550300,2026-11-20\n", "text/csv")},
    )
    assert r.status_code == 403
    r = ib.client.post(
        "/inbox/patients/import", data={"csrf_token": ib.csrf()}, files={"file": ("p.csv", b"name\nx\n", "text/csv")}
    )
    assert r.status_code == 422 and "missing column" in r.text
    with session_scope(ib.sf) as s:
        names = sorted(p.first_name for p in s.execute(select(Patient)).scalars())
        assert names == ["Ana", "Existing"]
        entry = s.execute(select(AuditLog).where(AuditLog.action == "patient.import")).scalars().first()
        assert entry.detail == "created=1 rejected=4"


# --------------------------------------------------------------------- audit + headers
def test_audit_page_lists_views_and_actions_for_admins(ib):
    ids = ib.seed()
    ib.staff("admin@clinic.test", "admin", name="Ada Admin")
    ib.login("admin@clinic.test")
    ib.client.get(f"/inbox/escalations/{ids['esc']}")
    ib.client.get(f"/inbox/patients/{ids['patient']}")
    ib.post(f"/inbox/escalations/{ids['esc']}/acknowledge")
    page = ib.client.get("/inbox/audit").text
    for action in ["escalation.view", "patient.view", "escalation.acknowledge", "auth.login"]:
        assert action in page
    assert "Ada Admin" in page
    filtered = ib.client.get(f"/inbox/audit?object_id={ids['esc']}").text
    assert "escalation.acknowledge" in filtered and "patient.view" not in filtered
    # there is no way to change the log over HTTP
    for method in ("put", "patch", "delete"):
        assert getattr(ib.client, method)("/inbox/audit").status_code == 405


def test_security_headers(ib):
    r = ib.client.get("/inbox/login")
    h = r.headers
    assert "frame-ancestors 'none'" in h["content-security-policy"] and "script-src 'self'" in h["content-security-policy"]
    assert "'unsafe-inline'" not in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["cache-control"] == "no-store"
    assert "camera=()" in h["permissions-policy"]
    assert '<script src="/inbox/static/inbox.js"' in r.text and "<script>" not in r.text and "style=" not in r.text
    assert ib.client.get("/inbox/static/inbox.js").status_code == 200
    assert ib.client.get("/inbox/static/inbox.css").headers["x-content-type-options"] == "nosniff"
    health = ib.client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"
    # the pieces clinics embed on their own sites may be framed
    widget = ib.client.get("/widget.js")
    if widget.status_code == 200:
        assert "x-frame-options" not in widget.headers
        assert "frame-ancestors 'none'" not in widget.headers.get("content-security-policy", "")
    chat = ib.client.get("/api/v1/chat/config")
    assert "x-frame-options" not in chat.headers


def test_unknown_ids_are_404_pages(ib):
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    for path in ["/inbox/escalations/nope", "/inbox/conversations/nope", "/inbox/patients/nope"]:
        r = ib.client.get(path)
        assert r.status_code == 404 and "No such" in r.text
    assert ib.post("/inbox/escalations/nope/acknowledge").status_code == 404
    assert ib.client.get("/inbox/api/conversations/nope/messages").status_code == 404


def test_create_admin_script(tmp_path, monkeypatch, capsys):
    from api import cli

    url = f"sqlite:///{tmp_path / 'admin.db'}"
    monkeypatch.setenv("AFTERCARE_ENV", "test")
    monkeypatch.setenv("AFTERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    monkeypatch.setenv("AFTERCARE_ADMIN_PASSWORD", PW)
    assert cli.main(["create-admin", "--email", "Boss@Clinic.test", "--name", "The Boss"]) == 0
    assert "Created admin boss@clinic.test" in capsys.readouterr().out
    assert cli.main(["create-admin", "--email", "boss@clinic.test", "--name", "Again"]) == 1
    monkeypatch.setenv("AFTERCARE_ADMIN_PASSWORD", "short")
    assert cli.main(["create-admin", "--email", "two@clinic.test", "--name", "Two"]) == 1
    from core.db import make_engine, make_session_factory
    from tests.fakes import test_clock

    engine = make_engine(url)
    with session_scope(make_session_factory(engine, test_clock())) as s:
        user = staff_service.authenticate(s, email="boss@clinic.test", password=PW)
        assert user is not None and user.role == "admin" and user.display_name == "The Boss"
    engine.dispose()


def test_each_sign_in_gets_its_own_session(ib):
    """A second staff member signing in never shares or reuses a session."""
    ib.staff("a@clinic.test")
    ib.staff("b@clinic.test")
    ca, cb = ib.new_client(), ib.new_client()
    ib.login("a@clinic.test", client=ca)
    ib.login("b@clinic.test", client=cb)
    assert ca.cookies.get("aftercare_staff") != cb.cookies.get("aftercare_staff")
    with session_scope(ib.sf) as s:
        assert len(list(s.execute(select(StaffSession)).scalars())) == 2
    # signing in again from the same browser ends the session it held
    first = ca.cookies.get("aftercare_staff")
    assert ca.get("/inbox/login", follow_redirects=False).status_code == 303  # already signed in
    ca.cookies.set("aftercare_login_csrf", "double-submit-token")
    r = ca.post(
        "/inbox/login",
        data={"email": "a@clinic.test", "password": PW, "csrf_token": "double-submit-token"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and ca.cookies.get("aftercare_staff") != first
    with session_scope(ib.sf) as s:
        assert s.get(StaffSession, staff_service.hash_token(first)).ended_at is not None
    ib.clock.advance(hours=12, minutes=1)
    assert ca.get("/inbox", follow_redirects=False).status_code == 303


def test_a_junk_session_cookie_on_the_sign_in_page_opens_one_database_session(ib_sqlite):
    """SQLite: a second session inside the request waited behind the first one's write lock for the
    whole busy timeout (15 s), freezing every writer, emergencies included (issue 16, item 1)."""
    from api.inbox import auth

    container = ib_sqlite.app.state.container
    real_factory = container.session_factory
    opened: list[int] = []

    class CountingFactory:
        kw = real_factory.kw

        def __call__(self, *a, **kw):
            opened.append(1)
            return real_factory(*a, **kw)

    container.session_factory = CountingFactory()
    try:
        ib_sqlite.client.cookies.set(auth.cookie_name(container.settings.secure_cookies), "junk-" + "x" * 40)
        r = ib_sqlite.client.get("/inbox/login")
    finally:
        container.session_factory = real_factory
        ib_sqlite.client.cookies.clear()
    assert r.status_code == 200 and "Sign in" in r.text
    assert len(opened) == 1


def test_the_front_desk_cannot_acknowledge_a_clinical_escalation_by_click_or_by_reply(ib):
    """Issue 16, item 10: acknowledging clears the clinicians' overdue marker."""
    urgent = ib.seed(level="urgent")
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    page = ib.client.get(f"/inbox/escalations/{urgent['esc']}")
    assert page.status_code == 200 and 'id="ack-button"' not in page.text
    assert ib.post(f"/inbox/escalations/{urgent['esc']}/acknowledge").status_code == 403
    r = ib.post(f"/inbox/conversations/{urgent['conv']}/reply", {"text": "A nurse will call you shortly."})
    assert r.status_code == 303
    with session_scope(ib.sf) as s:
        assert s.get(Escalation, urgent["esc"]).status == "open"


def test_the_front_desk_acknowledges_routine_escalations(ib):
    routine = ib.seed(level="routine", phone="+12015550177")
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    assert ib.post(f"/inbox/escalations/{routine['esc']}/acknowledge").status_code == 303
    with session_scope(ib.sf) as s:
        assert s.get(Escalation, routine["esc"]).status == "acknowledged"


def test_a_clinic_without_an_on_call_phone_shows_a_red_banner(ib):
    """Alerts would reach nobody: every inbox page says so until an admin sets the on-call contacts."""
    from core.clinic import get_clinic

    with session_scope(ib.sf) as s:
        get_clinic(s).oncall_phone = ""
    ib.staff("admin@clinic.test", "admin")
    ib.login("admin@clinic.test")
    page = ib.client.get("/inbox")
    assert 'id="oncall-missing"' in page.text and "/inbox/settings" in page.text
    r = ib.post(
        "/inbox/settings",
        {
            "name": "Glow Clinic",
            "oncall_phone": "+12015550111",
            "oncall_backup_phone": "+12015550112",
            "oncall_backup_name": "Dr Lee",
            "page_repeat_minutes": "3",
            "page_backup_after": "1",
            "timezone": "America/Chicago",
        },
    )
    assert r.status_code == 303
    assert 'id="oncall-missing"' not in ib.client.get("/inbox").text
    with session_scope(ib.sf) as s:
        c = get_clinic(s)
        assert (c.oncall_backup_phone, c.page_repeat_minutes, c.page_backup_after) == ("+12015550112", 3, 1)
    r = ib.post("/inbox/settings", {"name": "Glow Clinic", "page_repeat_minutes": "0", "timezone": "America/Chicago"})
    assert r.status_code == 422 and "repeat interval" in r.text


def test_the_front_desk_texts_the_chat_link_through_the_outbox_consent_respected(ib):
    from core.sms import set_opt_out

    ids = ib.seed(channel="sms")
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    page = ib.client.get(f"/inbox/patients/{ids['patient']}").text
    assert 'id="send-link"' in page
    r = ib.post(f"/inbox/patients/{ids['patient']}/send-link")
    assert r.headers["location"].endswith("done=link_sent")
    with session_scope(ib.sf) as s:
        token = s.get(Patient, ids["patient"]).chat_token
        [row] = s.execute(select(OutboxMessage).where(OutboxMessage.purpose == "chat_link")).scalars().all()
        assert row.to == "+12015550123" and f"/chat/{token}" in row.body and "STOP" in row.body
        set_opt_out(s, "+12015550123", opted_out=True, keyword="STOP")
    r = ib.post(f"/inbox/patients/{ids['patient']}/send-link")
    assert r.headers["location"].endswith("error=link_not_sent")
    assert "patient.chat_link_sent" in ib.audit_actions()


def test_texting_an_expired_chat_link_sends_a_new_one_and_the_old_one_stays_dead(ib):
    """Issue #16 item 16: the patient page says the link expired; texting it issues a new secret."""
    ids = ib.seed(channel="sms")
    ib.staff("desk@clinic.test", "frontdesk")
    ib.login("desk@clinic.test")
    with session_scope(ib.sf) as s:
        old = s.get(Patient, ids["patient"]).chat_token
    assert 'id="chat-link-expires"' in ib.client.get(f"/inbox/patients/{ids['patient']}").text
    ib.clock.advance(days=91)
    ib.login("desk@clinic.test")  # the staff session itself has expired meanwhile
    assert 'id="chat-link-expired"' in ib.client.get(f"/inbox/patients/{ids['patient']}").text
    assert ib.client.get(f"/chat/{old}").status_code == 404
    ib.post(f"/inbox/patients/{ids['patient']}/send-link")
    with session_scope(ib.sf) as s:
        new = s.get(Patient, ids["patient"]).chat_token
        [row] = s.execute(select(OutboxMessage).where(OutboxMessage.purpose == "chat_link")).scalars().all()
    assert new != old and f"/chat/{new}" in row.body
    assert ib.client.get(f"/chat/{new}").status_code == 200
    assert ib.client.get(f"/chat/{old}").status_code == 404


def test_the_escalations_export_neutralises_spreadsheet_formulas(ib):
    ids = ib.seed()
    with session_scope(ib.sf) as s:
        s.get(Patient, ids["patient"]).first_name = '=HYPERLINK("http://evil")'
        s.get(Escalation, ids["esc"]).reason = "+cmd|' /C calc'!A0"
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    r = ib.client.get("/inbox/escalations.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:3] == ["id", "level", "status"] and len(rows) == 2
    assert rows[1][6].startswith("'=HYPERLINK") and rows[1][9].startswith("'+cmd")
    assert "there is pus" not in r.text  # no message text in the export
    assert "escalation.export" in ib.audit_actions()
    assert ib.new_client().get("/inbox/escalations.csv", follow_redirects=False).status_code in (303, 401)


def test_a_patient_waiting_in_a_taken_over_conversation_is_marked_until_staff_reply(ib):
    ids = ib.seed()
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    assert ib.post(f"/inbox/conversations/{ids['conv']}/takeover", {"return_to": "/inbox"}).status_code == 303
    r = ib.client.post(f"/api/v1/chat/sessions/{ids['session_key']}/messages", json={"text": "hello? is anyone there"})
    assert r.status_code == 200
    assert "waiting for a reply" in ib.client.get("/inbox").text
    ib.post(f"/inbox/conversations/{ids['conv']}/reply", {"text": "Hi Ana, Joy here, I'm looking now.", "return_to": "/inbox"})
    assert "waiting for a reply" not in ib.client.get("/inbox").text


def test_staff_see_a_patients_photo_as_a_thumbnail_every_view_audited(ib):
    from core.models import MessageMedia

    ids = ib.seed(channel="sms")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    with session_scope(ib.sf) as s:
        m = Message(conversation_id=ids["conv"], direction="in", author="patient", channel="sms", text="", media_urls=["u"])
        s.add(m)
        s.flush()
        row = MessageMedia(message_id=m.id, source_url="u", status="stored", content_type="image/png", data=png, size=len(png))
        failed = MessageMedia(message_id=m.id, source_url="v", status="failed", error="the provider answered 404")
        s.add_all([row, failed])
        s.flush()
        media_id = row.id
    assert ib.client.get(f"/inbox/media/{media_id}", follow_redirects=False).status_code in (303, 401)
    ib.staff("nurse@clinic.test")
    ib.login("nurse@clinic.test")
    page = ib.client.get(f"/inbox/escalations/{ids['esc']}").text
    assert f'src="/inbox/media/{media_id}"' in page and "could not be fetched (the provider answered 404)" in page
    r = ib.client.get(f"/inbox/media/{media_id}")
    assert r.status_code == 200 and r.content == png and r.headers["content-type"] == "image/png"
    assert "no-store" in r.headers["cache-control"]
    assert "media.view" in ib.audit_actions()


def test_admins_manage_canned_replies_and_staff_insert_them_filled_in_for_the_patient(ib):
    """Issue #17: canned replies (admin-managed), in English and Spanish (#18), offered in the reply form."""
    import html

    ib.staff("admin@clinic.test", "admin")
    ib.staff("nurse@clinic.test", "clinician")
    seeded = ib.seed()
    ib.login("admin@clinic.test")
    assert ib.client.get("/inbox/canned").status_code == 200
    r = ib.post("/inbox/canned", {"title": "Photo", "language": "en", "body": "Hi {first_name}, {unknown}"})
    assert r.status_code == 422 and "placeholders" in r.text
    r = ib.post("/inbox/canned", {"title": "Photo", "language": "fr", "body": "Bonjour"})
    assert r.status_code == 422 and "English or Spanish" in r.text
    r = ib.post("/inbox/canned", {"title": "", "language": "en", "body": "x"})
    assert r.status_code == 422
    r = ib.post(
        "/inbox/canned",
        {
            "title": "Ask for a photo",
            "language": "en",
            "body": "Hi {first_name}, could you send a photo? {clinic} {clinic_phone}",
        },
    )
    assert r.headers["location"] == "/inbox/canned?done=canned_added"
    r = ib.post(
        "/inbox/canned", {"title": "Pedir una foto", "language": "es", "body": "Hola {first_name}, ¿puede enviar una foto?"}
    )
    assert r.status_code == 303
    ib.post("/inbox/settings", {"name": "Glow Clinic", "phone": "+12015550100", "timezone": "America/New_York"})

    # a clinician sees them, filled in for this patient, grouped by language
    nurse = ib.new_client()
    ib.login("nurse@clinic.test", client=nurse)
    page = html.unescape(nurse.get(f"/inbox/escalations/{seeded['esc']}").text)
    assert 'id="canned-pick"' in page
    assert "Hi Ana, could you send a photo? Glow Clinic (201) 555-0100" in page
    assert "Hola Ana, ¿puede enviar una foto?" in page
    assert '<optgroup label="English">' in page and '<optgroup label="Español">' in page
    # a conversation answered in Spanish lists the Spanish ones first, marked (issue #18)
    with session_scope(ib.sf) as s:
        s.get(Conversation, seeded["conv"]).language = "es"
    page = html.unescape(nurse.get(f"/inbox/escalations/{seeded['esc']}").text)
    assert page.index('<optgroup label="Español (the patient\'s language)">') < page.index('<optgroup label="English">')
    assert 'id="conversation-language"><span class="badge badge-lang">Español</span>' in page
    # but cannot change them
    assert nurse.get("/inbox/canned", follow_redirects=False).status_code in (303, 403)
    with session_scope(ib.sf) as s:
        from core.models import CannedReply

        photo = s.execute(select(CannedReply).where(CannedReply.title == "Ask for a photo")).scalar_one().id
    assert ib.post(f"/inbox/canned/{photo}", {"title": "x", "language": "en", "body": "y"}, client=nurse).status_code in (
        303,
        403,
    )

    # the admin edits and deletes
    r = ib.post(f"/inbox/canned/{photo}", {"title": "Ask for a photo", "language": "en", "body": "Please send a photo."})
    assert r.headers["location"] == "/inbox/canned?done=canned_saved"
    assert "Please send a photo." in html.unescape(nurse.get(f"/inbox/escalations/{seeded['esc']}").text)
    assert ib.post(f"/inbox/canned/{photo}/delete").headers["location"] == "/inbox/canned?done=canned_deleted"
    assert ib.post(f"/inbox/canned/{photo}/delete").status_code == 404
    actions = ib.audit_actions()
    assert actions.count("canned.create") == 2 and "canned.update" in actions and "canned.delete" in actions


def test_admin_sets_a_business_hours_contact_beside_the_on_call_phone(ib):
    """Issue #17: on-call contacts for business hours and after hours."""
    from core.clinic import get_clinic

    ib.staff("admin@clinic.test", "admin")
    ib.login("admin@clinic.test")
    base = {"name": "Glow", "oncall_name": "Night nurse", "oncall_phone": "(201) 555-0111", "timezone": "America/New_York"}
    r = ib.post(
        "/inbox/settings",
        {**base, "day_oncall_phone": "201 555 0112", "business_start_hour": "18", "business_end_hour": "9"},
    )
    assert r.status_code == 422 and "end after they start" in r.text and "at least one business day" in r.text
    r = ib.post(
        "/inbox/settings",
        {
            **base,
            "day_oncall_name": "Clinic nurse",
            "day_oncall_phone": "201 555 0112",
            "business_days": ["0", "1", "2", "3", "5", "9"],  # an unknown day is dropped
            "business_start_hour": "8",
            "business_end_hour": "17",
        },
    )
    assert r.headers["location"] == "/inbox/settings?done=settings_saved"
    with session_scope(ib.sf) as s:
        c = get_clinic(s)
        assert (c.day_oncall_phone, c.business_days, c.business_start_hour, c.business_end_hour) == (
            "+12015550112",
            "0,1,2,3,5",
            8,
            17,
        )
        assert c.oncall_phone == "+12015550111"
    page = ib.client.get("/inbox/settings").text
    assert re.search(r'value="5" checked', page) and not re.search(r'value="4" checked', page)
    assert "clinic.update" in ib.audit_actions()
