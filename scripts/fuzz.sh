#!/usr/bin/env bash
# `make fuzz`: schemathesis over the live OpenAPI of the real API (issue 16, item 12).
#
# Starts the API (uvicorn, the real app factory) on a free loopback port against a fresh SQLite
# database in a temporary folder, migrated like a first install (no demo data), in the test
# environment (the schema is served outside production only). Rasa is not started: the chat
# answers through the same safe fallback it uses when the assistant is down, so every response
# shape of the contract is still exercised, and /healthz answers its documented 503.
# Twilio's webhooks answer their documented 403 (no valid signature can be generated).
#
# Then runs every schemathesis phase (examples, coverage, fuzzing, stateful) with every check,
# FUZZ_MAX_EXAMPLES (default 1000) cases per operation, the integration API's bearer token, and
# schemathesis.toml (the few narrow, explained exceptions). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-.venv/bin/python}
ST=${ST:-.venv-fuzz/bin/schemathesis}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-1000}
SEED=${FUZZ_SEED:-}
WORKERS=${FUZZ_WORKERS:-2}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aftercare-fuzz.XXXXXX")
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=fuzz-$($PY -c 'import secrets; print(secrets.token_urlsafe(24))')
export AFTERCARE_ENV=test
export AFTERCARE_DATA_DIR=$WORK/data
export AFTERCARE_DATABASE_URL=sqlite:///$WORK/fuzz.db
export AFTERCARE_API_TOKEN=$TOKEN
export AFTERCARE_SECRET_KEY=fuzz-secret-$($PY -c 'import secrets; print(secrets.token_hex(16))')
export AFTERCARE_PORT=$PORT
export AFTERCARE_DEMO_DATA=0
# one client (the fuzzer) opens thousands of sessions: lift the per-client limits so the stateful
# phase reaches the message routes instead of 429 (the limits are tested in test_client_limits.py)
export AFTERCARE_CHAT_SESSIONS_PER_HOUR=1000000
export AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE=1000000
export AFTERCARE_LOG_LEVEL=${AFTERCARE_LOG_LEVEL:-WARNING}
export PYTHONPATH=$ROOT

API_PID=
cleanup() {
  if [ -n "$API_PID" ] && kill -0 "$API_PID" 2>/dev/null; then
    kill "$API_PID" 2>/dev/null || true
    wait "$API_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

$PY -m api.cli migrate >/dev/null
$PY -m uvicorn api.app:create_app --factory --host 127.0.0.1 --port "$PORT" --no-server-header --ws none \
  --log-level warning >"$WORK/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz/live" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$API_PID" 2>/dev/null; then cat "$WORK/api.log"; echo "the API did not start" >&2; exit 1; fi
  sleep 0.5
done

start=$(date +%s)
set +e
$ST --config-file "$ROOT/schemathesis.toml" run "http://127.0.0.1:$PORT/openapi.json" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" \
  --workers "$WORKERS" \
  --header "Authorization: Bearer $TOKEN" \
  --continue-on-failure \
  --generation-database none \
  --request-timeout 30 \
  --suppress-health-check too_slow,filter_too_much \
  --no-color \
  ${SEED:+--seed "$SEED"} \
  "$@"
rc=$?
set -e
echo "schemathesis exit code $rc; wall time $(( $(date +%s) - start ))s; $MAX_EXAMPLES cases per operation"
# the fuzzer must reach the product, not only its validation: patients really created from generated bodies
$PY - "$WORK/fuzz.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = lambda table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
print(f"created by the fuzzer: {n('patients')} patients, {n('treatments')} treatments, "
      f"{n('conversations')} chat sessions, {n('messages')} messages, {n('escalations')} escalations")
PYEOF
if grep -E "Traceback|Internal Server Error" "$WORK/api.log" >/dev/null; then
  echo "== the API logged errors:"; grep -E -B2 -A30 "Traceback" "$WORK/api.log" | head -200
  rc=1
fi
exit $rc
