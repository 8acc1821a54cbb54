"""Lazily-created process-wide resources for processes without a composition root
of their own (the Rasa action server). Nothing is created at import time."""

from __future__ import annotations

import threading

from sqlalchemy.orm import sessionmaker

from core.clock import SystemClock
from core.db import make_engine, make_session_factory
from core.settings import Settings, load_settings

_lock = threading.Lock()
_factory: sessionmaker | None = None
_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def get_session_factory() -> sessionmaker:
    global _factory
    settings = get_settings()
    with _lock:
        if _factory is None:
            _factory = make_session_factory(make_engine(settings.database_url), SystemClock(settings.clinic_timezone))
        return _factory


def reset() -> None:
    """Forget cached resources (tests)."""
    global _factory, _settings
    with _lock:
        _factory = None
        _settings = None
