#!/usr/bin/env bash
# The benchmark in one command: builds the release binaries, installs wrk if it is missing,
# then runs bench/run.py (see its docstring). Usage: bench/run.sh [sqlite|postgres] [options]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    echo "error: the load generator wrk is missing; install it (Debian: sudo apt-get install wrk)" >&2
    exit 1
  fi
fi
cargo build --release -p auth-service -p auth-bench
exec python3 bench/run.py "$@"
