"""Nothing is lost: the broker down during intake, a worker killed in the middle of a task."""
import time

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from moderation.db import db
from moderation.models import Comment
from tests.tasks.conftest import wait_for_decisions

SWEEP = {"PENDING_MAX_AGE": 2, "SWEEP_INTERVAL": 1}


def post(client, auth, text):
    started = time.monotonic()
    response = client.post("/api/v1/comments", json={"name": "Читатель", "text": text}, headers=auth)
    assert response.status_code == 202, response.json
    return response.json["id"], time.monotonic() - started


def test_comments_posted_while_the_broker_is_down_are_decided_when_it_is_back(
        make_app, redis_server, start_worker, site_key):
    app = make_app(REDIS_URL=redis_server.url)
    client, auth = app.test_client(), {"Authorization": f"Bearer {site_key}"}
    start_worker(redis=redis_server.url, **SWEEP).wait_for_log("ready.")
    redis_server.stop()

    texts = ["Хорошая новость для нашего района", "Когда откроют новую школу?", "Ты тупой дебил, заткнись уже, идиот"]
    posted = [post(client, auth, t) for t in texts]
    ids = [comment_id for comment_id, _elapsed in posted]
    assert max(elapsed for _id, elapsed in posted) < 5, "intake must not hang on a dead broker"
    assert client.get("/healthz").status_code == 503
    time.sleep(1)
    with app.app_context():
        statuses = db.session.scalars(select(Comment.status).where(Comment.id.in_(ids))).all()
        assert statuses == ["pending"] * 3, "stored before queueing, and nothing could decide them"

    redis_server.start()
    statuses = wait_for_decisions(app, ids)
    assert sorted(statuses.values()) == ["approved", "approved", "held"]


def _lock_comment(database_url, comment_id):
    """Hold a write lock that blocks the worker's task on this comment; return the open connection."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the worker can read, but its commit waits on us
        return conn
    conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    conn.execute("SELECT id FROM comment WHERE id = %s FOR UPDATE", (comment_id,))
    return conn


def test_a_worker_killed_in_the_middle_of_a_task_loses_nothing(app, client, auth, database_url, start_worker):
    comment_id, _elapsed = post(client, auth, "Ты тупой дебил, заткнись уже, идиот")
    lock = _lock_comment(database_url, comment_id)
    try:
        worker = start_worker(**SWEEP)
        worker.wait_for_log(f"moderation.score_comment[")  # received: the task is running, blocked on our lock
        time.sleep(1.5)
        worker.kill()
        assert "succeeded" not in worker.log()
    finally:
        lock.rollback()
        lock.close()
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "pending"

    start_worker(**SWEEP)
    assert wait_for_decisions(app, [comment_id]) == {comment_id: "held"}
