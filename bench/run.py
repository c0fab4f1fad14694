#!/usr/bin/env python3
"""The benchmark: throughput, latency and memory of the release binary, in one table.

Run it through bench/run.sh, which builds the release binaries and installs wrk first:

    bench/run.sh                 # SQLite (a temporary file), 3 runs, medians
    bench/run.sh postgres        # a temporary database on BENCH_DATABASE_URL's server

Each run starts the server afresh on a free loopback port with throttling off and the
production hashing parameters, then measures in phases of --seconds: login, register,
refresh along rotating chains, me, health, /health at a light fixed rate on an idle server
and while logins saturate hashing, and an overload phase of 500 parallel logins (503s are
counted there, and only there). The hash ceiling (HASHING_THREADS verifications in
parallel, outside HTTP) is measured in the same run, just before the login phase and just
after the register phase, and login and register are compared with the mean of the two: on a
host whose speed drifts from minute to minute, the reference is taken under the same
conditions as the figures it judges. Peak RSS (VmHWM) is read after every
phase. Then one server is measured with 1,000 users and with 1,000,000 users (rows inserted
in bulk by SQL, copying one real hash). Every figure is the median of the runs.
Python standard library only; load from wrk.
"""

import argparse
import json
import math
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(REPO, "bench", "lua")
PASSWORD = "correct horse battery staple"
SECRET = "bench-secret-" + "k" * 51
WRK_THREADS = 2
CHAINS = 32


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))


# ---------------------------------------------------------------------------- databases


class SqliteDb:
    """A fresh SQLite file in a temporary directory."""

    name = "sqlite"

    def __init__(self, tmp):
        self.path = os.path.join(tmp, f"bench-{uuid.uuid4().hex[:8]}.db")
        self.url = f"sqlite://{self.path}"

    def drop(self):
        for suffix in ("", "-wal", "-shm", ".jwt-key"):
            try:
                os.remove(self.path + suffix)
            except FileNotFoundError:
                pass

    def columns(self, table):
        with sqlite3.connect(self.path) as db:
            return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]

    def execute(self, sql):
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.executescript(sql)
            db.commit()
        finally:
            db.close()

    def scalar(self, sql):
        with sqlite3.connect(self.path) as db:
            return db.execute(sql).fetchone()[0]

    def sequential_scans(self, since=None):
        """SQLite keeps no scan counters: the 1k vs 1M latencies tell a scan instead."""
        return None

    def settle(self):
        """SQLite has no background maintenance to wait for."""

    def numbers(self, count):
        """A row source of the integers 1..count, as `n`."""
        return (
            f"(WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq "
            f"WHERE n < {count}) SELECT n FROM seq)"
        )

    def text(self, expression):
        return f"CAST({expression} AS TEXT)"


class PostgresDb:
    """A fresh database on the server of `server_url`, dropped afterwards."""

    name = "postgres"

    def __init__(self, server_url):
        self.server_url = server_url.rstrip("/")
        base = self.server_url.rsplit("/", 1)[0]
        self.db = f"auth_bench_{uuid.uuid4().hex[:8]}"
        self.url = f"{base}/{self.db}"
        self.psql(self.server_url, f"CREATE DATABASE {self.db}")

    @staticmethod
    def psql(url, sql):
        done = subprocess.run(
            ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def drop(self):
        self.psql(self.server_url, f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")

    def columns(self, table):
        out = self.psql(
            self.url,
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
        return out.split()

    def execute(self, sql):
        self.psql(self.url, sql)

    def scalar(self, sql):
        return self.psql(self.url, sql)

    def sequential_scans(self, since=None):
        """Sequential scans of the hot tables so far (or since an earlier reading): the
        statistics collector counts every scan the server's queries made."""
        self.psql(self.url, "SELECT pg_stat_force_next_flush()")
        out = self.psql(
            self.url,
            "SELECT relname || '=' || seq_scan FROM pg_stat_user_tables WHERE relname IN "
            "('users', 'sessions', 'device_tokens', 'throttles') ORDER BY relname",
        )
        counts = dict(line.split("=") for line in out.split())
        counts = {table: int(n) for table, n in counts.items()}
        if since is None:
            return counts
        return {table: n - since.get(table, 0) for table, n in counts.items()}

    def settle(self):
        """What an operator runs after a bulk load: without it, autovacuum works through the
        new rows during the measurement and takes CPU from the server's hashing."""
        self.psql(self.url, "VACUUM ANALYZE")

    def numbers(self, count):
        return f"(SELECT generate_series(1, {count}) AS n)"

    def text(self, expression):
        return f"CAST({expression} AS TEXT)"


# ---------------------------------------------------------------------------- the server


class Server:
    def __init__(self, db, tmp, extra_env=None):
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": db.url,
            "JWT_SECRET_KEY": SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "info",
            "RATE_LIMIT_ENABLED": "false",
        }
        env.update(extra_env or {})
        # Extra server settings for a trial, such as BENCH_SERVER_ENV="DATABASE_MAX_CONNECTIONS=4".
        env.update(item.split("=", 1) for item in os.environ.get("BENCH_SERVER_ENV", "").split())
        self.log_path = os.path.join(tmp, f"server-{self.port}.log")
        self.log_file = open(self.log_path, "w")
        binary = os.path.join(target_dir(), "release", "auth-service")
        self.process = subprocess.Popen(
            [binary], env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not answer /health within 60 s")

    def memory(self):
        """(VmRSS, VmHWM) in MiB."""
        fields = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def call(base, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def register(base, name):
    body = {"email": f"{name}@bench.example", "username": name, "password": PASSWORD}
    return call(base, "POST", "/auth/register", body)


def login(base, name):
    return call(base, "POST", "/auth/login", {"username": name, "password": PASSWORD})


# ---------------------------------------------------------------------------- load


def parse_latency(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(base, path, connections, seconds, script=None, env=None, headers=()):
    """Runs wrk and returns rps, p50 and p99 (ms), non-2xx answers and socket errors."""
    command = [
        "wrk", "-t", str(min(WRK_THREADS, connections)), "-c", str(connections),
        "-d", f"{seconds}s", "--latency", "--timeout", "10s",
    ]
    if script:
        command += ["-s", os.path.join(LUA, script)]
    for header in headers:
        command += ["-H", header]
    command.append(base + path)
    run_env = dict(os.environ, BENCH_THREADS=str(min(WRK_THREADS, connections)), **(env or {}))
    out = subprocess.run(command, capture_output=True, text=True, env=run_env, check=True).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": parse_latency(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": parse_latency(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "non2xx": 0,
        "errors": 0,
    }
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if found:
        result["non2xx"] = int(found.group(1))
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if found:
        result["errors"] = sum(int(n) for n in found.groups())
    found = re.search(r"statuses (\{.*\})", out)
    if found:
        result["statuses"] = {int(k): v for k, v in json.loads(found.group(1)).items()}
    return result


def login_load(base, connections, seconds, count_status=False):
    env = {
        "BENCH_PATH": "/auth/login",
        "BENCH_BODY": json.dumps({"username": "bench", "password": PASSWORD}),
        "BENCH_COUNT_STATUS": "1" if count_status else "0",
    }
    return wrk(base, "/auth/login", connections, seconds, "post.lua", env)


def light_health(base, seconds, rate=20):
    """/health at a fixed light rate on one keep-alive connection: (p50, p99) in ms."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]))
    samples, interval = [], 1.0 / rate
    next_at = time.perf_counter()
    end = next_at + seconds
    while next_at < end:
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        started = time.perf_counter()
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"/health answered {response.status}")
        next_at += interval
    connection.close()
    samples.sort()
    return nearest_rank(samples, 0.50), nearest_rank(samples, 0.99)


def nearest_rank(ordered, fraction):
    """The `fraction` percentile of sorted samples by the nearest-rank definition: the
    smallest sample with at least that fraction of all samples at or below it (of 100
    samples, p99 is the 99th, not the slowest)."""
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


def refresh_tokens(base, tmp, prefix, chains=CHAINS):
    """Signs `chains` accounts in and writes one refresh token per line to a file."""
    path = os.path.join(tmp, f"{prefix}-tokens.txt")
    with open(path, "w") as out:
        for i in range(chains):
            name = f"{prefix}c{i}"
            out.write(register(base, name)["refresh_token"] + "\n")
    return path


def ceiling(threads, seconds, m_kib, t_cost, p_cost):
    binary = os.path.join(target_dir(), "release", "auth-bench")
    args = [binary, "ceiling", str(threads), str(seconds), str(m_kib), str(t_cost), str(p_cost)]
    return float(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


# ---------------------------------------------------------------------------- one run


def one_run(args, db, tmp, tag):
    figures, memory = {}, {}
    threads = args.hashing_threads
    server = Server(db, tmp, algorithm_env(args))
    try:
        base = server.base
        memory["start"] = server.memory()
        register(base, "bench")
        tokens = refresh_tokens(base, tmp, f"{tag}x")

        def phase(name, result):
            figures[name] = result
            memory[name] = server.memory()
            log(f"  {name}: {fmt_result(result)}; rss {memory[name][0]:.0f} MiB, "
                f"peak {memory[name][1]:.0f} MiB")

        idle = light_health(base, args.light_seconds)
        phase("health-light-idle", {"p50": idle[0], "p99": idle[1]})
        before = ceiling(threads, 5, 19456, 2, 1)
        phase("login", login_load(base, 8, args.seconds))
        register_env = {"BENCH_TAG": f"{tag}r", "BENCH_PASSWORD": PASSWORD}
        phase("register", wrk(base, "/auth/register", 8, args.seconds, "register.lua",
                              register_env))
        after = ceiling(threads, 5, 19456, 2, 1)
        figures["ceiling"] = (before + after) / 2
        log(f"  hash ceiling: {before:.1f}/s before login, {after:.1f}/s after register")
        phase("refresh", wrk(base, "/auth/refresh", CHAINS, args.seconds, "refresh.lua",
                             {"BENCH_TOKENS": tokens}))
        # A token of a fresh sign-in: the login phase signed "bench" in far more often than
        # MAX_SESSIONS_PER_USER, which revoked its oldest sessions.
        me_token = login(base, "bench")["access_token"]
        phase("me", wrk(base, "/auth/me", 50, args.seconds,
                        headers=[f"Authorization: Bearer {me_token}"]))
        phase("health", wrk(base, "/health", 50, args.seconds))
        saturating = threading.Thread(
            target=lambda: figures.__setitem__("login-bg", login_load(
                base, 8, args.light_seconds + 2)))
        saturating.start()
        time.sleep(1)
        busy = light_health(base, args.light_seconds)
        saturating.join()
        phase("health-light-busy", {"p50": busy[0], "p99": busy[1]})
        phase("overload", login_load(base, 500, args.seconds, count_status=True))
        time.sleep(1)
        memory["end"] = server.memory()
    finally:
        server.stop()
    return figures, memory


def algorithm_env(args):
    """The server's signing settings for --algorithm: HS256 with the bench secret, or an
    asymmetric algorithm with a key-encryption key (its signing keys live in the database)."""
    if args.algorithm.startswith("HS"):
        return {"JWT_ALGORITHM": args.algorithm}
    return {"JWT_ALGORITHM": args.algorithm, "JWT_SECRET_KEY": "",
            "JWT_KEY_ENCRYPTION_KEY": "bench-key-encryption-key-" + "e" * 40}


def fmt_result(result):
    parts = []
    if "rps" in result:
        parts.append(f"{result['rps']:.0f}/s")
    parts.append(f"p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms")
    if result.get("non2xx") or result.get("errors"):
        parts.append(f"non-2xx {result.get('non2xx', 0)}, errors {result.get('errors', 0)}")
    if "statuses" in result:
        parts.append(f"statuses {result['statuses']}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------- scale


def scale_round(base, tmp, tag, seconds):
    tokens = refresh_tokens(base, tmp, tag, chains=4)
    token = login(base, "bench")["access_token"]
    return {
        "login": login_load(base, 1, seconds)["p50"],
        "refresh": wrk(base, "/auth/refresh", 4, seconds, "refresh.lua",
                       {"BENCH_TOKENS": tokens})["p50"],
        "me": wrk(base, "/auth/me", 4, seconds,
                  headers=[f"Authorization: Bearer {token}"])["p50"],
    }


def scale(args, make_db, tmp):
    """p50 of login, refresh and me with 1,000 and with --scale-users users."""
    results = {}
    db = make_db()
    try:
        for users in (1_000, args.scale_users):
            server = Server(db, tmp)
            try:
                if users == 1_000:
                    register(server.base, "bench")
                    login(server.base, "bench")
            finally:
                server.stop()
            existing = int(db.scalar("SELECT COUNT(*) FROM users"))
            log(f"seeding {users - existing} users and sessions ...")
            started = time.time()
            seed_range(db, existing, users)
            db.settle()
            log(f"  seeded in {time.time() - started:.0f} s")
            server = Server(db, tmp)
            try:
                time.sleep(1)
                scans = db.sequential_scans()
                rounds = [scale_round(server.base, tmp, f"s{users}k{i}", args.scale_seconds)
                          for i in range(args.runs)]
            finally:
                server.stop()
            # The server's connections are closed now, so their statistics are flushed.
            time.sleep(1)
            scans = db.sequential_scans(since=scans)
            results[users] = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
            if scans is not None:
                results[users]["seq_scans"] = scans
            log(f"  {users} users: {results[users]}")
    finally:
        db.drop()
    return results


def seed_range(db, existing, wanted):
    """Seeds users until there are `wanted`, in batches."""
    batch = 200_000
    offset = existing
    while offset < wanted:
        count = min(batch, wanted - offset)
        seed_batch(db, offset, count)
        offset += count


def seed_batch(db, offset, count):
    """Users u<offset+1>..u<offset+count>, each with one live session, copying the hash
    and the timestamps of the account `bench`."""
    last_id = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM users"))
    user_columns = [c for c in db.columns("users") if c != "id"]
    name = f"'u' || {db.text(f'seq.n + {offset}')}"
    computed = {
        "email": f"{name} || '@seed.example'",
        "email_normalized": f"{name} || '@seed.example'",
        "username": name,
        "username_normalized": name,
    }
    select = ", ".join(computed.get(c, f"t.{c}") for c in user_columns)
    db.execute(
        f"INSERT INTO users ({', '.join(user_columns)}) SELECT {select} "
        f"FROM {db.numbers(count)} AS seq, "
        f"(SELECT * FROM users WHERE username = 'bench') AS t"
    )
    session_columns = db.columns("sessions")
    computed = {
        "id": "'seed-' || " + db.text("u.id"),
        "user_id": "u.id",
        "current_jti_hash": "'seedjti-' || " + db.text("u.id"),
        "previous_jti_hash": "NULL",
    }
    select = ", ".join(computed.get(c, f"t.{c}") for c in session_columns)
    db.execute(
        f"INSERT INTO sessions ({', '.join(session_columns)}) SELECT {select} "
        f"FROM users AS u, (SELECT s.* FROM sessions AS s JOIN users AS b ON b.id = s.user_id "
        f"WHERE b.username = 'bench' LIMIT 1) AS t WHERE u.id > {last_id}"
    )


# ---------------------------------------------------------------------------- report


def median_of(runs, phase, key):
    values = [figures[phase][key] for figures, _ in runs if key in figures[phase]]
    return statistics.median(values) if values else float("nan")


def report(args, backend, runs, scaled):
    ceiling_rps = statistics.median(figures["ceiling"] for figures, _ in runs)
    lines = [
        f"Backend: {backend}; JWT_ALGORITHM={args.algorithm}; {args.runs} runs, medians; "
        f"phases of {args.seconds} s; "
        f"light /health phases of {args.light_seconds} s at 20 req/s.",
        "",
        f"Hash ceiling ({args.hashing_threads} threads verifying in parallel, Argon2id "
        f"m = 19 MiB, t = 2, p = 1, measured around the login and register phases): "
        f"**{ceiling_rps:.1f}/s**; vs ceiling is the median of each run's ratio to its own",
        "",
        "| phase | connections | rps | p50 ms | p99 ms | vs ceiling | non-2xx | RSS after MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase, connections in [
        ("login", 8), ("register", 8), ("refresh", CHAINS), ("me", 50), ("health", 50),
        ("health-light-idle", 1), ("health-light-busy", 1), ("overload", 500),
    ]:
        rps = median_of(runs, phase, "rps")
        ratio = ""
        if phase in ("login", "register"):
            # Each run against its own ceiling, then the median of the ratios.
            ratio = statistics.median(f[phase]["rps"] / f["ceiling"] for f, _ in runs)
            ratio = f"{ratio:.2f}×"
        non2xx = max(figures[phase].get("non2xx", 0) + figures[phase].get("errors", 0)
                     for figures, _ in runs)
        if phase == "overload":
            statuses = {}
            for figures, _ in runs:
                for status, count in figures[phase].get("statuses", {}).items():
                    statuses.setdefault(status, []).append(count)
            shown = ", ".join(f"{s}: {statistics.median(c):.0f}"
                              for s, c in sorted(statuses.items()))
            non2xx = f"{shown} (errors {max(f[phase].get('errors', 0) for f, _ in runs)})"
        rss = statistics.median(memory[phase][0] for _, memory in runs)
        rps_text = "" if rps != rps else f"{rps:,.0f}"
        lines.append(
            f"| {phase} | {connections} | {rps_text} | {median_of(runs, phase, 'p50'):.2f} | "
            f"{median_of(runs, phase, 'p99'):.2f} | {ratio} | {non2xx} | {rss:.0f} |"
        )
    peak = statistics.median(memory["end"][1] for _, memory in runs)
    peak_max = max(memory["end"][1] for _, memory in runs)
    start = statistics.median(memory["start"][0] for _, memory in runs)
    budget = args.hashing_threads * 19
    lines += [
        "",
        f"Peak RSS (VmHWM) over the whole run: **{peak:.0f} MiB** median, {peak_max:.0f} MiB "
        f"worst (hashing budget {args.hashing_threads} × 19 MiB = {budget} MiB; target ≤ "
        f"{budget + 32} MiB). RSS at start: {start:.0f} MiB.",
    ]
    if scaled:
        small, large = scaled[1_000], scaled[args.scale_users]
        lines += [
            "",
            f"| p50 ms | 1,000 users | {args.scale_users:,} users | change |",
            "|---|---|---|---|",
        ]
        for key in ("login", "refresh", "me"):
            change = (large[key] / small[key] - 1) * 100
            lines.append(f"| {key} | {small[key]:.2f} | {large[key]:.2f} | {change:+.1f}% |")
        if "seq_scans" in large:
            lines += ["", f"Sequential scans by the server during the {args.scale_users:,}-user "
                      f"rounds (pg_stat_user_tables): {large['seq_scans']}"]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", nargs="?", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--light-seconds", type=int, default=10)
    parser.add_argument("--scale-users", type=int, default=1_000_000)
    parser.add_argument("--scale-seconds", type=int, default=4)
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--hashing-threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--algorithm", default="HS256", choices=["HS256", "EdDSA", "ES256"])
    args = parser.parse_args()
    server_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="auth-bench-") as tmp:
        def make_db():
            return SqliteDb(tmp) if args.backend == "sqlite" else PostgresDb(server_url)

        runs = []
        for run in range(args.runs):
            log(f"run {run + 1} of {args.runs} ({args.backend})")
            db = make_db()
            try:
                runs.append(one_run(args, db, tmp, f"b{run}"))
            finally:
                db.drop()
        scaled = None if args.no_scale else scale(args, make_db, tmp)
    print(report(args, args.backend, runs, scaled))
    log(f"benchmark took {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
