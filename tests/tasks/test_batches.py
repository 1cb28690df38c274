"""Each comment comes as its own message, and a worker decides those that come together as one batch (one
transaction), through a real Redis and a real Celery worker process (moderation/batching.py)."""

import base64
import json
import uuid

import redis
from kombu import Connection
from sqlalchemy import select

from moderation import broker
from moderation.db import db
from moderation.models import Comment
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.service import wait_until
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


def unacknowledged_comments(redis_url, queue):
    """The ids of the comments whose scoring messages Redis keeps as taken but not acknowledged (kombu's record)."""
    found = set()
    for raw in redis.Redis.from_url(redis_url).hvals("unacked"):
        message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue and message["headers"]["task"] == broker.SCORE_TASK:
            found.update(json.loads(base64.b64decode(message["body"]))[0])
    return found


def test_a_batch_leaves_no_message_unacknowledged(app, client, auth, start_worker, redis_url):
    worker = start_worker(SCORE_BATCH=len(TEXTS), SCORE_BATCH_SECONDS=600)
    worker.wait_for_log("ready.")
    ids = [post(client, auth, text, name=f"Читатель {n}") for n, text in enumerate(TEXTS)]
    wait_for_decisions(app, ids)
    wait_until(lambda: not unacknowledged_comments(redis_url, app.config["QUEUE"]) & set(ids), timeout=30)


def test_acknowledgements_gathered_reach_redis_together(app, redis_url):
    """In a worker's event loop the channel gathers acknowledgements and sends them once a turn (broker._QoS)."""
    queue = f"acks-{uuid.uuid4().hex[:8]}"
    with Connection(redis_url, transport=broker.Transport) as connection:
        channel = connection.channel()
        producer = connection.Producer(channel)
        for n in range(3):
            producer.publish({"body": n}, routing_key=queue, declare=[connection.SimpleQueue(queue).queue])
        messages = [channel.basic_get(queue, no_ack=False) for _ in range(3)]
        assert all(messages)
        held = lambda: len(  # noqa: E731
            [raw for raw in redis.Redis.from_url(redis_url).hvals("unacked") if json.loads(raw)[2] == queue]
        )
        assert held() == 3
        messages[0].ack()  # outside an event loop: at once, as kombu does
        assert held() == 2
        channel.qos.gathered = []  # as Transport.register_with_event_loop sets it
        messages[1].ack()
        messages[2].ack()
        assert held() == 2, "gathered, not yet sent"
        assert not channel.qos._delivered or channel.qos.can_consume(), "kombu's own count went down at once"
        channel.qos.send_gathered()
        assert held() == 0
        redis.Redis.from_url(redis_url).delete(queue)
