#!/usr/bin/env python3
"""A PostgreSQL outage under load, measured on the release binary: how fast the open breaker
answers, and how soon traffic succeeds again once the database is back.

    cargo build --release -p auth-service && python3 bench/outage.py

The server runs as its own process with the production settings (breaker after
DB_BREAKER_FAILURES failures, DB_BREAKER_RECOVERY_SECONDS open), its database traffic
through a TCP proxy in this script. Four clients loop over register, login, me, refresh, me
on keep-alive connections while /health/ready is polled every 50 ms. The proxy is cut
(every open connection reset, new ones refused) for --outage seconds, then restored.

Printed: the answers while the breaker was open (from the first /health/ready that says so
until the restore; the outage is shorter than the recovery time, so no trial call falls in
it): their statuses, p50, p99 and max against the 50 ms target; then the time from the
restore to the first success and to ready. Any answer that is not a 2xx or a 503 with
Retry-After fails the run (exit 1). Python standard library only.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import PASSWORD, PostgresDb, Server, log  # noqa: E402

TARGET_P99_MS = 50.0


class Proxy:
    """A TCP proxy to PostgreSQL that can be cut: open connections reset, new ones refused."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.cut = False
        self.open = set()
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            if self.cut:
                self.reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                self.reset(client)
                continue
            with self.lock:
                self.open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    def pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def reset(sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()

    def set_cut(self, cut):
        self.cut = cut
        if cut:
            with self.lock:
                for sock in self.open:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self.open.clear()


class Client(threading.Thread):
    """One user's loop: register once, then login, me, refresh, me, and a new registration."""

    def __init__(self, port, stop, samples):
        super().__init__(daemon=True)
        self.port, self.stop, self.samples = port, stop, samples
        self.conn = None
        self.name = "o" + uuid.uuid4().hex[:12]
        self.tokens = None

    def call(self, op, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, json.dumps(body) if body else None, headers)
            response = self.conn.getresponse()
            data = response.read()
            status, retry = response.status, response.getheader("Retry-After")
        except OSError as error:
            self.conn = None
            data, status, retry = str(error).encode(), 0, None
        ended = time.monotonic()
        self.samples.append((started, ended, op, status, retry))
        return status, data

    def register(self, name):
        body = {"email": f"{name}@outage.example", "username": name, "password": PASSWORD}
        return self.call("register", "POST", "/auth/register", body)

    def run(self):
        while not self.stop.is_set():
            status, data = self.register(self.name)
            if status == 201:
                break
            time.sleep(0.05)
        while not self.stop.is_set():
            body = {"username": self.name, "password": PASSWORD}
            status, data = self.call("login", "POST", "/auth/login", body)
            if status == 200:
                self.tokens = json.loads(data)
            if self.tokens:
                self.call("me", "GET", "/auth/me", token=self.tokens["access_token"])
                refresh = {"refresh_token": self.tokens["refresh_token"]}
                status, data = self.call("refresh", "POST", "/auth/refresh", refresh)
                if status == 200:
                    self.tokens = json.loads(data)
                self.call("me", "GET", "/auth/me", token=self.tokens["access_token"])
            self.register("o" + uuid.uuid4().hex[:12])


def probe_ready(port, stop, probes):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while not stop.is_set():
        at = time.monotonic()
        try:
            conn.request("GET", "/health/ready")
            response = conn.getresponse()
            probes.append((at, response.status, response.read().decode()))
        except OSError:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        time.sleep(0.05)


def percentile(values, percent):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=float, default=3.0, help="seconds of traffic first")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the link is cut")
    parser.add_argument("--after", type=float, default=12.0, help="seconds after the restore")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    server_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    upstream = int(server_url.split("@")[-1].split("/")[0].rsplit(":", 1)[-1] or 5432)
    db = PostgresDb(server_url)
    proxy = Proxy(upstream)
    db.url = db.url.replace(f":{upstream}/", f":{proxy.port}/")
    with tempfile.TemporaryDirectory(prefix="auth-outage-") as tmp:
        server = Server(db, tmp, {"HASHING_THREADS": str(os.cpu_count() or 2)})
        recovery = float(os.environ.get("DB_BREAKER_RECOVERY_SECONDS", "10"))
        stop, samples, probes = threading.Event(), [], []
        try:
            clients = [Client(server.port, stop, samples) for _ in range(args.clients)]
            for client in clients:
                client.start()
            prober = threading.Thread(target=probe_ready, args=(server.port, stop, probes))
            prober.start()
            time.sleep(args.before)
            cut = time.monotonic()
            proxy.set_cut(True)
            log(f"link cut for {args.outage} s")
            time.sleep(args.outage)
            restored = time.monotonic()
            proxy.set_cut(False)
            log("link restored")
            time.sleep(args.after)
            stop.set()
            for thread in clients + [prober]:
                thread.join()
        finally:
            server.stop()
            db.url = db.url.replace(f":{proxy.port}/", f":{upstream}/")
            db.drop()
    report(samples, probes, cut, restored, recovery)


def report(samples, probes, cut, restored, recovery):
    wrong = [s for s in samples if not (200 <= s[3] < 300 or (s[3] == 503 and s[4]))]
    opened = next(
        (at for at, status, text in probes
         if cut <= at < restored and "circuit breaker open" in text),
        None)
    ready = next((at for at, status, _ in probes if at > restored and status == 200), None)
    first_success = min(
        (s[1] for s in samples if s[1] > restored and 200 <= s[3] < 300), default=None)
    before = [s for s in samples if s[1] < cut]
    print(f"before the cut: {len(before)} answers, "
          f"{sum(1 for s in before if 200 <= s[3] < 300)} successes")
    failed = 1 if wrong else 0
    if wrong:
        print(f"FAIL: {len(wrong)} answers neither 2xx nor 503 with Retry-After: {wrong[:5]}")
    if opened is None:
        print("FAIL: /health/ready never reported the breaker open")
        return sys.exit(1)
    during = [s for s in samples if s[0] >= opened and s[1] <= restored]
    times = [(s[1] - s[0]) * 1000 for s in during]
    ops = {}
    for s in during:
        ops[s[2]] = ops.get(s[2], 0) + 1
    print(f"breaker open {1000 * (opened - cut):.0f} ms after the cut")
    print(f"answers with the breaker open: {len(during)} ({ops}), "
          f"all 503: {all(s[3] == 503 for s in during)}")
    if times:
        p99 = percentile(times, 99)
        verdict = "meets" if p99 <= TARGET_P99_MS else "MISSES"
        print(f"  p50 {percentile(times, 50):.1f} ms, p99 {p99:.1f} ms, max {max(times):.1f} ms "
              f"({verdict} the p99 target of {TARGET_P99_MS:.0f} ms)")
        failed |= p99 > TARGET_P99_MS
    if first_success is None or ready is None:
        print("FAIL: no success after the restore")
        return sys.exit(1)
    print(f"after the restore (breaker recovery {recovery:.0f} s, open for "
          f"{restored - opened:.1f} s of it): first success after "
          f"{first_success - restored:.2f} s, ready after {ready - restored:.2f} s")
    sys.exit(failed)


if __name__ == "__main__":
    main()
