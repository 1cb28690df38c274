"""Celery tasks: thin wrappers that take ids and call the services."""
from celery import shared_task
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from moderation.services import decisions, intake

TRANSIENT = (OperationalError, RedisError, ConnectionError, TimeoutError)


@shared_task(name="moderation.score_comment", bind=True, autoretry_for=TRANSIENT,
             retry_backoff=True, retry_backoff_max=60, max_retries=10)
def score_comment(self, comment_id):
    """Score one comment and store the decision (idempotent)."""
    return decisions.score_comment(comment_id)


@shared_task(name="moderation.sweep_pending")
def sweep_pending():
    """Re-queue comments left pending, e.g. while the broker was down or a worker died."""
    return intake.requeue_stale(current_app.config["PENDING_MAX_AGE"])
