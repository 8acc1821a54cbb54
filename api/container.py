"""The composition root's product: everything one API process shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from core.clock import SystemClock
from core.conversations import ConversationService
from core.ports import Assistant
from core.settings import Settings
from core.spool import Spool


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    assistant: Assistant
    clock: SystemClock
    spool: Spool
    conversations: ConversationService
    extras: dict[str, Any] = field(default_factory=dict)  # channel workers register themselves here
