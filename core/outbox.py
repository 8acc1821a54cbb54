"""The outbox: every message that must leave the building goes through here, durably."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.models import OutboxMessage


def enqueue(
    session: Session,
    *,
    to: str,
    body: str,
    purpose: str,
    channel: str = "sms",
    conversation_id: str | None = None,
    message_id: str | None = None,
    escalation_id: str | None = None,
) -> OutboxMessage:
    item = OutboxMessage(
        to=to,
        body=body,
        purpose=purpose,
        channel=channel,
        conversation_id=conversation_id,
        message_id=message_id,
        escalation_id=escalation_id,
        status="pending",
    )
    session.add(item)
    session.flush()
    return item
