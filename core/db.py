"""Database engine and sessions (SQLAlchemy 1.4, 2.0-style usage)."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import create_engine, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

from core.ports import Clock

Base = declarative_base()

# Timestamp columns say how they are stamped (``Column(..., info={"stamp": ...})``):
#   "create": the row's creation time, set once when it is first flushed (if the code did not set it).
#             It orders rows (the outbox sends a recipient's messages in creation order), so it is
#             strictly increasing within a process: a clock that has not moved (a test's fixed clock,
#             two rows in one flush) still gives each later row a later stamp, by a microsecond.
#   "now":    set to the clock's now when first flushed, if unset (due times, last activity).
#   "update": set on insert and again on every flush that changes the row.
# The time comes from the clock the session factory was built with (see ``make_session_factory``):
# there is no wall-clock default anywhere in the data layer, so a test's fixed clock stamps every row.
STAMP_CREATE = {"stamp": "create"}
STAMP_NOW = {"stamp": "now"}
STAMP_UPDATE = {"stamp": "update"}


class _CreationStamps:
    """Strictly increasing creation times from a clock (one per session factory, thread-safe)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def next(self) -> datetime:
        with self._lock:
            now = self.clock.now()
            if self._last is not None and now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
            return now


def clock_of(session: Session) -> Clock:
    """The clock a session was opened with (every factory of ours carries one)."""
    clock = session.info.get("clock")
    if clock is None:
        raise RuntimeError("session has no clock: build its factory with core.db.make_session_factory(engine, clock)")
    return clock


def now_of(session: Session) -> datetime:
    """The injected clock's 'now' (UTC, aware) for work done in this session."""
    return clock_of(session).now()


def _stamped_columns(obj: object, kind: str) -> list[str]:
    table = getattr(obj, "__table__", None)
    if table is None:
        return []
    return [c.key for c in table.columns if c.info.get("stamp") == kind]


def _strip_nul(obj: object) -> None:
    """PostgreSQL refuses NUL in text; whatever slipped past the input cleaning is not worth a 500."""
    table = getattr(obj, "__table__", None)
    if table is None:
        return
    for column in table.columns:
        value = getattr(obj, column.key, None)
        if isinstance(value, str) and "\x00" in value:
            setattr(obj, column.key, value.replace("\x00", " "))


@event.listens_for(Session, "before_flush")
def _stamp_times(session: Session, _flush_context, _instances) -> None:
    if not session.new and not session.dirty:
        return
    now = now_of(session)
    stamps: _CreationStamps | None = session.info.get("creation_stamps")
    for obj in session.new:  # in the order the objects were added
        for key in _stamped_columns(obj, "create"):
            if getattr(obj, key, None) is None:
                setattr(obj, key, stamps.next() if stamps is not None else now)
        for key in _stamped_columns(obj, "now") + _stamped_columns(obj, "update"):
            if getattr(obj, key, None) is None:
                setattr(obj, key, now)
    for obj in list(session.new) + list(session.dirty):
        _strip_nul(obj)
    for obj in session.dirty:
        keys = _stamped_columns(obj, "update")
        if keys and session.is_modified(obj, include_collections=False):
            state = sa_inspect(obj)
            for key in keys:
                if not state.attrs[key].history.has_changes():
                    setattr(obj, key, now)


def new_id() -> str:
    return uuid.uuid4().hex


def _private_sqlite_file(engine: Engine) -> None:
    """The SQLite file holds patients' messages: readable by the service's user only (0600), whatever
    the umask of whoever starts the service. SQLite gives its -wal and -shm files the database
    file's mode, so they follow (issue #16 item 16)."""
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    path = os.path.abspath(path)
    if not os.path.exists(path) and os.path.isdir(os.path.dirname(path)):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # an empty file is a new database to SQLite
    for p in (path, path + "-wal", path + "-shm"):
        with contextlib.suppress(OSError):  # another user's file: left as it is (the service cannot change it)
            if os.path.exists(p) and os.stat(p).st_mode & 0o077:
                os.chmod(p, 0o600)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    kwargs: dict = {"future": True, "echo": echo, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        if ":memory:" not in url and url != "sqlite://":
            # reuse connections (SQLAlchemy 1.4 opens a new one per session for file databases)
            kwargs["poolclass"] = QueuePool
            kwargs["pool_size"] = 5
            kwargs["max_overflow"] = 10
    else:
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
        kwargs["pool_timeout"] = 5
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _private_sqlite_file(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _begin_immediate).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # pragma: no cover - trivial
            # Take the write lock when the transaction starts. A deferred transaction that reads and
            # then writes fails at once with "database is locked" in WAL mode when another process
            # (API, action server) wrote in between; BEGIN IMMEDIATE waits on busy_timeout instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine, clock: Clock) -> sessionmaker:
    """Sessions bound to ``engine`` whose timestamps come from ``clock`` (see ``now_of``)."""
    if clock is None or not callable(getattr(clock, "now", None)):
        raise TypeError("make_session_factory needs a clock (core.clock.SystemClock in a process, FixedClock in tests)")
    return sessionmaker(
        bind=engine, future=True, expire_on_commit=False, info={"clock": clock, "creation_stamps": _CreationStamps(clock)}
    )


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
