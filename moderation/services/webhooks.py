"""Signed webhooks: the site hears of every change of its comments' status, even when Redis or a worker is down.

An event is written to the outbox (`WebhookDelivery`) in the transaction of the change it tells of,
so a change is never committed without its event, nor an event without its change. It is then sent
by a worker: at once when the broker takes the task, else by the beat's sweep of due deliveries.
Each POST carries `X-Moderation-Event`, `X-Moderation-Delivery` (the same id on every retry, for the
site's idempotency) and `X-Moderation-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
Any 2xx is success; anything else is retried with exponential backoff until the event is a day old.
Each event carries the comment's whole state and a `sequence` that grows with every event of the
comment: a newer event replaces the older ones still waiting (marked superseded, never sent after
it), and a site applies an event only if its sequence is above the last it applied for that comment.

Events: `comment.decided` (the filter's decision, with scores and reasons) and `comment.moderated`
(any later change: a moderator's decision or undo, the site's own, a hide after readers' complaints,
a campaign hold), saying who changed it.
"""

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from moderation import broker
from moderation.db import db, utcnow
from moderation.models import DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_PENDING, Site, WebhookDelivery

log = logging.getLogger(__name__)
DECIDED, MODERATED = "comment.decided", "comment.moderated"
MAX_AGE = timedelta(days=1)  # retried until the event is this old, then failed
FIRST_RETRY, LONGEST_RETRY = 30, 3600  # seconds: 30 s, 1 min, 2 min, ... at most an hour apart
TIMEOUT = 10  # seconds the site's endpoint has to answer
FAILING_AFTER = 3  # a delivery this many attempts old and not delivered: the site's endpoint keeps failing
SECRET_PREFIX = "whsec_"
LEASE = 120  # seconds a worker holds a delivery it is sending: longer than the task's time limit
SUPERSEDED = "superseded"  # a newer event of the same comment replaced it before it was delivered


class WebhookError(ValueError):
    """A webhook URL that cannot be used; the message names the field."""


def check_url(url):
    """The URL if it is http(s) with a host (loopback and private addresses are fine: the site may be local)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if len(url) > 2000 or parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("webhook_url")
    return url


def set_webhook(site, url):
    """Set the site's webhook URL and give it a new secret; return the secret (delivered events are not resent)."""
    site.webhook_url = check_url(url)
    site.webhook_secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    db.session.commit()
    return site.webhook_secret


def remove_webhook(site):
    """Stop sending events to the site (pending ones are kept in the log, and fail)."""
    site.webhook_url = site.webhook_secret = None
    db.session.commit()


def sign(secret, timestamp, body):
    """The X-Moderation-Signature value of a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def comment_payload(comment_id, values):
    """What an event says of the comment: its id, the site's own ids, status, scores and reasons.

    A reason's internal detail (a scoring error's message) stays in the service.
    """
    reasons = [{k: v for k, v in r.items() if k != "message"} for r in values.get("reasons") or []]
    return {
        "id": comment_id,
        "article_id": values.get("article_id"),
        "status": values["status"],
        "scores": {"spam": values.get("spam_score"), "toxicity": values.get("toxicity_score")},
        "reasons": reasons,
        "model_version": values.get("model_version"),
    }


def record(site_id, comment_id, event, comment, has_webhook=None, **extra):
    """Add an event to the outbox in the caller's transaction (the caller commits); None if the site has no webhook.

    `comment` is the comment's state after the change (comment_payload's fields); `has_webhook`, when the
    caller knows it, saves looking the site up.
    """
    if has_webhook is None:
        has_webhook = db.session.scalar(select(Site.webhook_url).where(Site.id == site_id)) is not None
    if not has_webhook:
        return None
    delivery_id = uuid.uuid4().hex
    now = utcnow()
    payload = {
        "event": event,
        "delivery": delivery_id,
        "created_at": now.isoformat(timespec="seconds") + "Z",
        "sequence": time.time_ns() // 1000,
        "comment": comment_payload(comment_id, comment),
        **extra,
    }
    # The comment's older events still waiting would arrive after this one: this one tells all they did.
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.comment_id == comment_id, WebhookDelivery.status == DELIVERY_PENDING)
        .values(status=SUPERSEDED)
    )
    delivery = WebhookDelivery(
        site_id=site_id,
        comment_id=comment_id,
        event=event,
        delivery_id=delivery_id,
        payload=payload,
        status=DELIVERY_PENDING,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(delivery)
    return delivery


def _backoff(attempts, first_retry=FIRST_RETRY):
    return timedelta(seconds=min(first_retry * 2 ** max(attempts - 1, 0), LONGEST_RETRY))


def _no_redirects():
    class Refuse(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # a redirect is an answer that is not 2xx
            return None

    # No proxy from the environment: the site's URL is reached as the admin wrote it.
    return urllib.request.build_opener(Refuse, urllib.request.ProxyHandler({}))


def post(url, secret, event, delivery_id, body, timeout=TIMEOUT):
    """Send one event; return (HTTP status or None, error text or None)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "moderation-webhooks/1",
        "X-Moderation-Event": event,
        "X-Moderation-Delivery": delivery_id,
        "X-Moderation-Signature": sign(secret, int(time.time()), body),
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _no_redirects().open(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        # Not HTTP at all (another service on that port), refused, timed out: a failed attempt like any other.
        return None, (str(getattr(exc, "reason", exc)) or type(exc).__name__)[:500]


def deliver(delivery_pk, now=None, first_retry=FIRST_RETRY):
    """Try one pending delivery once, if its time has come; return its status afterwards (None if not tried).

    The delivery is claimed first (its next attempt put off by LEASE), so two workers handed the same
    delivery send it once.
    """
    now = now or utcnow()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_pk,
            WebhookDelivery.status == DELIVERY_PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + timedelta(seconds=LEASE))
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    delivery = db.session.get(WebhookDelivery, delivery_pk)
    site = db.session.get(Site, delivery.site_id)
    event, delivery_id, payload = delivery.event, delivery.delivery_id, delivery.payload
    attempts, created, site_id = delivery.attempts + 1, delivery.created_at, delivery.site_id
    url, secret = (site.webhook_url, site.webhook_secret) if site else (None, None)
    db.session.rollback()  # no transaction open while the site's endpoint answers
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    code, error = post(url, secret, event, delivery_id, body) if url else (None, "the site has no webhook now")
    now = utcnow()
    values = {"attempts": attempts, "last_attempt_at": now, "last_code": code, "last_error": error}
    if code is not None and 200 <= code < 300:
        values.update(status=DELIVERY_DELIVERED, delivered_at=now)
    else:
        retry_at = now + _backoff(attempts, first_retry)
        values.update(
            next_attempt_at=retry_at, status=DELIVERY_FAILED if retry_at - created > MAX_AGE else DELIVERY_PENDING
        )
    # Conditional: a delivery another worker finished meanwhile keeps its outcome.
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_pk, WebhookDelivery.status == DELIVERY_PENDING)
        .values(**values)
    )
    db.session.commit()
    log.info("webhook %s %s to site %s: %s", event, delivery_id, site_id, code or error)
    return values["status"]


def due(now=None, limit=100):
    """Ids of the pending deliveries whose time has come, oldest first (a worker claims each as it sends it)."""
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == DELIVERY_PENDING, WebhookDelivery.next_attempt_at <= (now or utcnow()))
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    db.session.rollback()
    return ids


def send_soon(deliveries):
    """Hand committed deliveries to the workers now; any the broker does not take, the beat's sweep sends."""
    for delivery in deliveries:
        if delivery is not None and not broker.enqueue(current_app, "moderation.webhook", delivery.id):
            return  # the broker is down: the others would wait for it too, and the sweep sends them all


def redeliver(delivery):
    """Send a delivery again (an admin's «Повторить»): pending now, with the same delivery id and sequence, and
    a day of retries from now. False for one a newer event replaced (it would undo what that one told)."""
    if delivery.status == SUPERSEDED:
        return False
    delivery.status, delivery.next_attempt_at, delivery.created_at = DELIVERY_PENDING, utcnow(), utcnow()
    db.session.commit()
    return True


def log_of(site_id, limit=50):
    """The site's latest deliveries, newest first."""
    return db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.site_id == site_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()


def keeps_failing(site_id):
    """Whether the site's endpoint keeps failing: its latest attempt failed, and a delivery has failed since
    FAILING_AFTER times or for good."""
    latest = db.session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.site_id == site_id, WebhookDelivery.last_attempt_at.is_not(None))
        .order_by(WebhookDelivery.last_attempt_at.desc())
        .limit(1)
    )
    if latest is None or latest.status == DELIVERY_DELIVERED:
        return False
    stuck = select(WebhookDelivery.id).where(
        WebhookDelivery.site_id == site_id,
        (WebhookDelivery.status == DELIVERY_FAILED)
        | ((WebhookDelivery.status == DELIVERY_PENDING) & (WebhookDelivery.attempts >= FAILING_AFTER)),
    )
    return db.session.scalar(stuck.limit(1)) is not None


def comment_state(comment):
    """The fields comment_payload reads, from a loaded comment."""
    return {
        "status": comment.status,
        "article_id": comment.article_id,
        "spam_score": comment.spam_score,
        "toxicity_score": comment.toxicity_score,
        "reasons": comment.reasons,
        "model_version": comment.model_version,
    }
