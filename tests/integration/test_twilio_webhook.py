"""The Twilio SMS channel over real HTTP: the app runs in uvicorn on a free port (with its workers),
webhooks are signed with twilio's own RequestValidator, and outbound SMS go through the real
twilio REST Client to a tiny fake Twilio REST server run by the test.

The assistant is a fake at its port (speed); the triage screen, database, dispatcher and
HTTP stack are the real ones.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from base64 import b64decode
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from core.db import make_engine, make_session_factory, session_scope
from core.models import Conversation, Escalation, Message, OutboxMessage, Patient, SmsOptOut
from tests.conftest import free_port, make_settings
from tests.fakes import FakeAssistant, test_clock

PHONE = "+12015550123"  # a known patient
STRANGER = "+12015550999"  # not a patient
ONCALL = "+12015550198"
CLINIC_PHONE = "+12015550199"
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32


# ---------------------------------------------------------------------- helpers
class LiveServer:
    """The app in uvicorn on a free port, in a background thread (lifespan and workers included)."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", ws="none", proxy_headers=False
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


class FakeTwilio:
    """A tiny Twilio REST endpoint: POST /2010-04-01/Accounts/{sid}/Messages.json, scripted answers;
    GET of the same path lists the messages it accepted, newest first, filtered by To and From
    (as Twilio does); GET .../Media/... serves a photo.

    ``now`` stamps each accepted message's ``date_created`` (Twilio's clock); a test whose
    service runs on a fixed clock sets it to that clock's ``now``.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.messages: list[dict] = []  # accepted (201) messages, oldest first
        self.list_requests: list[dict] = []
        self.now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        self.script: list[tuple[int, dict]] = []  # answered in order; then 201
        self.media_requests: list[dict] = []
        self.photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the first bytes of a PNG
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
                auth = self.headers.get("authorization", "")
                user = b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)[0] if auth.startswith("Basic ") else ""
                with fake.lock:
                    fake.requests.append({"path": self.path, "form": form, "user": user})
                    status, payload = fake.script.pop(0) if fake.script else (201, {})
                if status == 201:
                    payload = {
                        "sid": "SM" + uuid.uuid4().hex,
                        "status": "queued",
                        "direction": "outbound-api",
                        "to": form.get("To"),
                        "from": form.get("From") or "",
                        "messaging_service_sid": form.get("MessagingServiceSid"),
                        "body": form.get("Body"),
                        "date_created": format_datetime(fake.now(), usegmt=True),
                        **payload,
                    }
                    with fake.lock:
                        fake.messages.append(payload)
                self._json(status, payload)

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802  (an MMS photo or the message list, behind basic auth)
                auth = self.headers.get("authorization", "")
                user = b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)[0] if auth.startswith("Basic ") else ""
                url = urlsplit(self.path)
                if url.path.endswith("/Messages.json"):
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    with fake.lock:
                        fake.list_requests.append({"path": self.path, "query": query, "user": user})
                        hits = [
                            m
                            for m in reversed(fake.messages)
                            if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])
                        ]
                    if user != ACCOUNT_SID:
                        self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                        return
                    size = int(query.get("PageSize") or 50)
                    self._json(200, {"messages": hits[:size], "next_page_uri": None, "page": 0, "page_size": size})
                    return
                with fake.lock:
                    fake.media_requests.append({"path": self.path, "user": user})
                if "/Media/" not in self.path or user != ACCOUNT_SID:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = fake.photo
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def seed(url: str) -> None:
    """A clinic (with on-call phone) and the patient Ana, treated three days before the fixed clock's date."""
    from core.clinic import get_clinic
    from core.patients import create_patient

    engine = make_engine(url)
    with session_scope(make_session_factory(engine, test_clock())) as s:
        c = get_clinic(s)
        c.name, c.phone, c.oncall_phone = "Glow Test Spa", CLINIC_PHONE, ONCALL
        create_patient(s, first_name="Ana", phone=PHONE, treatments=[{"performed_on": date(2026, 11, 23)}])
    engine.dispose()


class Env:
    """One app instance against one database, with helpers to post signed webhooks and read the database."""

    def __init__(self, tmp_path: Path, url: str, clock, *, assistant: FakeAssistant | None = None, **settings_env: str) -> None:
        from api.app import create_app

        self.url = url
        self.settings = make_settings(tmp_path, url, **settings_env)
        self.assistant = assistant or FakeAssistant({"makeup": ("makeup", "No makeup for at least 24 hours.")})
        self.app = create_app(self.settings, assistant=self.assistant, clock=clock)
        self.container = self.app.state.container
        self.container.sms_dispatch_interval_s = 0.05
        self.container.sms_recovery_interval_s = 0.2
        self.container.paging_interval_s = 0.05
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine, clock)
        self.live: LiveServer | None = None

    # the token and URL Twilio would use
    @property
    def token(self) -> str:
        from api.sms.signature import webhook_auth_token

        return webhook_auth_token(self.settings)

    def public(self, path: str) -> str:
        return self.settings.public_url + path

    def __enter__(self) -> Env:
        self.live = LiveServer(self.app).__enter__()
        self.http = httpx.Client(base_url=self.live.base_url, timeout=15.0, trust_env=False)
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()
        self.live.__exit__(*exc)
        self.engine.dispose()

    def post_signed(
        self, params: dict, *, path: str = "/webhooks/twilio/sms", signed_url: str | None = None, token: str | None = None
    ):
        signature = RequestValidator(token or self.token).compute_signature(signed_url or self.public(path), params)
        return self.http.post(path, data=params, headers={"X-Twilio-Signature": signature})

    def sms(self, body: str, *, phone: str = PHONE, sid: str | None = None, **extra: str):
        params = {
            "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": phone,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
        }
        params.update(extra)
        return self.post_signed(params)

    # database views
    def q(self, fn):
        with session_scope(self.factory) as s:
            return fn(s)

    def outbox(self, to: str = PHONE) -> list[OutboxMessage]:
        return self.q(
            lambda s: list(
                s.execute(select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.created_at)).scalars()
            )
        )

    def inbound(self, phone: str = PHONE) -> list[Message]:
        return self.q(
            lambda s: list(
                s.execute(
                    select(Message)
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Conversation.phone == phone, Message.direction == "in")
                    .order_by(Message.created_at)
                ).scalars()
            )
        )

    def escalations(self) -> list[Escalation]:
        return self.q(lambda s: list(s.execute(select(Escalation).order_by(Escalation.created_at)).scalars()))

    def answered(self, n: int, phone: str = PHONE, timeout: float = 10.0) -> list[Message]:
        """Wait until ``n`` inbound messages from ``phone`` are answered (and their replies have left the outbox)."""

        def done():
            msgs = self.inbound(phone)
            settled = all(o.status not in ("pending", "sending") for o in self.outbox(phone))
            return msgs if len(msgs) >= n and all(m.status == "answered" for m in msgs) and settled else None

        return wait_for(done, timeout, f"{n} answered message(s)")


@pytest.fixture
def env(tmp_path, sqlite_url, running_clock) -> Iterator[Env]:
    seed(sqlite_url)
    with Env(tmp_path, sqlite_url, running_clock) as e:
        yield e


def triage_available() -> bool:
    try:
        from core.triage import screen  # noqa: F401
    except ImportError:
        return False
    return True


needs_triage = pytest.mark.skipif(not triage_available(), reason="core.triage not importable")


# ---------------------------------------------------------------------- signatures
def test_missing_forged_and_wrong_url_signatures_are_refused(env: Env) -> None:
    params = {"MessageSid": "SM" + "a" * 32, "From": PHONE, "Body": "can I wear makeup?", "NumMedia": "0"}
    r = env.http.post("/webhooks/twilio/sms", data=params)
    assert r.status_code == 403 and "detail" in r.json()
    r = env.http.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": "bm90LWEtc2lnbmF0dXJl"})
    assert r.status_code == 403
    # signed with another token
    assert env.post_signed(params, token="not-the-token-0123456789abcdef").status_code == 403
    # signed for another URL (path / host)
    assert env.post_signed(params, signed_url=env.public("/webhooks/twilio/other")).status_code == 403
    assert env.post_signed(params, signed_url="http://evil.example/webhooks/twilio/sms").status_code == 403
    # a body changed after signing
    sig = RequestValidator(env.token).compute_signature(env.public("/webhooks/twilio/sms"), params)
    r = env.http.post("/webhooks/twilio/sms", data={**params, "Body": "tampered"}, headers={"X-Twilio-Signature": sig})
    assert r.status_code == 403
    assert env.inbound() == []
    assert env.assistant.calls == []


def test_valid_signature_answers_empty_twiml_at_once_and_replies_through_the_outbox(env: Env) -> None:
    # a slow assistant must not hold Twilio's request: the webhook answers while the assistant
    # has not answered yet (it is held until the test lets it go), and the reply follows by the outbox
    env.assistant.hold = threading.Event()
    r = env.sms("can I wear makeup?")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/xml")
    assert r.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert env.outbox() == []  # nothing answered yet: the webhook did not wait for the assistant
    env.assistant.hold.set()
    [msg] = env.answered(1)
    [out] = env.outbox()
    assert out.body == "No makeup for at least 24 hours."
    assert out.status == "delivered" and out.provider_sid.startswith("local-")  # no Twilio configured: local outbox
    conv = env.q(lambda s: s.get(Conversation, msg.conversation_id))
    patient = env.q(lambda s: s.execute(select(Patient).where(Patient.phone == PHONE)).scalar_one())
    assert conv.channel == "sms" and conv.phone == PHONE and conv.patient_id == patient.id
    # the next message from the same phone joins the same conversation
    env.sms("and makeup after a week?")
    msgs = env.answered(2)
    assert {m.conversation_id for m in msgs} == {conv.id}


def test_signature_holds_behind_a_tls_terminating_proxy(tmp_path, sqlite_url, running_clock) -> None:
    """Twilio calls https://clinic.example/...; the proxy forwards http://127.0.0.1:port/... to the app."""
    seed(sqlite_url)
    with Env(
        tmp_path, sqlite_url, running_clock, AFTERCARE_PUBLIC_URL="https://clinic.example", TWILIO_AUTH_TOKEN=TWILIO_TOKEN
    ) as e:
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": PHONE, "Body": "makeup?", "NumMedia": "0"}
        # what Twilio signs: the public https URL
        assert (
            e.post_signed(params, signed_url="https://clinic.example/webhooks/twilio/sms", token=TWILIO_TOKEN).status_code == 200
        )
        # signed for the URL the app sees (http, internal host): not what Twilio signs -> refused
        local = f"{e.live.base_url}/webhooks/twilio/sms"
        params2 = {**params, "MessageSid": "SM" + uuid.uuid4().hex}
        assert e.post_signed(params2, signed_url=local, token=TWILIO_TOKEN).status_code == 403
        # the wrong scheme alone is refused too
        params3 = {**params, "MessageSid": "SM" + uuid.uuid4().hex}
        assert (
            e.post_signed(params3, signed_url="http://clinic.example/webhooks/twilio/sms", token=TWILIO_TOKEN).status_code == 403
        )
        # the query string is part of what Twilio signs
        qs_params = {**params, "MessageSid": "SM" + uuid.uuid4().hex}
        sig = RequestValidator(TWILIO_TOKEN).compute_signature("https://clinic.example/webhooks/twilio/sms?clinic=1", qs_params)
        r = e.http.post("/webhooks/twilio/sms?clinic=1", data=qs_params, headers={"X-Twilio-Signature": sig})
        assert r.status_code == 200
        e.answered(2)


def test_without_a_twilio_token_outside_development_nothing_is_accepted(tmp_path, sqlite_url, running_clock) -> None:
    seed(sqlite_url)
    e = Env(tmp_path, sqlite_url, running_clock)
    e.settings.env = "production"  # no TWILIO_AUTH_TOKEN: there is no token to check against
    with e:
        from api.sms.signature import webhook_auth_token

        assert webhook_auth_token(e.settings) is None
        params = {"MessageSid": "SM" + "b" * 32, "From": PHONE, "Body": "hi"}
        # even signed with the development token derived from the secret key
        dev = RequestValidator(
            hmac.new(e.settings.secret_key.encode(), b"aftercare-local-twilio-webhook-token", "sha256").hexdigest()[:32]
        ).compute_signature(e.public("/webhooks/twilio/sms"), params)
        assert e.http.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": dev}).status_code == 403
        assert e.http.post("/webhooks/twilio/sms", data=params).status_code == 403
        assert e.http.get("/simulator").status_code == 404


def test_bad_input_is_4xx_never_5xx(env: Env) -> None:
    assert env.post_signed({"From": PHONE, "Body": "no sid"}).status_code == 422
    assert env.post_signed({"MessageSid": "SM" + "c" * 32, "Body": "no from"}).status_code == 422
    assert env.post_signed({"MessageSid": "../etc/passwd", "From": PHONE, "Body": "x"}).status_code == 422
    r = env.post_signed({"MessageSid": "SM" + "d" * 32, "From": PHONE, "Body": "hi", "NumMedia": "lots"})
    assert r.status_code == 200
    big = env.http.post(
        "/webhooks/twilio/sms", content=b"Body=" + b"x" * 70000, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert big.status_code == 413


# ---------------------------------------------------------------------- exactly once
@pytest.mark.parametrize("copies", [2, 6])
def test_same_message_sid_posted_concurrently_is_handled_once(tmp_path, db_url, running_clock, copies) -> None:
    seed(db_url)
    with Env(tmp_path, db_url, running_clock) as e:
        e.assistant.delay_s = 0.3
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": STRANGER, "Body": "can I wear makeup?", "NumMedia": "0"}
        sig = RequestValidator(e.token).compute_signature(e.public("/webhooks/twilio/sms"), params)
        barrier = threading.Barrier(copies)

        def post(_):
            with httpx.Client(base_url=e.live.base_url, timeout=15, trust_env=False) as c:
                barrier.wait()
                return c.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sig})

        with ThreadPoolExecutor(copies) as pool:
            results = list(pool.map(post, range(copies)))
        assert [r.status_code for r in results] == [200] * copies
        assert all(r.text.endswith("<Response></Response>") for r in results)
        e.answered(1, phone=STRANGER)
        time.sleep(0.5)  # let any duplicate turn show itself
        assert len(e.inbound(STRANGER)) == 1
        assert len(e.outbox(STRANGER)) == 1
        assert len(e.assistant.calls) == 1
        n_conv = e.q(
            lambda s: s.execute(select(func.count()).select_from(Conversation).where(Conversation.phone == STRANGER)).scalar()
        )
        assert n_conv == 1
        # a later Twilio retry of the same sid: 200, nothing new
        assert e.post_signed(params).status_code == 200
        time.sleep(0.3)
        assert len(e.outbox(STRANGER)) == 1 and len(e.assistant.calls) == 1


# ---------------------------------------------------------------------- message shapes
def test_empty_body_gets_a_prompt_without_nlu(env: Env) -> None:
    assert env.sms("").status_code == 200
    env.answered(1)
    [out] = env.outbox()
    assert "empty" in out.body and out.status == "delivered"
    assert env.assistant.calls == []


def test_photos_are_stored_passed_to_staff_and_text_still_processed(env: Env) -> None:
    r = env.sms(
        "can I wear makeup?",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        MediaContentType1="image/jpeg",
    )
    assert r.status_code == 200
    [msg] = env.answered(1)
    assert msg.media_urls == [
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
    ]
    bodies = [o.body for o in env.outbox()]
    assert any("photo" in b and "team" in b for b in bodies)
    assert "No makeup for at least 24 hours." in bodies
    [esc] = env.escalations()
    assert esc.level == "routine" and "photo" in esc.reason


def test_photo_only_message_needs_no_nlu(env: Env) -> None:
    env.sms("", NumMedia="1", MediaUrl0="https://api.twilio.com/x/Media/ME9")
    env.answered(1)
    assert env.assistant.calls == []
    assert [e.level for e in env.escalations()] == ["routine"]
    assert len(env.outbox()) == 1


@needs_triage
def test_photo_with_a_red_flag_escalates_once_at_the_higher_level(env: Env) -> None:
    env.sms("there is pus and yellow crust, see photo", NumMedia="1", MediaUrl0="https://api.twilio.com/x/Media/ME3")
    env.answered(1)
    escs = env.escalations()
    assert len(escs) == 1 and escs[0].level in ("urgent", "emergency")
    assert "photo" not in escs[0].reason


def test_very_long_and_non_gsm_bodies_never_crash(env: Env) -> None:
    body = ("Ça pique 🔥😬 — is “this” normal? 你好 " * 200)[:5000]
    assert env.sms(body).status_code == 200
    [msg] = env.answered(1)
    assert msg.text == body  # the full text is stored
    assert env.outbox()


def test_long_markdown_reply_is_sent_as_plain_sms_parts_in_order(tmp_path, sqlite_url, running_clock) -> None:
    seed(sqlite_url)
    long_answer = "**Makeup:** wait *24 hours*. " + " ".join(f"Step {i}: keep your skin clean and calm today." for i in range(20))
    assistant = FakeAssistant({"makeup": ("makeup", long_answer)})
    with Env(tmp_path, sqlite_url, running_clock, assistant=assistant) as e:
        e.sms("makeup?")
        e.answered(1)
        parts = e.outbox()
        assert len(parts) >= 3
        assert all(len(p.body) <= 320 for p in parts)
        assert all("*" not in p.body for p in parts)
        assert parts[0].body.startswith("Makeup: wait 24 hours.")
        assert " ".join(p.body for p in parts).endswith("Step 19: keep your skin clean and calm today.")
        assert all(p.status == "delivered" for p in parts)


# ---------------------------------------------------------------------- opt-out
@needs_triage
def test_stop_question_red_flag_start_sequence(env: Env) -> None:
    env.sms("STOP")
    env.answered(1)
    [confirm] = env.outbox()
    assert "unsubscribed" in confirm.body and confirm.purpose == "keyword_reply"
    assert env.q(lambda s: s.execute(select(Patient).where(Patient.phone == PHONE)).scalar_one().opted_out)

    env.sms("can I wear makeup?")  # opted out: no NLU, no reply
    env.answered(2)
    assert len(env.outbox()) == 1
    assert env.assistant.calls == []

    env.sms("there's pus coming out and it's hot and spreading")  # red flag while opted out
    env.answered(3)
    assert len(env.outbox()) == 1  # still nothing to the patient
    assert any(e.level in ("urgent", "emergency") for e in env.escalations())
    alerts = wait_for(lambda: [o for o in env.outbox(ONCALL) if o.status == "delivered"], what="on-call alert")
    assert alerts[0].purpose == "oncall_alert" and "pus" not in alerts[0].body  # no health details in the alert

    env.sms("Start")
    env.answered(4)
    assert "subscribed" in env.outbox()[-1].body
    assert not env.q(lambda s: s.execute(select(Patient).where(Patient.phone == PHONE)).scalar_one().opted_out)

    env.sms("can I wear makeup?")
    env.answered(5)
    assert env.outbox()[-1].body == "No makeup for at least 24 hours."
    assert len(env.assistant.calls) == 1


def test_help_answers_with_clinic_name_phone_and_how_to_stop(env: Env) -> None:
    env.sms("help")
    env.answered(1)
    [out] = env.outbox()
    assert "Glow Test Spa" in out.body and CLINIC_PHONE in out.body and "STOP" in out.body
    assert env.assistant.calls == []


def test_a_spanish_sms_conversation_with_parar_honoured(env: Env) -> None:
    """Issue #18: a patient who texts in Spanish is answered in Spanish (the assistant is told so),
    PARAR opts out like STOP with a Spanish confirmation, COMENZAR opts back in, AYUDA helps."""
    env.sms("hola, puedo usar maquillaje mañana?")
    env.answered(1)
    assert env.assistant.calls[-1]["metadata"]["language"] == "es"
    conv_language = env.q(lambda s: s.execute(select(Conversation.language)).scalar_one())
    assert conv_language == "es"

    env.sms("PARAR")
    env.answered(2)
    confirm = env.outbox()[-1]
    assert confirm.purpose == "keyword_reply" and "COMENZAR" in confirm.body and "mensajes" in confirm.body
    assert env.q(lambda s: s.execute(select(Patient).where(Patient.phone == PHONE)).scalar_one().opted_out)
    env.sms("puedo hacer ejercicio?")  # opted out: no reply
    env.answered(3)
    assert env.outbox()[-1].id == confirm.id

    env.sms("Comenzar")
    env.answered(4)
    assert "PARAR" in env.outbox()[-1].body
    assert not env.q(lambda s: s.execute(select(Patient).where(Patient.phone == PHONE)).scalar_one().opted_out)
    env.sms("ayuda")
    env.answered(5)
    help_text = env.outbox()[-1].body
    assert "Glow Test Spa" in help_text and "911" in help_text and "PARAR" in help_text
    # every Spanish SMS went out as GSM-7 (no accent that would cut a segment to 67 characters)
    from core.sms import encoding_of

    assert all(encoding_of(o.body) == "GSM-7" for o in env.outbox())


def test_stop_in_a_sentence_is_a_question_and_yes_is_an_answer(env: Env) -> None:
    env.sms("when can I stop using the serum? makeup?")
    env.sms("yes")
    env.answered(2)
    assert len(env.assistant.calls) == 2
    assert not env.q(lambda s: s.get(SmsOptOut, PHONE))


def test_unknown_number_stop_is_remembered_and_check_ins_are_suppressed(env: Env) -> None:
    env.sms("UNSUBSCRIBE", phone=STRANGER)
    env.answered(1, phone=STRANGER)
    assert env.q(lambda s: s.get(SmsOptOut, STRANGER).opted_out)
    # something queued for this number later (a check-in, a staff reply): suppressed at send time
    from core import outbox

    env.q(lambda s: outbox.enqueue(s, to=STRANGER, body="Day 3 check-in: how is your skin?", purpose="checkin"))
    row = wait_for(
        lambda: [o for o in env.outbox(STRANGER) if o.purpose == "checkin" and o.status == "suppressed"], what="suppressed"
    )
    assert "opted out" in row[0].last_error
    env.sms("can I wear makeup?", phone=STRANGER)
    env.answered(2, phone=STRANGER)
    assert env.assistant.calls == []
    env.sms("UNSTOP", phone=STRANGER)
    env.sms("makeup?", phone=STRANGER)
    env.answered(4, phone=STRANGER)
    assert env.outbox(STRANGER)[-1].body == "No makeup for at least 24 hours."


def test_twilio_advanced_opt_out_is_honoured_without_a_second_reply(env: Env) -> None:
    env.sms("ARRET", OptOutType="STOP")
    env.answered(1)
    assert env.outbox() == []  # Twilio already answered
    assert env.q(lambda s: s.get(SmsOptOut, PHONE)).source == "twilio_opt_out"
    env.sms("HELP", OptOutType="HELP")
    env.sms("START", OptOutType="START")
    env.answered(3)
    assert env.outbox() == []
    assert not env.q(lambda s: s.get(SmsOptOut, PHONE)).opted_out


# ---------------------------------------------------------------------- Twilio REST + status callbacks
@pytest.fixture
def twilio_env(tmp_path, sqlite_url, running_clock) -> Iterator[tuple[Env, FakeTwilio]]:
    from core.dispatch import DispatchPolicy

    seed(sqlite_url)
    with FakeTwilio() as fake:
        e = Env(
            tmp_path,
            sqlite_url,
            running_clock,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_FROM_NUMBER="+15005550006",
            AFTERCARE_TWILIO_API_BASE=fake.base_url,
        )
        e.container.sms_dispatch_policy = DispatchPolicy(base_delay_s=0.2, max_attempts=3, jitter=0.0)
        with e:
            yield e, fake


def test_rate_limited_send_is_retried_with_backoff_then_sent(twilio_env) -> None:
    e, fake = twilio_env
    fake.script = [(429, {"code": 20429, "message": "Too Many Requests", "status": 429})]
    e.sms("makeup?")
    row = wait_for(lambda: [o for o in e.outbox() if o.status == "sent"], what="sent")[0]
    assert row.attempts == 2 and row.provider_sid.startswith("SM") and row.last_error is None
    assert len(fake.requests) == 2
    req = fake.requests[-1]
    assert req["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json" and req["user"] == ACCOUNT_SID
    assert req["form"]["To"] == PHONE and req["form"]["From"] == "+15005550006"
    assert req["form"]["Body"] == "No makeup for at least 24 hours."
    assert req["form"]["StatusCallback"] == e.public("/webhooks/twilio/status")

    # Twilio's delivery receipt, signed like Twilio signs it
    cb = {"MessageSid": row.provider_sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID, "To": PHONE}
    r = e.post_signed(cb, path="/webhooks/twilio/status", token=TWILIO_TOKEN)
    assert r.status_code == 204
    assert e.outbox()[0].status == "delivered"
    # a late "sent" receipt never moves it back
    e.post_signed({**cb, "MessageStatus": "sent"}, path="/webhooks/twilio/status", token=TWILIO_TOKEN)
    assert e.outbox()[0].status == "delivered"
    out_msg = e.q(lambda s: s.get(Message, row.message_id))
    assert out_msg.status == "delivered"


def test_opted_out_at_twilio_21610_is_not_retried(twilio_env) -> None:
    e, fake = twilio_env
    fake.script = [(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400})]
    e.sms("makeup?")
    row = wait_for(lambda: [o for o in e.outbox() if o.status == "failed"], what="failed")[0]
    time.sleep(0.8)  # longer than the retry delay: nothing more is sent
    assert len(fake.requests) == 1
    row = e.outbox()[0]
    assert row.status == "failed" and row.attempts == 1
    assert "21610" in row.last_error and "STOP" in row.last_error
    assert e.q(lambda s: s.get(SmsOptOut, PHONE)).source == "provider_error"


def test_invalid_number_fails_at_once_and_server_errors_end_dead(twilio_env) -> None:
    e, fake = twilio_env
    fake.script = [(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})]
    e.sms("makeup?")
    wait_for(lambda: [o for o in e.outbox() if o.status == "failed"], what="failed")
    assert "invalid phone number" in e.outbox()[0].last_error
    fake.script = [(503, {"message": "Service Unavailable"})] * 3
    e.sms("makeup again?")
    dead = wait_for(lambda: [o for o in e.outbox() if o.status == "dead"], timeout=15, what="dead")[0]
    assert dead.attempts == 3 and "gave up after 3 attempts" in dead.last_error
    assert len(fake.requests) == 4


def test_status_callbacks_are_signature_checked_and_failures_are_readable(twilio_env) -> None:
    e, fake = twilio_env
    e.sms("makeup?")
    row = wait_for(lambda: [o for o in e.outbox() if o.status == "sent"], what="sent")[0]
    cb = {"MessageSid": row.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30007"}
    assert e.http.post("/webhooks/twilio/status", data=cb).status_code == 403
    assert e.post_signed(cb, path="/webhooks/twilio/status", token="wrong-token-0123456789abcdef").status_code == 403
    assert e.outbox()[0].status == "sent"
    assert e.post_signed(cb, path="/webhooks/twilio/status", token=TWILIO_TOKEN).status_code == 204
    row = e.outbox()[0]
    assert row.status == "undelivered" and "30007" in row.last_error and "spam" in row.last_error
    unknown = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert e.post_signed(unknown, path="/webhooks/twilio/status", token=TWILIO_TOKEN).status_code == 204
    assert e.post_signed({"MessageSid": row.provider_sid}, path="/webhooks/twilio/status", token=TWILIO_TOKEN).status_code == 422


# ---------------------------------------------------------------------- restart recovery
def test_messages_stored_but_not_answered_are_answered_once_after_a_restart(tmp_path, db_url, running_clock) -> None:
    from core.sms import InboundSms, SmsChannel

    seed(db_url)
    # process 1 stored two messages and "crashed": one before its turn, one in the middle of it
    e1 = Env(tmp_path, db_url, running_clock)
    channel: SmsChannel = e1.container.sms_channel
    a = channel.store(InboundSms(message_sid="SM" + "1" * 32, from_phone=PHONE, body="can I wear makeup?"))
    b = channel.store(InboundSms(message_sid="SM" + "2" * 32, from_phone=STRANGER, body="makeup tomorrow?"))
    assert a.needs_turn and b.needs_turn
    assert channel.claim(b.message_id) == "turn"  # b was being processed when the process died
    e1.engine.dispose()
    e1.container.engine.dispose()

    # process 2 starts: the recovery sweep answers both, once
    with Env(tmp_path, db_url, running_clock) as e2:
        e2.container.sms_channel.processing_lease_s = 0.5
        e2.answered(1, phone=PHONE)
        e2.answered(1, phone=STRANGER)
        time.sleep(0.5)
        assert len(e2.outbox(PHONE)) == 1 and len(e2.outbox(STRANGER)) == 1
        assert len(e2.assistant.calls) == 2
    # process 3: nothing left to do
    with Env(tmp_path, db_url, running_clock) as e3:
        time.sleep(0.6)
        assert e3.assistant.calls == []
        assert len(e3.outbox(PHONE)) == 1 and len(e3.outbox(STRANGER)) == 1


# ---------------------------------------------------------------------- database down
def test_database_down_still_answers_safely_in_twiml_and_spools(tmp_path, running_clock) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}"  # cannot be opened
    e = Env(tmp_path, url, running_clock)
    with e:
        sid = "SM" + uuid.uuid4().hex
        r = e.sms("can I wear makeup?", sid=sid)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/xml")
        assert "<Message>" in r.text and "911" in r.text
        spooled = [json.loads(line) for line in e.container.spool.path.read_text().splitlines()]
        assert spooled[-1]["external_id"] == sid and spooled[-1]["phone"] == PHONE and spooled[-1]["channel"] == "sms"
        # STOP during an outage: stored for replay, but not answered with a holding reply
        r = e.sms("STOP")
        assert r.status_code == 200 and "<Message>" not in r.text
        if triage_available():
            r = e.sms("I can't breathe and my throat is swelling")
            assert "911" in r.text


def test_stop_sent_during_an_outage_opts_the_number_out_on_replay(env: Env) -> None:
    """A STOP spooled while the database was down changes consent when it is replayed (and gets its
    one confirmation); a question spooled beside it is still handed to staff, as before."""
    from api.app import replay_handler
    from api.routes.twilio_sms import _database_down
    from core.sms import InboundSms, is_opted_out

    stop_sid, question_sid = "SM" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex
    _database_down(env.container, InboundSms(message_sid=question_sid, from_phone=PHONE, body="can I wear makeup?"))
    _database_down(env.container, InboundSms(message_sid=stop_sid, from_phone=PHONE, body="Stop"))
    assert env.container.spool.drain(replay_handler(env.container)) == 2
    assert env.container.spool.drain(replay_handler(env.container)) == 0  # nothing left, nothing twice

    def check(s):
        msgs = {
            m.external_id: m
            for m in s.execute(select(Message).where(Message.external_id.in_([stop_sid, question_sid]))).scalars()
        }
        escalations = (
            s.execute(select(Escalation).where(Escalation.conversation_id == msgs[question_sid].conversation_id)).scalars().all()
        )
        return is_opted_out(s, PHONE), msgs[stop_sid].intent, len(escalations)

    opted_out, stop_intent, escalations = env.q(check)
    assert opted_out is True
    assert stop_intent == "sms_stop"
    assert escalations == 1  # the question's routine hand-off; the STOP opened none
    purposes = [m.purpose for m in env.outbox(PHONE)]
    assert purposes.count("keyword_reply") == 1


# ---------------------------------------------------------------------- simulator
def _sign_in(env: Env, email: str = "dev@clinic.test") -> None:
    import re

    from core import staff as staff_service

    password = "correct horse battery staple"
    with session_scope(env.factory) as s:
        staff_service.create_staff(s, email=email, display_name="Dev", role="clinician", password=password)
    page = env.http.get("/inbox/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = env.http.post("/inbox/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]


def test_the_simulator_needs_a_signed_in_staff_member(env: Env) -> None:
    """It lists patients' names and phones and shows any number's texts (issue 16, item 3)."""
    page = env.http.get("/simulator", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/inbox/login")
    for r in (
        env.http.get("/simulator/api/phones"),
        env.http.get("/simulator/api/messages", params={"phone": PHONE}),
        env.http.post("/simulator/api/send", json={"phone": PHONE, "text": "I cant breathe"}),
    ):
        assert r.status_code == 401 and PHONE not in r.text and "Ana" not in r.text
    assert env.q(lambda s: s.query(Message).count()) == 0  # nothing was posted to the webhook


def test_simulator_posts_signed_webhooks_over_http_and_shows_the_outbox(env: Env) -> None:
    _sign_in(env)
    page = env.http.get("/simulator")
    assert page.status_code == 200 and "simulator.js" in page.text
    assert env.http.get("/static/simulator.js").status_code == 200
    assert env.http.get("/static/simulator.css").status_code == 200
    assert "style=" not in page.text and "<style" not in page.text  # runs under a strict CSP
    phones = env.http.get("/simulator/api/phones").json()
    assert {"name": "Ana", "phone": PHONE, "opted_out": False} in phones["patients"]
    r = env.http.post("/simulator/api/send", json={"phone": PHONE, "text": "can I wear makeup?"})
    assert r.status_code == 200 and r.json()["status_code"] == 200
    sid = r.json()["message_sid"]
    env.answered(1)
    # resend the same sid, as a Twilio retry would: handled once
    r = env.http.post("/simulator/api/send", json={"phone": PHONE, "text": "can I wear makeup?", "message_sid": sid})
    assert r.json()["status_code"] == 200
    view = env.http.get("/simulator/api/messages", params={"phone": PHONE}).json()
    assert [m["direction"] for m in view["messages"]] == ["in", "out"]
    assert view["messages"][1]["text"] == "No makeup for at least 24 hours." and view["messages"][1]["status"] == "delivered"
    assert env.http.post("/simulator/api/send", json={"phone": "12", "text": "x"}).status_code == 422


def test_an_emergency_sms_with_a_nul_character_is_stored_escalated_and_answered(tmp_path, db_url, running_clock) -> None:
    """Issue 16, item 4: on PostgreSQL it was lost (not stored, not spooled, not escalated)."""
    with Env(tmp_path, db_url, running_clock) as e:
        r = e.sms("i cant\x00 breathe, my throat is closing")
        assert r.status_code == 200
        [msg] = e.answered(1)
        assert "\x00" not in msg.text
        assert [x.level for x in e.escalations()] == ["emergency"]


def test_the_whole_of_a_long_sms_is_screened(env: Env) -> None:
    """Issue 16, item 13: only the first 2,000 characters were screened."""
    chatter = "so about my appointment next week, I wanted to ask a few things about makeup and the gym. " * 30
    assert len(chatter) > 2000
    env.sms(chatter + "also there is pus coming out of my chin")
    env.answered(1)
    [esc] = env.escalations()
    # the lexicon found the pus at the end (the learned model may read the whole as more serious still)
    assert esc.level in ("urgent", "emergency")
    assert any(f["code"] == "infection.pus" for f in esc.findings), esc.findings


def test_a_red_flag_during_a_database_outage_pages_on_call_at_once_and_only_once(env: Env) -> None:
    """Issue 16, item 9: the on-call alert waited until the database was back."""
    from api.app import replay_handler
    from api.routes.twilio_sms import _database_down
    from core.sms import InboundSms

    assert env.container.conversations.pager is not None  # wired to the SMS sender at start-up
    env.sms("can I wear makeup?")  # a normal turn: the on-call number is read and remembered
    env.answered(1)
    pages: list[tuple[str, str]] = []
    env.container.conversations.pager = lambda to, body: pages.append((to, body))
    sid = "SM" + uuid.uuid4().hex
    r = _database_down(
        env.container, InboundSms(message_sid=sid, from_phone=PHONE, body="I can't breathe and my throat is closing")
    )
    assert "911" in r.body.decode()
    assert [to for to, _ in pages] == [ONCALL] and "EMERGENCY" in pages[0][1]
    assert PHONE not in pages[0][1] and "breathe" not in pages[0][1]  # the least detail that works
    # the database is back: the message and its escalation are stored, and nobody is paged twice
    assert env.container.spool.drain(replay_handler(env.container)) == 1
    assert [e.level for e in env.escalations()] == ["emergency"]
    assert [o.purpose for o in env.outbox(ONCALL)] == []


# ---------------------------------------------------------------------- paging that does not give up
BACKUP = "+12015550197"


def pages_to(env: Env, phone: str) -> list[OutboxMessage]:
    return [o for o in env.outbox(phone) if o.purpose == "oncall_alert"]


def set_backup(env: Env) -> None:
    from core.clinic import get_clinic

    def change(s):
        c = get_clinic(s)
        c.oncall_name, c.oncall_backup_name, c.oncall_backup_phone = "Nurse Joy", "Dr Lee", BACKUP
        c.page_repeat_minutes, c.page_backup_after = 5, 2

    env.q(change)


def test_on_call_is_paged_until_a_1_reply_acknowledges_then_the_pages_stop(env: Env, running_clock) -> None:
    set_backup(env)
    assert env.sms("there's pus coming out of my cheek and yellow crust").status_code == 200
    wait_for(lambda: len(pages_to(env, ONCALL)) == 1, what="the first page")
    running_clock.advance(minutes=5)
    wait_for(lambda: len(pages_to(env, ONCALL)) == 2, what="the repeat page")
    assert "REPEAT 2" in pages_to(env, ONCALL)[1].body
    assert env.sms("1", phone=ONCALL).status_code == 200
    wait_for(lambda: "acknowledged (URGENT)" in pages_to(env, ONCALL)[-1].body, what="the acknowledgement")
    [esc] = env.escalations()
    assert esc.status == "acknowledged"
    assert env.inbound(ONCALL) == []  # the nurse's reply never reached the patient assistant
    running_clock.advance(minutes=30)
    time.sleep(0.5)  # ten paging ticks: nothing more goes out
    assert len(pages_to(env, ONCALL)) == 3 and pages_to(env, BACKUP) == []


def test_the_backup_is_paged_when_on_call_does_not_answer(env: Env, running_clock) -> None:
    set_backup(env)
    env.sms("my lips and tongue are swelling and it's hard to breathe")
    wait_for(lambda: len(pages_to(env, ONCALL)) == 1, what="the first page")
    running_clock.advance(minutes=5)
    wait_for(lambda: len(pages_to(env, ONCALL)) == 2, what="the second page")
    assert pages_to(env, BACKUP) == []
    running_clock.advance(minutes=5)
    wait_for(lambda: len(pages_to(env, BACKUP)) == 1, what="the backup's page")
    assert "EMERGENCY" in pages_to(env, BACKUP)[0].body and "Nurse Joy has not acknowledged" in pages_to(env, BACKUP)[0].body
    assert env.sms("ok", phone=BACKUP).status_code == 200  # the backup acknowledges
    wait_for(lambda: env.escalations()[0].status == "acknowledged", what="the backup's acknowledgement")


def test_a_known_patient_texting_from_a_local_format_number_is_linked(env: Env) -> None:
    """Item 17 of the security issue: the sender's number is read as E.164 whatever its format."""
    assert env.sms("can I wear makeup?", phone="(201) 555-0123").status_code == 200
    [msg] = env.answered(1)
    conv = env.q(lambda s: s.get(Conversation, msg.conversation_id))
    assert conv.phone == PHONE and conv.patient_id is not None


def test_a_photo_sent_by_mms_is_fetched_with_the_account_credentials_and_shown_only_to_staff(twilio_env) -> None:
    e, fake = twilio_env
    e.container.media_interval_s = 0.05
    url = f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    assert e.sms("", NumMedia="1", MediaUrl0=url).status_code == 200
    from core.models import MessageMedia

    row = wait_for(lambda: e.q(lambda s: s.execute(select(MessageMedia)).scalars().first()), what="the media row")
    wait_for(lambda: e.q(lambda s: s.get(MessageMedia, row.id).status == "stored"), what="the stored photo")
    assert fake.media_requests[0]["user"] == ACCOUNT_SID  # fetched with the account's credentials
    stored = e.q(lambda s: s.get(MessageMedia, row.id))
    assert stored.content_type == "image/png" and stored.data == fake.photo
    assert e.http.get(f"/inbox/media/{row.id}", follow_redirects=False).status_code in (303, 401)  # signed out


# ---------------------------------------------------------------------- senders that cannot be answered, floods
@pytest.mark.parametrize("sender", ["22395", "CARRIER-INFO"])
def test_a_sender_that_is_not_a_phone_number_is_kept_for_staff_and_never_answered(env: Env, sender: str) -> None:
    """Item 17: a short code or an alphanumeric sender name cannot be texted back: the message is
    stored and handed to staff, no assistant turn runs, and nothing is queued to that sender."""
    assert env.sms("can I wear makeup?", phone=sender).status_code == 200
    assert env.sms("", phone=sender).status_code == 200  # an empty text gets no "your message was empty" either
    assert env.sms("HELP", phone=sender).status_code == 200  # nor a keyword confirmation
    msgs = env.answered(3, phone=sender)
    assert [m.text for m in msgs] == ["can I wear makeup?", "", "HELP"]
    assert env.outbox(sender) == []
    assert env.assistant.calls == []
    [esc] = env.escalations()
    assert esc.level == "routine" and "not a phone number" in esc.reason


@needs_triage
def test_a_red_flag_from_a_sender_that_is_not_a_phone_number_still_escalates(env: Env) -> None:
    env.sms("my face is swelling and I can't breathe", phone="CARRIER-INFO")
    env.answered(1, phone="CARRIER-INFO")
    [esc] = env.escalations()
    assert esc.level == "emergency" and "not a phone number" in esc.reason
    assert env.outbox("CARRIER-INFO") == []


@needs_triage
def test_a_flood_from_one_number_pauses_its_replies_but_never_a_red_flag(tmp_path, sqlite_url, running_clock) -> None:
    """Item 5: one number sending more than the SMS rate (here 3 a minute) stops getting automatic
    replies (each costs the clinic a segment and an assistant turn); every message is kept, staff get
    one routine hand-off, and a red flag inside the flood is answered and escalated as always."""
    seed(sqlite_url)
    with Env(tmp_path, sqlite_url, running_clock) as e:
        e.container.sms_channel.messages_per_minute = 3
        for i in range(6):
            assert e.sms(f"can I wear makeup? ({i})").status_code == 200
        assert e.sms("my lips are swelling and my throat feels tight").status_code == 200
        msgs = e.answered(7)
        assert len(msgs) == 7
        assert [c["text"] for c in e.assistant.calls] == [f"can I wear makeup? ({i})" for i in range(3)]
        replies = [o.body for o in e.outbox()]
        assert replies.count("No makeup for at least 24 hours.") == 3
        [esc] = e.escalations()
        assert esc.level == "emergency"
        assert any("911" in r for r in replies)
