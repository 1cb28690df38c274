"""Taking in a comment: store it first, then hand its id to the broker."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from moderation import broker
from moderation.db import db, utcnow
from moderation.models import APPROVED, PENDING, Comment

SCORE_TASK = "moderation.score_comment"


def accept_comment(site, fields):
    """Commit a validated comment as pending, then queue it; return its id. The commit alone makes it safe."""
    comment = Comment(site=site, status=PENDING, **fields)
    db.session.add(comment)
    db.session.flush()
    comment_id = comment.id  # read before the commit expires the object, saving a SELECT per comment
    db.session.commit()
    broker.enqueue(current_app, SCORE_TASK, comment_id)
    return comment_id


def get_comment(site, comment_id):
    """The site's own comment with this id, or None."""
    comment = db.session.get(Comment, comment_id)
    return comment if comment is not None and comment.site_id == site.id else None


def approved_comments(site, article_id, after=0, limit=100):
    """Approved comments of one article in arrival order, those with an id above `after`."""
    query = (
        select(Comment)
        .where(Comment.site_id == site.id, Comment.article_id == article_id, Comment.status == APPROVED,
               Comment.id > after)
        .order_by(Comment.id)
        .limit(limit)
    )
    return db.session.scalars(query).all()


def requeue_stale(max_age, batch=500):
    """Queue again the comments pending since longer than max_age seconds; return how many."""
    cutoff = utcnow() - timedelta(seconds=max_age)
    query = (
        select(Comment)
        .where(Comment.status == PENDING, Comment.queued_at < cutoff)
        .order_by(Comment.id)
        .limit(batch)
    )
    stale = db.session.scalars(query).all()
    sent = 0
    for comment in stale:
        if not broker.enqueue(current_app, SCORE_TASK, comment.id):
            break  # the broker is down again; the next sweep will try
        comment.queued_at = utcnow()
        sent += 1
    db.session.commit()
    return sent
