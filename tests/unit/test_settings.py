from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings, port_plan


def test_development_defaults_generate_a_token():
    s = load_settings({"AFTERCARE_ENV": "development"})
    assert s.api_token and s.api_token_generated
    assert s.database_url.startswith("sqlite:///")
    assert s.port == 8000


def test_production_refuses_missing_secrets():
    with pytest.raises(SettingsError) as exc:
        load_settings({"AFTERCARE_ENV": "production"})
    msg = str(exc.value)
    assert "AFTERCARE_API_TOKEN" in msg and "AFTERCARE_SECRET_KEY" in msg and "AFTERCARE_PUBLIC_URL" in msg


def test_production_accepts_real_secrets():
    s = load_settings(
        {
            "AFTERCARE_ENV": "production",
            "AFTERCARE_API_TOKEN": "x" * 32,
            "AFTERCARE_SECRET_KEY": "y" * 40,
            "AFTERCARE_PUBLIC_URL": "https://clinic.example.org/",
        }
    )
    assert s.public_url == "https://clinic.example.org"
    assert s.secure_cookies


def test_bad_port_is_a_clear_error():
    with pytest.raises(SettingsError, match="AFTERCARE_PORT"):
        load_settings({"AFTERCARE_PORT": "eighty"})


def test_internal_ports_never_collide_between_neighbouring_instances():
    seen: set[int] = set()
    for port in range(8000, 8050):
        rasa, actions = port_plan(port)
        assert rasa not in seen and actions not in seen
        seen.update({rasa, actions})
    assert port not in seen


def test_internal_ports_stay_below_the_ephemeral_range():
    """An outgoing connection may take any port of 32768-60999 (Linux's default range) and keep it."""
    for port in range(1, 65536):
        rasa, actions = port_plan(port)
        assert 20000 <= rasa < actions < 32768


def test_development_mode_refuses_real_twilio_credentials():
    """Issue 16, item 3: development mode exposes the simulator and demo data; never with real patients' texts."""
    env = {
        "AFTERCARE_ENV": "development",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "real-token-0123456789",
        "TWILIO_FROM_NUMBER": "+12015550100",
    }
    with pytest.raises(SettingsError, match="real Twilio credentials.*AFTERCARE_ENV=production"):
        load_settings(env)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_development_mode_refuses_a_non_loopback_interface(host):
    with pytest.raises(SettingsError, match="not a loopback address"):
        load_settings({"AFTERCARE_ENV": "development", "AFTERCARE_HOST": host})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_development_mode_on_loopback_starts(host):
    assert load_settings({"AFTERCARE_ENV": "development", "AFTERCARE_HOST": host}).host == host


def test_test_mode_may_sign_with_a_twilio_token():
    assert load_settings({"AFTERCARE_ENV": "test", "TWILIO_AUTH_TOKEN": "t" * 20}).env == "test"
