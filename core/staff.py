"""Staff accounts: argon2-hashed passwords, roles, lockout after repeated failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import StaffUser

ROLES = ("admin", "clinician", "frontdesk")
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
    now = now or utcnow()
    user = by_email(session, email)
    if user is None:
        # same work as a real check so timing does not reveal which emails exist
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        return None
    if not user.active:
        return None
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        from datetime import timezone

        locked_until = locked_until.replace(tzinfo=timezone.utc)
    if locked_until is not None and locked_until > now:
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
