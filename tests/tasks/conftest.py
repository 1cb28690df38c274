"""Real worker processes and a private Redis server that tests may stop and start."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from moderation.db import db
from moderation.models import PENDING, Comment
from tests.conftest import QUEUE, ROOT
from tests.support import RedisServer


class Worker:
    """A `celery -A worker worker --beat` process in its own process group, as production runs it."""

    def __init__(self, tmp_path, database_url, redis_url, **settings):
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.log_path = tmp_path / f"{self.name}.log"
        self.env = dict(os.environ)
        self.env.update(
            {
                "MODERATION_DATABASE_URL": database_url,
                "MODERATION_REDIS_URL": redis_url,
                "MODERATION_QUEUE": QUEUE,
                "MODERATION_SECRET_KEY": "test-secret",
            }
        )
        self.env.update({f"MODERATION_{key}": str(value) for key, value in settings.items()})
        self.schedule = tmp_path / f"beat-{uuid.uuid4().hex[:8]}"
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "--beat",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--hostname",
                self.name,
                "--schedule",
                str(self.schedule),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, needle, timeout=60):
        """Wait until the worker's log shows needle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"worker log never showed {needle!r}:\n{self.log()[-3000:]}")

    def kill(self):
        """SIGKILL the whole worker, pool children included, as a crash or OOM would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path, database_url, redis_url):
    """Start real workers on the test database; all are stopped at the end."""
    workers = []

    def start(redis=None, **settings):
        worker = Worker(tmp_path, database_url, redis or redis_url, **settings).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def redis_server(tmp_path):
    """A private Redis the test can stop and start."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def wait_for_decisions(app, ids, timeout=90):
    """Poll the database until none of the comments is pending; return {id: status}."""
    deadline = time.monotonic() + timeout
    statuses = {}
    while time.monotonic() < deadline:
        with app.app_context():
            rows = db.session.execute(select(Comment.id, Comment.status).where(Comment.id.in_(ids))).all()
        statuses = dict(rows)
        if len(statuses) == len(ids) and PENDING not in statuses.values():
            return statuses
        time.sleep(0.2)
    raise AssertionError(f"still pending after {timeout}s: {statuses}")


def pytest_terminal_summary(terminalreporter):
    """Print the fault suite's counts (tests/tasks/test_faults.py) at the end of the run."""
    from tests.tasks.test_faults import FAULT_COUNTS

    if not FAULT_COUNTS:
        return
    terminalreporter.section("fault tolerance: what the site sent and what came of it")
    columns = list(FAULT_COUNTS[0])
    widths = {c: max(len(c), *(len(str(row[c])) for row in FAULT_COUNTS)) for c in columns}
    terminalreporter.write_line(" | ".join(c.ljust(widths[c]) for c in columns))
    for row in FAULT_COUNTS:
        terminalreporter.write_line(" | ".join(str(row[c]).ljust(widths[c]) for c in columns))
