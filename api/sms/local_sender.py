"""The local outbox sender: used when Twilio is not configured (development, demos, tests).

Nothing leaves the machine: a message counts as delivered the moment it is "sent", and stays
visible in the outbox (staff inbox, the /simulator page).
"""

from __future__ import annotations

import logging
import uuid

from core.ports import SendResult

log = logging.getLogger("aftercare.sms.local")


class LocalOutboxSender:
    name = "local"
    delivered_on_accept = True

    def __init__(self) -> None:
        self.count = 0

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        self.count += 1
        log.info("local outbox: SMS to ...%s (%d chars) delivered locally", to[-2:], len(body))
        return SendResult(ok=True, provider_id=f"local-{uuid.uuid4().hex}")
