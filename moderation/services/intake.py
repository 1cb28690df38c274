"""Taking in a comment: store it first, then hand its id to the broker."""
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from moderation import broker, heartbeat
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


def duplicate_of(site, fields):
    """The id of the comment with which the same author already sent this text to this article, or None.

    WordPress checks this before flood; its plugin, retrying a comment whose first answer was lost, learns the id.
    """
    author = (Comment.email == fields["email"]) if fields.get("email") else and_(
        Comment.name == fields["name"],
        Comment.author_ip == fields["author_ip"] if fields.get("author_ip") else Comment.author_ip.is_(None))
    article = (Comment.article_id == fields["article_id"]) if fields.get("article_id") else Comment.article_id.is_(None)
    query = select(Comment.id).where(Comment.site_id == site.id, article, author, Comment.text == fields["text"])
    return db.session.scalar(query.order_by(Comment.id).limit(1))


def flood_wait(site, fields):
    """Seconds the author must still wait when their last comment came less than the site's flood interval ago."""
    if site.flood_seconds <= 0 or not (fields.get("author_ip") or fields.get("email")):
        return 0
    same_author = [Comment.author_ip == fields["author_ip"]] if fields.get("author_ip") else []
    if fields.get("email"):
        same_author.append(Comment.email == fields["email"])
    since = utcnow() - timedelta(seconds=site.flood_seconds)
    last = db.session.scalar(select(func.max(Comment.created_at))
                             .where(Comment.site_id == site.id, or_(*same_author), Comment.created_at > since))
    if last is None:
        return 0
    return max(1, math.ceil(site.flood_seconds - (utcnow() - last).total_seconds()))


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
    if heartbeat.workers_alive(current_app.config) == []:
        return 0  # no worker would take them: re-sending would only pile copies up in the queue
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
