"""The sweep re-queues comments left pending, once per max age, and never loses one to a dead broker."""

from datetime import timedelta

import redis
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import Comment
from moderation.services import intake
from tests.conftest import QUEUE
from tests.support import beating_as_worker


def make_pending(app, site_key, count, age):
    client = app.test_client()
    ids = []
    for n in range(count):
        response = client.post(
            "/api/v1/comments",
            json={"name": "Ли", "text": f"текст {age} {n}"},
            headers={"Authorization": f"Bearer {site_key}"},
        )
        ids.append(response.json["id"])
    with app.app_context():
        for comment in db.session.scalars(select(Comment).where(Comment.id.in_(ids))):
            comment.queued_at = utcnow() - timedelta(seconds=age)
        db.session.commit()
    return ids


def test_sweep_requeues_only_stale_pending_comments(make_app, redis_server, site_key):
    app = make_app(REDIS_URL=redis_server.url)
    queue = redis.Redis.from_url(redis_server.url)
    stale = make_pending(app, site_key, 3, age=600)
    fresh = make_pending(app, site_key, 2, age=0)
    with app.app_context():
        db.session.get(Comment, stale[0]).status = "approved"
        db.session.commit()
    queue.delete(QUEUE)

    with app.app_context():
        assert intake.requeue_stale(max_age=120) == 0, "no worker beats: nothing would take them"
        with beating_as_worker(app):
            assert intake.requeue_stale(max_age=120) == 2
            assert intake.requeue_stale(max_age=120) == 0, "a re-queued comment waits another max age"
        requeued = {c.id: c.queued_at for c in db.session.scalars(select(Comment).where(Comment.id.in_(stale + fresh)))}
    assert queue.llen(QUEUE) == 2
    assert all(requeued[i] > utcnow() - timedelta(seconds=60) for i in stale[1:] + fresh)


def test_sweep_with_the_broker_down_leaves_comments_for_the_next_sweep(make_app, redis_server, site_key):
    app = make_app(REDIS_URL=redis_server.url)
    stale = make_pending(app, site_key, 2, age=600)
    redis_server.stop()  # heartbeats cannot be read either: the sweep tries, and leaves them for the next one
    with app.app_context():
        assert intake.requeue_stale(max_age=120) == 0
        ages = db.session.scalars(select(Comment.queued_at).where(Comment.id.in_(stale))).all()
    assert all(queued_at < utcnow() - timedelta(seconds=300) for queued_at in ages)
