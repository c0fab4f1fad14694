#!/usr/bin/env python3
"""Login throughput and peak memory of the release binary under parallel sign-ins.

Starts target/release/auth-service (build it first: cargo build --release -p auth-service)
on SQLite in a temporary directory with throttling off, registers one account, then runs
--threads parallel clients that sign in for --seconds, and prints logins/s and the server's
resident memory (VmRSS, peak VmHWM, threads) before and after. Python standard library only.
"""

import argparse
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(base, path, body):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return response.status


def memory(pid):
    """VmRSS, VmHWM (peak) in MiB and the thread count of process `pid`."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                fields[name] = value.split()[0]
    return int(fields["VmRSS"]) // 1024, int(fields["VmHWM"]) // 1024, int(fields["Threads"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO_ROOT, "target"))
    binary = os.path.join(target, "release", "auth-service")
    with tempfile.TemporaryDirectory(prefix="login-load-") as tmp:
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": f"sqlite://{tmp}/load.db",
            "JWT_SECRET_KEY": "k" * 64,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "info",
            "RATE_LIMIT_ENABLED": "false",
        }
        log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + "/health")
                    break
                except OSError:
                    time.sleep(0.05)
            body = {"email": "ann@example.com", "username": "ann", "password": PASSWORD}
            post(base, "/auth/register", body)
            rss, hwm, threads = memory(server.pid)
            print(f"idle:  rss {rss} MiB, peak {hwm} MiB, {threads} threads")
            count = [0] * args.threads
            stop = time.monotonic() + args.seconds

            def client(slot):
                login = {"username": "ann", "password": PASSWORD}
                while time.monotonic() < stop:
                    post(base, "/auth/login", login)
                    count[slot] += 1

            clients = [threading.Thread(target=client, args=(n,)) for n in range(args.threads)]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join()
            rss, hwm, threads = memory(server.pid)
            rate = sum(count) / args.seconds
            print(f"load:  {args.threads} clients, {args.seconds:.0f} s, {rate:.1f} logins/s")
            print(f"after: rss {rss} MiB, peak {hwm} MiB, {threads} threads")
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
