"""Comment -> decision latency of the whole pipeline (web, Redis, Celery worker, database) at a steady load.

Usage: python bench/decision_latency.py [--database postgresql|sqlite] [--rate 300] [--seconds 60] [--workers 2]
                                        [--threads 16]

The service runs as `moderation run` runs it on this machine, minus the beat: gunicorn with 2 sync workers
(`-c python:moderation.gunicorn_conf`) and a Celery worker with --workers pool processes, on a scratch PostgreSQL
database (or SQLite file) and a scratch Redis queue, both removed afterwards. A few warm-up comments are posted
and decided first, so the worker is known to be ready. Then --threads senders post --rate comments a second for
--seconds, open loop: comment i is due at t0 + i/rate whatever the answers before it took. A send that starts
more than 10 ms after its time is counted as late; the load stops after --seconds even so, and the comments not
sent by then are counted as not sent. Every comment is a different real comment, with its own reader's address:
the news comments of ../shared/data/unlabelled_comments.csv and the labelled sources' comments not marked toxic
(about 24,000), shuffled, so no answer is a duplicate's 409 or a flood's 429. The per-site rate limit is raised
out of the way, and so is the campaign rule's size (its scan still runs): the few texts the sources repeat from
different names must not make the figures those of a campaign's holds.

After the last send it waits up to 60 s for the queue to drain, then reads created_at (stored by the web process)
and decided_at (by the worker) of every comment of the load from the database, both to the microsecond, and
prints the achieved send rate, the answers other than 202, the latency decided_at - created_at (p50, p90, p99,
max), what is still pending, and the errors in the worker's log.
Targets (issue 16): at 300 comments/s sustained for 60 s with 2 worker processes, p50 <= 50 ms, p99 <= 250 ms and
nothing left pending.
"""

import argparse
import contextlib
import csv
import functools
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import redis
from intake import REDIS_URL, ROOT, free_port, gunicorn, service_settings, stop, wait_for
from sqlalchemy import DateTime, Integer, String, column, create_engine, func, insert, select, table, text

from moderation.config import normalise_database_url
from moderation.db import utcnow
from moderation.models import Comment, FingerprintSlot, Site
from moderation.scoring import fingerprint

LATE_MS = 10  # a send that starts later than this after its time fell behind the schedule
DRAIN_SECONDS = 60  # how long the queue may take to empty after the last send
WARM_UP = 8  # comments decided before the load starts: the worker's pool and the web workers' connections warm
TARGETS = {"p50": 50.0, "p99": 250.0}  # ms, issue 16

DATA = ROOT.parent / "shared" / "data"
# Ordinary comments: the real news comments (no labels), then the labelled sources' comments that are not toxic.
ORDINARY_SOURCES = ("kk_youtube_news", "ru_2ch_pikabu", "ru_detox_2022")
# The day before the load: the labelled sources' toxic comments, texts the load never sends.
HISTORY_SOURCES = ("ru_2ch_pikabu", "kk_hate_speech", "kk_youtube_news")
NAMES = ["Айгуль", "Ерлан", "Марина С.", "Нурлан", "Сергей Петрович", "Дана", "Читатель", "Асель Б."]


@functools.cache
def ordinary_texts():
    """Real, different comments in a fixed shuffled order (about 25,000): enough for 300/s over 60 s."""
    with open(DATA / "unlabelled_comments.csv", encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    with open(DATA / "toxicity.csv", encoding="utf-8", newline="") as fh:
        texts += [r["text"] for r in csv.DictReader(fh) if r["source"] in ORDINARY_SOURCES and r["toxic"] == "0"]
    texts = sorted({t.strip()[:2000] for t in texts if t.strip()})
    random.Random(16).shuffle(texts)
    return texts


def history_texts():
    """The earlier comments' texts (about 11,500)."""
    with open(DATA / "toxicity.csv", encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh)
        return sorted({r["text"].strip()[:2000] for r in rows if r["source"] in HISTORY_SOURCES and r["toxic"] == "1"})


def seed_history(engine):
    """A day of earlier comments on the site, decided and in the campaign index, as on a site in use, then the
    database's statistics (ANALYZE): started empty, the tables grow tenfold within the load, faster than
    autovacuum refreshes the statistics (once a minute at most), and the planner would plan for empty tables.
    Return how many."""
    comments, index = Comment.__table__, FingerprintSlot.__table__
    texts, now = history_texts(), utcnow()
    with engine.begin() as connection:
        site_id = connection.scalar(select(Site.__table__.c.id))
        rows = []
        for n, body in enumerate(texts):
            created = now - timedelta(days=1) * (len(texts) - n) / len(texts)
            rows.append(
                {
                    "site_id": site_id,
                    "name": NAMES[n % len(NAMES)],
                    "text": body,
                    "author_ip": f"172.16.{n >> 8 & 255}.{n & 255}",
                    "status": "held" if n % 3 else "approved",
                    "reasons": [],
                    "fingerprint": fingerprint.signature(body),
                    "created_at": created,
                    "queued_at": created,
                    "decided_at": created,
                }
            )
        ids = connection.scalars(insert(comments).returning(comments.c.id, sort_by_parameter_order=True), rows).all()
        slots = [
            {"comment_id": comment_id, "slot": band, "site_id": site_id, "decided_at": row["decided_at"]}
            for comment_id, row in zip(ids, rows)
            for band in fingerprint.bands(row["fingerprint"])
        ]
        connection.execute(insert(index), slots)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return len(rows)


def comment_body(n):
    """The n-th comment: a real comment of its own, and a reader's address of its own."""
    pick, texts = random.Random(n), ordinary_texts()
    return {
        "name": pick.choice(NAMES),
        "text": texts[n % len(texts)],
        "article_id": f"news-{n % 40}",
        "author_ip": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
    }


def start_worker(env, concurrency, scratch):
    """A Celery worker as `moderation run` starts it (its own node name, as other workers may share this Redis)."""
    log = scratch / "worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker",
        "worker",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
        "-n",
        f"bench-{uuid.uuid4().hex[:6]}@%h",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    return process, log


@contextlib.contextmanager
def running_service(database, workers, scratch):
    """Web and worker on a scratch database and queue: yields {port, key, url, worker, worker_log, web_log}."""
    with service_settings(database, scratch) as settings:
        # The benchmark's texts share sentences, and different names would make them one campaign.
        env = {**os.environ, **settings, "MODERATION_CAMPAIGN_SIZE": "1000000000"}
        for args in (["db", "upgrade"], ["site", "add", "bench.example.kz"]):
            done = subprocess.run(
                [sys.executable, "-m", "moderation.cli", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        key = done.stdout.strip().splitlines()[-1]
        port = free_port()
        web, web_log = gunicorn(
            ["-c", "python:moderation.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "moderation:create_app()"],
            env,
            scratch,
            f"web-{database}",
        )
        worker, worker_log = start_worker(env, workers, scratch)
        try:
            wait_for(port, "/healthz", web, web_log)
            yield {
                "port": port,
                "key": key,
                "url": settings["MODERATION_DATABASE_URL"],
                "worker": worker,
                "worker_log": worker_log,
                "web_log": web_log,
            }
        finally:
            with contextlib.suppress(ProcessLookupError):  # the web server exited already (wait_for says why)
                stop(web)
            stop_worker(worker)
            forget_queue(settings["MODERATION_QUEUE"])


def stop_worker(process):
    """A warm shutdown: SIGTERM to the main process alone lets the pool finish the tasks in hand (the group's
    SIGTERM would kill them mid-task, a WorkerLostError in the log); the group is killed if it takes too long."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stop(process)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of its group outlived it


def forget_queue(queue):
    """Remove the queue's kombu bindings, which service_settings (deleting the queue itself) leaves in Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    client.close()


def post(connection, key, body):
    """POST one comment; return (HTTP status, its id or None). Status 0: the connection failed."""
    try:
        connection.request(
            "POST",
            "/api/v1/comments",
            body=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException):
        connection.close()  # the next request opens a new one
        return 0, None
    return response.status, json.loads(answer).get("id") if response.status == 202 else None


def send_steady(port, key, rate, seconds, threads):
    """Post rate * seconds comments on schedule from `threads` senders; return (late s, answer s, status) for each
    comment sent, None for those whose time came after the load's end because the senders had fallen behind."""
    total = round(rate * seconds)
    numbers, results = itertools.count(), [None] * total
    started = time.monotonic() + 0.2  # every sender is waiting by then
    ends = started + seconds

    def sender():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # A service that cannot keep up gets the load's duration, not as long as it takes to answer them all.
        while (n := next(numbers)) < total and time.monotonic() < ends:
            body, due = comment_body(n), started + n / rate
            time.sleep(max(0.0, due - time.monotonic()))
            sent = time.monotonic()
            status, _id = post(connection, key, body)
            results[n] = (sent - due, time.monotonic() - sent, status)
        connection.close()

    pool = [threading.Thread(target=sender, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def comment_table():
    """The columns of the comment table this benchmark reads (typed, so SQLite's text dates come back parsed)."""
    return table(
        "comment",
        column("id", Integer),
        column("status", String),
        column("created_at", DateTime),
        column("decided_at", DateTime),
    )


def pending_after(engine, first_id):
    """How many comments from first_id on are still pending."""
    comments = comment_table()
    with engine.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(comments).where(comments.c.id >= first_id, comments.c.status == "pending")
        )


def wait_decided(engine, first_id, timeout, worker=None, worker_log=None):
    """Wait until no comment from first_id on is pending, or timeout; return (pending left, seconds waited)."""
    started = time.monotonic()
    while (left := pending_after(engine, first_id)) and time.monotonic() - started < timeout:
        if worker is not None and worker.poll() is not None:
            raise SystemExit(f"the worker exited: {worker_log.read_text()[-2000:]}")
        time.sleep(0.2)
    return left, time.monotonic() - started


def decisions(engine, first_id):
    """(latencies in ms of the decided comments, {status: count}, the sizes of the worker's batches, sorted) of the
    comments from first_id on; a batch's comments are stored in one transaction, with one decided_at."""
    comments = comment_table()
    with engine.connect() as connection:
        rows = connection.execute(
            select(comments.c.status, comments.c.created_at, comments.c.decided_at).where(comments.c.id >= first_id)
        ).all()
    statuses = {}
    for row in rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    latencies = sorted((row.decided_at - row.created_at).total_seconds() * 1000 for row in rows if row.decided_at)
    batches, windows = {}, {}
    start = min(row.created_at for row in rows)
    for row in rows:
        if row.decided_at:
            batches[row.decided_at] = batches.get(row.decided_at, 0) + 1
            window = windows.setdefault(int((row.created_at - start).total_seconds() // 10), [])
            window.append((row.decided_at - row.created_at).total_seconds() * 1000)
    by_window = [percentile(sorted(windows[w]), 0.5) for w in sorted(windows)]
    return latencies, statuses, sorted(batches.values()), by_window


def percentile(ordered, share):
    """The value below which `share` of the sorted values lie (nearest rank); nan when there are none."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def warm_up(service, engine):
    """Post WARM_UP comments and wait until the worker decided them all; return the first id of the load."""
    connection = http.client.HTTPConnection("127.0.0.1", service["port"], timeout=30)
    ids = []
    for n in range(WARM_UP):
        status, comment_id = post(connection, service["key"], {**comment_body(n), "author_ip": f"172.16.0.{n}"})
        if status != 202:
            raise SystemExit(f"warm-up comment answered {status}")
        ids.append(comment_id)
    connection.close()
    left, _waited = wait_decided(engine, ids[0], 120, service["worker"], service["worker_log"])
    if left:
        raise SystemExit(f"the worker decided no warm-up comment in 120 s: {service['worker_log'].read_text()[-2000:]}")
    return max(ids) + 1


def log_errors(log):
    """The lines of a log that tell of an error."""
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "ERROR" in line or "CRITICAL" in line or "Traceback" in line
    ]


def sending_figures(sends, rate):
    """What the senders achieved: {sent, due, rate, late, max_late_ms, answer_p50, answer_p99, refused}."""
    done = [(n, s) for n, s in enumerate(sends) if s is not None]
    last_start = max(s[0] + n / rate for n, s in done)  # from the load's start
    late = [s[0] * 1000 for _n, s in done if s[0] * 1000 > LATE_MS]
    answers = sorted(s[1] * 1000 for _n, s in done)
    refused = {}
    for _n, s in done:
        if s[2] != 202:
            refused[s[2]] = refused.get(s[2], 0) + 1
    return {
        "sent": len(done),
        "due": len(sends),
        "rate": (len(done) - 1) / last_start if last_start > 0 else 0.0,
        "late": len(late),
        "max_late_ms": max([0.0, *late]),
        "answer_p50": percentile(answers, 0.5),
        "answer_p99": percentile(answers, 0.99),
        "refused": refused,
    }


def report(args, sent, drained, left, latency, statuses, batches, errors):
    """Print the figures (`latency`: all of them sorted, and the p50 of each 10 s of the load), the logs' errors
    ({log: lines}) and the targets, met or not."""
    latencies, by_window = latency
    p50, p90, p99 = (percentile(latencies, q) for q in (0.5, 0.9, 0.99))
    refused = sum(sent["refused"].values())
    print(
        f"comment -> decision on {args.database}: {args.rate:g} comments/s asked for {args.seconds:g} s from "
        f"{args.threads} senders; gunicorn 2 sync workers, Celery worker --concurrency {args.workers}"
    )
    print(
        f"sent       {sent['sent']} of {sent['due']} comments due, at {sent['rate']:.1f}/s; {sent['late']} sends "
        f"more than {LATE_MS} ms late (max {sent['max_late_ms']:.0f} ms); answers p50 {sent['answer_p50']:.1f} ms, "
        f"p99 {sent['answer_p99']:.1f} ms; non-202 answers: {refused} {sent['refused'] or ''}"
    )
    decided = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()) if k != "pending")
    print(
        f"decided    {len(latencies)} ({decided}); "
        f"pending {left} after waiting {drained:.1f} s past the last send (at most {DRAIN_SECONDS} s)"
    )
    print(
        f"latency    p50 {p50:.1f} ms  p90 {p90:.1f} ms  p99 {p99:.1f} ms  max {max([0.0, *latencies]):.1f} ms  "
        f"(decided_at - created_at, from the database, {len(latencies)} comments"
        + (f"; the {left} still pending are not counted)" if left else ")")
    )
    print("p50 by 10 s of the load: " + ", ".join(f"{p:.0f}" for p in by_window) + " ms")
    print(
        f"batches    {len(batches)} stored by the worker, comments in each: p50 {percentile(batches, 0.5):.0f}, "
        f"p90 {percentile(batches, 0.9):.0f}, max {max([0, *batches])}"
    )
    for name, lines in errors.items():
        print(f"{name:10} {len(lines)} error lines" + "".join(f"\n  {line[:200]}" for line in lines[:5]))
    sustained = (
        sent["rate"] >= 0.99 * args.rate
        and sent["sent"] == sent["due"]
        and not refused
        and args.rate >= 300
        and args.seconds >= 60
    )
    checks = [
        (
            f"300 comments/s sustained for 60 s ({sent['rate']:.1f}/s for {args.seconds:g} s, {refused} non-202)",
            sustained,
        ),
        (f"p50 <= {TARGETS['p50']:g} ms ({p50:.1f})", p50 <= TARGETS["p50"]),
        (f"p99 <= {TARGETS['p99']:g} ms ({p99:.1f})", p99 <= TARGETS["p99"]),
        (f"nothing left pending ({left})", left == 0),
    ]
    print("targets (issue 16):")
    for label, met in checks:
        print(f"  {label:72} {'met' if met else 'NOT met'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rate", type=float, default=300, help="comments posted a second")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load lasts")
    parser.add_argument("--workers", type=int, default=2, help="the Celery worker's pool processes")
    parser.add_argument("--threads", type=int, default=16, help="senders, each with its own connection")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="decision-bench-"))
    try:
        with running_service(args.database, args.workers, scratch) as service:
            engine = create_engine(normalise_database_url(service["url"]))
            try:
                history = seed_history(engine)
                first_id = warm_up(service, engine)
                sends = send_steady(service["port"], service["key"], args.rate, args.seconds, args.threads)
                left, drained = wait_decided(engine, first_id, DRAIN_SECONDS, service["worker"], service["worker_log"])
                latencies, statuses, batches, by_window = decisions(engine, first_id)
            finally:
                engine.dispose()  # before the scratch database is dropped
        # Read once both have stopped: their shutdowns are in the logs too.
        errors = {"web log": log_errors(service["web_log"]), "worker log": log_errors(service["worker_log"])}
        print(f"history    {history} earlier comments over the day before, decided and indexed; then ANALYZE")
        report(
            args, sending_figures(sends, args.rate), drained, left, (latencies, by_window), statuses, batches, errors
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
