"""The Celery app bound to Flask, and the two ways the web side talks to the broker."""
import logging

import redis
from celery import Celery, Task
from celery.signals import worker_init

log = logging.getLogger(__name__)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def broker_url(config):
    """The Redis URL of the broker."""
    return config["REDIS_URL"] or DEFAULT_REDIS_URL


def celery_settings(config):
    """Celery settings derived from the app config."""
    return {
        "broker_url": broker_url(config),
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
    worker_init.connect(lambda **_: _preload_model(app), weak=False, dispatch_uid="moderation-preload-model")
    app.extensions["celery"] = celery_app
    return celery_app


def _preload_model(app):
    """Load the active model in the worker's parent, or stop the worker at start."""
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
    try:
        celery_app.send_task(task_name, args=args, retry=False)
    except Exception as exc:  # kombu raises several types; the sweep re-queues later in every case
        log.warning("broker unreachable, %s%r left for the sweep: %s", task_name, args, exc)
        return False
    return True


def ping(app):
    """Return True when the broker answers a PING within the broker timeout."""
    timeout = app.config["BROKER_TIMEOUT"]
    client = redis.Redis.from_url(broker_url(app.config), socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        log.warning("broker ping failed: %s", exc)
        return False
    finally:
        client.close()
