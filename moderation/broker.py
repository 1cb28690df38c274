"""The Celery app bound to Flask, and the ways the web side and the commands talk to the broker."""

import base64
import contextlib
import functools
import json
import logging
import math
import os
import socket
import uuid

import redis
from celery import Celery, Task
from celery.signals import worker_init
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from redis.backoff import NoBackoff
from redis.retry import Retry

from moderation import heartbeat

log = logging.getLogger(__name__)
# Never used to send: with no Redis configured and no `moderation run` serving, nothing is sent (enqueue, ping).
UNCONFIGURED_URL = "redis://127.0.0.1:1/0"
NO_BROKER = (
    "no broker: MODERATION_REDIS_URL is not set and no `moderation run` is serving this database "
    "(start it, or set MODERATION_REDIS_URL)"
)


SCORE_TASK = "moderation.score_comment"


class BrokerUnavailable(RuntimeError):
    """The broker, or every worker behind it, cannot take a job now; the message says which and what to do."""


class _QoS(kombu_redis.QoS):
    """Kombu's record of a Redis channel's unacknowledged messages, which can acknowledge several in one round trip.

    Kombu removes each acknowledged message from Redis's record of them (a sorted set and a hash) in a round trip
    of its own; a worker deciding a batch of comments acknowledged them one by one, the Celery main process's
    largest cost after taking the messages in (issue 16). While it gathers (a worker's consumer: Transport's
    register_with_event_loop), acknowledgements count at once in kombu's own bookkeeping (so the prefetch window
    moves on) and reach Redis together, once a turn of the worker's event loop (send_gathered).
    """

    gathered = None  # delivery tags acknowledged but not yet removed from Redis, while gathering

    def ack(self, delivery_tag):
        if self.gathered is None:
            return super().ack(delivery_tag)
        self.gathered.append(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)  # the in-memory part; Redis's in send_gathered()

    def send_gathered(self):
        """Remove the gathered acknowledgements' messages from Redis's record, in one round trip.

        If Redis fails, they stay in that record, and Redis gives them out again after the visibility timeout,
        as when kombu fails to acknowledge one (it logs and goes on); deciding a comment again changes nothing.
        """
        if not self.gathered:
            return
        tags, self.gathered = self.gathered, []
        try:
            with self.pipe_or_acquire() as pipe:
                for tag in tags:
                    self._remove_from_indices(tag, pipe)
                pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("could not acknowledge %d messages; Redis gives them out again later: %r", len(tags), exc)


class _Channel(kombu_redis.Channel):
    """Kombu's Redis channel, failing with a connection error, not a crash, once its connection is gone.

    When Redis goes away while tasks run, Celery closes the connection and later still acks or restores
    those tasks through the old channel, whose transport kombu has detached: AttributeError ('NoneType'
    object has no attribute 'hostname' / 'client'), which Celery does not catch, so the worker died (kombu
    5.7.0, celery 5.7.0). As a connection error it is handled where it happens (logged, the worker
    reconnects); the task stays unacknowledged, so Redis redelivers it after the visibility timeout if it
    kept it, and the sweep re-queues its comment in every case. Scoring is idempotent.
    """

    QoS = _QoS
    _own_client = None  # the Redis client of its pool that conn_or_acquire hands out

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("this broker channel's connection was closed")
        return super()._connparams(asynchronous=asynchronous)

    @contextlib.contextmanager
    def conn_or_acquire(self, client=None):
        """A Redis client of the channel's pool: one for as long as the pool lasts, not a new one each time.

        Kombu made a client for every acknowledgement and every message taken in (redis-py fills a table of its
        reply handlers for each), a twelfth of the Celery main process's time under load.
        """
        if client is None:
            pool = self.pool
            if self._own_client is None or self._own_client.connection_pool is not pool:
                self._own_client = self._create_client()
            client = self._own_client
        yield client

    def close(self):
        if self._qos is not None:  # send what it gathered before the pools go
            self._qos.send_gathered()
        super().close()


class Transport(kombu_redis.Transport):
    """Celery's Redis transport with the channel above (`broker_transport` points here); in a worker's event loop
    its channels acknowledge messages together, once a turn of the loop."""

    Channel = _Channel
    _gathering = False  # registered with a worker's event loop: its channels gather acknowledgements

    def register_with_event_loop(self, connection, loop):
        super().register_with_event_loop(connection, loop)
        self._gathering = True
        for channel in self.channels:
            self._gather(channel)
        loop.on_tick.add(self._send_gathered)

    def create_channel(self, connection):
        return self._gather(super().create_channel(connection))

    def _gather(self, channel):
        """Let the channel gather acknowledgements once this transport is in an event loop; return it."""
        if self._gathering and channel.qos.gathered is None:
            channel.qos.gathered = []
        return channel

    def _send_gathered(self):
        for channel in list(self.channels):
            if channel._qos is not None:
                channel._qos.send_gathered()


def broker_url(config):
    """The Redis URL of the broker."""
    return config["REDIS_URL"] or UNCONFIGURED_URL


def celery_settings(config):
    """Celery settings derived from the app config."""
    return {
        "broker_url": broker_url(config),
        "broker_transport": f"{__name__}:Transport",
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": config["VISIBILITY_TIMEOUT"],
            "socket_connect_timeout": config["BROKER_TIMEOUT"],
            # A broker that accepts but never answers must not hang intake; above the 1 s BRPOP poll.
            "socket_timeout": max(config["BROKER_TIMEOUT"], 5.0),
            "socket_keepalive": True,
            # Publishing gives up fast: the comment is stored and the sweep queues it later.
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        "task_default_queue": config["QUEUE"],
        "task_ignore_result": True,
        # A task is acknowledged only once it has finished, so a worker killed mid-task loses nothing.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Enough messages in hand for two batches of comments (tasks.score_comment) over the pool's processes.
        "worker_prefetch_multiplier": max(1, math.ceil(2 * config["SCORE_BATCH"] / config["WORKER_CONCURRENCY"])),
        "beat_schedule": {
            "sweep-pending": {"task": "moderation.sweep_pending", "schedule": float(config["SWEEP_INTERVAL"])},
            "hold-budgets": {"task": "moderation.budgets", "schedule": float(config["BUDGET_INTERVAL"])},
            "auto-retrain": {"task": "moderation.auto_retrain", "schedule": float(config["AUTO_RETRAIN_INTERVAL"])},
            "webhooks": {"task": "moderation.webhooks", "schedule": float(config["WEBHOOK_INTERVAL"])},
            "forget-fingerprints": {"task": "moderation.forget_fingerprints", "schedule": 3600.0},
        },
    }


class FlaskTask(Task):
    """A task run inside its Flask app's context."""

    def __call__(self, *args, **kwargs):
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


def init_app(app):
    """Create the Celery app whose tasks run inside this Flask app's context."""
    celery_app = Celery(app.name, task_cls=FlaskTask, include=["moderation.tasks"])
    celery_app.flask_app = app
    celery_app.config_from_object(celery_settings(app.config))
    celery_app.set_default()
    celery_app.steps["consumer"].add(heartbeat.consumer_step(app.config))
    worker_init.connect(lambda **_: _prepare_worker(app), weak=False, dispatch_uid="moderation-preload-model")
    app.extensions["celery"] = celery_app
    return celery_app


def _prepare_worker(app):
    """Refuse to start without a broker to take tasks from; load the active model in the worker's parent."""
    if not app.config["REDIS_URL"]:
        log.critical(NO_BROKER)
        raise SystemExit(1)
    # Loaded before forking, pool processes share the model; a missing or damaged one must not leave
    # every comment pending behind a worker that looks healthy.
    from moderation.services import scorer

    try:
        with app.app_context():
            bundle = scorer.active_bundle(app.config["MODELS_DIR"])
    except Exception as exc:
        log.critical("no usable model in %s: %s", app.config["MODELS_DIR"], exc)
        raise SystemExit(1) from exc
    log.info("active model %s loaded", bundle.version)


def enqueue(app, task_name, *args):
    """Send a task without waiting on a broker that is down; return whether it was sent."""
    if not app.config["REDIS_URL"]:
        log.warning("%s; %s%r left for the sweep", NO_BROKER, task_name, args)
        return False
    try:
        publisher(app.config["REDIS_URL"], app.config["BROKER_TIMEOUT"]).lpush(
            app.config["QUEUE"], task_message(task_name, args, app.config["QUEUE"])
        )
    except redis.RedisError as exc:  # the sweep re-queues later in every case
        log.warning("broker unreachable, %s%r left for the sweep: %s", task_name, args, exc)
        return False
    return True


def enqueue_score(app, comment_id):
    """Queue a stored comment for scoring; return whether it was sent."""
    return enqueue(app, SCORE_TASK, comment_id)


@functools.cache
def publisher(url, timeout):
    """A Redis client to publish tasks with, one pool per process: it gives up at once, never retrying."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, socket_keepalive=True, retry=Retry(NoBackoff(), 0)
    )


def task_message(task_name, args, queue):
    """A task as Celery's Redis transport puts it in the queue (task protocol 2, JSON), built directly.

    Celery's own send_task builds the same message through several layers and costs four times a Redis
    round trip; intake sends one per comment. tests/unit/test_broker_message.py compares the two.
    """
    task_id = str(uuid.uuid4())
    body = json.dumps([list(args), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    return json.dumps(
        {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": task_name,
                "id": task_id,
                "shadow": None,
                "eta": None,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": repr(tuple(args)),
                "kwargsrepr": "{}",
                "origin": _origin(),
                "ignore_result": None,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def _origin():
    return f"{os.getpid()}@{socket.gethostname()}"


def ping(app):
    """Return True when the broker answers a PING within the broker timeout."""
    if not app.config["REDIS_URL"]:
        return False
    timeout = app.config["BROKER_TIMEOUT"]
    client = redis.Redis.from_url(broker_url(app.config), socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        log.warning("broker ping failed: %s", exc)
        return False
    finally:
        client.close()


def require_worker(app):
    """Raise BrokerUnavailable unless the broker answers and a worker beat recently: a job sent now will run."""
    if not app.config["REDIS_URL"]:
        raise BrokerUnavailable(NO_BROKER)
    if not ping(app):
        raise BrokerUnavailable(f"the broker at {app.config['REDIS_URL']} does not answer")
    if not heartbeat.workers_alive(app.config):
        raise BrokerUnavailable(
            f"no worker has taken jobs from {app.config['REDIS_URL']} in the last "
            f"{heartbeat.ttl(app.config)} s (start `moderation run` or a Celery worker)"
        )
