#!/usr/bin/env bash
# Regenerate the single initial migration from core/models.py (pre-release only: no deployed
# database exists yet, so the schema is still one migration). Usage: scripts/regen_migration.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial_schema.py
# later, hand-written migrations (e.g. 0002 the audit triggers) stand aside while 0001 is regenerated
mkdir -p "$tmp/later"
find migrations/versions -maxdepth 1 -name '0*.py' ! -name '0001_*' -exec mv {} "$tmp/later/" \;
AFTERCARE_DATABASE_URL="sqlite:///$tmp/gen.db" "$PY" -m alembic revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null
mv "$tmp"/later/*.py migrations/versions/ 2>/dev/null || true
rm -rf "$tmp"
echo "regenerated migrations/versions/0001_initial_schema.py"
