#!/usr/bin/env bash
# Real-browser check of Swagger UI (/docs/) and ReDoc (/redoc): builds auth-service, starts it
# on a free local port with a throwaway SQLite database, runs swagger.mjs in headless system
# chromium against it, and always stops it. Exit status: the browser check's.
#
# Needs: cargo, node >= 20 with npm, and /usr/bin/chromium (installed with apt-get when
# missing, as root or through sudo). Works from any directory, with or without a TTY.
# Screenshots: ${SCREENSHOT_DIR:-target/browser}/{swagger,redoc}.png (relative to the repo root).
# AUTH_SERVICE_BIN names an auth-service binary built already (CI passes the one its test run
# built); without it the script builds one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
started=$SECONDS

log() { echo "browser: $*"; }

# 1. Chromium (Debian's package; playwright's own browser downloads are not used).
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  log "installing chromium with apt-get"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  apt_log="$(mktemp)"
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    echo "error: could not install chromium with apt-get" >&2
    exit 1
  fi
  rm -f "$apt_log"
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "error: apt-get installed chromium but $CHROMIUM_PATH is missing" >&2
    exit 1
  fi
fi

# 2. playwright-core, exactly as package-lock.json says; reinstalled when the lock changed.
stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

# 3. The service.
if [ -n "${AUTH_SERVICE_BIN:-}" ]; then
  bin="$AUTH_SERVICE_BIN"
else
  cargo build -p auth-service
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/auth-service"
fi
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac

# 4. Start it: free port, throwaway database and key, run from the temp dir so that a
#    developer's .env in the repo root is not read.
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
base_url="http://127.0.0.1:$port"
jwt_secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
(
  cd "$tmp"
  PORT="$port" METRICS_PORT= HOST=127.0.0.1 DATABASE_URL="sqlite://$tmp/browser.db" \
    JWT_SECRET_KEY="$jwt_secret" LOG_LEVEL=warn exec "$bin"
) >"$tmp/server.log" 2>&1 &
server_pid=$!

# 5. Wait for /health (60 s at most).
healthy=""
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' \
    "$base_url/health" 2>/dev/null; then
    healthy=1
    break
  fi
  sleep 0.5
done
if [ -z "$healthy" ]; then
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "error: auth-service did not answer $base_url/health within 60 s; its log:" >&2
  else
    echo "error: auth-service exited before answering $base_url/health; its log:" >&2
  fi
  cat "$tmp/server.log" >&2
  exit 1
fi
log "auth-service is up at $base_url"

# 6. The browser check.
status=0
BASE_URL="$base_url" node "$here/swagger.mjs" || status=$?
if [ "$status" -ne 0 ] && [ -s "$tmp/server.log" ]; then
  echo "--- auth-service log ---" >&2
  cat "$tmp/server.log" >&2
fi
log "done in $((SECONDS - started)) s"
exit "$status"
