#!/usr/bin/env bash
# Independent check: the service's EdDSA and ES256 tokens verify with PyJWT and cryptography
# (installed from PyPI into .ci/.venv) against the JWKS the service serves.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.ci/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'pyjwt>=2.8' 'cryptography>=42'

# The binary the test suite built (same features, so nothing is rebuilt).
cargo test --workspace --no-run --quiet 2>/dev/null
free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for alg in EdDSA ES256; do
  dir=$(mktemp -d)
  port=$(free_port)
  DATABASE_URL="sqlite://$dir/auth.db" JWT_ALGORITHM="$alg" HOST=127.0.0.1 PORT="$port" \
    RATE_LIMIT_ENABLED=false LOG_LEVEL=warn METRICS_PORT= target/debug/auth-service &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.2
  done
  status=0
  "$venv/bin/python" .ci/pyjwt_check.py "http://127.0.0.1:$port" "$alg" || status=$?
  kill "$pid"
  wait "$pid" || true
  rm -rf "$dir"
  if [ "$status" -ne 0 ]; then
    echo "error: PyJWT did not verify the $alg tokens" >&2
    exit "$status"
  fi
done
