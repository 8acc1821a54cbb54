"""Prometheus metrics for operators (issue #19): what GET /metrics serves (api/routes/metrics.py).

Two kinds of figures, in one registry per app (never prometheus_client's global one: a process
may build several apps, and each counts its own):

- **this replica's**, counted as things happen: turns by channel and outcome, how long a turn
  took, the escalations turns opened or raised, how long turns waited for their conversation's
  turn lock (``Metrics.observe_lock_wait``, the hook core/turn_lock.py calls);
- **the database's**, read at scrape time (``DatabaseCollector``): the outbox by status and
  purpose, the oldest message not yet sent, retries, escalations by level and status, on-call
  pages and their repeats, check-ins. These describe the whole deployment, so every replica
  reports the same values (aggregate them with ``max``, not ``sum``). When the database does not
  answer within ``DB_TIMEOUT_S`` the scrape still succeeds: ``aftercare_database_up 0`` and no
  database figures.

No label carries patient data: labels are channels, levels, statuses, purposes and outcomes,
each from a fixed vocabulary (anything else is counted as ``other``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from api.container import Container
from core.db import session_scope
from core.enums import CHANNELS, ESCALATING_LEVELS, EscalationStatus, OutboxStatus
from core.models import CheckinSend, Conversation, Escalation, Message, OutboxMessage

log = logging.getLogger("aftercare.metrics")

DB_TIMEOUT_S = 4.0  # under Prometheus's default 10 s scrape timeout, with room for SQLite's write lock
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)  # the assistant's timeout is 8 s
LOCK_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CHANNEL_CACHE_SIZE = 4096  # conversation id -> channel, so most turns need no extra query

OUTBOX_STATUSES = tuple(s.value for s in OutboxStatus)
ESCALATION_STATUSES = tuple(s.value for s in EscalationStatus)
UNSENT = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
OUTBOX_PURPOSES = ("reply", "staff_reply", "oncall_alert", "checkin", "system", "keyword")
CHECKIN_STATUSES = ("queued", "skipped")


def _known(value: Any, vocabulary: Iterable[str]) -> str:
    """``value`` when it is one of ``vocabulary``, else ``other``: a label never carries free text."""
    return value if isinstance(value, str) and value in vocabulary else "other"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)  # SQLite gives back naive UTC


# ------------------------------------------------------------------ read at scrape time
@dataclass
class Snapshot:
    """The database's figures at one moment (plain data: built in a worker thread)."""

    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, purpose) -> rows
    oldest_unsent_s: float = 0.0
    retries: dict[str, int] = field(default_factory=dict)  # purpose -> attempts after the first
    retrying: dict[str, int] = field(default_factory=dict)  # purpose -> pending rows that failed before
    escalations: dict[tuple[str, str], int] = field(default_factory=dict)  # (level, status) -> rows
    oldest_open_s: dict[str, float] = field(default_factory=dict)  # level -> age of the oldest open one
    repeat_paging: dict[str, int] = field(default_factory=dict)  # level -> open ones paged more than once
    pages: int = 0
    page_repeats: int = 0
    checkins: dict[str, int] = field(default_factory=dict)  # status -> rows


def read_snapshot(container: Container) -> Snapshot:
    """Count what the operators watch, in one short transaction (a handful of grouped counts)."""
    snap = Snapshot()
    now = container.clock.now()
    with session_scope(container.session_factory) as s:
        for status, purpose, n in s.execute(
            select(OutboxMessage.status, OutboxMessage.purpose, func.count()).group_by(
                OutboxMessage.status, OutboxMessage.purpose
            )
        ):
            key = (_known(status, OUTBOX_STATUSES), _known(purpose, OUTBOX_PURPOSES))
            snap.outbox[key] = snap.outbox.get(key, 0) + n
        oldest = s.execute(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(UNSENT))).scalar()
        if oldest is not None:
            snap.oldest_unsent_s = max(0.0, (now - _aware(oldest)).total_seconds())
        for purpose, retries in s.execute(
            select(OutboxMessage.purpose, func.sum(OutboxMessage.attempts - 1))
            .where(OutboxMessage.attempts > 1)
            .group_by(OutboxMessage.purpose)
        ):
            key = _known(purpose, OUTBOX_PURPOSES)
            snap.retries[key] = snap.retries.get(key, 0) + int(retries or 0)
        for purpose, n in s.execute(
            select(OutboxMessage.purpose, func.count())
            .where(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.attempts > 0)
            .group_by(OutboxMessage.purpose)
        ):
            key = _known(purpose, OUTBOX_PURPOSES)
            snap.retrying[key] = snap.retrying.get(key, 0) + n
        for level, status, n in s.execute(
            select(Escalation.level, Escalation.status, func.count()).group_by(Escalation.level, Escalation.status)
        ):
            key = (_known(level, ESCALATING_LEVELS), _known(status, ESCALATION_STATUSES))
            snap.escalations[key] = snap.escalations.get(key, 0) + n
        for level, created in s.execute(
            select(Escalation.level, func.min(Escalation.created_at))
            .where(Escalation.status == EscalationStatus.OPEN.value)
            .group_by(Escalation.level)
        ):
            if created is not None:
                key = _known(level, ESCALATING_LEVELS)
                age = max(0.0, (now - _aware(created)).total_seconds())
                snap.oldest_open_s[key] = max(age, snap.oldest_open_s.get(key, 0.0))
        for level, n in s.execute(
            select(Escalation.level, func.count())
            .where(Escalation.status == EscalationStatus.OPEN.value, Escalation.page_count > 1)
            .group_by(Escalation.level)
        ):
            key = _known(level, ESCALATING_LEVELS)
            snap.repeat_paging[key] = snap.repeat_paging.get(key, 0) + n
        pages, repeats = s.execute(
            select(
                func.coalesce(func.sum(Escalation.page_count), 0),
                func.coalesce(func.sum(case((Escalation.page_count > 1, Escalation.page_count - 1), else_=0)), 0),
            )
        ).one()
        snap.pages, snap.page_repeats = int(pages), int(repeats)
        for status, n in s.execute(select(CheckinSend.status, func.count()).group_by(CheckinSend.status)):
            key = _known(status, CHECKIN_STATUSES)
            snap.checkins[key] = snap.checkins.get(key, 0) + n
    return snap


class DatabaseCollector(Collector):
    """The database's figures, read when Prometheus scrapes. Never raises: a database that fails or
    does not answer within ``timeout_s`` gives ``aftercare_database_up 0`` and nothing else.

    The read runs on a daemon thread of its own; while a read is still stuck (a lost connection,
    SQLite's write lock held), later scrapes wait for that one instead of starting more."""

    def __init__(self, container: Container, *, timeout_s: float = DB_TIMEOUT_S) -> None:
        self.container = container  # read at each scrape: the session factory and clock in use then
        self.timeout_s = timeout_s
        self._inflight: concurrent.futures.Future[Snapshot] | None = None
        self._lock = threading.Lock()  # two scrapes at once start one read

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily("aftercare_database_up", "")]  # the rest comes and goes with the database

    def _start(self) -> concurrent.futures.Future[Snapshot]:
        with self._lock:
            if self._inflight is None or self._inflight.done():
                future: concurrent.futures.Future[Snapshot] = concurrent.futures.Future()

                def run() -> None:
                    try:
                        future.set_result(read_snapshot(self.container))
                    except BaseException as exc:
                        future.set_exception(exc)

                threading.Thread(target=run, name="metrics-db", daemon=True).start()
                self._inflight = future
            return self._inflight

    def _read(self) -> Snapshot | None:
        try:
            return self._start().result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            log.warning("metrics: the database did not answer within %.0f s", self.timeout_s)
        except Exception as exc:  # the database is down: the scrape still answers
            log.warning("metrics: reading the database failed (%s)", type(exc).__name__)
        return None

    def collect(self) -> Iterable[Metric]:
        snap = self._read()
        yield GaugeMetricFamily(
            "aftercare_database_up",
            "1 when this scrape's database queries succeeded in time; 0 and no database figures otherwise",
            value=0 if snap is None else 1,
        )
        if snap is not None:
            yield from self._families(snap)

    @staticmethod
    def _families(snap: Snapshot) -> Iterable[Metric]:
        outbox = GaugeMetricFamily(
            "aftercare_outbox_messages",
            "Outbound messages by status and purpose (the whole database)",
            labels=["status", "purpose"],
        )
        for (status, purpose), n in sorted(snap.outbox.items()):
            outbox.add_metric([status, purpose], n)
        yield outbox
        yield GaugeMetricFamily(
            "aftercare_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbound message not yet sent (pending or sending); 0 when none waits",
            value=snap.oldest_unsent_s,
        )
        retries = GaugeMetricFamily(
            "aftercare_outbox_retries",
            "Send attempts after the first, summed over outbound messages (drops when staff requeue one)",
            labels=["purpose"],
        )
        retrying = GaugeMetricFamily(
            "aftercare_outbox_retrying_messages",
            "Outbound messages waiting for a retry after a failed attempt",
            labels=["purpose"],
        )
        for purpose in OUTBOX_PURPOSES:
            retries.add_metric([purpose], snap.retries.get(purpose, 0))
            retrying.add_metric([purpose], snap.retrying.get(purpose, 0))
        yield retries
        yield retrying
        escalations = GaugeMetricFamily(
            "aftercare_escalations", "Escalations by current level and status (the whole database)", labels=["level", "status"]
        )
        oldest = GaugeMetricFamily(
            "aftercare_escalation_oldest_open_age_seconds",
            "Age of the oldest open (unacknowledged) escalation; 0 when none is open",
            labels=["level"],
        )
        repeating = GaugeMetricFamily(
            "aftercare_escalations_repeat_paging",
            "Open escalations paged more than once: on-call has not acknowledged the first page",
            labels=["level"],
        )
        for level in ESCALATING_LEVELS:
            for status in ESCALATION_STATUSES:
                escalations.add_metric([level, status], snap.escalations.get((level, status), 0))
            oldest.add_metric([level], snap.oldest_open_s.get(level, 0.0))
            repeating.add_metric([level], snap.repeat_paging.get(level, 0))
        for (level, status), n in sorted(snap.escalations.items()):
            if "other" in (level, status):
                escalations.add_metric([level, status], n)
        yield escalations
        yield oldest
        yield repeating
        yield CounterMetricFamily(
            "aftercare_oncall_pages", "On-call pages sent for escalations (first pages and repeats)", value=snap.pages
        )
        yield CounterMetricFamily(
            "aftercare_oncall_page_repeats",
            "Repeat pages: pages after the first for the same escalation",
            value=snap.page_repeats,
        )
        checkins = CounterMetricFamily(
            "aftercare_checkins", "Proactive check-ins by outcome (queued to send, or skipped)", labels=["status"]
        )
        for status in (*CHECKIN_STATUSES, *(k for k in sorted(snap.checkins) if k not in CHECKIN_STATUSES)):
            checkins.add_metric([status], snap.checkins.get(status, 0))
        yield checkins


# ------------------------------------------------------------------ counted as things happen
class Metrics:
    """One app's metrics: the registry /metrics renders, and the hooks that count into it."""

    def __init__(self, container: Container, *, db_timeout_s: float = DB_TIMEOUT_S) -> None:
        self.container = container
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "aftercare_turns",
            "Patient messages answered (turns) by channel and outcome: answered, escalated, spooled, error, cancelled",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "aftercare_turn_seconds",
            "Time to answer one patient message (screening, the assistant, storing the reply), by channel",
            ["channel"],
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.turn_escalations = Counter(
            "aftercare_turn_escalations",
            "Turns that opened or raised an escalation, by channel and level",
            ["channel", "level"],
            registry=self.registry,
        )
        self.lock_wait_seconds = Histogram(
            "aftercare_turn_lock_wait_seconds",
            "Time a turn waited for its conversation's turn lock (another turn of the same conversation running)",
            buckets=LOCK_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.database = DatabaseCollector(container, timeout_s=db_timeout_s)
        self.registry.register(self.database)
        ProcessCollector(registry=self.registry)  # CPU, memory, open files of this process
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._channels: dict[str, str] = {}  # conversation id -> channel (touched on the event loop only)

    # -------------------------------------------------------------- hooks
    def observe_lock_wait(self, seconds: float) -> None:
        """The turn lock's hook (``on_wait`` of core.turn_lock.TurnLocks): how long a turn waited."""
        self.lock_wait_seconds.observe(max(0.0, float(seconds)))

    def observe_turn(self, *, channel: str, outcome: str, seconds: float, level: str | None = None) -> None:
        channel = channel if channel in CHANNELS else "unknown"
        self.turns.labels(channel, outcome).inc()
        self.turn_seconds.labels(channel).observe(max(0.0, seconds))
        if level is not None:
            self.turn_escalations.labels(channel, _known(level, ESCALATING_LEVELS)).inc()

    def instrument_turns(self, service: Any) -> None:
        """Count and time every turn of ``service`` (a core ConversationService), from the outside:
        its one-message turn method is replaced on this instance by a wrapper. That is
        ``process_held`` where the service has one (the turn under its conversation's lock, which
        both channels call, so the lock's wait is not counted as the turn's time), else ``process``;
        and ``screen_without_database``, the turn of a message that arrives while the database is down."""
        name = "process_held" if callable(getattr(service, "process_held", None)) else "process"
        inner: Callable[[str], Awaitable[Any]] = getattr(service, name)

        @functools.wraps(inner)
        async def timed(message_id: str) -> Any:
            started = time.perf_counter()
            try:
                result = await inner(message_id)
            except asyncio.CancelledError:
                self.observe_turn(channel="unknown", outcome="cancelled", seconds=time.perf_counter() - started)
                raise
            except Exception as exc:
                seconds = time.perf_counter() - started
                channel = "unknown" if isinstance(exc, SQLAlchemyError) else await self._channel_of(None, message_id)
                self.observe_turn(channel=channel, outcome="error", seconds=seconds)
                raise
            seconds = time.perf_counter() - started
            channel = await self._channel_of(getattr(result, "conversation_id", None), message_id)
            self._observe_result(result, channel=channel, seconds=seconds)
            return result

        setattr(service, name, timed)

        # the database is down: the message is screened, answered safely and spooled (both channels)
        outage: Callable[..., Any] = service.screen_without_database

        @functools.wraps(outage)
        def screened(*args: Any, channel: str, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = outage(*args, channel=channel, **kwargs)
            except Exception:
                self.observe_turn(channel=channel, outcome="error", seconds=time.perf_counter() - started)
                raise
            self._observe_result(result, channel=channel, seconds=time.perf_counter() - started)
            return result

        service.screen_without_database = screened

    def _observe_result(self, result: Any, *, channel: str, seconds: float) -> None:
        escalation = getattr(result, "escalation", None) or None
        if getattr(result, "stored", True) is False:
            outcome = "spooled"  # kept for replay once the database is back (escalated or not)
        elif escalation:
            outcome = "escalated"
        else:
            outcome = "answered"
        level = escalation.get("level") if isinstance(escalation, dict) else None
        self.observe_turn(channel=channel, outcome=outcome, seconds=seconds, level=level if escalation else None)

    async def _channel_of(self, conversation_id: str | None, message_id: str) -> str:
        """The turn's channel: remembered per conversation, else one lookup (never fails a turn)."""
        if conversation_id and conversation_id in self._channels:
            return self._channels[conversation_id]
        try:
            channel = await asyncio.to_thread(self._lookup_channel, conversation_id, message_id)
        except Exception:
            return "unknown"
        if conversation_id and channel in CHANNELS:
            if len(self._channels) >= CHANNEL_CACHE_SIZE:
                self._channels.pop(next(iter(self._channels)))
            self._channels[conversation_id] = channel
        return channel if channel in CHANNELS else "unknown"

    def _lookup_channel(self, conversation_id: str | None, message_id: str) -> str | None:
        with session_scope(self.container.session_factory) as s:
            if conversation_id:
                return s.execute(select(Conversation.channel).where(Conversation.id == conversation_id)).scalar()
            return s.execute(select(Message.channel).where(Message.id == message_id)).scalar()

    # -------------------------------------------------------------- exposition
    def render(self) -> bytes:
        """The Prometheus text format (blocks while the database is read: call it off the event loop)."""
        return generate_latest(self.registry)


def make_metrics(container: Container) -> Metrics:
    """The app's metrics, counting the turns of ``container.conversations`` from now on.

    The turn lock's wait is counted once the lock's hook is set to ``metrics.observe_lock_wait``."""
    metrics = Metrics(container)
    metrics.instrument_turns(container.conversations)
    return metrics
