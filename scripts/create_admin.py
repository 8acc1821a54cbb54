"""Create a staff account (by default the first admin).

    python scripts/create_admin.py --email nurse@clinic.example --name "Dana Lee"

The password is read from AFTERCARE_ADMIN_PASSWORD, or asked for twice (not echoed).
The database is AFTERCARE_DATABASE_URL (migrated first, so a fresh install works).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core import audit, staff  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.settings import SettingsError, load_settings  # noqa: E402


def _password(env: dict[str, str]) -> str:
    from_env = env.get("AFTERCARE_ADMIN_PASSWORD", "")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise SystemExit("Set AFTERCARE_ADMIN_PASSWORD, or run this in a terminal to type the password.")
    first = getpass.getpass(f"Password ({staff.MIN_PASSWORD}+ characters): ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise SystemExit("The passwords differ; nothing was created.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create a staff account for the inbox (default role: admin).")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True, help="the name shown in the inbox and the audit log")
    parser.add_argument("--role", default="admin", choices=staff.ROLES)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    password = _password(dict(os.environ))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
