"""Ports: the small interfaces the core needs from the outside world.

Adapters live in api/ (Rasa over HTTP, Twilio REST); unit tests use fakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from core.turn import Request


@dataclass
class AssistantReply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class AssistantTurn:
    """What the assistant answered for one patient message."""

    replies: list[AssistantReply]
    intent: str | None = None
    confidence: float | None = None
    topic: str | None = None  # set by the assistant when it knows better than the intent
    requests: list[Request] = field(default_factory=list)  # what the actions want done (core.turn)


class AssistantUnavailable(RuntimeError):
    """The assistant (Rasa server or action server) could not answer in time."""


class Assistant(Protocol):
    async def respond(self, *, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantTurn: ...

    async def ready(self) -> bool: ...


@dataclass
class SendResult:
    ok: bool
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False  # True: never retry (opted out, invalid number)
    opted_out: bool = False  # the recipient opted out at the provider: record it, send them nothing more


class SmsSender(Protocol):
    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult: ...


class SentLookup(Protocol):
    """Optional on an :class:`SmsSender`: did a message with this body go to ``to`` since ``since``?

    The dispatcher asks before sending again a row whose earlier send was interrupted (its replica
    died between the provider's answer and recording it). Returns the provider's ids of matching
    messages, newest first; raises if the provider cannot be asked (the row is then sent again:
    a duplicate beats a lost message).
    """

    def find_sent(self, *, to: str, body: str, since: datetime) -> list[str]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class RedFlagPrediction(Protocol):
    signals: list[Any]  # core.triage.ModelSignal above their thresholds
    spanish: bool
    scores: dict[str, float]
    embedding: Any  # the sentence embedding (a numpy vector) or None; the NLU reuses it


class RedFlagModel(Protocol):
    """The learned red-flag model (core.triage_model.classifier.RedFlagModel in the product)."""

    def predict(self, text: str, day: int | None) -> RedFlagPrediction: ...
