"""Nothing is lost: the broker down or stalled during intake, a worker killed in the middle of a task."""

import os
import signal
import socket
import threading
import time

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from moderation.db import db
from moderation.models import Comment
from tests.tasks.conftest import wait_for_decisions

TOXIC = "Ты тупой дебил, заткнись уже, идиот"
SWEEP = {"PENDING_MAX_AGE": 2, "SWEEP_INTERVAL": 1}
NO_SWEEP = {"PENDING_MAX_AGE": 3600, "SWEEP_INTERVAL": 3600}


def post(client, auth, text):
    started = time.monotonic()
    response = client.post("/api/v1/comments", json={"name": "Читатель", "text": text}, headers=auth)
    assert response.status_code == 202, response.json
    return response.json["id"], time.monotonic() - started


def statuses_of(app, ids):
    with app.app_context():
        return db.session.scalars(select(Comment.status).where(Comment.id.in_(ids)).order_by(Comment.id)).all()


def test_comments_posted_while_the_broker_is_down_are_decided_when_it_is_back(
    make_app, redis_server, start_worker, site_key
):
    app = make_app(REDIS_URL=redis_server.url)
    client, auth = app.test_client(), {"Authorization": f"Bearer {site_key}"}
    start_worker(redis=redis_server.url, **SWEEP).wait_for_log("ready.")
    redis_server.stop()

    texts = ["Хорошая новость для нашего района", "Когда откроют новую школу?", TOXIC]
    posted = [post(client, auth, t) for t in texts]
    ids = [comment_id for comment_id, _elapsed in posted]
    assert max(elapsed for _id, elapsed in posted) < 5, "intake must not hang on a dead broker"
    assert client.get("/healthz").status_code == 503
    time.sleep(1)
    assert statuses_of(app, ids) == ["pending"] * 3, "stored before queueing, and nothing could decide them"

    redis_server.start()
    statuses = wait_for_decisions(app, ids)
    assert [statuses[i] for i in ids] == ["approved", "approved", "held"]


def test_a_stalled_broker_does_not_hang_intake(make_app, site_key):
    """A broker that accepts connections and never answers: the comment is stored, the answer comes."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept_and_say_nothing():
        try:
            while True:
                accepted.append(listener.accept())
        except OSError:  # the listener was closed: the test is over
            pass

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
    client, auth = app.test_client(), {"Authorization": f"Bearer {site_key}"}
    try:
        comment_id, elapsed = post(client, auth, "Комментарий при зависшем брокере")
        # It ends, after the socket timeouts of the rate limiter's checks and of the broker's send (5 s each);
        # 15 s left no room for a loaded machine (15.06 s seen with the suite in two processes).
        assert elapsed < 20
        started = time.monotonic()
        assert client.get("/healthz").status_code == 503
        assert time.monotonic() - started < 10
        assert statuses_of(app, [comment_id]) == ["pending"]
    finally:
        listener.close()


def _lock_comment(database_url, comment_id):
    """Hold a write lock that blocks the worker's decision on this comment; return the open connection."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the worker can read and score, but its write waits on us
        return conn
    conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    conn.execute("SELECT id FROM comment WHERE id = %s FOR UPDATE", (comment_id,))
    return conn


def _running_task_pid(app, worker, timeout=60):
    """The pid of the pool process running a task, as the worker itself reports it."""
    inspect = app.extensions["celery"].control.inspect([worker.name], timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = (inspect.active() or {}).get(worker.name) or []
        if active:
            return active[0]["worker_pid"]
        time.sleep(0.3)
    raise AssertionError(f"no active task:\n{worker.log()[-3000:]}")


def test_a_pool_process_killed_mid_task_gets_its_task_redelivered(app, client, auth, database_url, start_worker):
    """Acknowledged late and rejected on a lost worker: the broker hands the task out again (no sweep)."""
    comment_id, _elapsed = post(client, auth, TOXIC)
    lock = _lock_comment(database_url, comment_id)
    try:
        worker = start_worker(**NO_SWEEP)
        os.kill(_running_task_pid(app, worker), signal.SIGKILL)
        worker.wait_for_log("WorkerLostError")
        assert statuses_of(app, [comment_id]) == ["pending"]
    finally:
        lock.rollback()
        lock.close()
    assert wait_for_decisions(app, [comment_id], timeout=60) == {comment_id: "held"}


def test_a_whole_worker_killed_mid_task_loses_nothing(app, client, auth, database_url, start_worker):
    """The worker and its pool die at once (a crash, the OOM killer); a new worker decides the comment."""
    comment_id, _elapsed = post(client, auth, TOXIC)
    lock = _lock_comment(database_url, comment_id)
    try:
        worker = start_worker(**SWEEP)
        _running_task_pid(app, worker)
        worker.kill()
        assert "succeeded" not in worker.log()
    finally:
        lock.rollback()
        lock.close()
    assert statuses_of(app, [comment_id]) == ["pending"]

    start_worker(**SWEEP)
    assert wait_for_decisions(app, [comment_id]) == {comment_id: "held"}


def test_a_channel_whose_connection_is_gone_fails_with_a_connection_error_not_a_crash(app):
    """Redis vanishing mid-task made the worker exit ("Unrecoverable error: AttributeError('NoneType' object
    has no attribute 'hostname')"): Celery closes the connection, kombu drops the channel's pools and
    detaches its transport, then restores or acks the running tasks through that channel. Celery only
    survives connection errors there, so that is what the channel must raise."""
    connection = app.extensions["celery"].connection_for_write()
    channel = connection.default_channel
    channel._disconnect_pools()  # what the channel's close does before restoring unacknowledged tasks
    connection._do_close_transport()  # the transport detached, as when the consumer's connection is released
    with pytest.raises(connection.connection_errors):
        channel.qos.restore_unacked()
    with pytest.raises(connection.connection_errors):
        channel.qos.ack("a-delivery-tag")
