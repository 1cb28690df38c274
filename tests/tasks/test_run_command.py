"""`moderation run`: web, worker and an embedded Redis in the foreground, stopped together."""

import os
import signal
import socket
import subprocess
import sys

from moderation.db import db
from moderation.models import Comment
from tests.conftest import QUEUE, ROOT
from tests.support import free_port
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.service import http, wait_until
from tests.tasks.test_pipeline import CLEAN, SPAM, TOXIC


def test_run_serves_decides_and_stops_its_embedded_redis(app, database_url, site_key, tmp_path):
    """Three comments over real HTTP to `moderation run`; each reaches its decision in the database."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "MODERATION_REDIS_URL"}
    env.update(
        {
            "MODERATION_DATABASE_URL": database_url,
            "PORT": str(port),
            "MODERATION_QUEUE": QUEUE,
            "MODERATION_SECRET_KEY": "test-secret",
            "MODERATION_WEB_WORKERS": "1",
            "MODERATION_WORKER_CONCURRENCY": "1",
        }
    )
    log = open(tmp_path / "run.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moderation.cli", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            try:
                return http("GET", f"{base}/healthz")[0] == 200
            except OSError:
                return False

        wait_until(healthy, what="healthz 200")
        auth = {"Authorization": f"Bearer {site_key}"}
        ids = {}
        for label, text in (("clean", CLEAN), ("toxic", TOXIC), ("spam", SPAM)):
            status, body = http("POST", f"{base}/api/v1/comments", {"name": "Читатель", "text": text}, auth)
            assert status == 202 and body["status"] == "pending"
            ids[label] = body["id"]
        with app.app_context():
            wait_for_decisions(app, list(ids.values()))
            stored = {label: db.session.get(Comment, comment_id) for label, comment_id in ids.items()}
            assert {label: c.status for label, c in stored.items()} == {
                "clean": "approved",
                "toxic": "held",
                "spam": "spam",
            }
            assert all(c.model_version and c.decided_at for c in stored.values())
        shown = http("GET", f"{base}/api/v1/comments/{ids['toxic']}", headers=auth)[1]
        assert shown["status"] == "held" and shown["reasons"][0]["code"] == "toxicity"
        redis_url = [line for line in (tmp_path / "run.log").read_text().splitlines() if "embedded Redis at" in line]
        assert redis_url, (tmp_path / "run.log").read_text()
        redis_port = int(redis_url[0].rsplit(":", 1)[1].split("/")[0])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert process.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", redis_port)) != 0, "the embedded Redis must stop with the service"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web server must stop with the service"
