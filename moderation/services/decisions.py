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
    # One statement: the comment, its site and the readers' open complaints about it (filed while it was pending).
    found = db.session.execute(
        select(Comment, complaints.reporters_query(comment_id, only_open=True).scalar_subquery())
        .options(joinedload(Comment.site))
        .where(Comment.id == comment_id)
    ).first()
    if found is None or found[0].status != PENDING:
        return None
    comment, reports = found
    site, article_id = comment.site, comment.article_id
    verdict = assess(comment, site, current_app.config, storing=True, count_reports=lambda: reports)
    return store_verdict(comment_id, site, article_id, verdict)


def store_verdict(comment_id, site, article_id, verdict):
    """Store the filter's verdict on a pending comment (and hold its campaign); return the status, or None if a
    moderator or another worker decided it first. Commits."""
    target = (site.id, article_id, site.webhook_url)  # the site's row is loaded already: no lookups
    if not _store_if_pending(comment_id, target, status=verdict.status, **verdict.values):
        return None
    if verdict.campaign:
        reason = next(r for r in verdict.values["reasons"] if r["code"] == CAMPAIGN)
        rules.hold_campaign(verdict.campaign, reason["campaign_id"], reason["size"])
    return verdict.status


def hold_after_error(comment_id, error):
    """Hand a comment that cannot be scored to the moderators instead of leaving it pending forever."""
    log.error("comment %s could not be scored, holding it: %s", comment_id, error)
    db.session.rollback()
    reason = Reason(ERROR, facts={"message": str(error)[:500]})
    return _store_if_pending(comment_id, status=HELD, reasons=[reason.as_dict()])


def _store_if_pending(comment_id, target=None, **values):
    """Write a decision only if the comment is still pending: duplicates and moderators win races.

    Its audit entry and the site's `comment.decided` event are written in the same transaction (status.change),
    the event handed to a worker after it. `target` is (site id, article id, webhook URL) when the caller has
    them; else they are looked up.
    """
    reasons, to = values.get("reasons") or [], values.pop("status")
    values.update(reason_codes=codes_of(reasons), decided_at=utcnow())
    if target is None:
        target = db.session.execute(
            select(Comment.site_id, Comment.article_id, Site.webhook_url)
            .join(Site, Site.id == Comment.site_id)
            .where(Comment.id == comment_id)
        ).first()
        if target is None:  # deleted meanwhile
            db.session.rollback()
            return False
    site_id, article_id, webhook_url = target
    result = status.change(
        status.Ref(comment_id, site_id, article_id, webhook_url is not None),
        to,
        status.FILTER,
        via="worker",
        expected=PENDING,
        values=values,
        detail={"reasons": [r["code"] for r in reasons]},
    )
    if result.changed:
        rules.index_fingerprint(comment_id, site_id, values.get("fingerprint"), values["decided_at"])
    db.session.commit()
    if not result.changed:
        return False
    log.info("comment %s decided: %s", comment_id, to)  # one line per decision, to count them
    webhooks.send_soon([result.delivery])
    return True
