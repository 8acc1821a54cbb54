"""Second-factor helpers for tests: enrol a staff member's TOTP as their authenticator app would,
and the code the app would show next, on the injected clock (never the wall clock's own idea)."""

from __future__ import annotations

from core import totp
from core.db import session_scope
from core.models import StaffUser


def enrol_totp(session, user: StaffUser, clock) -> str:
    """Turn on the second factor for ``user``; returns the secret (what the phone holds)."""
    secret = totp.begin_enrolment(user)
    totp.confirm_enrolment(session, user, totp.code_at(secret, clock.now()), now=clock.now())
    return secret


def next_code(session_factory, email: str, clock) -> str:
    """A code the server will accept now: not a step already used (it refuses replays). On a
    fixed clock that would need a step beyond the drift allowance, the clock moves on 30 s."""
    with session_scope(session_factory) as s:
        user = s.query(StaffUser).filter(StaffUser.email == email.lower()).one()
        secret, last = user.totp_secret, user.totp_last_step
    current = totp.step_at(clock.now())
    step = current - totp.DRIFT_STEPS if last is None else max(last + 1, current - totp.DRIFT_STEPS)
    while step > totp.step_at(clock.now()) + totp.DRIFT_STEPS:
        clock.advance(seconds=totp.INTERVAL)
    return totp.code_for_step(secret, step)
