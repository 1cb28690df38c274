"""Each comment comes as its own message, and a worker decides those that come together as one batch (one
transaction), through a real Redis and a real Celery worker process (moderation/batching.py)."""

from sqlalchemy import select

from moderation.db import db
from moderation.models import Comment
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.test_pipeline import CLEAN, SPAM, TOXIC, post

TEXTS = [CLEAN, TOXIC, SPAM, "Когда откроют новую школу в нашем микрорайоне?", "Жақсы жаңалық, рахмет!"]


def decided_at(app, ids):
    with app.app_context():
        return set(db.session.scalars(select(Comment.decided_at).where(Comment.id.in_(ids))).all())


def test_comments_that_come_together_are_decided_in_one_batch(app, client, auth, start_worker):
    # A batch of five, and an interval no test waits for: the fifth message sends the batch.
    worker = start_worker(SCORE_BATCH=len(TEXTS), SCORE_BATCH_SECONDS=600)
    worker.wait_for_log("ready.")
    ids = [post(client, auth, text, name=f"Читатель {n}") for n, text in enumerate(TEXTS)]
    statuses = wait_for_decisions(app, ids)
    assert [statuses[i] for i in ids[:3]] == ["approved", "held", "spam"]
    assert len(decided_at(app, ids)) == 1, "decided in one transaction"
    assert worker.log().count("moderation.score_comment[") >= len(ids)  # each message's own line, as if alone


def test_a_lone_comment_waits_only_for_the_interval(app, client, auth, start_worker):
    worker = start_worker(SCORE_BATCH=100, SCORE_BATCH_SECONDS=0.05)
    worker.wait_for_log("ready.")
    first = post(client, auth, CLEAN)
    assert wait_for_decisions(app, [first], timeout=30) == {first: "approved"}
    second = post(client, auth, TOXIC)
    assert wait_for_decisions(app, [second], timeout=30) == {second: "held"}
    assert len(decided_at(app, [first, second])) == 2
