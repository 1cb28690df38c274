"""A service that comes back by itself: workers' heartbeats, `moderation run` restarting its children, and
commands from a second terminal finding the embedded broker of a running `moderation run`."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from moderation.cli import main
from moderation.config import embedded_redis_file
from moderation.services import retraining
from tests.conftest import ROOT
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.service import Service, wait_until
from tests.tasks.test_retrain import MODELS, seed_labels

pytestmark = pytest.mark.worker
FAST = {"HEARTBEAT_INTERVAL": 1, "PENDING_MAX_AGE": 3, "SWEEP_INTERVAL": 1}


def test_healthz_answers_503_soon_after_the_last_worker_stops_and_200_when_one_is_back(make_app, start_worker):
    queue = f"heartbeat-{uuid.uuid4().hex[:8]}"  # no other test's worker beats for this queue
    app = make_app(QUEUE=queue, HEARTBEAT_INTERVAL=1)
    client = app.test_client()
    assert client.get("/healthz").json["checks"]["worker"] is False
    worker = start_worker(QUEUE=queue, HEARTBEAT_INTERVAL=1)
    worker.wait_for_log("ready.")
    assert wait_until(lambda: client.get("/healthz").status_code == 200, timeout=10, what="healthz 200")
    assert client.get("/healthz").json == {
        "status": "ok",
        "checks": {"database": True, "broker": True, "worker": True},
        "workers": 1,
    }

    worker.kill()  # SIGKILL: no clean shutdown removes its mark; it must expire
    stopped = time.monotonic()
    wait_until(lambda: client.get("/healthz").status_code == 503, timeout=60, what="healthz 503")
    assert time.monotonic() - stopped <= 3 * 1 + 2  # three missed beats, give or take a beat
    assert client.get("/healthz").json["checks"] == {"database": True, "broker": True, "worker": False}

    start_worker(QUEUE=queue, HEARTBEAT_INTERVAL=1).wait_for_log("ready.")
    wait_until(lambda: client.get("/healthz").status_code == 200, timeout=10, what="healthz 200 again")


def test_run_brings_back_a_killed_worker_beat_redis_and_web_server(database_url, site_key, tmp_path):
    """Each child SIGKILLed in turn: the web server keeps answering while the others are down, and every
    comment it acknowledged is decided once the child is back."""
    service = Service(tmp_path, database_url, **FAST).start()
    try:
        acknowledged = []

        def post_some(n, tag):
            for i in range(n):
                status, body = service.post(site_key, {"name": "Читатель", "text": f"Комментарий {tag} {i}"})
                assert status == 202, body
                acknowledged.append(body["id"])

        worker = service.kill_group("worker")
        post_some(5, "без обработчика")  # the web server does not go down with the worker
        wait_until(lambda: service.health() == 503, timeout=60, what="healthz 503 without a worker")
        wait_until(lambda: service.children().get("worker") not in (None, worker), what="a new worker")
        wait_until(lambda: service.health() == 200, timeout=60, what="healthz 200 with the new worker")

        beat = service.kill_group("beat")  # the sweep below needs the beat that replaces it
        wait_until(lambda: service.children().get("beat") not in (None, beat), what="a new beat")

        redis = service.kill_group("redis")
        post_some(5, "без брокера")  # stored, and queued again by the sweep once Redis is back
        wait_until(lambda: service.children().get("redis") not in (None, redis), what="a new embedded Redis")

        web = service.kill_group("web")
        wait_until(lambda: service.children().get("web") not in (None, web), what="a new web server")
        wait_until(lambda: service.health() == 200, timeout=60, what="healthz 200 after everything")
        post_some(5, "после всего")

        from moderation import create_app  # the test's own view of the database

        app = create_app({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0", "TESTING": True})
        statuses = wait_for_decisions(app, acknowledged, timeout=90)
        assert len(statuses) == 15 and set(statuses.values()) <= {"approved", "held"}
        assert max(service.decided_counts()[i] for i in acknowledged) == 1, "nothing is decided twice"
        log = service.log()
        for name in ("the worker", "the beat", "the embedded Redis", "the web server"):
            assert f"{name} exited with code" in log and f"{name} started again" in log, log[-3000:]
    finally:
        assert service.stop() == 0, service.log()[-3000:]


@pytest.fixture
def models_copy(tmp_path):
    """A copy of the shipped models and an empty data folder: a retrain writes only into the copy."""
    models_dir, data_dir = tmp_path / "models", tmp_path / "no-data"
    shutil.copytree(MODELS, models_dir)
    data_dir.mkdir()
    return {"MODELS_DIR": str(models_dir), "DATA_DIR": str(data_dir)}


def test_retrain_wait_from_a_second_terminal_finds_the_embedded_broker(make_app, database_url, models_copy, tmp_path):
    """With `moderation run` serving on its embedded Redis, `moderation retrain --wait` prints the new version."""
    app = make_app(**models_copy)
    seed_labels(app, 200)
    marker = embedded_redis_file(app.instance_path, database_url)
    service = Service(tmp_path, database_url, **models_copy).start()
    try:
        assert marker.is_file()
        env = {key: value for key, value in service.env.items() if key != "PORT"}
        result = subprocess.run(
            [sys.executable, "-m", "moderation.cli", "retrain", "--wait", "--timeout", "180"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stderr[-3000:] + service.log()[-3000:]
        version = result.stdout.strip().splitlines()[-1]
        assert (Path(models_copy["MODELS_DIR"]) / version / "manifest.json").is_file()

        second = subprocess.run(
            [sys.executable, "-m", "moderation.cli", "run"],
            cwd=ROOT,
            env=service.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1 and "another `moderation run` is serving this database" in second.stderr
        assert service.health() == 200, "the first one serves on"
    finally:
        assert service.stop() == 0
    assert not marker.exists(), "a stopped run no longer points commands at its Redis"


def test_retrain_fails_at_once_when_nothing_would_take_the_job(make_app, database_url, models_copy):
    """No `moderation run` and no MODERATION_REDIS_URL: a clear message, not half an hour of «queued 0%»."""
    env = {key: value for key, value in os.environ.items() if key != "MODERATION_REDIS_URL"}
    env.update({"MODERATION_DATABASE_URL": database_url, "MODERATION_MODELS_DIR": models_copy["MODELS_DIR"]})
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "moderation.cli", "retrain", "--wait"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and time.monotonic() - started < 20
    assert "no broker" in result.stderr and "moderation run" in result.stderr, result.stderr

    # A broker but no worker on its queue: refused too, and nothing is left queued to block the next one.
    app = make_app(QUEUE=f"idle-{uuid.uuid4().hex[:8]}", **models_copy)
    result = app.test_cli_runner().invoke(main, ["retrain", "--wait"])
    assert result.exit_code == 1 and "no worker" in result.output, result.output
    with app.app_context():
        assert retraining.current_job() is None
