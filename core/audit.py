"""The append-only audit trail: who saw or did what, when. Never message text."""

from __future__ import annotations

from sqlalchemy import select
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
    session.add(entry)
    return entry


def recent(session: Session, *, limit: int = 200, object_id: str | None = None) -> list[AuditLog]:
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if object_id:
        q = q.where(AuditLog.object_id == object_id)
    return list(session.execute(q).scalars())
