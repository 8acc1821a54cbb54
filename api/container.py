"""The composition root's product: everything one API process shares.

Every part is a named, typed field that ``api.app.create_app()`` fills in; nothing registers
itself. The intervals of the background workers are fields too, so tests can shorten them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from api.limits import CHAT_CLIENT_MESSAGES_PER_MINUTE, CHAT_MESSAGES_PER_MINUTE, CHAT_SESSIONS_PER_HOUR
from api.sms.runtime import SmsRuntime
from core.clock import SystemClock
from core.conversations import ConversationService
from core.dispatch import DispatchPolicy
from core.media import MediaFetcher
from core.ports import Assistant, SmsSender
from core.settings import Settings
from core.sms import SmsChannel
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
    sms_sender: SmsSender  # Twilio, or the local outbox when Twilio is not configured (tests pass a fake)
    sms_channel: SmsChannel
    sms_dispatch_policy: DispatchPolicy = field(default_factory=DispatchPolicy)
    media_fetcher: MediaFetcher | None = None  # MMS photos (api/sms/media_fetcher.py); None: not fetched
    media_interval_s: float = 2.0
    # web chat limit (api/limits.py): messages per session per minute
    chat_messages_per_minute: int = CHAT_MESSAGES_PER_MINUTE
    chat_sessions_per_hour: int = CHAT_SESSIONS_PER_HOUR  # new sessions per client address
    chat_client_messages_per_minute: int = CHAT_CLIENT_MESSAGES_PER_MINUTE  # over all of a client's sessions
    # how often the background workers run (seconds)
    spool_interval_s: float = 3.0
    paging_interval_s: float = 15.0  # how often due repeat pages are looked for (core/paging.py)
    checkin_interval_s: float = 60.0
    sms_dispatch_interval_s: float = 1.0
    sms_recovery_interval_s: float = 10.0
    sms_turn_concurrency: int = 16  # SMS turns running at once in this process
    # state kept by the process while it runs
    sms_runtime: SmsRuntime | None = None  # made on the running event loop when SMS first needs it
    health_ok_until: float = 0.0  # /healthz answers "ok" from memory until then (time.monotonic)
