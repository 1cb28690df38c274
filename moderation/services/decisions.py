"""The automatic decision on a comment: approve, hold for a moderator, or spam.

The decision itself is the phases in services/pipeline/; this module reads a comment, runs them, and stores
what they decide.
"""

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from moderation.db import db, utcnow
from moderation.models import HELD, PENDING, Comment, Site
from moderation.services import complaints, pipeline, rules, status, webhooks
from moderation.services.hold_reasons import CAMPAIGN, ERROR, Reason, codes_of

log = logging.getLogger(__name__)


def assess(comment, site, config, storing=False, count_reports=None):
    """The filter's verdict on a comment, stored or not (the admins' «test a comment» box passes an unsaved one,
    with `storing` false: no spot check, no shadow mode). Ends the session's transaction before scoring."""
    return pipeline.run(pipeline.read(comment, site, config, storing=storing, count_reports=count_reports))


def score_comment(comment_id):
    """Score a pending comment and store its decision; return the status, or None if nothing changed."""
    return score_comments([comment_id]).get(comment_id)


def score_comments(comment_ids):
    """Score the pending comments among these together, in the order they came, and store their decisions in one
    transaction; return {id: status} of those decided now (a moderator or another worker may decide one first).

    The facts about them are read once for the batch and the models score them at once; each is decided as if
    the batch's earlier ones had been stored before it (pipeline.run_all).
    """
    # One statement: the comments, their sites and the readers' open complaints about each (filed while pending).
    found = db.session.execute(
        select(Comment, complaints.reporters_query(Comment.id, only_open=True).scalar_subquery())
        .options(joinedload(Comment.site))
        .where(Comment.id.in_(set(comment_ids)), Comment.status == PENDING)
        .order_by(Comment.id)
    ).all()
    if not found:
        db.session.rollback()
        return {}
    items = [(comment, comment.site, lambda reports=reports: reports) for comment, reports in found]
    contexts = pipeline.read_all(items, current_app.config)
    verdicts = pipeline.run_all(contexts)
    return store_verdicts([(ctx.comment.id, ctx.site, ctx.comment.article_id, v) for ctx, v in zip(contexts, verdicts)])


def store_verdict(comment_id, site, article_id, verdict):
    """Store the filter's verdict on a pending comment (and hold its campaign); return the status, or None if a
    moderator or another worker decided it first. Commits."""
    return store_verdicts([(comment_id, site, article_id, verdict)]).get(comment_id)


def store_verdicts(decided):
    """Store the filter's verdicts on pending comments, each (comment id, site, article id, verdict), in one
    transaction, then hold their campaigns; return {id: status} of those stored. Commits.

    Each comment's change, audit entry and `comment.decided` event are written together (status.decide_all), only
    if it is still pending: duplicates and moderators win races. The events are handed to a worker after the
    commit.
    """
    now = utcnow()
    changes = status.decide_all(
        [
            (
                # The site's row is loaded already: no lookups.
                status.Ref(comment_id, site.id, article_id, site.webhook_url is not None),
                verdict.status,
                {**verdict.values, "reason_codes": codes_of(verdict.values["reasons"]), "decided_at": now},
                {"reasons": [r["code"] for r in verdict.values["reasons"]]},
            )
            for comment_id, site, article_id, verdict in decided
        ],
        via="worker",
    )
    stored = [(item, change) for item, change in zip(decided, changes) if change.changed]
    rules.index_fingerprints(
        [(comment_id, site.id, verdict.values.get("fingerprint")) for (comment_id, site, _a, verdict), _c in stored],
        now,
    )
    db.session.commit()
    for (comment_id, _site, _article, verdict), _change in stored:
        log.info("comment %s decided: %s", comment_id, verdict.status)  # one line per decision, to count them
    webhooks.send_soon([change.delivery for _item, change in stored])
    for (_comment_id, _site, _article, verdict), _change in stored:
        if verdict.campaign:
            reason = next(r for r in verdict.values["reasons"] if r["code"] == CAMPAIGN)
            rules.hold_campaign(verdict.campaign, reason["campaign_id"], reason["size"])
    return {item[0]: item[3].status for item, _change in stored}


def hold_after_error(comment_id, error):
    """Hand a comment that cannot be scored to the moderators instead of leaving it pending forever."""
    log.error("comment %s could not be scored, holding it: %s", comment_id, error)
    db.session.rollback()
    reason = Reason(ERROR, facts={"message": str(error)[:500]})
    return _store_if_pending(comment_id, status=HELD, reasons=[reason.as_dict()])


def _store_if_pending(comment_id, **values):
    """Write a decision (hold_after_error's) only if the comment is still pending, with its audit entry and event;
    return whether it was written."""
    target = db.session.execute(
        select(Comment.site_id, Comment.article_id, Site.webhook_url)
        .join(Site, Site.id == Comment.site_id)
        .where(Comment.id == comment_id)
    ).first()
    if target is None:  # deleted meanwhile
        db.session.rollback()
        return False
    site_id, article_id, webhook_url = target
    reasons, to = values.get("reasons") or [], values.pop("status")
    values.update(reason_codes=codes_of(reasons), decided_at=utcnow())
    ref = status.Ref(comment_id, site_id, article_id, webhook_url is not None)
    (change,) = status.decide_all([(ref, to, values, {"reasons": [r["code"] for r in reasons]})], via="worker")
    db.session.commit()
    if change.changed:
        log.info("comment %s decided: %s", comment_id, to)
        webhooks.send_soon([change.delivery])
    return change.changed
