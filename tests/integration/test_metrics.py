"""GET /metrics (issue #19): Prometheus figures for operators, on SQLite and PostgreSQL, with fakes
at the ports and the suite's fixed clock. Turns are counted as they happen; the outbox, escalations
and pages are read from the database at scrape time; a database that is down never makes a scrape fail."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from core.clinic import get_clinic
from core.db import make_engine, make_session_factory, session_scope
from core.models import OutboxMessage
from core.settings import SettingsError
from tests.conftest import make_settings
from tests.fakes import FakeAssistant
from tests.unit.test_architecture import imported_modules

ROOT = Path(__file__).resolve().parents[2]
ONCALL = "+12015550198"
PATIENT_PHONE = "+12015550123"
METRICS_TOKEN = "metrics-token-0123456789abcdef"
RED_FLAG = "i cant breathe and my tongue is swelling"  # emergency (docs/triage-policy.md)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> tuple[str, Samples]:
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return r.text, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def app_for(tmp_path: Path, url: str, clock, **env: str):
    from api.app import create_app

    return create_app(make_settings(tmp_path, url, **env), assistant=FakeAssistant(), clock=clock, start_workers=False)


@pytest.fixture
def api(tmp_path, db_url, fixed_clock) -> Iterator[TestClient]:
    app = app_for(tmp_path, db_url, fixed_clock)
    with session_scope(app.state.container.session_factory) as s:
        get_clinic(s).oncall_phone = ONCALL
    with TestClient(app) as c:
        yield c
    app.state.container.engine.dispose()


def chat(client: TestClient, text: str) -> dict:
    sid = client.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    r = client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------ what is counted
def test_turns_escalations_and_pages_are_counted(api, fixed_clock):
    from api.app import repeat_pages_once

    container = api.app.state.container
    _, before = scrape(api)
    assert value(before, "aftercare_database_up") == 1
    assert value(before, "aftercare_turns_total", channel="web", outcome="answered") is None
    assert value(before, "aftercare_outbox_oldest_pending_age_seconds") == 0
    assert value(before, "aftercare_escalations", level="emergency", status="open") == 0

    assert chat(api, "can I wear makeup tomorrow?")["escalation"] is None
    assert chat(api, RED_FLAG)["escalation"]["level"] == "emergency"
    text, after = scrape(api)

    assert value(after, "aftercare_turns_total", channel="web", outcome="answered") == 1
    assert value(after, "aftercare_turns_total", channel="web", outcome="escalated") == 1
    assert value(after, "aftercare_turn_seconds_count", channel="web") == 2
    assert value(after, "aftercare_turn_escalations_total", channel="web", level="emergency") == 1
    assert value(after, "aftercare_escalations", level="emergency", status="open") == 1
    assert value(after, "aftercare_escalations", level="urgent", status="open") == 0
    # the first page to on-call is queued in the outbox
    assert value(after, "aftercare_outbox_messages", status="pending", purpose="oncall_alert") == 1
    assert value(after, "aftercare_oncall_pages_total") == 1
    assert value(after, "aftercare_oncall_page_repeats_total") == 0
    assert value(after, "aftercare_escalations_repeat_paging", level="emergency") == 0
    # nothing about the patient: no phone number, no message text
    assert ONCALL not in text and "+1201555" not in text
    assert "tongue" not in text and "makeup" not in text

    # nobody acknowledges: six minutes later the page repeats, and the queued page has waited that long
    fixed_clock.advance(minutes=6)
    assert repeat_pages_once(container) == 1
    _, later = scrape(api)
    assert value(later, "aftercare_oncall_pages_total") == 2
    assert value(later, "aftercare_oncall_page_repeats_total") == 1
    assert value(later, "aftercare_escalations_repeat_paging", level="emergency") == 1
    assert value(later, "aftercare_outbox_messages", status="pending", purpose="oncall_alert") == 2
    assert value(later, "aftercare_outbox_oldest_pending_age_seconds") == pytest.approx(360, abs=1)
    assert value(later, "aftercare_escalation_oldest_open_age_seconds", level="emergency") == pytest.approx(360, abs=1)


def test_retries_and_dead_messages_are_read_from_the_outbox(api):
    container = api.app.state.container
    with session_scope(container.session_factory) as s:
        for status, attempts in (("dead", 6), ("pending", 2), ("sent", 1), ("failed", 1)):
            s.add(OutboxMessage(to=PATIENT_PHONE, body="a reply", purpose="reply", status=status, attempts=attempts))
    text, samples = scrape(api)
    assert value(samples, "aftercare_outbox_messages", status="dead", purpose="reply") == 1
    assert value(samples, "aftercare_outbox_messages", status="failed", purpose="reply") == 1
    assert value(samples, "aftercare_outbox_retries", purpose="reply") == 5 + 1  # attempts after the first
    assert value(samples, "aftercare_outbox_retrying_messages", purpose="reply") == 1
    assert value(samples, "aftercare_outbox_retries", purpose="oncall_alert") == 0
    assert PATIENT_PHONE not in text and "a reply" not in text


def test_sms_turns_are_counted_under_their_channel(api):
    from core.sms.channel import InboundSms

    container = api.app.state.container
    stored = container.sms_channel.store(InboundSms(message_sid="SM" + "1" * 32, from_phone=PATIENT_PHONE, body="makeup?"))
    assert stored.needs_turn
    asyncio.run(container.sms_channel.handle(stored.message_id))
    _, samples = scrape(api)
    assert value(samples, "aftercare_turns_total", channel="sms", outcome="answered") == 1
    assert value(samples, "aftercare_turn_seconds_count", channel="sms") == 1
    assert value(samples, "aftercare_outbox_messages", status="pending", purpose="reply") == 1


def test_turn_lock_waits_go_to_their_histogram(api):
    metrics = api.app.state.metrics
    metrics.observe_lock_wait(0.3)
    metrics.observe_lock_wait(0.0)
    _, samples = scrape(api)
    assert value(samples, "aftercare_turn_lock_wait_seconds_count") == 2
    assert value(samples, "aftercare_turn_lock_wait_seconds_bucket", le="0.25") == 1
    assert value(samples, "aftercare_turn_lock_wait_seconds_bucket", le="0.5") == 2


def test_each_app_has_its_own_registry(tmp_path, sqlite_url, fixed_clock):
    one, two = (app_for(tmp_path / name, sqlite_url, fixed_clock) for name in ("one", "two"))
    with TestClient(one) as a, TestClient(two) as b:
        chat(a, "can I wear makeup tomorrow?")
        assert value(scrape(a)[1], "aftercare_turns_total", channel="web", outcome="answered") == 1
        assert value(scrape(b)[1], "aftercare_turns_total", channel="web", outcome="answered") is None
    for app in (one, two):
        app.state.container.engine.dispose()


# ------------------------------------------------------------------ the database down
def test_a_scrape_answers_while_the_database_is_down(api, db_url, tmp_path, fixed_clock):
    container = api.app.state.container
    sid = api.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    assert api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "can I wear makeup tomorrow?"}).status_code == 200
    dead_url = (
        f"sqlite:///{tmp_path / 'no-such-dir' / 'gone.db'}"
        if db_url.startswith("sqlite")
        else "postgresql://postgres@127.0.0.1:1/nowhere"
    )
    dead = make_engine(dead_url)
    real = container.session_factory
    container.session_factory = make_session_factory(dead, fixed_clock)
    try:
        # a red flag that arrives now is screened, answered and spooled: a turn too
        r = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": RED_FLAG})
        assert r.status_code == 200 and r.json()["escalation"]["level"] == "emergency"
        text, samples = scrape(api)
    finally:
        container.session_factory = real
        dead.dispose()
    assert value(samples, "aftercare_database_up") == 0
    assert "aftercare_outbox_messages" not in text and "aftercare_escalations" not in text
    # this replica's own figures are still there
    assert value(samples, "aftercare_turns_total", channel="web", outcome="answered") == 1
    assert value(samples, "aftercare_turns_total", channel="web", outcome="spooled") == 1
    assert value(samples, "aftercare_turn_escalations_total", channel="web", level="emergency") == 1
    assert value(scrape(api)[1], "aftercare_database_up") == 1  # and the database's are back with it


def test_a_database_that_hangs_does_not_hang_the_scrape(tmp_path, sqlite_url, fixed_clock, monkeypatch):
    import api.metrics as metrics_module

    release = threading.Event()
    reads: list[int] = []
    real_read = metrics_module.read_snapshot

    def stuck(container):
        reads.append(1)
        release.wait(10)
        return real_read(container)

    monkeypatch.setattr(metrics_module, "read_snapshot", stuck)
    app = app_for(tmp_path, sqlite_url, fixed_clock)
    app.state.metrics.database.timeout_s = 0.2
    with TestClient(app) as c:
        assert value(scrape(c)[1], "aftercare_database_up") == 0
        assert value(scrape(c)[1], "aftercare_database_up") == 0
        assert len(reads) == 1  # the second scrape waited for the stuck read instead of starting another
        release.set()
        app.state.metrics.database.timeout_s = 5.0
        for _ in range(3):  # the stuck read returns its figures; the next scrape starts a fresh one
            assert value(scrape(c)[1], "aftercare_database_up") == 1
    app.state.container.engine.dispose()


# ------------------------------------------------------------------ who may scrape
def test_a_metrics_token_is_required_when_set(tmp_path, sqlite_url, fixed_clock):
    app = app_for(tmp_path, sqlite_url, fixed_clock, AFTERCARE_METRICS_TOKEN=METRICS_TOKEN)
    with TestClient(app) as c:
        r = c.get("/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
        # the integration API's token is not the scraper's
        assert c.get("/metrics", headers={"Authorization": "Bearer test-token-0123456789abcdef"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer caf\u00e9".encode("latin-1")}).status_code == 401
        _, samples = scrape(c, Authorization=f"Bearer {METRICS_TOKEN}")
        assert value(samples, "aftercare_database_up") == 1
    app.state.container.engine.dispose()


PRODUCTION = {"AFTERCARE_ENV": "production", "AFTERCARE_PUBLIC_URL": "https://clinic.example"}


def test_outside_development_metrics_need_a_token(tmp_path, sqlite_url, fixed_clock):
    app = app_for(tmp_path / "open", sqlite_url, fixed_clock, **PRODUCTION)
    with TestClient(app, base_url="https://clinic.example") as c:
        assert c.get("/metrics").status_code == 404  # no token configured: no metrics page at all
    app.state.container.engine.dispose()
    app = app_for(tmp_path / "token", sqlite_url, fixed_clock, **PRODUCTION, AFTERCARE_METRICS_TOKEN=METRICS_TOKEN)
    with TestClient(app, base_url="https://clinic.example") as c:
        assert c.get("/metrics").status_code == 401
        assert scrape(c, Authorization=f"Bearer {METRICS_TOKEN}")[0]
    app.state.container.engine.dispose()


@pytest.mark.parametrize("token", ["short", "test-token-0123456789abcdef"])
def test_a_weak_or_shared_metrics_token_is_refused_outside_development(tmp_path, sqlite_url, token):
    with pytest.raises(SettingsError, match="AFTERCARE_METRICS_TOKEN"):
        make_settings(tmp_path, sqlite_url, **PRODUCTION, AFTERCARE_METRICS_TOKEN=token)


def test_metrics_are_not_in_the_openapi_schema(api):
    assert "/metrics" not in api.get("/openapi.json").json()["paths"]


def test_core_does_not_import_the_metrics_library():
    """The counting is the API layer's (api/metrics.py): core stays free of the client library."""
    for path in sorted((ROOT / "core").rglob("*.py")):
        assert "prometheus_client" not in imported_modules(path), path
