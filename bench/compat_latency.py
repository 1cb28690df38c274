"""Latency and throughput of the synchronous drop-in APIs (Perspective analyze, Akismet comment-check, Coral's
moderation phase), served by `moderation run` (gunicorn, 2 web workers) on this machine.

Usage: python bench/compat_latency.py [--database postgresql|sqlite] [--calls 300] [--seconds 10]

Each call scores a different real news comment (../shared/data/unlabelled_comments.csv), from its own reader
(name, address) where the API carries one, and, unless said, stores it decided, as production does. The peer
measured in the same run is the floor no HTTP API can beat: scoring one comment with the same model in this
process. Targets (issue 15): p50 <= 20 ms, p99 <= 100 ms.
"""

import argparse
import csv
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from pathlib import Path

from moderation.runner import free_port

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "unlabelled_comments.csv"
CORAL_SECRET = "empsec_" + "ab" * 16


def comments(n):
    with DATA.open(newline="") as source:
        texts = [row["text"] for row in csv.DictReader(source) if 20 <= len(row["text"]) <= 1000]
    return list(dict.fromkeys(texts))[:n]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Running:
    """`moderation run` on a scratch database, the machine's Redis, a free port."""

    def __init__(self, database):
        self.tmp = Path(tempfile.mkdtemp(prefix="compat-bench-"))
        self.pg_name = None
        if database == "postgresql":
            self.pg_name = f"moderation_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", f'CREATE DATABASE "{self.pg_name}"'],
                check=True,
            )
            url = f"postgresql://postgres@127.0.0.1:5432/{self.pg_name}"
        else:
            url = f"sqlite:///{self.tmp / 'bench.db'}"
        self.port = free_port()
        self.env = {
            **os.environ,
            "MODERATION_DATABASE_URL": url,
            "PORT": str(self.port),
            "MODERATION_REDIS_URL": os.environ.get("MODERATION_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "MODERATION_QUEUE": f"bench-{uuid.uuid4().hex[:6]}",
            "MODERATION_SECRET_KEY": "bench",
            "MODERATION_WEB_WORKERS": "2",
            "MODERATION_API_KEY_LIMIT": "100000 per second",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moderation.cli", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.tmp / "run.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the service did not start: " + (self.tmp / "run.log").read_text()[-2000:])
        self.key = self.cli("site", "add", "bench.example.kz")
        self.cli("site", "coral", "bench.example.kz", CORAL_SECRET)

    def cli(self, *args):
        done = subprocess.run(
            [sys.executable, "-m", "moderation.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    def request(self, method, path, body=None, headers=None, connection=None):
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        if connection is None:
            conn.close()
        return response.status, data

    def stop(self):
        self.process.send_signal(2)
        self.process.wait(timeout=60)
        if self.pg_name:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "test",
                    "-qc",
                    f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)',
                ],
                check=False,
            )


def calls(service):
    """{API: function(text) -> (method, path, body, headers)}"""
    key = urllib.parse.quote(service.key)

    def perspective(text, store=True):
        body = json.dumps(
            {
                "comment": {"text": text},
                "requestedAttributes": {"TOXICITY": {}},
                "languages": ["en"],
                "doNotStore": not store,
            }
        ).encode()
        return "POST", f"/v1alpha1/comments:analyze?key={key}", body, {"Content-Type": "application/json"}

    def akismet(text):
        reader = zlib.crc32(text.encode())  # each comment from its own reader, as on a news site
        body = urllib.parse.urlencode(
            {
                "api_key": service.key,
                "blog": "https://bench.example.kz/",
                "user_ip": f"10.{reader >> 16 & 255}.{reader >> 8 & 255}.{reader & 255}",
                "comment_author": f"Читатель {reader}",
                "comment_content": text,
            }
        ).encode()
        return "POST", "/1.1/comment-check", body, {"Content-Type": "application/x-www-form-urlencoded"}

    def coral(text):
        body = json.dumps(
            {
                "action": "NEW",
                "comment": {"body": text, "parentID": None},
                "author": {"id": uuid.uuid4().hex, "role": "COMMENTER"},
                "story": {"id": "s1", "url": "https://bench.example.kz/s1"},
                "site": {"id": "x"},
                "tenantID": "t",
                "tenantDomain": "bench.example.kz",
            },
            indent=2,
            ensure_ascii=False,
        ).encode()
        signature = "sha256=" + hmac.new(CORAL_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return (
            "POST",
            "/coral/sites/bench.example.kz/phase",
            body,
            {"Content-Type": "application/json", "X-Coral-Signature": signature},
        )

    return {
        "perspective analyze (stored)": perspective,
        "perspective analyze (doNotStore)": lambda text: perspective(text, store=False),
        "akismet comment-check": akismet,
        "coral moderation phase": coral,
    }


def sequential(service, build, texts):
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    latencies = []
    for text in texts:
        method, path, body, headers = build(text)
        start = time.perf_counter()
        status, data = service.request(method, path, body, headers, connection)
        latencies.append((time.perf_counter() - start) * 1000)
        assert status == 200, (status, data[:300])
    connection.close()
    return latencies


def throughput(service, build, texts, seconds, threads=8):
    done, stop, lock = [0], time.monotonic() + seconds, threading.Lock()

    def run(offset):
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        i = offset
        while time.monotonic() < stop:
            method, path, body, headers = build(f"{texts[i % len(texts)]} #{i}")
            status, _ = service.request(method, path, body, headers, connection)
            if status == 200:
                with lock:
                    done[0] += 1
            i += threads
        connection.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return done[0] / (time.monotonic() - start)


def model_floor(texts):
    """p50 and p99 (ms) of scoring one comment in this process with the active model."""
    from moderation.scoring import load_active

    bundle = load_active(ROOT / "models")
    bundle.score(texts[:5], ["x"] * 5)
    latencies = []
    for text in texts:
        start = time.perf_counter()
        bundle.score([text], ["Аноним"])
        latencies.append((time.perf_counter() - start) * 1000)
    return percentile(latencies, 0.5), percentile(latencies, 0.99)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    apis = 4
    texts = comments(args.calls * apis + 50)
    floor50, floor99 = model_floor(texts[: args.calls])
    service = Running(args.database)
    try:
        print(
            f"synchronous APIs on {args.database}, `moderation run` with 2 web workers, "
            f"{args.calls} sequential calls each, then 8 clients for {args.seconds:g} s"
        )
        print(f"{'API':34} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7} {'p50/model':>10}")
        for n, (name, build) in enumerate(calls(service).items()):
            chunk = texts[n * args.calls : (n + 1) * args.calls]
            sequential(service, build, chunk[:20])  # warm the connection pools
            latencies = sequential(service, build, chunk)
            p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            rate = throughput(service, build, chunk, args.seconds)
            print(f"{name:34} {p50:7.1f} {p99:7.1f} {rate:7.0f} {p50 / floor50:9.1f}x")
        print(f"{'peer: the model alone, in process':34} {floor50:7.1f} {floor99:7.1f}")
    finally:
        service.stop()


if __name__ == "__main__":
    main()
