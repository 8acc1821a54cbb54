"""Shared fixtures: databases (SQLite and PostgreSQL), apps with fakes, and the real stack."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("AFTERCARE_ENV", "test")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

PG_ADMIN_URL = os.environ.get("AFTERCARE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_available() -> str | None:
    try:
        import psycopg2

        conn = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
        conn.close()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"


def _create_pg_db() -> str:
    import psycopg2

    name = f"aftercare_test_{secrets.token_hex(4)}"
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_pg_db(name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A freshly migrated database, once on SQLite and once on PostgreSQL."""
    from core.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    url, name = _create_pg_db()
    try:
        upgrade(url)
        yield url
    finally:
        from sqlalchemy import create_engine  # noqa: F401  (connections closed by tests)

        _drop_pg_db(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    from core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture
def session_factory(sqlite_url, fixed_clock):
    """Sessions on a fresh SQLite database whose timestamps come from ``fixed_clock``."""
    from core.db import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    yield make_session_factory(engine, fixed_clock)
    engine.dispose()


def make_settings(tmp_path: Path, url: str, **extra: str):
    from core.settings import load_settings

    env = {
        "AFTERCARE_ENV": "test",
        "AFTERCARE_DATA_DIR": str(tmp_path / "data"),
        "AFTERCARE_DATABASE_URL": url,
        "AFTERCARE_API_TOKEN": "test-token-0123456789abcdef",
        "AFTERCARE_SECRET_KEY": "test-secret-0123456789abcdef0123456789",
        **extra,
    }
    return load_settings(env)


@pytest.fixture
def fixed_clock():
    from tests.fakes import test_clock

    return test_clock()


@pytest.fixture
def running_clock():
    """Starts at the suite's fixed moment and then runs in real time (for apps with background workers)."""
    from tests.fakes import test_clock

    return test_clock(ticking=True)


@pytest.fixture
def fake_assistant():
    from tests.fakes import FakeAssistant

    return FakeAssistant()


@pytest.fixture
def app_with_fakes(tmp_path, sqlite_url, fake_assistant, fixed_clock):
    """The real app on SQLite with a fake assistant and a fixed clock (no workers)."""
    from api.app import create_app

    settings = make_settings(tmp_path, sqlite_url)
    return create_app(settings, assistant=fake_assistant, clock=fixed_clock, start_workers=False)


@pytest.fixture
def client(app_with_fakes):
    from fastapi.testclient import TestClient

    with TestClient(app_with_fakes) as c:
        yield c


@pytest.fixture
def auth_headers():
    return {"Authorization": "Bearer test-token-0123456789abcdef"}


# ---------------------------------------------------------------- the real stack
@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real service (API + Rasa server + action server) with the trained model, on free ports."""
    from api.supervisor import Stack, latest_model
    from core.bootstrap import prepare

    if latest_model(ROOT / "models") is None:
        pytest.fail("no trained model in models/; `make test` trains it (make train)")
    data_dir = tmp_path_factory.mktemp("stack")
    port = free_port()
    env = {
        "AFTERCARE_ENV": "test",
        "AFTERCARE_PORT": str(port),
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_DATABASE_URL": f"sqlite:///{data_dir / 'stack.db'}",
        "AFTERCARE_API_TOKEN": "stack-token-0123456789abcdef",
        "AFTERCARE_SECRET_KEY": "stack-secret-0123456789abcdef0123456789",
        "TWILIO_AUTH_TOKEN": "stack-twilio-auth-token",
        "AFTERCARE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # every test, browser and eval on this shared stack is the same client (127.0.0.1); the
        # per-client limits themselves are tested in tests/integration/test_client_limits.py
        "AFTERCARE_CHAT_SESSIONS_PER_HOUR": "100000",
        "AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE": "100000",
    }
    prepare(env)
    s = Stack(port=port, env=env, quiet=True, log_file=data_dir / "stack.log")
    s.start(wait=True, timeout=300)
    s.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    s.token = env["AFTERCARE_API_TOKEN"]  # type: ignore[attr-defined]
    s.data_dir = data_dir  # type: ignore[attr-defined]
    yield s
    s.stop()


def pytest_collection_modifyitems(session, config, items):
    """Fast tests first, the real stack next, browsers last (Playwright's sync API keeps an event
    loop running in the main thread, which would break asyncio.run() in tests after it)."""

    def rank(item) -> int:
        path = str(item.fspath)
        if "/tests/browser/" in path:
            return 3
        if item.get_closest_marker("stack") is not None:
            return 2
        if "/tests/integration/" in path:
            return 1
        return 0

    items.sort(key=rank)
