"""`moderation run` as a newcomer starts it, driven over real HTTP, and its processes found to be killed."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from tests.conftest import QUEUE, ROOT
from tests.support import free_port


def http(method, url, body=None, headers=None, timeout=10):
    """(status, JSON body) of one request; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw[:300].decode(errors="replace")}


def wait_until(check, timeout=60, what="condition"):
    """Poll check() until it returns something true; return that. what may be a callable, asked only on failure
    (a log read when the wait gives up, not when it starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what() if callable(what) else what} not reached in {timeout}s")


def _parents():
    """{pid: parent pid} of every process, read from /proc; a process that ends while we look is left out."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _command(pid):
    """The command line of pid, or None when it has ended."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None


def process_tree(pid):
    """{pid: command line} of every process descending from pid, read from /proc."""
    parents = _parents()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                command = _command(child)
                if command is not None:
                    found[child] = command
                    frontier.append(child)
    return found


class Service:
    """`python -m moderation.cli run` in the foreground with its own port, log and settings."""

    def __init__(self, tmp_path, database_url, **settings):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"run-{self.port}.log"
        self.env = {key: value for key, value in os.environ.items() if key != "MODERATION_REDIS_URL"}
        self.env.update(
            {
                "MODERATION_DATABASE_URL": database_url,
                "PORT": str(self.port),
                "MODERATION_QUEUE": QUEUE,
                "MODERATION_SECRET_KEY": "test-secret",
                "MODERATION_WEB_WORKERS": "1",
                "MODERATION_WORKER_CONCURRENCY": "1",
            }
        )
        self.env.update({key if key == "PORT" else f"MODERATION_{key}": str(value) for key, value in settings.items()})
        self.process = None

    def start(self, healthy=True):
        """Start the service; with healthy, wait until /healthz says 200 (web, broker and a worker)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moderation.cli", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
        )
        if healthy:
            wait_until(self._healthy, timeout=90, what=self._unhealthy)
        return self

    def _healthy(self):
        """True once /healthz says 200; raises at once when `moderation run` has exited instead."""
        if self.process.poll() is not None:
            raise AssertionError(f"`moderation run` exited with {self.process.returncode}\n{self.log()[-4000:]}")
        return self.health() == 200

    def _unhealthy(self):
        return f"healthz 200 (it says {self.health()})\n{self.log()[-4000:]}"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def health(self):
        """The status /healthz answers, or None when nothing answers."""
        try:
            return http("GET", f"{self.base}/healthz", timeout=5)[0]
        except OSError:
            return None

    def post(self, key, body, timeout=10):
        """POST a comment; (status, body)."""
        return http("POST", f"{self.base}/api/v1/comments", body, {"Authorization": f"Bearer {key}"}, timeout)

    def children(self):
        """{role: pid} of the processes `moderation run` started: web, worker, beat, redis."""
        roles = {}
        for pid, parent in _parents().items():
            command = _command(pid) if parent == self.process.pid else None
            if command is None:
                continue
            for role, needle in (
                ("web", "gunicorn"),
                ("worker", "-A worker worker"),
                ("beat", "-A worker beat"),
                ("redis", "redis-server"),
            ):
                if needle in command:
                    roles[role] = pid
        return roles

    def kill_group(self, role):
        """SIGKILL one child's whole process group (the worker with its pool, gunicorn with its workers)."""
        pid = self.children()[role]
        os.killpg(pid, signal.SIGKILL)
        return pid

    def decided_counts(self):
        """{comment id: how many times a worker logged its decision}."""
        return Counter(int(m) for m in re.findall(r"comment (\d+) decided: ", self.log()))

    def stop(self):
        """Ctrl-C, as a person stops it; return the exit code."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None
