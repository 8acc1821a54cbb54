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
