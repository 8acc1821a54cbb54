"""Twilio's error codes (REST errors and delivery receipts), translated into the SMS port's terms.

The adapter (api/sms/twilio_sender.py) and the status-callback route turn a code into words
staff can act on and into the port's own fields (core.ports.SendResult: ``permanent``,
``opted_out``); core never reads a Twilio code.
"""

from __future__ import annotations

# in words staff can act on
ERROR_CODES: dict[int, str] = {
    20003: "Twilio authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    20429: "Twilio rate limit: too many requests",
    21211: "invalid phone number",
    21408: "sending to this country/region is not enabled on the Twilio account",
    21606: "the clinic's 'From' number cannot send SMS",
    21610: "the recipient replied STOP (opted out at the carrier/Twilio)",
    21612: "Twilio cannot route a message to this number",
    21614: "the number is not a mobile number",
    21659: "the 'From' number is not a Twilio number on this account",
    30003: "phone unreachable (switched off or out of coverage)",
    30004: "message blocked by the recipient or their carrier",
    30005: "unknown or inactive number",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier as spam",
    30008: "unknown delivery error",
    30032: "toll-free number not verified",
    30034: "sender number not registered for US A2P 10DLC",
}
PERMANENT_CODES = frozenset({21211, 21408, 21606, 21610, 21612, 21614, 21659})
OPT_OUT_CODES = frozenset({21610})


def describe_error(code: int | str | None, message: str = "") -> str:
    """``"21610: the recipient replied STOP ..."``; unknown codes keep the provider's own message."""
    try:
        n = int(code) if code not in (None, "") else None
    except (TypeError, ValueError):
        n = None
    text = ERROR_CODES.get(n, "") if n is not None else ""
    text = text or message or "error"
    return f"{n}: {text}" if n is not None else text


def code_of(raw: int | str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def is_opt_out(code: int | str | None) -> bool:
    """The recipient opted out at Twilio or the carrier (replied STOP)."""
    return code_of(code) in OPT_OUT_CODES


def is_permanent(code: int | str | None) -> bool:
    """Retrying cannot help (invalid or non-mobile number, opted out, sender misconfigured for it)."""
    return code_of(code) in PERMANENT_CODES
