"""Per event loop state of the SMS channel: the turns running in the background, one lock per
conversation, and the dispatcher's wake-up call."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


class SmsRuntime:
    """Made on the running event loop by the first SMS request or worker that needs it."""

    def __init__(self, concurrency: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.tasks: set[asyncio.Task] = set()
        self.inflight: set[str] = set()
        self.sem = asyncio.Semaphore(concurrency)
        self.wakeup = asyncio.Event()
        self.conv_locks: dict[str, asyncio.Lock] = {}
        self.conv_users: dict[str, int] = {}
        # the webhook's own threads: storing an inbound SMS never queues behind background turns
        self.webhook_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sms-webhook")
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.webhook_pool.shutdown(wait=False)
