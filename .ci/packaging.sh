#!/usr/bin/env bash
# Packaging and supply chain: what can be checked without a container engine.
# - docker-compose.yml parses and wires what the README promises;
# - the Dockerfile pins its base images, runs as non-root, has a HEALTHCHECK through the
#   binary, and builds with the command CI itself runs (`.ci/run` builds the same release);
# - cargo-deny: licenses, banned crates and sources (advisories need the network; see
#   SECURITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 - <<'PY'
import re, sys, yaml

compose = yaml.safe_load(open("docker-compose.yml"))
services = compose["services"]
app, db = services["app"], services["postgres"]
env = app["environment"]
assert "sslmode=" in env["DATABASE_URL"], "compose: DATABASE_URL names an sslmode"
assert "ssl=on" in db["command"], "compose: PostgreSQL serves TLS"
assert env["METRICS_PORT"], "compose: metrics are on"
assert any(p.startswith("127.0.0.1:") and p.endswith(":9100") for p in app["ports"]), \
    "compose: metrics published on loopback only"
assert db["healthcheck"] and app["depends_on"]["postgres"]["condition"] == "service_healthy"

docker = open("Dockerfile").read()
froms = re.findall(r"^FROM\s+(\S+)", docker, re.M)
assert froms, "Dockerfile: no FROM"
for image in froms:
    name, _, tag = image.partition(":")
    assert re.search(r"\d+\.\d+", tag), f"Dockerfile: {image} is not pinned to a version"
assert re.search(r"^USER\s+(?!root\b|0\b)\S+", docker, re.M), "Dockerfile: runs as root"
assert re.search(r'^HEALTHCHECK .*CMD \["auth-service", "healthcheck"\]', docker, re.M | re.S), \
    "Dockerfile: HEALTHCHECK does not use auth-service healthcheck"
assert re.search(r"^VOLUME ", docker, re.M), "Dockerfile: no volume for the SQLite default"
build = re.findall(r"^RUN (cargo build .*)$", docker, re.M)
assert build == ["cargo build --release --locked -p auth-service"], build
print("packaging: compose file and Dockerfile ok")
PY

# The Dockerfile's build command, as CI runs it (also the binary Schemathesis fuzzes).
cargo build --release --locked -p auth-service

if ! cargo deny --version >/dev/null 2>&1; then
  echo "installing cargo-deny"
  cargo install --locked cargo-deny
fi
cargo deny check licenses bans sources
