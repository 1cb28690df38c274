"""Celery tasks: thin wrappers that take ids and call the services."""

import logging

from celery import shared_task
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from moderation import batching, broker
from moderation.db import db
from moderation.scoring import ModelLoadError
from moderation.services import budget, decisions, intake, learning, retraining, rules, scorer, settings, webhooks

log = logging.getLogger(__name__)
# Errors worth retrying: the database or broker blinked, or the model files are being replaced.
TRANSIENT = (OperationalError, RedisError, ConnectionError, TimeoutError, ModelLoadError, OSError)


class ScoreInBatches(batching.Batched, broker.FlaskTask):
    """Comments are decided in batches: as many as have come within SCORE_BATCH_SECONDS, at most SCORE_BATCH."""

    max_retries = 10
    flush_every = property(lambda self: self.app.flask_app.config["SCORE_BATCH"])
    flush_interval = property(lambda self: self.app.flask_app.config["SCORE_BATCH_SECONDS"])


@shared_task(name="moderation.score_comment", base=ScoreInBatches)
def score_comment(calls):
    """Score pending comments, one message each, and store their decisions (idempotent).

    A batch the database or the broker fails is sent again, each comment later (backing off); a comment the
    model cannot handle goes to a human, not into a loop: when a batch fails otherwise, its comments are decided
    one by one, and those that still fail are held.
    """
    try:
        return len(decisions.score_comments([call.args[0] for call in calls]))
    except TRANSIENT as exc:
        return _retry_later(calls, exc)
    except Exception:  # one bad comment must not hold back the others
        log.exception("a batch of %d comments failed; deciding them one by one", len(calls))
        db.session.rollback()
    decided = 0
    for call in calls:
        try:
            decided += len(decisions.score_comments([call.args[0]]))
        except TRANSIENT as exc:
            _retry_later([call], exc)
        except Exception as exc:
            decisions.hold_after_error(call.args[0], exc)
    return decided


def _retry_later(calls, error):
    """Send the calls again with a countdown that doubles at each retry; after max_retries, the sweep's."""
    db.session.rollback()
    for call in calls:
        if call.retries >= score_comment.max_retries:
            log.error("comment %s not scored after %d tries, left for the sweep: %s", call.args[0], call.retries, error)
            continue
        try:
            score_comment.apply_async(call.args, countdown=min(2**call.retries, 60), retries=call.retries + 1)
        except Exception as exc:  # the broker is down too: the sweep queues the comment again
            log.warning("comment %s left for the sweep: %s", call.args[0], exc)
    log.warning("%d comments not scored now, retried later: %s", len(calls), error)
    return 0


@shared_task(name="moderation.sweep_pending")
def sweep_pending():
    """Re-queue comments left pending, e.g. while the broker was down or a worker died."""
    return intake.requeue_stale(current_app.config["PENDING_MAX_AGE"])


@shared_task(name="moderation.budgets")
def budgets():
    """Recompute the hold thresholds of the sites that have a budget, from their latest comments."""
    explicit = scorer.explicit(current_app.config, settings.threshold_overrides())
    return budget.recompute_all(current_app.config["MODELS_DIR"], explicit)


@shared_task(name="moderation.forget_fingerprints")
def forget_fingerprints():
    """Keep the campaign check's index to the campaign window."""
    return rules.forget_fingerprints(current_app.config["CAMPAIGN_HOURS"])


@shared_task(name="moderation.auto_retrain")
def auto_retrain():
    """Queue the retrain of a site that has gathered enough new decisions (one at a time)."""
    job = learning.retrain_due(current_app._get_current_object())
    return job.id if job is not None else None


# A time limit: a site's endpoint that trickles bytes must not hold a worker that scores comments.
@shared_task(name="moderation.webhook", soft_time_limit=60, time_limit=90)
def webhook(delivery_pk):
    """Send one pending webhook delivery once; a failure is retried later by the sweep, with backoff."""
    return webhooks.deliver(delivery_pk, first_retry=current_app.config["WEBHOOK_RETRY_SECONDS"])


@shared_task(name="moderation.webhooks")
def webhooks_due():
    """Hand the webhook deliveries whose time has come to the workers (retries, and those the broker missed)."""
    ids = webhooks.due()
    for delivery_pk in ids:
        broker.enqueue(current_app, "moderation.webhook", delivery_pk)
    return len(ids)


# Acknowledged on receipt, unlike scoring: a retrain that kills its worker (out of memory) must not be
# redelivered to kill the next one. A lost job is failed by the stale-job check instead.
@shared_task(
    name="moderation.retrain", acks_late=False, reject_on_worker_lost=False, soft_time_limit=3300, time_limit=3600
)
def retrain(job_id):
    """Retrain the models from the moderators' decisions for one queued job."""
    return retraining.run_job(job_id, current_app.config)
