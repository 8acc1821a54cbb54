"""The append-only audit trail: who saw or did what, when. Never message text."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.models import AuditLog


def record(
    session: Session,
    *,
    actor_id: str | None,
    actor_label: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    detail: str = "",
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id,
        actor_label=actor_label[:200],
        action=action[:64],
        object_type=object_type[:32],
        object_id=str(object_id)[:64],
        detail=detail[:500],
    )
    if session.get_bind().dialect.name == "postgresql":
        # one writer at a time extends the chain (SQLite's BEGIN IMMEDIATE already serialises writers)
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('aftercare-audit-chain'))"))
    last = session.execute(select(AuditLog.entry_hash).order_by(AuditLog.id.desc()).limit(1)).scalar_one_or_none()
    entry.prev_hash = last or ""
    entry.entry_hash = entry_hash(entry)
    session.add(entry)
    session.flush()  # the next entry in this transaction chains to this one
    return entry


def entry_hash(entry: AuditLog) -> str:
    """SHA-256 over the previous entry's hash and this entry's fields (not its time or id)."""
    fields = [
        entry.prev_hash,
        entry.actor_id or "",
        entry.actor_label,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.detail,
    ]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def verify_chain(session: Session) -> list[int]:
    """Ids of entries whose hash does not follow from the one before (empty: intact)."""
    broken: list[int] = []
    previous = ""
    for entry in session.execute(select(AuditLog).order_by(AuditLog.id)).scalars():
        if entry.prev_hash != previous or entry.entry_hash != entry_hash(entry):
            broken.append(entry.id)
        previous = entry.entry_hash
    return broken


def recent(session: Session, *, limit: int = 200, object_id: str | None = None) -> list[AuditLog]:
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if object_id:
        q = q.where(AuditLog.object_id == object_id)
    return list(session.execute(q).scalars())


# ------------------------------------------------------------------- append-only guard
# Entries are only ever added: the ORM refuses to change or delete one, including bulk
# UPDATE/DELETE statements. (There is no code path that tries; this keeps it that way.)
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session as _OrmSession  # noqa: E402


class AuditLogImmutableError(RuntimeError):
    """Raised on any attempt to change or delete an audit entry."""


@event.listens_for(AuditLog, "before_update")
def _refuse_update(mapper, connection, target) -> None:  # pragma: no cover - exercised in tests
    raise AuditLogImmutableError("the audit log is append-only")


@event.listens_for(AuditLog, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:  # pragma: no cover - exercised in tests
    raise AuditLogImmutableError("the audit log is append-only")


@event.listens_for(_OrmSession, "do_orm_execute")
def _refuse_bulk(state) -> None:
    if (state.is_update or state.is_delete) and any(getattr(m, "class_", None) is AuditLog for m in state.all_mappers):
        raise AuditLogImmutableError("the audit log is append-only")


def search(
    session: Session,
    *,
    actor_id: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditLog]:
    """Newest first. ``action`` matches a prefix ("escalation." finds every escalation action)."""
    q = select(AuditLog)
    if actor_id:
        q = q.where(AuditLog.actor_id == actor_id)
    if action:
        q = q.where(AuditLog.action.startswith(action))
    if object_type:
        q = q.where(AuditLog.object_type == object_type)
    if object_id:
        q = q.where(AuditLog.object_id == object_id)
    if before_id:
        q = q.where(AuditLog.id < before_id)
    return list(session.execute(q.order_by(AuditLog.id.desc()).limit(limit)).scalars())
