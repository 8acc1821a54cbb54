"""The project's vocabularies, defined once: levels, channels, statuses, authors, roles.

Each is a ``str`` enum, so a member equals the plain string stored in the database and sent
over HTTP (``Channel.SMS == "sms"``). Modules that keep a plain-string constant derive it from
here (``SMS_CHANNEL = Channel.SMS.value``); use ``.value`` when formatting a member into text.
Pure: no database, no framework.
"""

from __future__ import annotations

from enum import Enum


class Level(str, Enum):
    """How urgently staff must look at a message (see docs/triage-policy.md)."""

    NONE = "none"
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @staticmethod
    def max(*levels: Level) -> Level:
        """The most severe of ``levels`` (``NONE`` when given nothing)."""
        best = Level.NONE
        for level in levels:
            if _RANK[level] > _RANK[best]:
                best = level
        return best

    @property
    def escalates(self) -> bool:
        return self is not Level.NONE


_RANK = {Level.NONE: 0, Level.ROUTINE: 1, Level.URGENT: 2, Level.EMERGENCY: 3}


ESCALATING_LEVELS = (Level.ROUTINE.value, Level.URGENT.value, Level.EMERGENCY.value)  # least to most severe
CLINICIAN_LEVELS = (Level.URGENT.value, Level.EMERGENCY.value)  # need a clinician (page on-call; only they resolve)


class Channel(str, Enum):
    SMS = "sms"
    WEB = "web"


CHANNELS = tuple(c.value for c in Channel)


class EscalationStatus(str, Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


ACTIVE_ESCALATION_STATUSES = (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value)


class MessageStatus(str, Enum):
    """A transcript message: inbound ones are received, processed, answered; outbound ones mirror the outbox."""

    RECEIVED = "received"
    PROCESSING = "processing"
    ANSWERED = "answered"
    QUEUED = "queued"
    SENT = "sent"


class OutboxStatus(str, Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    DEAD = "dead"
    SUPPRESSED = "suppressed"


UNDELIVERED_STATUSES = (OutboxStatus.FAILED.value, OutboxStatus.UNDELIVERED.value, OutboxStatus.DEAD.value)  # did not reach them


class Direction(str, Enum):
    IN = "in"
    OUT = "out"


class Author(str, Enum):
    PATIENT = "patient"
    BOT = "bot"
    STAFF = "staff"
    SYSTEM = "system"


class Role(str, Enum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    FRONTDESK = "frontdesk"


ROLES = tuple(r.value for r in Role)
CLINICAL_ROLES = (Role.ADMIN.value, Role.CLINICIAN.value)
