"""Staff sign-in rules without HTTP (issue 16, item 6): the password policy, the throttle that
replaces the lock-out, device cookies, the second-factor ticket and TOTP, on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import passwords, totp
from core import signin_throttle as throttle
from core import staff as staff_service
from core.db import session_scope

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery staple"
SECRET = "unit-test-secret-0123456789abcdef0123"


@pytest.fixture
def s(session_factory):
    with session_scope(session_factory) as session:
        yield session


def _staff(s, email="nurse@clinic.test", role="clinician"):
    return staff_service.create_staff(s, email=email, display_name="Nurse Joy", role=role, password=PASSWORD)


# -------------------------------------------------------------------- password policy
@pytest.mark.parametrize(
    "weak",
    [
        "password1234",  # issue 16: accepted before (12 characters)
        "PASSWORD1234",
        "Password1234!",
        "123456789012",
        "qwertyuiop123",
        "iloveyou2026!!",
        "monkeymonkeymonkey",
        "aaaaaaaaaaaaaaaa",
        "abcabcabcabc",
        "12345678901234567890",
        "nursejoy2026!",  # the staff member's own name
    ],
)
def test_common_breached_and_guessable_passwords_are_refused(weak):
    why = passwords.problem(weak, user_inputs=("nurse@clinic.test", "Nurse Joy"))
    assert why is not None, weak
    assert "common" in why or "guess" in why or "your own name" in why


@pytest.mark.parametrize(
    "good",
    [
        PASSWORD,
        "another long password",
        "a quiet heron waits by the mill pond",
        "Tr0ub4dour&3 is not my horse",
        "ünïcödé pässwörd with spaces",
        "x" * 3 + "-glacier-pianist-77-teapot",
        "w" * 0 + "a" * 0 + "9fK#2mQz!vL7pR",
    ],
)
def test_long_unusual_passwords_and_pass_phrases_are_accepted(good):
    assert passwords.problem(good) is None, good


def test_length_limits():
    assert "at least 12" in passwords.problem("Xk9#mQ2!vL7")
    assert passwords.problem("glacier pianist teapot marmalade " * 3 + "x" * 20) is None  # 119 characters
    assert "at most 128" in passwords.problem("glacier pianist teapot " * 6)
    with pytest.raises(staff_service.StaffError, match="common"):
        staff_service.hash_password("password1234")


def test_the_policy_applies_to_new_accounts_and_to_every_password_change(s):
    with pytest.raises(staff_service.StaffError, match="common"):
        staff_service.create_staff(s, email="a@clinic.test", display_name="A", role="clinician", password="password1234")
    user = _staff(s)
    with pytest.raises(staff_service.StaffError, match="common"):
        staff_service.set_password(s, user, "Password1234!", now=T0)
    with pytest.raises(staff_service.StaffError, match="common"):
        staff_service.change_own_password(s, user, current=PASSWORD, new="letmein12345", now=T0)


# --------------------------------------------------------------------------- throttle
def _fail(s, email="nurse@clinic.test", ip="198.51.100.1", device=None, n=1, at=T0):
    for _ in range(n):
        throttle.record_failure(s, email=email, client_ip=ip, device=device, now=at)


def test_the_pair_limit_slows_one_address_for_one_account_and_slides(s):
    _fail(s, n=throttle.PAIR_LIMIT - 1)
    assert throttle.check(s, email="nurse@clinic.test", client_ip="198.51.100.1", device=None, now=T0).allowed
    _fail(s, at=T0 + timedelta(minutes=5))
    v = throttle.check(s, email="Nurse@Clinic.test ", client_ip="198.51.100.1", device=None, now=T0 + timedelta(minutes=5))
    assert (v.allowed, v.limit, v.retry_after, v.minutes) == (False, "pair", 600, 10)  # the oldest leaves at T0+15
    # other addresses, and other accounts from this address, are not affected
    assert throttle.check(s, email="nurse@clinic.test", client_ip="203.0.113.9", device=None, now=T0).allowed
    assert throttle.check(s, email="other@clinic.test", client_ip="198.51.100.1", device=None, now=T0).allowed
    assert throttle.check(
        s, email="nurse@clinic.test", client_ip="198.51.100.1", device=None, now=T0 + timedelta(minutes=15)
    ).allowed


def test_the_address_limit_catches_spraying_across_accounts(s):
    for i in range(throttle.IP_LIMIT):
        _fail(s, email=f"u{i}@clinic.test")
    v = throttle.check(s, email="nurse@clinic.test", client_ip="198.51.100.1", device=None, now=T0)
    assert (v.allowed, v.limit) == (False, "ip")


def test_the_account_limit_spares_browsers_the_owner_signed_in_from(s):
    user = _staff(s)
    cookie = throttle.add_device(None, staff_id=user.id, secret=SECRET, now=T0)
    device = throttle.device_for(cookie, staff_id=user.id, secret=SECRET, now=T0)
    assert device
    for i in range(throttle.ACCOUNT_LIMIT):
        _fail(s, ip=f"198.51.100.{i}")
    v = throttle.check(s, email=user.email, client_ip="203.0.113.1", device=None, now=T0)
    assert (v.allowed, v.limit) == (False, "account")
    assert throttle.check(s, email=user.email, client_ip="203.0.113.1", device=device, now=T0).allowed
    # the device has a limit of its own
    _fail(s, device=device, n=throttle.DEVICE_LIMIT)
    assert throttle.check(s, email=user.email, client_ip="203.0.113.1", device=device, now=T0).limit == "device"


def test_device_cookies_are_signed_per_account_and_expire(s):
    cookie = throttle.add_device(None, staff_id="a" * 32, secret=SECRET, now=T0)
    cookie = throttle.add_device(cookie, staff_id="b" * 32, secret=SECRET, now=T0)  # a shared workstation
    assert throttle.device_for(cookie, staff_id="a" * 32, secret=SECRET, now=T0)
    assert throttle.device_for(cookie, staff_id="b" * 32, secret=SECRET, now=T0)
    assert throttle.device_for(cookie, staff_id="c" * 32, secret=SECRET, now=T0) is None
    assert throttle.device_for(cookie, staff_id="a" * 32, secret="another-secret-0123456789abcdef", now=T0) is None
    forged = cookie.replace("a" * 32, "c" * 32)
    assert throttle.device_for(forged, staff_id="c" * 32, secret=SECRET, now=T0) is None
    later = T0 + throttle.DEVICE_TTL + timedelta(days=1)
    assert throttle.device_for(cookie, staff_id="a" * 32, secret=SECRET, now=later) is None
    for junk in ("", "x" * 2000, "a.b.c.d", "-" * 10):
        assert throttle.device_for(junk, staff_id="a" * 32, secret=SECRET, now=T0) is None


def test_refused_attempts_are_not_counted_and_success_forgives_the_address(s):
    user = _staff(s)
    ip = "198.51.100.1"
    for _ in range(throttle.PAIR_LIMIT):
        assert staff_service.attempt_sign_in(s, email=user.email, password="wrong!", client_ip=ip, now=T0).user is None
    for _ in range(10):
        assert staff_service.attempt_sign_in(s, email=user.email, password="wrong!", client_ip=ip, now=T0).throttled
    assert throttle.recent_failures(s, email=user.email, now=T0) == throttle.PAIR_LIMIT
    attempt = staff_service.attempt_sign_in(s, email=user.email, password=PASSWORD, client_ip="203.0.113.5", now=T0)
    assert attempt.user is not None
    staff_service.complete_sign_in(s, attempt.user, client_ip="203.0.113.5", device=None, now=T0)
    assert throttle.recent_failures(s, email=user.email, now=T0) == throttle.PAIR_LIMIT  # not this address's
    assert staff_service.clear_throttle(s, user) == throttle.PAIR_LIMIT  # an admin forgives them
    assert throttle.check(s, email=user.email, client_ip=ip, device=None, now=T0).allowed


def test_old_failures_are_deleted(s):
    from core.models import LoginFailure

    _fail(s, n=3, at=T0)
    _fail(s, at=T0 + throttle.KEEP + timedelta(minutes=1))
    assert s.query(LoginFailure).count() == 1


# ------------------------------------------------------------------------------ TOTP
def test_totp_enrolment_needs_a_matching_code_and_a_code_is_accepted_once(s):
    user = _staff(s)
    secret = totp.begin_enrolment(user)
    assert totp.begin_enrolment(user) == secret  # a reload shows the same secret
    assert len(secret) == 32 and not user.totp_enabled
    assert "otpauth://totp/" in totp.provisioning_uri(secret, email=user.email)
    with pytest.raises(totp.TotpError):
        totp.confirm_enrolment(s, user, "not a code", now=T0)
    totp.confirm_enrolment(s, user, totp.code_at(secret, T0), now=T0)
    assert user.totp_enabled
    assert not totp.verify(s, user, totp.code_at(secret, T0), now=T0)  # the enrolment code is used up
    code = totp.code_at(secret, T0 + timedelta(seconds=30))
    assert totp.verify(s, user, code, now=T0 + timedelta(seconds=40))
    assert not totp.verify(s, user, code, now=T0 + timedelta(seconds=45))  # replay
    # drift: one step either side; not two
    assert totp.verify(s, user, totp.code_at(secret, T0 + timedelta(seconds=120)), now=T0 + timedelta(seconds=95))
    assert not totp.verify(s, user, totp.code_at(secret, T0 + timedelta(seconds=300)), now=T0 + timedelta(seconds=240))
    # an older step than the last accepted one is refused even inside the drift window
    assert not totp.verify(s, user, totp.code_at(secret, T0 + timedelta(seconds=90)), now=T0 + timedelta(seconds=100))
    spaced = totp.code_at(secret, T0 + timedelta(seconds=600))
    assert totp.verify(s, user, f"{spaced[:3]} {spaced[3:]}", now=T0 + timedelta(seconds=600))


def test_totp_works_years_ahead(s):
    """The clock, not the wall, decides the step (the suite also runs under faketime)."""
    user = _staff(s)
    later = T0 + timedelta(days=3 * 365 + 17)
    secret = totp.begin_enrolment(user)
    totp.confirm_enrolment(s, user, totp.code_at(secret, later), now=later)
    assert totp.verify(s, user, totp.code_at(secret, later + timedelta(seconds=30)), now=later + timedelta(seconds=30))


def test_the_second_factor_ticket_is_signed_short_lived_and_dies_with_a_password_change(s):
    user = _staff(s)
    secret = totp.begin_enrolment(user)
    totp.confirm_enrolment(s, user, totp.code_at(secret, T0), now=T0)
    ticket = staff_service.second_factor_ticket(user, secret=SECRET, now=T0)
    assert staff_service.read_second_factor_ticket(s, ticket, secret=SECRET, now=T0 + timedelta(minutes=4)) is user
    assert staff_service.read_second_factor_ticket(s, ticket, secret=SECRET, now=T0 + timedelta(minutes=6)) is None
    assert staff_service.read_second_factor_ticket(s, ticket, secret="another-secret-0123456789abcdef", now=T0) is None
    forged = ticket[:-1] + ("1" if ticket.endswith("0") else "0")  # one hex digit of the MAC changed, never the same
    assert forged != ticket
    assert staff_service.read_second_factor_ticket(s, forged, secret=SECRET, now=T0) is None
    staff_service.set_password(s, user, "a brand new pass phrase", now=T0)
    assert staff_service.read_second_factor_ticket(s, ticket, secret=SECRET, now=T0) is None


def test_resetting_the_second_factor_ends_the_sessions(s):
    user = _staff(s, role="admin")
    secret = totp.begin_enrolment(user)
    totp.confirm_enrolment(s, user, totp.code_at(secret, T0), now=T0)
    raw, _ = staff_service.start_session(s, staff=user, now=T0)
    assert staff_service.reset_second_factor(s, user, now=T0) is True
    assert not user.totp_enabled and user.totp_secret is None
    assert staff_service.load_session(s, cookie_value=raw, now=T0)[2] == "ended"
