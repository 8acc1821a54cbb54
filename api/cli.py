"""Operator commands: prepare the database, create a staff account.

    python -m api.cli migrate
    python -m api.cli create-admin --email nurse@clinic.example --name "Dana Lee" [--role admin]
    python -m api.cli reset-totp nurse@clinic.example

`migrate` applies the migrations and the first-install defaults (core/bootstrap.py), never demo data.
`create-admin` creates a staff account (by default the first admin). The password is read from
AFTERCARE_ADMIN_PASSWORD, or asked for twice (not echoed). The database is AFTERCARE_DATABASE_URL
(migrated first, so a fresh install works). The password must follow the policy (core/passwords.py:
12 to 128 characters, not a common or easily guessed password). An admin sets up two-factor sign-in
(an authenticator app) at the first sign-in, before anything else in the inbox opens.
`reset-totp` removes a staff member's second factor (a lost phone) and ends their sessions; it is
audited. An admin then sets it up again at the next sign-in.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from core import audit, staff
from core.bootstrap import bootstrap, migrate
from core.clock import SystemClock
from core.db import make_engine, make_session_factory, session_scope
from core.settings import SettingsError, load_settings


def _password(env: dict[str, str]) -> str:
    from_env = env.get("AFTERCARE_ADMIN_PASSWORD", "")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise SystemExit("Set AFTERCARE_ADMIN_PASSWORD, or run this in a terminal to type the password.")
    first = getpass.getpass(f"Password ({staff.MIN_PASSWORD}+ characters, not a common password): ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise SystemExit("The passwords differ; nothing was created.")
    return first


def create_admin(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    password = _password(dict(os.environ))
    migrate(settings)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine, SystemClock(settings.clinic_timezone))) as session:
            user = staff.create_staff(session, email=args.email, display_name=args.name, role=args.role, password=password)
            audit.record(
                session,
                actor_id=None,
                actor_label="create_admin script",
                action="staff.create",
                object_type="staff",
                object_id=user.id,
                detail=f"role={user.role}",
            )
            user_id = user.id
    except staff.StaffError as exc:
        print(f"Not created: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Created {args.role} {args.email.strip().lower()} (id {user_id}). Sign in at {settings.public_url}/inbox/login")
    if args.role == "admin":
        print("At the first sign-in, set up two-factor sign-in with an authenticator app (required for admins).")
    return 0


def reset_totp(args: argparse.Namespace) -> int:
    """A lost phone: remove the staff member's second factor and end their sessions (audited)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine, SystemClock(settings.clinic_timezone))) as session:
            user = staff.by_email(session, args.email)
            if user is None:
                print(f"No staff member with the email {args.email.strip().lower()}.", file=sys.stderr)
                return 1
            had = staff.reset_second_factor(session, user)
            audit.record(
                session,
                actor_id=None,
                actor_label="reset-totp script",
                action="staff.totp_reset",
                object_type="staff",
                object_id=user.id,
                detail="" if had else "was off",
            )
            email, role = user.email, user.role
    finally:
        engine.dispose()
    state = "removed" if had else "was not on (any unfinished set-up was removed)"
    print(f"Two-factor sign-in for {email} {state}; their sessions ended.")
    if role == "admin":
        print("They set it up again at their next sign-in.")
    return 0


def migrate_database(_args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    bootstrap(settings, demo_data=False)
    print("Database migrated; first-install defaults in place.")
    return 0


def verify_audit(_args: argparse.Namespace) -> int:
    """Check the audit log's hash chain: exit 0 when intact, 1 (with the first broken ids) when not."""
    from core import audit
    from core.clock import SystemClock
    from core.db import make_engine, make_session_factory, session_scope

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine, SystemClock())) as s:
            broken = audit.verify_chain(s)
    finally:
        engine.dispose()
    if broken:
        print(f"The audit log's hash chain is BROKEN at entries {broken[:20]} ({len(broken)} in all).", file=sys.stderr)
        return 1
    print("The audit log's hash chain is intact.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.cli", description="Operator commands of the aftercare service.")
    commands = parser.add_subparsers(dest="command", required=True)
    mig = commands.add_parser("migrate", help="apply the database migrations and the first-install defaults")
    mig.set_defaults(run=migrate_database)
    admin = commands.add_parser("create-admin", help="create a staff account for the inbox (default role: admin)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True, help="the name shown in the inbox and the audit log")
    admin.add_argument("--role", default="admin", choices=staff.ROLES)
    admin.set_defaults(run=create_admin)
    reset = commands.add_parser("reset-totp", help="remove a staff member's two-factor sign-in (a lost phone); audited")
    reset.add_argument("email")
    reset.set_defaults(run=reset_totp)
    verify = commands.add_parser("verify-audit", help="check the audit log's hash chain (tamper evidence)")
    verify.set_defaults(run=verify_audit)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
