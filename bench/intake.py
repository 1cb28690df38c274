"""Intake throughput: POST /api/v1/comments against a bare Flask endpoint and Isso, under the same load.

Usage: python bench/intake.py [--database postgresql|sqlite|both] [--seconds 10] [--connections 16]
       python bench/intake.py --profile [--database postgresql|sqlite] [--requests 2000]

Each server runs under gunicorn with 2 sync workers on this machine, alone, and `wrk -t2 -c16 -d10s` posts a
different comment with every request, from a different reader's address (a wrk Lua script numbers them), as
the WordPress plugin sends a comment, so no answer is a duplicate's 409 or a flood's 429:
- this service's web process (no worker runs: the queue fills a scratch Redis queue, deleted afterwards), on a
  scratch PostgreSQL database or SQLite file, with the per-site rate limit raised out of the way;
- the floor of the work itself: a Flask app doing only what a comment needs on PostgreSQL (both rate limits counted
  in one Redis script call, the comment inserted and committed unless it repeats one, its id pushed to a queue),
  with raw psycopg and redis-py and nothing else (FLOOR below);
- the floor of the framework: a bare Flask app that parses the JSON body and answers 202;
- a peer: Isso, a small Python comment server on SQLite, installed into a scratch virtualenv under
  instance/bench-cache/ on first use (`POST /new?uri=...` with a title, so it fetches no page).
It prints requests/s, p50 and p99 latency and the non-2xx answers of each, and the ratios of this service to
the others. Targets (issue 16): PostgreSQL >= 1,500 requests/s, p99 <= 50 ms, >= 3.5x Isso and >= 0.28x bare
Flask; SQLite >= 800 requests/s with no errors. Needs wrk (Debian package `wrk`).

With --profile it instead posts --requests comments in this process through Flask's test client (no HTTP
server), timing them, then as many again under cProfile, and prints the mean cost of a request and where it
goes: the share of each part of the intake path and the calls that take the most time, cumulative.
"""

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from moderation.runner import free_port

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "instance" / "bench-cache"
ISSO_VERSION = "0.13.0"
REDIS_URL = os.environ.get("MODERATION_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc"]

BARE_FLASK = """
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/comments")
def create():
    body = request.get_json()
    if not isinstance(body, dict) or not body.get("name") or not body.get("text"):
        return jsonify(error="name and text are required"), 400
    return jsonify(id=1, status="pending"), 202
"""

# The floor of this service's work, without its framework: the same three round trips a comment needs (both rate
# limits counted in Redis by one script, the comment inserted unless it is a duplicate and committed, the task id
# pushed to the queue), with no validation, no translations, no SQLAlchemy, no Celery message. What this machine
# allows for the promises themselves; this service cannot be faster than it.
FLOOR = """
import json, os

import psycopg
import redis
from flask import Flask, jsonify, request

app = Flask(__name__)
queue = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
limits = queue.register_script(
    "for i, key in ipairs(KEYS) do if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, 60) end end"
)
INSERT = (
    "INSERT INTO floor_comment (name, text, author_ip, article_id, created_at) VALUES (%s, %s, %s, %s, now())"
    " ON CONFLICT DO NOTHING RETURNING id"
)
database = None


@app.post("/api/v1/comments")
def create():
    global database
    if request.headers.get("Authorization") != "Bearer floor":
        return jsonify(error="a valid API key is required"), 401
    body = request.get_json()
    if not isinstance(body, dict) or not body.get("name") or not body.get("text"):
        return jsonify(error="name and text are required"), 400
    limits(keys=["floor-site", "floor-author-" + str(body.get("author_ip"))])
    if database is None:
        database = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
    fields = (body["name"], body["text"], body.get("author_ip"), body.get("article_id"))
    comment_id = database.execute(INSERT, fields, prepare=True).fetchone()[0]
    queue.lpush(os.environ["FLOOR_QUEUE"], json.dumps([comment_id]))
    return jsonify(id=comment_id, status="pending"), 202
"""
FLOOR_TABLE = (
    "CREATE TABLE floor_comment (id serial PRIMARY KEY, name text, text text, author_ip text, article_id text,"
    " created_at timestamp, UNIQUE (article_id, author_ip, text))"
)

ISSO_CONFIG = """
[general]
dbpath = {db}
host = http://127.0.0.1:{port}/
[guard]
enabled = false
[moderation]
enabled = false
"""

# wrk: a different comment with every request; each thread numbers its own.
WRK_SCRIPT = """
local counter, thread_id = 0, 0
function setup(thread)
  thread:set("id", tostring(math.random(1, 2147483647)))
end
function init(args)
  thread_id = id
end
request = function()
  counter = counter + 1
  -- a different reader's address too, so that neither flood control nor the per-reader limit answers
  local address = string.format("10.%d.%d.%d", tonumber(thread_id) % 256, math.floor(counter / 256) % 256,
                                counter % 256)
  local body = string.format(BODY, thread_id .. "-" .. counter, address)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""

# What the WordPress plugin sends of a comment, as the two %s: a number for the text, and the reader's address.
SERVICE_BODY = (
    '{"name": "Читатель", "text": "Комментарий к новости номер %s", "author_ip": "%s", '
    '"article_id": "news-1", "article_url": "https://news.example.kz/2026/12/news-1/", '
    '"article_title": "Новость дня", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}'
)


def wait_for(port, path, process, log, method="GET"):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
            urllib.request.urlopen(request, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def lua_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def load(port, path, headers, body_format, seconds, connections, scratch):
    """Run wrk against one server; return {rps, p50, p99, non2xx, requests}."""
    script = scratch / f"post-{port}.lua"
    header_table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()) + "}"
    script.write_text(
        f"PATH = {lua_string(path)}\nHEADERS = {header_table}\nBODY = {lua_string(body_format)}\n" + WRK_SCRIPT
    )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def gunicorn(args, env, scratch, name, cwd=ROOT, python=sys.executable):
    log = scratch / f"{name}.log"
    process = subprocess.Popen(
        [python, "-m", "gunicorn", "--workers", "2", *args],
        cwd=cwd,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already gone


@contextlib.contextmanager
def service_settings(database, scratch):
    """The service's MODERATION_* settings on a scratch database and queue, both removed afterwards."""
    pg_name = None
    if database == "postgresql":
        pg_name = f"moderation_bench_{uuid.uuid4().hex[:8]}"
        subprocess.run(PG_ADMIN + [f'CREATE DATABASE "{pg_name}"'], check=True)
        url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    else:
        url = f"sqlite:///{scratch / f'{uuid.uuid4().hex[:8]}.db'}"
    queue = f"bench-intake-{uuid.uuid4().hex[:6]}"
    try:
        yield {
            "MODERATION_DATABASE_URL": url,
            "MODERATION_REDIS_URL": REDIS_URL,
            "MODERATION_QUEUE": queue,
            "MODERATION_SECRET_KEY": "bench",
            "MODERATION_API_KEY_LIMIT": "1000000 per second",
        }
    finally:
        forget = "import redis, sys; redis.Redis.from_url(sys.argv[1]).delete(sys.argv[2])"
        subprocess.run([sys.executable, "-c", forget, REDIS_URL, queue], check=False)
        if pg_name:
            subprocess.run(PG_ADMIN + [f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'], check=False)


def bench_service(database, seconds, connections, scratch, options=()):
    """This service's intake on a scratch database: {figures}."""
    with service_settings(database, scratch) as settings:
        env = {**os.environ, **settings}

        def cli(*args):
            done = subprocess.run(
                [sys.executable, "-m", "moderation.cli", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

        cli("db", "upgrade")
        key = cli("site", "add", "bench.example.kz")
        port = free_port()
        process, log = gunicorn(
            [
                "-c",
                "python:moderation.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                *options,
                "moderation:create_app()",
            ],
            env,
            scratch,
            f"service-{database}",
        )
        try:
            wait_for(port, "/healthz", process, log)
            body = SERVICE_BODY
            return load(
                port,
                "/api/v1/comments",
                {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                body,
                seconds,
                connections,
                scratch,
            )
        finally:
            stop(process)


def bench_bare_flask(seconds, connections, scratch):
    (scratch / "bare_flask.py").write_text(BARE_FLASK)
    port = free_port()
    process, log = gunicorn(
        ["--bind", f"127.0.0.1:{port}", "bare_flask:app"], dict(os.environ), scratch, "bare-flask", cwd=scratch
    )
    try:
        wait_for(port, "/api/v1/comments", process, log)
        return load(
            port,
            "/api/v1/comments",
            {"Content-Type": "application/json"},
            '{"name": "Читатель", "text": "Комментарий к новости номер %s"}',
            seconds,
            connections,
            scratch,
        )
    finally:
        stop(process)


def bench_floor(seconds, connections, scratch):
    """The FLOOR app on a scratch PostgreSQL database and queue: {figures}."""
    (scratch / "floor_app.py").write_text(FLOOR)
    with service_settings("postgresql", scratch) as settings:
        url = settings["MODERATION_DATABASE_URL"]
        subprocess.run(["psql", url, "-qc", FLOOR_TABLE], check=True)
        env = {
            **os.environ,
            "FLOOR_DATABASE_URL": url,
            "FLOOR_REDIS_URL": REDIS_URL,
            "FLOOR_QUEUE": settings["MODERATION_QUEUE"],
        }
        port = free_port()
        process, log = gunicorn(["--bind", f"127.0.0.1:{port}", "floor_app:app"], env, scratch, "floor", cwd=scratch)
        try:
            wait_for(port, "/api/v1/comments", process, log)
            headers = {"Authorization": "Bearer floor", "Content-Type": "application/json"}
            return load(port, "/api/v1/comments", headers, SERVICE_BODY, seconds, connections, scratch)
        finally:
            stop(process)


def isso_python():
    """The scratch virtualenv's python with Isso and gunicorn installed (made once)."""
    venv = CACHE / f"isso-{ISSO_VERSION}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        print(f"installing isso {ISSO_VERSION} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"isso=={ISSO_VERSION}", "gunicorn"], check=True)
        (venv / ".installed").touch()
    return python


def bench_isso(seconds, connections, scratch):
    python = isso_python()
    port = free_port()
    config = scratch / "isso.cfg"
    config.write_text(ISSO_CONFIG.format(db=scratch / "isso.db", port=port))
    env = {**os.environ, "ISSO_SETTINGS": str(config)}
    process, log = gunicorn(
        ["--bind", f"127.0.0.1:{port}", "isso.run:application"], env, scratch, "isso", python=str(python)
    )
    try:
        wait_for(port, "/info", process, log)
        body = '{"author": "Читатель", "title": "Новость", "text": "Комментарий к новости номер %s"}'
        return load(
            port, "/new?uri=%2Fnews-1", {"Content-Type": "application/json"}, body, seconds, connections, scratch
        )
    finally:
        stop(process)


PARTS = {  # the intake path's parts, by the function that does each (cumulative time in cProfile)
    "site key lookup": ("moderation/services/sites.py", "authenticate"),
    "rate limits": ("moderation/api/limits.py", "first_exceeded"),
    "form parsing and validation": ("moderation/api/comments.py", "read_form"),
    "storing and queueing": ("moderation/services/intake.py", "take"),
    "  the insert, with the flood rule (it commits itself)": ("moderation/services/intake.py", "insert_comment"),
    "  why one was refused (duplicate or flood)": ("moderation/services/intake.py", "precheck"),
    "  the queue message": ("moderation/broker.py", "enqueue"),
}


def profile(database, requests, scratch):
    """Post `requests` comments in this process under cProfile; print the cost per request and its parts."""
    import cProfile
    import pstats

    with service_settings(database, scratch) as settings:
        os.environ.update(settings)
        from moderation import create_app
        from moderation.db import db
        from moderation.services import sites

        app = create_app()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            _site, key = sites.create_site("bench.example.kz")
            db.session.remove()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}

        def post(n):
            body = json.loads(SERVICE_BODY % (n, f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"))
            response = client.post("/api/v1/comments", json=body, headers=headers)
            assert response.status_code == 202, response.get_data(as_text=True)

        for n in range(50):  # warm the pools and caches
            post(-n - 1)
        started = time.perf_counter()
        for n in range(requests):
            post(n)
        per_request = (time.perf_counter() - started) / requests * 1000
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(requests, 2 * requests):
            post(n)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = (
            sum(entry[3] for (file, _line, func), entry in stats.stats.items() if file == __file__ and func == "post")
            / requests
            * 1000
        )
        print(
            f"intake on {database}, {requests} requests in process (Flask test client, no HTTP server): "
            f"{per_request:.2f} ms per request ({total:.2f} ms under the profiler, which the parts below share)"
        )
        for part, (path, name) in PARTS.items():
            spent = (
                sum(
                    entry[3]
                    for (file, _line, func), entry in stats.stats.items()
                    if file.endswith(path) and func == name
                )
                / requests
                * 1000
            )
            print(f"  {part:52} {spent:6.2f} ms  {spent / total:5.1%}")
        print("the 15 calls that take the most time, cumulative:")
        stats.sort_stats("cumulative").print_stats(r"(moderation|flask_limiter|wtforms|sqlalchemy|kombu|celery)", 15)
        with app.app_context():
            for engine in db.engines.values():  # the app's and intake's own, before the scratch database is dropped
                engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", action="store_true", help="profile intake in this process instead")
    parser.add_argument("--requests", type=int, default=2000, help="comments posted with --profile")
    parser.add_argument(
        "--service-options",
        default="",
        help="more gunicorn options for this service, to compare "
        "configurations, e.g. '--workers 4' or '--threads 4' (the last of an option wins)",
    )
    parser.add_argument("--no-peers", action="store_true", help="this service alone, without Flask and Isso")
    args = parser.parse_args()
    if args.profile:
        profile(
            "postgresql" if args.database == "both" else args.database,
            args.requests,
            Path(tempfile.mkdtemp(prefix="intake-profile-")),
        )
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    scratch = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    databases = ("postgresql", "sqlite") if args.database == "both" else (args.database,)
    print(
        f"POST a new comment per request, gunicorn with 2 sync workers each, "
        f"wrk -t2 -c{args.connections} -d{args.seconds:g}s, one server at a time"
    )
    results = {}
    for database in databases:
        results[f"this service, {database}"] = bench_service(
            database, args.seconds, args.connections, scratch, shlex.split(args.service_options)
        )
    if not args.no_peers:
        results["floor, PostgreSQL"] = bench_floor(args.seconds, args.connections, scratch)
        results["bare Flask endpoint"] = bench_bare_flask(args.seconds, args.connections, scratch)
        results["Isso (SQLite)"] = bench_isso(args.seconds, args.connections, scratch)
    print(f"{'server':32} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9} {'non-2xx':>8}")
    for name, r in results.items():
        errors = f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""
        print(f"{name:32} {r['rps']:8.0f} {r['p50']:7.1f} {r['p99']:7.1f} {r['requests']:9d} {r['non2xx']:8d}{errors}")
    if args.no_peers:
        return
    flask, isso = results["bare Flask endpoint"]["rps"], results["Isso (SQLite)"]["rps"]
    floor = results["floor, PostgreSQL"]["rps"]
    for database in databases:
        rps = results[f"this service, {database}"]["rps"]
        ratios = f"x{rps / isso:.2f} Isso, x{rps / flask:.3f} bare Flask, x{rps / floor:.2f} the floor"
        print(f"this service on {database}: {ratios}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
