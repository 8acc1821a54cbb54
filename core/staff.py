"""Staff accounts: argon2-hashed passwords under a policy (core.passwords), roles, the sign-in
throttle (core.signin_throttle) and the second factor (core.totp)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import passwords
from core import signin_throttle as throttle
from core.db import now_of
from core.enums import ROLES
from core.models import StaffUser

MIN_PASSWORD = passwords.MIN_LENGTH
MAX_PASSWORD = passwords.MAX_LENGTH
SECOND_FACTOR_TTL = timedelta(minutes=5)  # between a correct password and its code

_hasher = PasswordHasher()


class StaffError(ValueError):
    pass


def check_password_policy(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Raise StaffError with the reason when ``password`` may not be set (see core.passwords)."""
    why = passwords.problem(password, user_inputs=user_inputs)
    if why:
        raise StaffError(why)


def hash_password(password: str, *, user_inputs: tuple[str, ...] = ()) -> str:
    check_password_policy(password, user_inputs=user_inputs)
    return _hasher.hash(password)


def create_staff(session: Session, *, email: str, display_name: str, role: str, password: str) -> StaffUser:
    email = email.strip().lower()
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise StaffError("a valid email is required")
    if by_email(session, email) is not None:
        raise StaffError("a staff member with this email already exists")
    password_hash = hash_password(password, user_inputs=(email, display_name))
    user = StaffUser(email=email, display_name=display_name.strip() or email, role=role, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def by_email(session: Session, email: str) -> StaffUser | None:
    return session.execute(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())).scalar_one_or_none()


@dataclass(frozen=True)
class SignInAttempt:
    """The password step of a sign-in. ``user`` is set when the password is right and the account
    usable; ``throttled`` when the attempt was refused unchecked (too many recent failures)."""

    user: StaffUser | None
    throttled: throttle.Verdict | None = None
    device: str | None = None  # the device-cookie nonce the browser presented for this account


def attempt_sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    client_ip: str,
    device_cookie: str | None = None,
    secret: str = "",
    now: datetime | None = None,
) -> SignInAttempt:
    """Check a password under the throttle. Every answer costs exactly one argon2 verification,
    whether the account exists, is inactive, throttled or not (no timing oracle); failures are
    counted per account, client address and device (core.signin_throttle), never locking anyone out."""
    now = now or now_of(session)
    user = by_email(session, email)
    usable = user is not None and user.active
    device = throttle.device_for(device_cookie, staff_id=user.id, secret=secret, now=now) if usable and secret else None
    verdict = throttle.check(session, email=email, client_ip=client_ip, device=device, now=now)
    if not verdict.allowed:
        _same_work_as_a_check(password)  # refused unchecked, as slowly as a real check
        return SignInAttempt(None, verdict, device)
    ok = False
    if usable:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    else:
        _same_work_as_a_check(password)  # timing does not reveal which emails exist or are inactive
    if not ok:
        throttle.record_failure(session, email=email, client_ip=client_ip, device=device, now=now)
        return SignInAttempt(None, None, device)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignInAttempt(user, None, device)


def complete_sign_in(session: Session, user: StaffUser, *, client_ip: str, device: str | None, now: datetime) -> None:
    """Every factor passed: forgive this address's (and device's) failures for the account."""
    throttle.clear_after_success(session, email=user.email, client_ip=client_ip, device=device)
    user.last_login_at = now


def authenticate(
    session: Session, *, email: str, password: str, now: datetime | None = None, client_ip: str = "local"
) -> StaffUser | None:
    """The password step alone (scripts and tests): the staff member, or None."""
    return attempt_sign_in(session, email=email, password=password, client_ip=client_ip, now=now).user


# ------------------------------------------------------------ the second-factor ticket
# Between a correct password and a correct code the browser holds a short-lived signed ticket
# (no session yet). It names the account, expires after SECOND_FACTOR_TTL and stops working
# when the password changes.
_TICKET = re.compile(r"^([0-9a-f]{1,32})\.([0-9a-f]{16})\.(\d{1,12})\.([0-9a-f]{64})$")


def _ticket_mac(secret: str, user: StaffUser, nonce: str, expires: str) -> str:
    fingerprint = hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()
    msg = "|".join(("second-factor", user.id, nonce, expires, fingerprint)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def second_factor_ticket(user: StaffUser, *, secret: str, now: datetime) -> str:
    nonce = secrets.token_hex(8)
    expires = str(int((now + SECOND_FACTOR_TTL).timestamp()))
    return f"{user.id}.{nonce}.{expires}.{_ticket_mac(secret, user, nonce, expires)}"


def read_second_factor_ticket(session: Session, ticket: str | None, *, secret: str, now: datetime) -> StaffUser | None:
    """The active staff member waiting for their code, or None (missing, forged, expired, password changed)."""
    m = _TICKET.match(ticket or "")
    if m is None:
        return None
    staff_id, nonce, expires, mac = m.groups()
    if int(expires) < now.timestamp():
        return None
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active or not user.totp_enabled:
        return None
    if not hmac.compare_digest(mac, _ticket_mac(secret, user, nonce, expires)):
        return None
    return user


_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


def _same_work_as_a_check(password: str) -> None:
    """One password hash verification whose result is thrown away."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


# --------------------------------------------------------------------------- sessions
# Server-side sessions: the browser holds a random value, the database only its sha256.
# A session ends after SESSION_IDLE without activity, after SESSION_MAX in any case, and
# when the staff member signs out, is deactivated or has their password changed.
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
SESSION_TOUCH_EVERY = timedelta(seconds=30)  # fewer writes: last_seen_at moves in steps


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    from datetime import timezone

    return dt.replace(tzinfo=timezone.utc)


def hash_token(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start_session(session: Session, *, staff: StaffUser, now: datetime | None = None):
    """Open a session for ``staff``; returns (cookie value, StaffSession). Only the hash is stored."""
    import secrets

    from core.models import StaffSession

    now = now or now_of(session)
    raw = secrets.token_urlsafe(32)
    rec = StaffSession(
        id=hash_token(raw),
        staff_id=staff.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    session.add(rec)
    session.flush()
    return raw, rec


def session_state(rec, *, now: datetime, idle: timedelta = SESSION_IDLE, max_age: timedelta = SESSION_MAX) -> str:
    """'ok', 'ended', 'idle' or 'expired' for a StaffSession at ``now``."""
    if rec.ended_at is not None:
        return "ended"
    if now - _aware(rec.created_at) >= max_age:
        return "expired"
    if now - _aware(rec.last_seen_at) >= idle:
        return "idle"
    return "ok"


def load_session(
    session: Session,
    *,
    cookie_value: str | None,
    now: datetime | None = None,
    touch: bool = True,
    idle: timedelta = SESSION_IDLE,
    max_age: timedelta = SESSION_MAX,
):
    """(StaffSession, StaffUser, 'ok') for a live session, else (None, None, why).

    ``why`` is 'missing', 'ended', 'idle', 'expired' or 'inactive'. A session found
    dead is ended for good. ``touch`` counts the request as activity (idle timer).
    """
    from core.models import StaffSession

    now = now or now_of(session)
    if not cookie_value or len(cookie_value) > 200:
        return None, None, "missing"
    rec = session.get(StaffSession, hash_token(cookie_value))
    if rec is None:
        return None, None, "missing"
    state = session_state(rec, now=now, idle=idle, max_age=max_age)
    if state != "ok":
        if rec.ended_at is None:
            rec.ended_at = now
        return None, None, state
    user = session.get(StaffUser, rec.staff_id)
    if user is None or not user.active:
        rec.ended_at = now
        return None, None, "inactive"
    if touch and now - _aware(rec.last_seen_at) >= SESSION_TOUCH_EVERY:
        rec.last_seen_at = now
    return rec, user, "ok"


def end_session(session: Session, rec, *, now: datetime | None = None) -> None:
    if rec is not None and rec.ended_at is None:
        rec.ended_at = now or now_of(session)


def end_all_sessions(session: Session, *, staff_id: str, now: datetime | None = None, keep_id: str | None = None) -> int:
    """End every live session of one staff member (except ``keep_id``); returns how many."""
    from core.models import StaffSession

    now = now or now_of(session)
    rows = session.execute(
        select(StaffSession).where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
    ).scalars()
    n = 0
    for rec in rows:
        if rec.id != keep_id:
            rec.ended_at = now
            n += 1
    return n


# ------------------------------------------------------------------ account management
def list_staff(session: Session, *, active_only: bool = False) -> list[StaffUser]:
    q = select(StaffUser).order_by(StaffUser.display_name, StaffUser.email)
    if active_only:
        q = q.where(StaffUser.active.is_(True))
    return list(session.execute(q).scalars())


def active_admin_count(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(StaffUser).where(StaffUser.role == "admin", StaffUser.active.is_(True))
    ).scalar_one()


def _would_remove_last_admin(session: Session, user: StaffUser) -> bool:
    return user.role == "admin" and user.active and active_admin_count(session) <= 1


def set_password(
    session: Session, user: StaffUser, password: str, *, now: datetime | None = None, keep_session_id: str | None = None
) -> None:
    """New password (under the policy); every other session of the account ends."""
    user.password_hash = hash_password(password, user_inputs=(user.email, user.display_name))
    end_all_sessions(session, staff_id=user.id, now=now, keep_id=keep_session_id)


def password_matches(user: StaffUser, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def change_own_password(
    session: Session, user: StaffUser, *, current: str, new: str, now: datetime | None = None, keep_session_id: str | None = None
) -> None:
    if not password_matches(user, current):
        raise StaffError("the current password is wrong")
    set_password(session, user, new, now=now, keep_session_id=keep_session_id)


def set_role(session: Session, user: StaffUser, role: str) -> None:
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if role != "admin" and _would_remove_last_admin(session, user):
        raise StaffError("the last active admin cannot lose the admin role")
    user.role = role


def set_active(session: Session, user: StaffUser, active: bool, *, now: datetime | None = None) -> None:
    """Deactivating ends the account's sessions; the last active admin cannot be deactivated."""
    if not active and _would_remove_last_admin(session, user):
        raise StaffError("the last active admin cannot be deactivated")
    user.active = active
    if not active:
        end_all_sessions(session, staff_id=user.id, now=now)


def clear_throttle(session: Session, user: StaffUser) -> int:
    """Forgive the account's recent failed sign-ins (every address); returns how many."""
    return throttle.clear_account(session, email=user.email)


def reset_second_factor(session: Session, user: StaffUser, *, now: datetime | None = None) -> bool:
    """Remove the account's second factor (a lost phone): its sessions end and it enrols again
    (an admin at the next sign-in). True if one was on. The caller audits it."""
    from core import totp

    had = totp.reset(user)
    end_all_sessions(session, staff_id=user.id, now=now)
    return had
