"""Answers that cannot wait for the queue (Perspective's analyze, Akismet's comment-check, Coral's moderation
phase): the comment is scored in the web process with the model the workers use, and stored decided.

The comment is stored with its decision before the client gets its answer. The model is loaded once per process
and follows promotions (services/scorer).
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import PENDING, SPAM, Comment
from moderation.services import decisions, reasons, review, scorer, sites, status

log = logging.getLogger(__name__)

TEXT_MAX_BYTES = 20480  # Perspective's limit, applied to the clients that bring their own (Akismet has none)
BLATANT_SPAM = 0.98  # a spam score this sure (or a ban or a blocked word) is "discard" to Akismet's clients
FEEDBACK_WINDOW_DAYS = 30  # a client's verdict is matched to the site's comment with that text this far back


@dataclass
class Judgement:
    """What the filter decided on a comment scored now; `comment_id` None when it was not stored."""

    status: str
    spam: float
    toxicity: float
    reasons: list = field(default_factory=list)
    lang: str = ""
    comment_id: int = None

    @property
    def blatant_spam(self):
        """Spam a client may drop unseen: the model is sure, or a ban or the site's block list says so."""
        codes = {r.get("code") for r in self.reasons}
        return self.status == SPAM and (self.spam >= BLATANT_SPAM or bool(codes & {"banned", "blocklist"}))


def warm_up(app):
    """Load the active model now, so that a process's first synchronous answer is not the slow one."""
    try:
        scorer.active_bundle(app.config["MODELS_DIR"])
    except Exception as exc:  # a missing model is reported by /healthz and by the first request, not here
        log.warning("the model could not be loaded in advance: %s", exc)


def judge(site, fields, store=True):
    """Score a comment now; store it with its decision unless `store` is false. Fields as intake takes them.

    The comment is scored first and then written with its decision in one transaction: nothing is answered
    before that commit, so a client never hears of a comment the service does not have, and it costs one
    commit instead of the queue's two.
    """
    verdict = decisions.assess(
        Comment(site_id=site.id, status=PENDING, **fields), site, current_app.config, storing=store
    )
    values, decided, comment_id = verdict.values, verdict.status, None
    if store:
        comment = Comment(site_id=site.id, status=PENDING, **fields)
        db.session.add(comment)
        db.session.flush()
        comment_id = comment.id
        decided = decisions.store_verdict(comment_id, site, fields.get("article_id"), verdict) or decided
    return Judgement(
        decided,
        values.get("spam_score") or 0.0,
        values.get("toxicity_score") or 0.0,
        values.get("reasons") or [],
        values.get("lang") or "",
        comment_id,
    )


def record_verdict(site, fields, action, reason=None):
    """A client's own verdict on a comment (Akismet's submit-spam/ham, Perspective's suggestscore) as the site's
    decision: its label, audit entry and event. The site's latest comment with that text (and author, when the
    client says) takes it; a comment the service never stored is stored first. Return the comment's id.
    """
    since = utcnow() - timedelta(days=FEEDBACK_WINDOW_DAYS)
    query = select(Comment.id).where(
        Comment.site_id == site.id, Comment.text == fields["text"], Comment.created_at >= since
    )
    if fields.get("author_ip"):
        query = query.where(Comment.author_ip == fields["author_ip"])
    comment_id = db.session.scalar(query.order_by(Comment.id.desc()).limit(1))
    if comment_id is None:
        comment = Comment(site=site, status=PENDING, **fields)
        db.session.add(comment)
        db.session.flush()
        comment_id = comment.id
        db.session.commit()
    _batch, changed = review.moderate([comment_id], None, action, reason, via="site")
    if not changed:  # the verdict agrees with the status the comment has: still the site's label
        status.confirm(comment_id, action, reasons.find(reason) if reason else None)
        db.session.commit()
    return comment_id


def site_for_key(key):
    """The site owning this key (compared by its hash), or None."""
    return sites.authenticate(key.strip() if isinstance(key, str) else None)
