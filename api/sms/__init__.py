"""SMS adapters: Twilio REST sender, the local outbox sender, Twilio webhook signatures."""

from api.sms.local_sender import LocalOutboxSender
from api.sms.signature import sign, webhook_auth_token, webhook_url
from api.sms.twilio_sender import TwilioSmsSender, make_sender

__all__ = ["LocalOutboxSender", "TwilioSmsSender", "make_sender", "sign", "webhook_auth_token", "webhook_url"]
