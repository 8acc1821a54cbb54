"""Per-client limits of the web chat behind the clinic's reverse proxy (issue #16 item 5), over real
HTTP: the app in uvicorn, the test playing the proxy on 127.0.0.1 that names the real client in
X-Forwarded-For."""

from __future__ import annotations

import pytest

from tests.integration.test_twilio_webhook import Env, needs_triage, seed

PATIENT_A = "203.0.113.7"
PATIENT_B = "198.51.100.4"


def _new_session(env: Env, client: str):
    return env.http.post("/api/v1/chat/sessions", json={}, headers={"X-Forwarded-For": client})


@pytest.fixture
def proxied(tmp_path, sqlite_url, running_clock):
    seed(sqlite_url)
    with Env(tmp_path, sqlite_url, running_clock) as e:  # the default trusted proxies: loopback
        yield e


def test_new_chat_sessions_are_limited_per_real_client_not_per_proxy(proxied: Env) -> None:
    proxied.container.chat_sessions_per_hour = 3
    for _ in range(3):
        assert _new_session(proxied, PATIENT_A).status_code == 201
    r = _new_session(proxied, PATIENT_A)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "call the clinic" in r.json()["detail"]
    # another patient behind the same proxy is not refused: the limit is per real client
    assert _new_session(proxied, PATIENT_B).status_code == 201


def test_a_client_address_is_stored_only_as_a_keyed_hash(proxied: Env) -> None:
    from sqlalchemy import select

    from core.models import Conversation

    sid = _new_session(proxied, PATIENT_A).json()["session_id"]
    key = proxied.q(lambda s: s.execute(select(Conversation.client_key).where(Conversation.session_key == sid)).scalar_one())
    assert key and PATIENT_A not in key and len(key) == 32


@needs_triage
def test_messages_over_all_of_a_clients_sessions_are_limited_but_a_red_flag_goes_through(proxied: Env) -> None:
    proxied.container.chat_client_messages_per_minute = 4
    sids = [_new_session(proxied, PATIENT_A).json()["session_id"] for _ in range(2)]
    for i in range(4):
        r = proxied.http.post(f"/api/v1/chat/sessions/{sids[i % 2]}/messages", json={"text": "can I wear makeup?"})
        assert r.status_code == 200
    r = proxied.http.post(f"/api/v1/chat/sessions/{sids[0]}/messages", json={"text": "can I wear makeup?"})
    assert r.status_code == 429
    red = proxied.http.post(f"/api/v1/chat/sessions/{sids[1]}/messages", json={"text": "my throat is closing up"})
    assert red.status_code == 200 and red.json()["escalation"]["level"] == "emergency"


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path, sqlite_url, running_clock) -> None:
    """Only a trusted proxy may name the client: a client that sends its own X-Forwarded-For to dodge
    the limit is still counted by its own address."""
    seed(sqlite_url)
    with Env(tmp_path, sqlite_url, running_clock, AFTERCARE_TRUSTED_PROXIES="10.0.0.1") as e:
        e.container.chat_sessions_per_hour = 2
        assert _new_session(e, "192.0.2.1").status_code == 201
        assert _new_session(e, "192.0.2.2").status_code == 201
        assert _new_session(e, "192.0.2.3").status_code == 429


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path, sqlite_url) -> None:
    from core.settings import SettingsError
    from tests.conftest import make_settings

    assert make_settings(tmp_path, sqlite_url, AFTERCARE_TRUSTED_PROXIES="10.0.0.0/8, ::1").trusted_proxies == [
        "10.0.0.0/8",
        "::1",
    ]
    with pytest.raises(SettingsError, match="X-Forwarded-For"):
        make_settings(tmp_path, sqlite_url, AFTERCARE_TRUSTED_PROXIES="*")


def test_the_per_client_limits_are_settings(tmp_path, sqlite_url, running_clock) -> None:
    """A clinic whose patients share one address (a waiting-room Wi-Fi) can raise them; nonsense is refused."""
    from core.settings import SettingsError
    from tests.conftest import make_settings

    defaults = make_settings(tmp_path, sqlite_url)
    assert (defaults.chat_sessions_per_hour, defaults.chat_client_messages_per_minute) == (30, 60)
    with pytest.raises(SettingsError, match="AFTERCARE_CHAT_SESSIONS_PER_HOUR"):
        make_settings(tmp_path, sqlite_url, AFTERCARE_CHAT_SESSIONS_PER_HOUR="0")
    with pytest.raises(SettingsError, match="AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE"):
        make_settings(tmp_path, sqlite_url, AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE="many")
    seed(sqlite_url)
    with Env(tmp_path, sqlite_url, running_clock, AFTERCARE_CHAT_SESSIONS_PER_HOUR="2") as e:
        assert e.container.chat_sessions_per_hour == 2
        assert _new_session(e, PATIENT_A).status_code == 201
        assert _new_session(e, PATIENT_A).status_code == 201
        assert _new_session(e, PATIENT_A).status_code == 429
