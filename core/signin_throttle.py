"""The sign-in throttle: slows password and second-factor guessing without locking the owner out.

NIST SP 800-63B 5.2.2 asks for rate limiting rather than a lock-out, and OWASP ASVS 2.2.1 for
defences against guessing that cannot be turned against the account's owner. A lock-out after
5 failures let anyone keep the on-call nurse out by typing her email five times. Instead, failed
attempts are counted in the database (``login_failures``, so every replica agrees) over a sliding
window, and an attempt over a limit is refused (HTTP 429 with ``Retry-After``) without being
checked. Refused attempts are not counted, so a single address can never push an account over
the account-wide limit by itself.

Limits, each over the last ``WINDOW`` (15 minutes):

- ``PAIR_LIMIT`` failures for one account from one client address: that address waits for
  that account; the owner signing in from anywhere else is not affected;
- ``IP_LIMIT`` failures from one client address, whatever the accounts (password spraying);
- ``ACCOUNT_LIMIT`` failures for one account from browsers it has not signed in from, whatever
  the addresses (a guessing campaign spread over many addresses);
- a browser that has signed in to the account before holds a *device cookie* (OWASP "slow
  brute force defence with device cookies"): its attempts are counted on their own
  (``DEVICE_LIMIT``) and are exempt from the three limits above, so the on-call nurse's own
  phone or workstation still gets in while the account is under attack from elsewhere.

The device cookie only exempts from the throttle; it never replaces the password or the
second factor. Its entries are signed with the service's secret key and expire after
``DEVICE_TTL``. The account is counted by a hash of the email as typed, so the throttle behaves
the same for emails that have no account (no way to learn which accounts exist).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.models import LoginFailure

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5
IP_LIMIT = 30
ACCOUNT_LIMIT = 20
DEVICE_LIMIT = 10
KEEP = timedelta(days=1)  # failures older than this are deleted
DEVICE_TTL = timedelta(days=90)
DEVICE_ENTRIES = 5  # accounts remembered per browser (a shared clinic workstation)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ENTRY = re.compile(r"^([0-9a-f]{1,32})\.([0-9a-f]{24})\.(\d{1,6})\.([0-9a-f]{32})$")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until an attempt would be checked again
    limit: str = ""  # which limit refused it: pair | ip | account | device

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def account_key(email: str) -> str:
    return hashlib.sha256(("staff-login|" + email.strip().lower()).encode("utf-8")).hexdigest()


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _wait(times: list[datetime], limit: int, now: datetime) -> int:
    """Seconds until fewer than ``limit`` of ``times`` (sorted, oldest first) are inside the window."""
    if len(times) < limit:
        return 0
    frees_at = _aware(times[len(times) - limit]) + WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))


def _times(session: Session, *conditions, since: datetime) -> list[datetime]:
    q = select(LoginFailure.at).where(LoginFailure.at > since, *conditions).order_by(LoginFailure.at)
    return list(session.execute(q).scalars())


def check(session: Session, *, email: str, client_ip: str, device: str | None, now: datetime) -> Verdict:
    """May this attempt be checked now? (Called before the password or the code is looked at.)"""
    since = now - WINDOW
    key = account_key(email)
    if device:
        wait = _wait(_times(session, LoginFailure.device == device, since=since), DEVICE_LIMIT, now)
        return Verdict(False, wait, "device") if wait else Verdict(True)
    checks = (
        ("pair", PAIR_LIMIT, (LoginFailure.account_key == key, LoginFailure.client_ip == client_ip)),
        ("ip", IP_LIMIT, (LoginFailure.client_ip == client_ip,)),
        ("account", ACCOUNT_LIMIT, (LoginFailure.account_key == key, LoginFailure.device.is_(None))),
    )
    worst = Verdict(True)
    for name, limit, conditions in checks:
        wait = _wait(_times(session, *conditions, since=since), limit, now)
        if wait > worst.retry_after:
            worst = Verdict(False, wait, name)
    return worst


def record_failure(
    session: Session, *, email: str, client_ip: str, device: str | None, now: datetime, kind: str = "password"
) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))
    session.add(LoginFailure(at=now, client_ip=client_ip[:64], account_key=account_key(email), device=device, kind=kind))
    session.flush()


def clear_after_success(session: Session, *, email: str, client_ip: str, device: str | None) -> None:
    """A successful sign-in forgives the failures of this account from this address (or device)."""
    key = account_key(email)
    session.execute(delete(LoginFailure).where(LoginFailure.account_key == key, LoginFailure.client_ip == client_ip))
    if device:
        session.execute(delete(LoginFailure).where(LoginFailure.device == device))


def clear_account(session: Session, *, email: str) -> int:
    """An admin lifts the throttle on an account (every address); returns how many failures were forgiven."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key(email)))
    return result.rowcount or 0


def recent_failures(session: Session, *, email: str, now: datetime) -> int:
    """Failures for this account in the current window (shown to admins on the staff page)."""
    return len(_times(session, LoginFailure.account_key == account_key(email), since=now - WINDOW))


# ------------------------------------------------------------------ device cookies
def _sign(secret: str, *parts: str) -> str:
    msg = "|".join(("staff-device", *parts)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()[:32]


def _days(now: datetime) -> int:
    return (now - _EPOCH).days


def device_for(cookie: str | None, *, staff_id: str, secret: str, now: datetime) -> str | None:
    """The nonce of a valid, unexpired device-cookie entry for ``staff_id``, else None."""
    if not cookie or len(cookie) > 1000:
        return None
    for entry in cookie.split("-")[:DEVICE_ENTRIES]:
        m = _ENTRY.match(entry)
        if m is None or m.group(1) != staff_id:
            continue
        sid, nonce, day, sig = m.groups()
        if not hmac.compare_digest(sig, _sign(secret, sid, nonce, day)):
            continue
        if _days(now) - int(day) > DEVICE_TTL.days:
            continue
        return nonce
    return None


def add_device(cookie: str | None, *, staff_id: str, secret: str, now: datetime) -> str:
    """The device cookie after a successful sign-in: a fresh entry for ``staff_id`` first, then
    the browser's other valid entries (other accounts on a shared workstation)."""
    day = str(_days(now))
    nonce = secrets.token_hex(12)
    entries = [f"{staff_id}.{nonce}.{day}.{_sign(secret, staff_id, nonce, day)}"]
    for entry in (cookie or "").split("-")[: DEVICE_ENTRIES * 2]:
        m = _ENTRY.match(entry)
        if m is None or m.group(1) == staff_id:
            continue
        if device_for(entry, staff_id=m.group(1), secret=secret, now=now) is not None:
            entries.append(entry)
    return "-".join(entries[:DEVICE_ENTRIES])
