"""The second factor for staff sign-in: time-based one-time codes (RFC 6238 TOTP, 6 digits, 30 s).

Any authenticator app works (Google Authenticator, Microsoft Authenticator, 1Password, ...).
Times come from the caller (the injected clock), never from the wall clock.

- enrolment: ``begin_enrolment`` stores a new secret (not yet in use); the staff member adds it
  to their app and ``confirm_enrolment`` turns it on once a code from the app matches;
- sign-in: ``verify`` accepts a code of the current 30-second step or the one before or after
  (clock drift), and only for a step later than the last accepted one: a code seen over a
  shoulder, or sent twice, is refused (RFC 6238 5.2). The step is recorded with a conditional
  UPDATE, so two replicas cannot both accept the same code;
- ``reset`` removes the second factor (a lost phone); the caller audits it.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.models import StaffUser

DIGITS = 6
INTERVAL = 30
DRIFT_STEPS = 1
ISSUER = "Aftercare inbox"


class TotpError(ValueError):
    pass


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL


def code_for_step(secret: str, step: int) -> str:
    return _totp(secret).generate_otp(step)


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at ``now`` (tests and tools)."""
    return code_for_step(secret, step_at(now))


def clean(code: str) -> str:
    """What people type: '123 456', '123-456'."""
    return "".join(ch for ch in (code or "")[:20] if ch.isdigit())


def matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The step (within the drift allowance, later than ``after``) whose code is ``code``."""
    code = clean(code)
    if len(code) != DIGITS:
        return None
    totp = _totp(secret)
    found = None
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):  # every step compared: no early exit
        if hmac.compare_digest(totp.generate_otp(step), code) and (after is None or step > after) and found is None:
            found = step
    return found


def provisioning_uri(secret: str, *, email: str, issuer: str = ISSUER) -> str:
    return _totp(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (no script, no external image)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")


def grouped(secret: str) -> str:
    """'JBSW Y3DP EHPK 3PXP' for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def begin_enrolment(user: StaffUser) -> str:
    """A new secret waiting for its first code (kept across page reloads until confirmed)."""
    if user.totp_enabled:
        raise TotpError("two-factor sign-in is already on")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32(32)  # 160 bits (RFC 4226 recommends at least 128)
        user.totp_last_step = None
    return user.totp_secret


def confirm_enrolment(session: Session, user: StaffUser, code: str, *, now: datetime) -> None:
    if user.totp_enabled:
        raise TotpError("two-factor sign-in is already on")
    if not user.totp_secret:
        raise TotpError("start the set-up again")
    step = matching_step(user.totp_secret, code, now, after=None)
    if step is None:
        raise TotpError("that code does not match; check the phone's time and type the code the app shows now")
    user.totp_enabled_at = now
    user.totp_last_step = step  # the code used to confirm cannot be used to sign in
    session.flush()


def verify(session: Session, user: StaffUser, code: str, *, now: datetime) -> bool:
    """True once per code: the matching step must be later than the last accepted one."""
    if not user.totp_enabled:
        return False
    step = matching_step(user.totp_secret, code, now, after=user.totp_last_step)
    if step is None:
        return False
    result = session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id, or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False  # another request accepted this code first
    set_committed_value(user, "totp_last_step", step)
    return True


def reset(user: StaffUser) -> bool:
    """Remove the second factor (and any unfinished enrolment); True if there was one."""
    had = user.totp_enabled
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    return had
