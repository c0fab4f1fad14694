#!/usr/bin/env bash
# Schemathesis (installed from PyPI into .ci/.schemathesis-venv) fuzzes every operation of
# /openapi.json against the release binary, on SQLite and then on PostgreSQL: every check,
# the stateful links, a fixed seed and a bounded number of examples. Any failure fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SCHEMATHESIS_VERSION=4.32.5
readonly SEED=20240115
readonly MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
venv=.ci/.schemathesis-venv
if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --release --locked -p auth-service
binary=target/release/auth-service

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

workdir=$(mktemp -d)
server_pid=
pg_database=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_database" ]; then psql -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# Starts the binary on DATABASE_URL=$1 with throttling off and the weakest accepted Argon2id
# parameters (hashing speed is not what is tested here), and waits for /health.
start_server() {
  port=$(free_port)
  base="http://127.0.0.1:$port"
  DATABASE_URL="$1" HOST=127.0.0.1 PORT="$port" RATE_LIMIT_ENABLED=false METRICS_PORT= \
    ARGON2_MEMORY_KIB=7168 ARGON2_ITERATIONS=5 ARGON2_PARALLELISM=1 \
    JWT_SECRET_KEY="schemathesis-only-secret-key-of-at-least-32-bytes" LOG_LEVEL=error \
    "$binary" >"$workdir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "error: the server did not start on $1" >&2
  cat "$workdir/server.log" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=
}

# Registers user $1 and signs in; prints the access token for the bearer operations.
access_token() {
  local body="{\"email\":\"$1@example.com\",\"username\":\"$1\",\"password\":\"schemathesis fuzzing passphrase\"}"
  curl -fsS -H 'Content-Type: application/json' -d "$body" "$base/auth/register" >/dev/null
  sign_in "$1"
}

# Signs user $1 in again; prints the new session's access token.
sign_in() {
  curl -fsS -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"schemathesis fuzzing passphrase\"}" "$base/auth/login" \
    | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Prints the session id (`sid`) an access token carries.
session_of() {
  "$venv/bin/python" -c '
import base64, json, sys
payload = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"])' "$1"
}

# Runs every phase and check against the running server; fails on any failure or error.
fuzz() {
  local backend=$1
  echo "Schemathesis against $backend ($base)"
  # Operations that end sessions sign out users of their own, so the other operations keep
  # a live token for the whole run; the session to revoke is another one of its user.
  local revoke_token
  revoke_token=$(access_token fuzz-revoke)
  ACCESS_TOKEN=$(access_token fuzzer) LOGOUT_ALL_TOKEN=$(access_token fuzz-logout-all) \
    REVOKE_TOKEN=$revoke_token REVOKE_SESSION_ID=$(session_of "$(sign_in fuzz-revoke)") \
    "$venv/bin/st" --config-file .ci/schemathesis.toml run \
    "$base/openapi.json" --seed "$SEED" --max-examples "$MAX_EXAMPLES" --workers 1 \
    || { echo "error: Schemathesis found failures on $backend" >&2; tail -n 50 "$workdir/server.log" >&2; exit 1; }
}

start_server "sqlite://$workdir/auth.db"
fuzz SQLite
stop_server

: "${TEST_DATABASE_URL:?TEST_DATABASE_URL must name the PostgreSQL server}"
pg_database="schemathesis_$$_$(date +%s)"
psql -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $pg_database"
start_server "${TEST_DATABASE_URL%/*}/$pg_database"
fuzz PostgreSQL
stop_server
