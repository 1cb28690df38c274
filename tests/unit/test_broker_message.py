"""The task message intake builds itself matches the one Celery's send_task puts in Redis, field for field."""

import base64
import json
import uuid

import pytest
import redis

from moderation import broker, create_app
from tests.conftest import base_config


@pytest.fixture
def queue_app(redis_url, tmp_path):
    """An app whose queue is a scratch Redis list, removed afterwards."""
    queue = f"test-message-{uuid.uuid4().hex[:8]}"
    app = create_app(base_config(f"sqlite:///{tmp_path / 'unused.db'}", redis_url, QUEUE=queue))
    client = redis.Redis.from_url(redis_url)
    yield app, client, queue
    client.delete(queue)


def structure(message):
    """The parts of a message that must agree: keys everywhere, and the values that route and run the task."""
    body = json.loads(base64.b64decode(message["body"]))
    properties = message["properties"]
    return {
        "keys": sorted(message),
        "header_keys": sorted(message["headers"]),
        "property_keys": sorted(properties),
        "task": message["headers"]["task"],
        "content": (message["content-type"], message["content-encoding"]),
        "body": body,
        "routing": properties["delivery_info"],
        "encoding": properties["body_encoding"],
        "ids agree": message["headers"]["id"] == message["headers"]["root_id"] == properties["correlation_id"],
    }


def test_intake_sends_what_celery_would(queue_app):
    app, client, queue = queue_app
    with app.app_context():
        app.extensions["celery"].send_task(broker.SCORE_TASK, args=(41,))
        assert broker.enqueue_score(app, 41)
    ours, celerys = (json.loads(raw) for raw in client.lrange(queue, 0, -1))  # LPUSH: the newest first
    assert structure(ours) == structure(celerys)
    assert structure(ours)["body"][0] == [41]


def test_a_broker_that_is_down_leaves_the_comment_for_the_sweep(redis_url, tmp_path):
    """Nothing listens on the port: enqueue answers False at once instead of raising or retrying."""
    app = create_app(base_config(f"sqlite:///{tmp_path / 'unused.db'}", "redis://127.0.0.1:1/0"))
    with app.app_context():
        assert broker.enqueue_score(app, 7) is False
