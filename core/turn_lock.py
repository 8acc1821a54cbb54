"""One turn at a time per conversation, whichever replica receives it (issue #19).

Two texts a patient sends a second apart may reach two API replicas, or two background tasks of
one. Each turn reads the conversation (the stated date, what we asked, the open escalation), asks
the assistant and writes back: two at once would answer from the same state and overwrite each
other. Every turn therefore runs under a lock named after its conversation:

- **PostgreSQL** (several replicas): a session-level advisory lock,
  ``pg_try_advisory_lock(hashtextextended('aftercare-turn:<id>', 0))``, on a connection of a
  small pool of its own (a turn's own sessions never wait for a connection held by a lock, so
  the pool cannot deadlock). A replica that dies mid-turn loses its connection and PostgreSQL
  releases the lock at once.
- **SQLite** (one replica by design: one file, one writer): an asyncio lock in this process.

A lock not obtained within ``wait_s`` (a turn on another replica that is taking far longer than
the assistant's timeout) is given up with a warning and the turn goes ahead: the patient is
answered late rather than never, and a message already answered is never answered twice (the
service checks that under the lock).

Order is the caller's part: under the lock, the channels answer the conversation's earlier
waiting messages first (core.conversations, core.sms.channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import sessionmaker

from core.db import session_scope
from core.models import Message

log = logging.getLogger(__name__)

LockWaitHook = Callable[[float], None]


class TurnLocks:
    """In-process locks (SQLite, tests). ``hold(conversation_id)`` is an async context manager."""

    def __init__(self, *, wait_s: float = 30.0, on_wait: LockWaitHook | None = None) -> None:
        self.wait_s = wait_s
        self.on_wait = on_wait
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        started = time.monotonic()
        acquired = False
        try:
            try:
                await asyncio.wait_for(lock.acquire(), timeout=self.wait_s)
                acquired = True
            except asyncio.TimeoutError:
                log.warning("turn lock not obtained in %.0f s; the turn goes ahead", self.wait_s)
            self._waited(time.monotonic() - started)
            yield
        finally:
            if acquired:
                lock.release()
            lock_now, users_now = self._locks[conversation_id]
            if users_now <= 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock_now, users_now - 1)

    def _waited(self, seconds: float) -> None:
        if self.on_wait is not None:
            with contextlib.suppress(Exception):
                self.on_wait(seconds)

    def close(self) -> None:
        pass


class PostgresTurnLocks(TurnLocks):
    """Advisory locks in PostgreSQL, shared by every replica on the same database."""

    POLL_S = 0.05

    def __init__(self, database_url: str, *, wait_s: float = 30.0, on_wait: LockWaitHook | None = None) -> None:
        super().__init__(wait_s=wait_s, on_wait=on_wait)
        # a pool of its own: a lock is held for the whole turn, while the turn's own sessions
        # take connections from the service's pool
        self.engine: Engine = create_engine(
            database_url, pool_size=5, max_overflow=45, pool_pre_ping=True, pool_timeout=10, future=True
        )

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        key = f"aftercare-turn:{conversation_id}"
        started = time.monotonic()
        conn: Connection | None = await asyncio.to_thread(self.engine.connect)
        acquired = False
        try:
            while True:
                acquired = await asyncio.to_thread(self._try, conn, key)
                if acquired:
                    break
                if time.monotonic() - started >= self.wait_s:
                    log.warning("turn lock not obtained in %.0f s; the turn goes ahead", self.wait_s)
                    break
                await asyncio.sleep(self.POLL_S)
            self._waited(time.monotonic() - started)
            yield
        finally:
            await asyncio.to_thread(self._release, conn, key, acquired)

    @staticmethod
    def _try(conn: Connection, key: str) -> bool:
        got = conn.execute(text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"), {"k": key}).scalar()
        conn.commit()  # end the implicit transaction: the lock is the session's, not the transaction's
        return bool(got)

    @staticmethod
    def _release(conn: Connection, key: str, acquired: bool) -> None:
        try:
            if acquired:
                conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": key})
                conn.commit()
            conn.close()
        except Exception:  # the connection broke: PostgreSQL released the lock with it
            log.warning("turn lock release failed; dropping the connection")
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()

    def close(self) -> None:
        self.engine.dispose()


def turn_locks_for(database_url: str, *, wait_s: float = 30.0, on_wait: LockWaitHook | None = None) -> TurnLocks:
    """The lock kind the database calls for: advisory locks on PostgreSQL, in-process otherwise."""
    if database_url.startswith(("postgresql", "postgres")):
        return PostgresTurnLocks(database_url, wait_s=wait_s, on_wait=on_wait)
    return TurnLocks(wait_s=wait_s, on_wait=on_wait)


def conversation_of(session_factory: sessionmaker, message_id: str) -> str:
    """The conversation a stored message belongs to (the name of its turn lock)."""
    with session_scope(session_factory) as s:
        conversation_id = s.execute(select(Message.conversation_id).where(Message.id == message_id)).scalar()
    if conversation_id is None:
        raise LookupError(f"unknown message {message_id}")
    return conversation_id


def waiting_before(session_factory: sessionmaker, message_id: str) -> list[str]:
    """The conversation's inbound messages stored before this one and not answered, oldest first
    (answered first, under the lock, so turns go in the order the patient sent them).

    Call it holding the conversation's lock. Every turn runs under that lock, so a message seen
    here as "processing" is no one's any more: the replica that took it died mid-turn. It is taken
    again now, in its place, rather than after the recovery sweep's lease, after later messages."""
    with session_scope(session_factory) as s:
        msg = s.get(Message, message_id)
        if msg is None:
            return []
        return list(
            s.execute(
                select(Message.id)
                .where(
                    Message.conversation_id == msg.conversation_id,
                    Message.direction == "in",
                    Message.status.in_(("received", "processing")),
                    Message.id != msg.id,
                    Message.created_at <= msg.created_at,
                )
                .order_by(Message.created_at, Message.id)
            ).scalars()
        )
