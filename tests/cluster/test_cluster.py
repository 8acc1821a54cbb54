"""Two replicas on PostgreSQL behind HAProxy, under load, with an API replica and a Rasa server
killed mid-load (issue #19).

The real cluster of `make cluster` (api/cluster.py): two nodes of API + Rasa server (trained
model, trackers in PostgreSQL) + action server, HAProxy in front, the real twilio library sending
to a local fake Twilio REST endpoint. Patients text through HAProxy the way Twilio posts (signed
webhooks, the same MessageSid again when a post fails, and sometimes again to the other replica,
as Twilio's fallback URL would); web chat patients retry with their Idempotency-Key as the widget
does. Checked afterwards, from the database and from what reached "Twilio":
no inbound message lost, none answered twice, no SMS sent twice, every red flag escalated once
with one page, check-ins sent once, and each conversation's turns answered in order.

Skipped where HAProxy or PostgreSQL is absent (`make test` installs HAProxy).
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from twilio.request_validator import RequestValidator

from api.cluster import Cluster, haproxy_binary, tracker_url
from api.supervisor import ROOT, _port_free, latest_model, port_plan
from core.clock import SystemClock
from core.db import make_engine, make_session_factory, session_scope
from core.enums import Channel
from core.models import CheckinSend, Conversation, Escalation, Message, OutboxMessage
from tests.conftest import _create_pg_db, _drop_pg_db, _pg_available
from tests.integration.test_twilio_webhook import ACCOUNT_SID, CLINIC_PHONE, ONCALL, TWILIO_TOKEN, FakeTwilio

pytestmark = [pytest.mark.stack, pytest.mark.cluster]

TZ = "America/New_York"
RED_FLAG = "there's yellow crust on my chin and it keeps spreading"
SMS_PATIENTS = [f"+1201555{7100 + i:04d}" for i in range(6)]
WEB_SESSIONS = 4


def cluster_port(replicas: int) -> int:
    """A public port whose replica ports and their Rasa/action ports are all free."""
    for base in range(18100, 19900, 10):
        ports = [base] + [base + 1 + i for i in range(replicas)]
        ports += [p for r in ports[1:] for p in port_plan(r)]
        if all(_port_free(p) for p in ports):
            return base
    raise RuntimeError("no free ports for the cluster")


def seed(url: str) -> None:
    from core.clinic import get_clinic
    from core.patients import create_patient

    clock = SystemClock(TZ)
    yesterday = clock.today() - timedelta(days=1)  # day 1: the day-1 check-in is due
    engine = make_engine(url)
    with session_scope(make_session_factory(engine, clock)) as s:
        c = get_clinic(s)
        c.name, c.phone, c.oncall_phone, c.timezone = "Glow Cluster Spa", CLINIC_PHONE, ONCALL, TZ
        c.checkin_hour_start, c.checkin_hour_end = 0, 24  # whatever hour the test runs
        for i, phone in enumerate(SMS_PATIENTS):
            create_patient(s, first_name=f"P{i}", phone=phone, treatments=[{"performed_on": yesterday}])
    engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from core.bootstrap import prepare

    if haproxy_binary() is None:
        pytest.skip("HAProxy is not installed (make haproxy)")
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    if latest_model(ROOT / "models") is None:
        pytest.fail("no trained model in models/; `make test` trains it (make train)")
    url, name = _create_pg_db()
    data = tmp_path_factory.mktemp("cluster")
    fake = FakeTwilio()
    fake.__enter__()
    port = cluster_port(2)
    env = {
        "AFTERCARE_ENV": "test",
        "AFTERCARE_DEMO_DATA": "0",  # only this test's patients get check-ins and texts
        "AFTERCARE_DATABASE_URL": url,
        "AFTERCARE_API_TOKEN": "cluster-token-0123456789abcdef",
        "AFTERCARE_SECRET_KEY": "cluster-secret-0123456789abcdef0123456789",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "AFTERCARE_TWILIO_API_BASE": fake.base_url,
        "AFTERCARE_CLINIC_TIMEZONE": TZ,
        "AFTERCARE_CHAT_SESSIONS_PER_HOUR": "100000",
        "AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE": "100000",
    }
    prepare({**os.environ, **env})
    seed(url)
    c = Cluster(port=port, replicas=2, env=dict(env), data_dir=data, quiet=True)
    try:
        c.start(log_dir=data)
    except BaseException:
        fake.__exit__()
        _drop_pg_db(name)
        raise
    c.fake = fake  # type: ignore[attr-defined]
    c.url = url  # type: ignore[attr-defined]
    yield c
    c.stop()
    fake.__exit__()
    _drop_pg_db(name)
    _drop_pg_db(tracker_url(url).split("?")[0].rsplit("/", 1)[1])


class Patient(threading.Thread):
    """An SMS patient texting through HAProxy the way Twilio posts, retrying a failed post with the
    same MessageSid, and sometimes posting it again to the other replica (Twilio's fallback URL)."""

    def __init__(self, cluster: Cluster, phone: str, texts: list[str], index: int) -> None:
        super().__init__(daemon=True)
        self.cluster, self.phone, self.texts, self.index = cluster, phone, texts, index
        self.sids: list[str] = []
        self.failures: list[str] = []

    def post(self, url: str, params: dict) -> httpx.Response:
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{self.cluster.base_url}/webhooks/twilio/sms", params)
        return httpx.post(f"{url}/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}, timeout=15)

    def run(self) -> None:
        for n, text in enumerate(self.texts):
            sid = "SM" + uuid.uuid4().hex
            params = {
                "MessageSid": sid,
                "AccountSid": ACCOUNT_SID,
                "From": self.phone,
                "To": "+15005550006",
                "Body": text,
                "NumMedia": "0",
            }
            for _attempt in range(8):
                try:
                    if self.post(self.cluster.base_url, params).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1.0)
            else:
                self.failures.append(sid)
            self.sids.append(sid)
            if (self.index + n) % 3 == 0:  # the same webhook again, straight to a replica
                replica = self.cluster.node_ports[(self.index + n) % 2]
                try:
                    self.post(f"http://127.0.0.1:{replica}", params)
                except httpx.HTTPError:
                    pass  # that replica may be the one that was killed
            time.sleep(0.4)


class WebPatient(threading.Thread):
    """A web chat patient: one message at a time, each retried with its Idempotency-Key until answered."""

    def __init__(self, cluster: Cluster, texts: list[str]) -> None:
        super().__init__(daemon=True)
        self.cluster, self.texts = cluster, texts
        self.answers: dict[str, dict] = {}
        self.session_id = ""

    def run(self) -> None:
        with httpx.Client(base_url=self.cluster.base_url, timeout=30) as c:
            for _ in range(10):
                try:
                    r = c.post("/api/v1/chat/sessions", json={})
                    if r.status_code in (200, 201):
                        self.session_id = r.json()["session_id"]
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1.0)
            for text in self.texts:
                key = uuid.uuid4().hex
                for _ in range(10):
                    try:
                        r = c.post(
                            f"/api/v1/chat/sessions/{self.session_id}/messages",
                            json={"text": text},
                            headers={"Idempotency-Key": key},
                        )
                        if r.status_code == 200:
                            self.answers[key] = r.json()
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(1.0)
                time.sleep(0.3)


def kill(cluster: Cluster, node: int, name: str) -> None:
    proc = next(p for p in cluster.nodes[node].procs if p.name == name)
    os.killpg(proc.popen.pid, signal.SIGKILL)


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_an_api_replica_and_a_rasa_server_mid_load(cluster):
    sms_patients = [
        Patient(
            cluster,
            phone,
            [
                "can i wear makeup tomorrow",
                "when can i go back to the gym",
                RED_FLAG if i % 2 == 0 else "is it ok to put sunscreen on",
                "thanks",
            ],
            i,
        )
        for i, phone in enumerate(SMS_PATIENTS)
    ]
    web_patients = [WebPatient(cluster, ["hello", "can i wear makeup tomorrow", "thank you"]) for _ in range(WEB_SESSIONS)]
    for t in sms_patients + web_patients:
        t.start()
    time.sleep(1.5)
    kill(cluster, 0, "api")  # replica 1's API process, mid-load
    kill(cluster, 1, "rasa")  # replica 2's Rasa server
    for t in sms_patients + web_patients:
        t.join(timeout=180)
    # the kills happened (the supervisor restarted both processes)
    assert [p.restarts for p in cluster.nodes[0].procs if p.name == "api"] == [1]
    assert [p.restarts for p in cluster.nodes[1].procs if p.name == "rasa"] == [1]
    assert not any(t.is_alive() for t in sms_patients + web_patients), "a patient's messages never got through"
    assert [s for t in sms_patients for s in t.failures] == [], "a webhook was never accepted"
    sids = {s for t in sms_patients for s in t.sids}

    engine = make_engine(cluster.url)
    factory = make_session_factory(engine, SystemClock(TZ))

    def settled():
        with session_scope(factory) as s:
            open_inbound = s.query(Message).filter(Message.direction == "in", Message.status != "answered").count()
            unsent = s.query(OutboxMessage).filter(OutboxMessage.status.in_(("pending", "sending"))).count()
            stored = s.query(Message).filter(Message.channel == Channel.SMS.value, Message.direction == "in").count()
            checkins = s.query(CheckinSend).count()
        return open_inbound == 0 and unsent == 0 and stored >= len(sids) and checkins >= len(SMS_PATIENTS)

    # a turn interrupted by the kill is taken again after its lease (60 s) by the other replica
    wait_until(settled, 150, "every message answered and every SMS sent")
    time.sleep(2)  # delivery of the last outbox rows to the fake

    try:
        with session_scope(factory) as s:
            inbound = s.query(Message).filter(Message.direction == "in").order_by(Message.created_at).all()
            sms_in = [m for m in inbound if m.channel == Channel.SMS.value]
            # no inbound message lost, none stored twice
            assert sorted(m.external_id for m in sms_in) == sorted(sids)
            web_in = [m for m in inbound if m.channel == Channel.WEB.value]
            assert len(web_in) == sum(len(t.texts) for t in web_patients)
            assert all(len(t.answers) == len(t.texts) for t in web_patients)
            # none answered twice: each message's replies are one turn's (no sentence twice)
            for m in inbound:
                replies = [r.text for r in s.query(Message).filter(Message.reply_to_id == m.id).all()]
                assert replies, f"message {m.id} has no answer"
                assert len(replies) == len(set(replies)), f"message {m.id} was answered twice"
            # each conversation's turns answered in the order sent
            by_conv = collections.defaultdict(list)
            for m in inbound:
                by_conv[m.conversation_id].append(m)
            for msgs in by_conv.values():
                done = [m.processed_at for m in msgs]
                assert done == sorted(done), "a conversation's turns were answered out of order"
            # every red flag escalated once, with one page
            red = {p.phone for i, p in enumerate(sms_patients) if i % 2 == 0}
            escalations = s.query(Escalation, Conversation).join(Conversation, Conversation.id == Escalation.conversation_id)
            urgent = [(e, c) for e, c in escalations if e.level in ("urgent", "emergency") and c.channel == Channel.SMS.value]
            assert sorted(c.phone for _, c in urgent) == sorted(red)
            pages = s.query(OutboxMessage).filter(OutboxMessage.purpose == "oncall_alert").all()
            assert len(pages) == len(red), "a red flag paged on-call more (or less) than once"
            # check-ins once per patient
            steps = s.query(CheckinSend.treatment_id, CheckinSend.step_key).all()
            assert len(steps) == len(set(steps)) == len(SMS_PATIENTS)
            outbox = s.query(OutboxMessage).all()
            assert {o.status for o in outbox} <= {"sent", "delivered"}, "an SMS was not sent"
            sids = [o.provider_sid for o in outbox]
            outbox_purposes = [(o.to, o.purpose) for o in outbox]
    finally:
        engine.dispose()
    # no SMS sent twice, none lost: every message Twilio accepted belongs to exactly one outbox row,
    # and every row has its own. A row whose replica was killed between Twilio's answer and
    # recording it is released after its lease; the dispatcher then finds it in Twilio's message
    # list instead of sending it again (core.dispatch).
    assert None not in sids and len(set(sids)) == len(sids)
    accepted = [m["sid"] for m in cluster.fake.messages]
    assert len(accepted) == len(cluster.fake.requests), "Twilio refused a send"
    assert sorted(accepted) == sorted(sids), "an SMS was sent twice (or an outbox row never reached Twilio)"
    # the day-1 check-in: one text per patient at most (a step may be skipped, never sent twice)
    checkins = collections.Counter(o_to for (o_to, purpose) in outbox_purposes if purpose == "checkin")
    assert checkins and set(checkins.values()) == {1}
