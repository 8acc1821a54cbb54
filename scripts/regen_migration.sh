#!/usr/bin/env bash
# Regenerate the single initial migration from core/models.py (pre-release only: no deployed
# database exists yet, so the schema is still one migration). Usage: scripts/regen_migration.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial_schema.py
AFTERCARE_DATABASE_URL="sqlite:///$tmp/gen.db" "$PY" -m alembic revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null
rm -rf "$tmp"
echo "regenerated migrations/versions/0001_initial_schema.py"
