"""The Celery app bound to Flask, and the ways the web side and the commands talk to the broker."""
import logging

import redis
from celery import Celery, Task
from celery.signals import worker_init
from kombu.transport import redis as kombu_redis

from moderation import heartbeat

log = logging.getLogger(__name__)
# Never used to send: with no Redis configured and no `moderation run` serving, nothing is sent (enqueue, ping).
UNCONFIGURED_URL = "redis://127.0.0.1:1/0"
NO_BROKER = ("no broker: MODERATION_REDIS_URL is not set and no `moderation run` is serving this database "
             "(start it, or set MODERATION_REDIS_URL)")


class BrokerUnavailable(RuntimeError):
    """The broker, or every worker behind it, cannot take a job now; the message says which and what to do."""


class _Channel(kombu_redis.Channel):
    """Kombu's Redis channel, failing with a connection error, not a crash, once its connection is gone.

    When Redis goes away while tasks run, Celery closes the connection and later still acks or restores
    those tasks through the old channel, whose transport kombu has detached: AttributeError ('NoneType'
    object has no attribute 'hostname' / 'client'), which Celery does not catch, so the worker died (kombu
    5.7.0, celery 5.7.0). As a connection error it is handled where it happens (logged, the worker
    reconnects); the task stays unacknowledged, so Redis redelivers it after the visibility timeout if it
    kept it, and the sweep re-queues its comment in every case. Scoring is idempotent.
    """

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("this broker channel's connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    """Celery's Redis transport with the channel above (`broker_transport` points here)."""

    Channel = _Channel


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
        "worker_prefetch_multiplier": 1,
        "beat_schedule": {
            "sweep-pending": {"task": "moderation.sweep_pending", "schedule": float(config["SWEEP_INTERVAL"])},
            "hold-budgets": {"task": "moderation.budgets", "schedule": float(config["BUDGET_INTERVAL"])},
            "auto-retrain": {"task": "moderation.auto_retrain", "schedule": float(config["AUTO_RETRAIN_INTERVAL"])},
            "webhooks": {"task": "moderation.webhooks", "schedule": float(config["WEBHOOK_INTERVAL"])},
        },
    }


def init_app(app):
    """Create the Celery app whose tasks run inside this Flask app's context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask, include=["moderation.tasks"])
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
    celery_app = app.extensions["celery"]
    if not app.config["REDIS_URL"]:
        log.warning("%s; %s%r left for the sweep", NO_BROKER, task_name, args)
        return False
    try:
        celery_app.send_task(task_name, args=args, retry=False)
    except Exception as exc:  # kombu raises several types; the sweep re-queues later in every case
        log.warning("broker unreachable, %s%r left for the sweep: %s", task_name, args, exc)
        return False
    return True


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
        raise BrokerUnavailable(f"no worker has taken jobs from {app.config['REDIS_URL']} in the last "
                                f"{heartbeat.ttl(app.config)} s (start `moderation run` or a Celery worker)")
