"""The outbox dispatcher, framework-free: everything queued in the outbox leaves through here.

One pass (:meth:`Dispatcher.run_once` / :meth:`Dispatcher.run_once_async`):

1. release rows stuck in ``sending`` longer than the lease (a crash between claim and result),
   remembering when the interrupted send began (``interrupted_at``);
2. claim due rows (``pending`` and ``next_attempt_at <= now``): ``SELECT ... FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, a compare-and-set ``UPDATE ... WHERE status = 'pending'`` on SQLite,
   so several dispatchers never send the same row;
3. at claim: suppress rows to opted-out numbers (except on-call alerts to staff and the keyword
   confirmations), format the body as SMS (core.sms.format_sms) and split a long reply into
   several rows, one per part, sent in order;
4. send each row through the :class:`~core.ports.SmsSender` port and record the result:
   ``sent`` (or ``delivered`` for a sender that delivers locally), a retry with exponential
   backoff for rate limits / 5xx / network errors, ``failed`` at once for permanent errors
   (21610 opted out, 21211 invalid number, 21614 not a mobile ...), ``dead`` after
   ``max_attempts``. ``last_error`` always says what happened in words staff can act on.

A released row may have reached the provider before its dispatcher died. Before sending it again
the dispatcher asks a sender that can look (:class:`~core.ports.SentLookup`: Twilio's message
list) whether a message with the same body went to the same number since the interrupted send
began, and not already recorded for another row; if so the row is recorded as sent with that id.
If the provider cannot be asked, the row is sent again: a duplicate beats a lost message.

Status callbacks from the provider update rows by ``provider_sid`` (:func:`record_delivery`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import now_of, session_scope
from core.enums import OutboxStatus
from core.models import Message, OutboxMessage
from core.ports import Clock, SendResult, SmsSender
from core.sms import KEYWORD_PURPOSE, format_sms, is_opted_out, set_opt_out

log = logging.getLogger("aftercare.dispatch")

# statuses
PENDING, SENDING, SENT, DELIVERED = (
    s.value for s in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.DELIVERED)
)
UNDELIVERED, FAILED, DEAD, SUPPRESSED = (
    s.value for s in (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED, OutboxStatus.DEAD, OutboxStatus.SUPPRESSED)
)
FINAL_STATUSES = frozenset({DELIVERED, UNDELIVERED, FAILED, DEAD, SUPPRESSED})
PROBLEM_STATUSES = frozenset({UNDELIVERED, FAILED, DEAD})  # what staff should look at
# purposes that still go to an opted-out number: alerts to the clinic's own on-call phone, and
# the one confirmation of STOP / START / HELP
EXEMPT_PURPOSES = frozenset({"oncall_alert", KEYWORD_PURPOSE})
# how far before an interrupted send began the provider's record of it may be dated (clock skew)
LOOKUP_SKEW = timedelta(minutes=5)


@dataclass
class DispatchPolicy:
    max_attempts: int = 6  # then "dead" (with 2 s base: retries at ~2, 4, 8, 16, 32 s)
    base_delay_s: float = 2.0
    max_delay_s: float = 600.0
    jitter: float = 0.2  # +-20 %
    batch_size: int = 25
    lease_s: float = 120.0  # a row "sending" longer than this was interrupted: send again
    concurrency: int = 4  # recipients sent in parallel (each recipient's messages stay in order)
    max_chars: int = 320

    def delay(self, attempts: int, rnd: float) -> float:
        raw = min(self.max_delay_s, self.base_delay_s * (2 ** max(0, attempts - 1)))
        return max(0.0, raw * (1 + self.jitter * (2 * rnd - 1)))


@dataclass
class Claimed:
    id: str
    to: str
    body: str
    purpose: str
    attempts: int
    interrupted_at: datetime | None = None  # an earlier send of this row was interrupted


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    suppressed: int = 0
    released: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # outbox id -> outcome

    def add(self, other: DispatchStats) -> None:
        for f in fields(self):
            if isinstance(getattr(self, f.name), int):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.outcomes.update(other.outcomes)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _mirror(session: Session, message_id: str | None, status: str) -> None:
    """Keep the transcript's outbound message status in step (a failure of any part sticks)."""
    if not message_id:
        return
    msg = session.get(Message, message_id)
    if msg is None or msg.direction != "out":
        return
    if msg.status in (FAILED, DEAD, UNDELIVERED, SUPPRESSED) and status not in (FAILED, DEAD, UNDELIVERED, SUPPRESSED):
        return
    msg.status = status


class Dispatcher:
    def __init__(
        self,
        *,
        session_factory: sessionmaker,
        sender: SmsSender,
        status_callback_url: str | None = None,
        policy: DispatchPolicy | None = None,
        clock: Clock,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.session_factory = session_factory
        self.sender = sender
        self.status_callback_url = status_callback_url or None
        self.policy = policy or DispatchPolicy()
        self.clock = clock
        self.now = clock.now
        self.rng = rng
        # a sender that delivers on the spot (the local outbox) marks rows delivered at once
        self.delivered_on_accept = bool(getattr(sender, "delivered_on_accept", False))
        self._last_release: datetime | None = None

    # ------------------------------------------------------------------ claim
    def claim(self, stats: DispatchStats | None = None) -> list[Claimed]:
        stats = stats if stats is not None else DispatchStats()
        now = self.now()
        if self._last_release is None or (now - self._last_release).total_seconds() >= min(30.0, self.policy.lease_s / 4):
            self._last_release = now
            stats.released += self._release_stale(now)
        q = (
            select(OutboxMessage)
            .where(OutboxMessage.status == PENDING, OutboxMessage.channel == "sms", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at, OutboxMessage.id)
            .limit(self.policy.batch_size)
        )
        with session_scope(self.session_factory) as s:
            postgres = s.get_bind().dialect.name == "postgresql"
            if postgres:
                # rows another dispatcher holds are skipped; the status is re-checked on the locked row
                q = q.with_for_update(skip_locked=True)
            # SQLite: a plain read; the compare-and-set below claims (and an idle pass writes nothing:
            # SQLite has one writer for everybody)
            rows = list(s.execute(q).scalars())
            claimed: list[Claimed] = []
            for row in rows:
                if not postgres:
                    res = s.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row.id, OutboxMessage.status == PENDING)
                        .values(status=SENDING, updated_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    if res.rowcount != 1:
                        continue  # another dispatcher took it
                row.status = SENDING
                row.updated_at = now
                if row.purpose not in EXEMPT_PURPOSES and is_opted_out(s, row.to):
                    row.status = SUPPRESSED
                    row.last_error = "not sent: the recipient opted out of texts (STOP); they can reply START"
                    _mirror(s, row.message_id, SUPPRESSED)
                    stats.suppressed += 1
                    stats.outcomes[row.id] = SUPPRESSED
                    continue
                claimed.extend(self._format(s, row, now))
            s.flush()
            stats.claimed += len(claimed)
            return claimed

    def _format(self, s: Session, row: OutboxMessage, now: datetime) -> list[Claimed]:
        """SMS-format a row on its first attempt; a reply too long for one message becomes one row per part."""
        interrupted_at = _aware(row.interrupted_at) if row.interrupted_at else None
        if row.attempts or interrupted_at:  # formatted (and split) when first claimed
            return [Claimed(row.id, row.to, row.body, row.purpose, row.attempts, interrupted_at)]
        buttons = None
        if row.message_id and row.purpose == "reply":
            msg = s.get(Message, row.message_id)
            buttons = msg.buttons if msg is not None else None
        parts = format_sms(row.body, buttons, max_chars=self.policy.max_chars) or [row.body.strip() or "."]
        row.body = parts[0]
        out = [Claimed(row.id, row.to, row.body, row.purpose, 0)]
        for i, part in enumerate(parts[1:], start=1):
            extra = OutboxMessage(
                channel=row.channel,
                to=row.to,
                body=part,
                purpose=row.purpose,
                conversation_id=row.conversation_id,
                message_id=row.message_id,
                escalation_id=row.escalation_id,
                status=SENDING,
                attempts=0,
                next_attempt_at=row.next_attempt_at,
                created_at=_aware(row.created_at) + timedelta(microseconds=i),
                updated_at=now,
            )
            s.add(extra)
            s.flush()
            out.append(Claimed(extra.id, extra.to, extra.body, extra.purpose, 0))
        return out

    def _release_stale(self, now: datetime) -> int:
        """Rows left in "sending" longer than the lease (a dispatcher died mid-send) go back to pending."""
        cutoff = now - timedelta(seconds=self.policy.lease_s)
        stale = select(OutboxMessage.id).where(OutboxMessage.status == SENDING, OutboxMessage.updated_at < cutoff)
        with session_scope(self.session_factory) as s:
            if not s.execute(stale.limit(1)).first():
                return 0
            res = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == SENDING, OutboxMessage.updated_at < cutoff)
                .values(
                    status=PENDING,
                    next_attempt_at=now,
                    # when the (first) interrupted send began: it was claimed then
                    interrupted_at=func.coalesce(OutboxMessage.interrupted_at, OutboxMessage.updated_at),
                    updated_at=now,
                    last_error="interrupted while sending; checking whether it went out before sending again",
                )
                .execution_options(synchronize_session=False)
            )
            if res.rowcount:
                log.warning("released %d outbox row(s) left in 'sending' by an interrupted dispatcher", res.rowcount)
            return res.rowcount or 0

    # ------------------------------------------------------------------ send
    def deliver(self, item: Claimed) -> str:
        """Send one claimed row and record the result. Returns sent | delivered | retry | failed | dead."""
        if item.interrupted_at is not None:
            found = self._sent_before(item)
            if found:
                log.warning("outbox %s: its interrupted send had reached the provider; not sent again", item.id)
                return self._record(item, SendResult(ok=True, provider_id=found))
        try:
            result = self.sender.send(to=item.to, body=item.body, status_callback=self.status_callback_url)
        except Exception as exc:  # an adapter bug or an unexpected network error: retry like a 5xx
            log.exception("SMS sender raised for outbox %s", item.id)
            result = SendResult(ok=False, error=f"sender error: {type(exc).__name__}: {exc}"[:300], permanent=False)
        return self._record(item, result)

    def _sent_before(self, item: Claimed) -> str | None:
        """The provider's id of this row's interrupted send, if the provider has it; else None."""
        find_sent = getattr(self.sender, "find_sent", None)
        if find_sent is None or item.interrupted_at is None:
            return None
        try:
            candidates = list(find_sent(to=item.to, body=item.body, since=item.interrupted_at - LOOKUP_SKEW))
        except Exception as exc:  # the provider cannot be asked: send again (at least once)
            log.warning(  # the type only: the error's text can carry the phone number
                "outbox %s: could not ask the provider about an interrupted send (%s); sending again", item.id, type(exc).__name__
            )
            return None
        if not candidates:
            return None
        with session_scope(self.session_factory) as s:
            # a message with the same body to the same number that another row already owns is not ours
            owned = set(
                s.execute(
                    select(OutboxMessage.provider_sid).where(
                        OutboxMessage.provider_sid.in_(candidates), OutboxMessage.id != item.id
                    )
                ).scalars()
            )
        free = [sid for sid in candidates if sid not in owned]
        return free[-1] if free else None  # the oldest: the interrupted send came first

    def _record(self, item: Claimed, result: SendResult) -> str:
        now = self.now()
        with session_scope(self.session_factory) as s:
            row = s.get(OutboxMessage, item.id)
            if row is None:
                return FAILED
            row.attempts = (row.attempts or 0) + 1
            row.updated_at = now
            if result.ok:
                row.status = DELIVERED if self.delivered_on_accept else SENT
                row.provider_sid = (result.provider_id or "")[:64] or None
                row.last_error = None
                _mirror(s, row.message_id, row.status)
                return row.status
            error = (result.error or "unknown error")[:500]
            if result.permanent or result.opted_out:
                row.status = FAILED
                row.last_error = f"not sent (permanent, not retried): {error}"
                if result.opted_out:
                    set_opt_out(s, row.to, opted_out=True, keyword=None, source="provider_error")
                _mirror(s, row.message_id, FAILED)
                log.warning("outbox %s failed permanently", row.id)
                return FAILED
            if row.attempts >= self.policy.max_attempts:
                row.status = DEAD
                row.last_error = f"gave up after {row.attempts} attempts; last error: {error}"
                _mirror(s, row.message_id, DEAD)
                log.error("outbox %s (%s) is dead after %d attempts", row.id, row.purpose, row.attempts)
                return DEAD
            delay = self.policy.delay(row.attempts, self.rng())
            row.status = PENDING
            row.next_attempt_at = now + timedelta(seconds=delay)
            row.last_error = f"attempt {row.attempts} of {self.policy.max_attempts} failed, retrying in {delay:.0f} s: {error}"
            return "retry"

    def release(self, items: list[Claimed], *, not_before: datetime) -> None:
        """Put claimed rows back (not attempted), due no earlier than ``not_before`` to keep their order."""
        if not items:
            return
        with session_scope(self.session_factory) as s:
            for item in items:
                row = s.get(OutboxMessage, item.id)
                if row is not None and row.status == SENDING:
                    row.status = PENDING
                    row.next_attempt_at = not_before
                    row.updated_at = self.now()

    def _next_attempt_of(self, item_id: str) -> datetime:
        with session_scope(self.session_factory) as s:
            row = s.get(OutboxMessage, item_id)
            return _aware(row.next_attempt_at) if row is not None else self.now()

    @staticmethod
    def _groups(claimed: list[Claimed]) -> list[list[Claimed]]:
        groups: dict[str, list[Claimed]] = {}
        for c in claimed:
            groups.setdefault(c.to, []).append(c)
        return list(groups.values())

    def _count(self, stats: DispatchStats, item: Claimed, outcome: str) -> None:
        stats.outcomes[item.id] = outcome
        if outcome in (SENT, DELIVERED):
            stats.sent += 1
        elif outcome == "retry":
            stats.retried += 1
        elif outcome == FAILED:
            stats.failed += 1
        elif outcome == DEAD:
            stats.dead += 1

    def _send_group(self, group: list[Claimed], stats: DispatchStats) -> None:
        for i, item in enumerate(group):
            outcome = self.deliver(item)
            self._count(stats, item, outcome)
            if outcome == "retry":
                # keep this recipient's later parts/messages behind the one that must be retried
                self.release(group[i + 1 :], not_before=self._next_attempt_of(item.id))
                return

    def run_once(self) -> DispatchStats:
        """One pass, sequentially (unit tests, scripts)."""
        stats = DispatchStats()
        for group in self._groups(self.claim(stats)):
            self._send_group(group, stats)
        return stats

    async def run_once_async(self) -> DispatchStats:
        """One pass; blocking work in threads, up to ``policy.concurrency`` recipients in parallel."""
        stats = DispatchStats()
        claimed = await asyncio.to_thread(self.claim, stats)
        if not claimed:
            return stats
        sem = asyncio.Semaphore(max(1, self.policy.concurrency))

        async def one(group: list[Claimed]) -> None:
            async with sem:
                await asyncio.to_thread(self._send_group, group, stats)

        await asyncio.gather(*(one(g) for g in self._groups(claimed)))
        return stats


# ---------------------------------------------------------------------- delivery receipts
_IN_FLIGHT_RECEIPTS = frozenset({"accepted", "scheduled", "queued", "sending", "sent"})  # Twilio's, not our vocabulary
_FINAL_RECEIPTS = frozenset({DELIVERED, UNDELIVERED, FAILED, "read"})


def record_delivery(
    session: Session,
    *,
    provider_sid: str,
    status: str,
    error: str = "",
    opted_out: bool = False,
) -> OutboxMessage | None:
    """Apply a delivery receipt (Twilio status callback) to the outbox row with this provider id.

    Receipts can arrive late and out of order: a final state (delivered / undelivered / failed)
    is never replaced by an in-flight one (queued / sent), and only "delivered" may correct an
    earlier failure report. ``error`` is the provider adapter's words for staff; ``opted_out``
    says the recipient opted out at the provider (the adapter reads the provider's codes).
    """
    row = session.execute(select(OutboxMessage).where(OutboxMessage.provider_sid == provider_sid)).scalars().first()
    if row is None:
        return None
    status = (status or "").strip().lower()
    status = DELIVERED if status == "read" else status
    current = row.status
    if status in _IN_FLIGHT_RECEIPTS:
        if current in (PENDING, SENDING):
            row.status = SENT
            _mirror(session, row.message_id, SENT)
        return row
    if status not in _FINAL_RECEIPTS:
        return row
    if current in FINAL_STATUSES and not (status == DELIVERED and current in (UNDELIVERED, FAILED)):
        return row
    row.status = status
    row.updated_at = now_of(session)
    if status in (UNDELIVERED, FAILED):
        row.last_error = f"{status} (carrier report): {error or 'no reason given'}"
        if opted_out:
            set_opt_out(session, row.to, opted_out=True, keyword=None, source="provider_error")
    else:
        row.last_error = None
    _mirror(session, row.message_id, status)
    session.flush()
    return row


def requeue(session: Session, outbox_id: str, *, now: datetime | None = None) -> OutboxMessage | None:
    """Staff action: send a failed / dead / undelivered row again (an opted-out number stays suppressed)."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None or row.status not in PROBLEM_STATUSES:
        return row
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = now or now_of(session)
    row.last_error = f"requeued by staff; before: {row.last_error or ''}"[:500]
    session.flush()
    return row


def problems(session: Session, *, limit: int = 100) -> list[OutboxMessage]:
    """Outbound messages that did not reach the recipient, newest first (for the staff inbox)."""
    return list(
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(PROBLEM_STATUSES))
            .order_by(OutboxMessage.updated_at.desc())
            .limit(limit)
        ).scalars()
    )


def as_dict(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "to": row.to,
        "purpose": row.purpose,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "provider_sid": row.provider_sid,
        "created_at": _aware(row.created_at).isoformat(),
    }
