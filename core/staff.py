"""Staff accounts: argon2-hashed passwords, roles, lockout after repeated failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import now_of
from core.enums import ROLES
from core.models import StaffUser

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12

_hasher = PasswordHasher()


class StaffError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"password must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def create_staff(session: Session, *, email: str, display_name: str, role: str, password: str) -> StaffUser:
    email = email.strip().lower()
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise StaffError("a valid email is required")
    if by_email(session, email) is not None:
        raise StaffError("a staff member with this email already exists")
    user = StaffUser(email=email, display_name=display_name.strip() or email, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def by_email(session: Session, email: str) -> StaffUser | None:
    return session.execute(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())).scalar_one_or_none()


def authenticate(session: Session, *, email: str, password: str, now: datetime | None = None) -> StaffUser | None:
    """The staff member if the password is right and the account is usable; counts failures and locks."""
    now = now or now_of(session)
    user = by_email(session, email)
    if user is None or not user.active:
        _same_work_as_a_check(password)  # timing does not reveal which emails exist or are inactive
        return None
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        from datetime import timezone

        locked_until = locked_until.replace(tzinfo=timezone.utc)
    if locked_until is not None and locked_until > now:
        _same_work_as_a_check(password)  # a locked account answers as slowly as any other (no oracle)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
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
def is_locked(user: StaffUser, now: datetime) -> bool:
    until = _aware(user.locked_until)
    return until is not None and until > now


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
    """New password; every other session of the account ends."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_all_sessions(session, staff_id=user.id, now=now, keep_id=keep_session_id)


def change_own_password(
    session: Session, user: StaffUser, *, current: str, new: str, now: datetime | None = None, keep_session_id: str | None = None
) -> None:
    try:
        _hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise StaffError("the current password is wrong") from exc
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


def unlock(session: Session, user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None
