#!/usr/bin/env python3
"""Login timing benchmark: are the four kinds of login failure told apart by response time?

Builds and starts the real release binary (unless --base-url is given), prepares accounts
through the API, then times POST /auth/login for four kinds of failure, interleaved:

  unknown    a username that does not exist
  wrong      an existing, active account with a wrong password
  inactive   a deactivated account with its correct password
  locked     an account locked by repeated failures, with its correct password

Every response must be 401 INVALID_CREDENTIALS with the same body apart from request_id and
timestamp; anything else aborts (exit 1). Otherwise the script prints a table of medians and
exits 0: it is a measurement, not a test. Standard library only. See bench/README.md.
"""

import argparse
import http.client
import json
import math
import os
import random
import secrets
import socket
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

KINDS = ("unknown", "wrong", "inactive", "locked")
PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "correct horse battery stable"  # same length, one letter off
VOLATILE_FIELDS = ("request_id", "timestamp")
# Headers that legitimately differ from one response to the next.
VOLATILE_HEADERS = {"date", "x-request-id"}
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BenchError(Exception):
    """Wrong response or server failure: the run is void."""


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_secret(length=64):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


# --------------------------------------------------------------------------------------------
# Server


class Server:
    """The release binary in a temporary directory, with benchmark settings."""

    def __init__(self, binary, workdir, lock_after, startup_timeout):
        self.binary = binary
        self.workdir = workdir
        self.db_path = os.path.join(workdir, "bench.db")
        self.log_path = os.path.join(workdir, "server.log")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.proc = None
        self.log_file = None
        # A minimal environment, so no DATABASE_URL, PASSWORD_HASH_SCHEME, ... of the caller's
        # shell leaks in; the working directory has no .env either.
        self.env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
        self.env.update(
            {
                "DATABASE_URL": f"sqlite://{self.db_path}",
                "JWT_SECRET_KEY": random_secret(64),
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "LOG_LEVEL": "warn",
                # Throttling on, with limits that only matter where intended: the account lock.
                "RATE_LIMIT_ENABLED": "true",
                "RATE_LIMIT_LOGIN_FAILURES_PER_IP_ACCOUNT": "1000000",
                "RATE_LIMIT_IP_LOGINS": "1000000",
                "RATE_LIMIT_IP_REGISTRATIONS": "1000000",
                "RATE_LIMIT_ACCOUNT_DELAY_AFTER": "1000000",
                "RATE_LIMIT_ACCOUNT_LOCK_AFTER": str(lock_after),
                # Password hashing: nothing set, so the binary's defaults (Argon2id m=19 MiB, t=2).
            }
        )

    def start(self):
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary],
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"the server exited with status {self.proc.returncode} during start-up\n"
                    + self.log_tail()
                )
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the server did not answer /health within {self.startup_timeout:.0f} s\n"
                    + self.log_tail()
                )
            time.sleep(0.1)

    def check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(
                f"the server exited with status {self.proc.returncode}\n" + self.log_tail()
            )

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_file is not None:
            self.log_file.close()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                tail = f.read().splitlines()[-lines:]
        except OSError:
            return "(no server log)"
        return "--- last lines of the server log ---\n" + "\n".join(tail)


def build(repo_root):
    log("building: cargo build --release -p auth-service (may wait for the cargo lock)")
    result = subprocess.run(
        ["cargo", "build", "--release", "-p", "auth-service"], cwd=repo_root
    )
    if result.returncode != 0:
        raise BenchError(f"cargo build failed with status {result.returncode}")
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    binary = os.path.join(repo_root, target, "release", "auth-service")
    if not os.access(binary, os.X_OK):
        raise BenchError(f"no binary at {binary}")
    return binary


# --------------------------------------------------------------------------------------------
# HTTP


class Client:
    """One kept-alive HTTP/1.1 connection, used the same way for every request."""

    def __init__(self, base_url, timeout=60):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "http":
            raise BenchError(f"only http:// base URLs are supported, not {base_url!r}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.prefix = parsed.path.rstrip("/")
        self.timeout = timeout
        self.conn = None
        self.reconnects = -1

    def _connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.reconnects += 1

    def post_json(self, path, payload):
        """Returns (status, headers, body bytes, seconds). The clock covers sending the request
        and reading the whole response, never opening a connection."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                start = time.perf_counter()
                self.conn.request("POST", self.prefix + path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - start
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                # The server closed the idle connection: open a new one and time again. The
                # request was not answered, so nothing was counted twice.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                self.conn.close()
                self.conn = None
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data, elapsed
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()


def register(client, username):
    status, _, data, _ = client.post_json(
        "/auth/register",
        {"email": f"{username}@example.com", "username": username, "password": PASSWORD},
    )
    if status != 201:
        raise BenchError(
            f"registering {username!r} answered {status}, expected 201: {data[:300]!r}"
        )


# --------------------------------------------------------------------------------------------
# Checking responses


class ResponseChecker:
    """Every login failure must look the same: 401, INVALID_CREDENTIALS, one body."""

    def __init__(self):
        self.reference = None  # (kind, body without volatile fields)
        self.header_reference = None  # (kind, {header: value} without volatile headers)
        self.header_mismatches = []

    def check(self, kind, username, status, headers, data):
        where = f"login of kind {kind!r} (username {username!r})"
        if status != 401:
            hint = ""
            if status == 200:
                hint = {
                    "inactive": " -- the account was not deactivated",
                    "locked": " -- the account was not locked",
                }.get(kind, "")
            elif status == 429:
                hint = " -- throttled: are the RATE_LIMIT_* limits of the server high enough?"
            shown = "(a token response, not shown)" if status == 200 else repr(data[:300])
            raise BenchError(f"{where} answered {status}, expected 401{hint}: {shown}")
        try:
            body = json.loads(data)
        except ValueError:
            raise BenchError(f"{where} answered a body that is not JSON: {data[:300]!r}")
        if not isinstance(body, dict) or body.get("error_code") != "INVALID_CREDENTIALS":
            raise BenchError(f"{where} answered 401 without INVALID_CREDENTIALS: {body!r}")
        missing = [field for field in VOLATILE_FIELDS if field not in body]
        if missing:
            raise BenchError(f"{where}: the error body lacks {missing}: {body!r}")
        stable = {k: v for k, v in body.items() if k not in VOLATILE_FIELDS}
        if self.reference is None:
            self.reference = (kind, stable)
        elif stable != self.reference[1]:
            raise BenchError(
                f"{where} answered a different body than {self.reference[0]!r}:\n"
                f"  {self.reference[0]}: {self.reference[1]!r}\n  {kind}: {stable!r}"
            )
        # Headers are reported, not fatal: the brief's contract is about the body.
        stable_headers = {k: v for k, v in headers.items() if k not in VOLATILE_HEADERS}
        if self.header_reference is None:
            self.header_reference = (kind, stable_headers)
        elif stable_headers != self.header_reference[1] and len(self.header_mismatches) < 5:
            self.header_mismatches.append((kind, stable_headers))


# --------------------------------------------------------------------------------------------
# Accounts


class Accounts:
    """Usernames to log in with, per kind, each used no more often than the lock allows."""

    def __init__(self, run_tag, attempts, lock_after, locked_count):
        self.run_tag = run_tag
        self.lock_after = lock_after
        # Attempts an account survives before it locks: `lock_after` (the next one is locked).
        # Inactive accounts get at most 2 each, and fewer if the lock comes earlier.
        self.per_inactive = max(1, min(2, lock_after - 1))
        self.names = {
            "wrong": [self.name("wrong", i) for i in range(attempts)],
            "inactive": [
                self.name("inactive", i) for i in range(math.ceil(attempts / self.per_inactive))
            ],
            "locked": [self.name("locked", i) for i in range(locked_count)],
        }
        self.cursor = {kind: 0 for kind in KINDS}

    def name(self, kind, i):
        return f"{kind}_{self.run_tag}_{i:04d}"

    def registrations(self):
        return [name for kind in ("wrong", "inactive", "locked") for name in self.names[kind]]

    def next_login(self, kind):
        """(username, password) for the next attempt of `kind`."""
        n = self.cursor[kind]
        self.cursor[kind] += 1
        if kind == "unknown":
            return f"ghost_{self.run_tag}_{secrets.token_hex(3)}", PASSWORD
        if kind == "wrong":
            return self.names["wrong"][n], WRONG_PASSWORD  # one attempt per account
        if kind == "inactive":
            return self.names["inactive"][n // self.per_inactive], PASSWORD
        return self.names["locked"][n % len(self.names["locked"])], PASSWORD


def deactivate(db_path, usernames):
    # Straight into the service's SQLite file (the server keeps no user cache).
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        with conn:
            placeholders = ",".join("?" for _ in usernames)
            cur = conn.execute(
                f"UPDATE users SET is_active = 0 WHERE username IN ({placeholders})",
                list(usernames),
            )
            changed = cur.rowcount
    finally:
        conn.close()
    if changed != len(usernames):
        raise BenchError(
            f"deactivated {changed} of {len(usernames)} inactive accounts in {db_path}"
        )


def lock(client, checker, usernames, lock_after):
    for username in usernames:
        for _ in range(lock_after):
            status, headers, data, _ = client.post_json(
                "/auth/login", {"username": username, "password": WRONG_PASSWORD}
            )
            checker.check("locked (while locking)", username, status, headers, data)


# --------------------------------------------------------------------------------------------
# Measuring and reporting


def measure(client, checker, accounts, rounds, rng, server=None):
    samples = {kind: [] for kind in KINDS}
    for _ in range(rounds):
        order = list(KINDS)
        rng.shuffle(order)
        for kind in order:
            username, password = accounts.next_login(kind)
            status, headers, data, elapsed = client.post_json(
                "/auth/login", {"username": username, "password": password}
            )
            checker.check(kind, username, status, headers, data)
            samples[kind].append(elapsed * 1000.0)
        if server is not None:
            server.check_alive()
    return samples


def report(samples):
    base = statistics.median(samples["wrong"])
    header = f"{'kind':<10} {'n':>5} {'median ms':>10} {'p10 ms':>9} {'p90 ms':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for kind in KINDS:
        values = samples[kind]
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        median = statistics.median(values)
        ratio = median / base
        worst = max(worst, abs(ratio - 1.0))
        print(
            f"{kind:<10} {len(values):>5} {median:>10.2f} {deciles[0]:>9.2f} "
            f"{deciles[-1]:>9.2f} {ratio:>7.3f}"
        )
    print()
    print(f"max median ratio deviation: {worst * 100:.1f}% (target <= 10%)")


def parse_args():
    parser = argparse.ArgumentParser(
        description="Times POST /auth/login for unknown user, wrong password, inactive and "
        "locked accounts against the real release binary, interleaved, and compares medians.",
    )
    parser.add_argument(
        "--samples", type=int, default=150, help="measurements per kind (default 150, min 100)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="uncounted requests per kind first (default 10)"
    )
    parser.add_argument(
        "--locked-accounts", type=int, default=5, help="accounts to lock (default 5)"
    )
    parser.add_argument(
        "--base-url",
        help="use a running server instead of building and starting one; it needs "
        "RATE_LIMIT_ACCOUNT_LOCK_AFTER=--lock-after and other limits high enough",
    )
    parser.add_argument(
        "--sqlite-db",
        help="with --base-url: path of that server's SQLite file, to deactivate accounts",
    )
    parser.add_argument(
        "--lock-after",
        type=int,
        default=3,
        help="RATE_LIMIT_ACCOUNT_LOCK_AFTER: set on the started server, or that of the "
        "--base-url server (default 3)",
    )
    parser.add_argument(
        "--skip-build", action="store_true", help="use target/release/auth-service as it is"
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=60.0, help="seconds to wait for /health"
    )
    parser.add_argument("--seed", type=int, help="seed for the order of kinds in each round")
    args = parser.parse_args()
    if args.samples < 100:
        parser.error("--samples must be at least 100")
    if args.warmup < 0 or args.locked_accounts < 1 or args.lock_after < 2:
        parser.error("need --warmup >= 0, --locked-accounts >= 1 and --lock-after >= 2")
    if args.base_url and not args.sqlite_db:
        parser.error("--base-url needs --sqlite-db (to deactivate the inactive accounts)")
    return args


def run(args, server):
    base_url = server.base_url if server else args.base_url.rstrip("/")
    db_path = server.db_path if server else args.sqlite_db
    rng = random.Random(args.seed)
    run_tag = secrets.token_hex(3)
    accounts = Accounts(run_tag, args.warmup + args.samples, args.lock_after, args.locked_accounts)
    client = Client(base_url)
    checker = ResponseChecker()
    try:
        names = accounts.registrations()
        log(f"registering {len(names)} accounts through POST /auth/register ...")
        started = time.monotonic()
        for name in names:
            register(client, name)
        log(f"  done in {time.monotonic() - started:.1f} s")

        deactivate(db_path, accounts.names["inactive"])
        log(f"deactivated {len(accounts.names['inactive'])} accounts in {db_path}")
        lock(client, checker, accounts.names["locked"], args.lock_after)
        log(f"locked {len(accounts.names['locked'])} accounts ({args.lock_after} wrong passwords each)")

        log(f"warm-up: {args.warmup} requests per kind (not counted)")
        measure(client, checker, accounts, args.warmup, rng, server)
        load_before = os.getloadavg()
        log(f"measuring: {args.samples} rounds of the four kinds, shuffled in each round ...")
        started = time.monotonic()
        samples = measure(client, checker, accounts, args.samples, rng, server)
        duration = time.monotonic() - started
        load_after = os.getloadavg()
    finally:
        client.close()

    print(f"login timing, {base_url}, {args.samples} samples per kind, interleaved, sequential")
    print(
        f"measured in {duration:.1f} s; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; connection reopened {max(client.reconnects, 0)} times"
    )
    print()
    report(samples)
    for kind, headers in checker.header_mismatches:
        ref_kind, ref = checker.header_reference
        print(f"note: response headers of {kind!r} differ from {ref_kind!r}: {headers} vs {ref}")


def main():
    args = parse_args()
    server = None
    tmp = None
    try:
        if not args.base_url:
            if args.skip_build:
                target = os.environ.get("CARGO_TARGET_DIR") or "target"
                binary = os.path.join(REPO_ROOT, target, "release", "auth-service")
            else:
                binary = build(REPO_ROOT)
            tmp = tempfile.TemporaryDirectory(prefix="login-timing-")
            server = Server(binary, tmp.name, args.lock_after, args.startup_timeout)
            log(f"starting {binary} on {server.base_url} (database {server.db_path})")
            server.start()
        run(args, server)
    except BenchError as err:
        print(f"login_timing: ABORTED: {err}", file=sys.stderr)
        return 1
    except (OSError, http.client.HTTPException) as err:
        detail = server.log_tail() if server else ""
        print(f"login_timing: ABORTED: request failed: {err!r}\n{detail}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
