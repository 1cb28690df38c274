"""Taking in a comment: store it first, then hand its id to the broker."""

import functools
import hashlib
import json
import math
from collections import namedtuple
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, null, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from moderation import broker, heartbeat
from moderation.db import db, utcnow
from moderation.models import APPROVED, PENDING, Comment

# What became of a comment posted to intake: stored with its id; or refused as a duplicate of the comment with
# that id; or refused for flood, the author having to wait that many seconds.
Taken = namedtuple("Taken", "comment_id duplicate_of wait")
TAKE_ATTEMPTS = 3  # each attempt past the first needs a duplicate stored and deleted within one request


def take(site, fields):
    """Store a validated comment as pending unless it repeats one or comes too soon after the author's last, and
    queue it once stored. Two statements on a connection of their own, each its own transaction: the insert has
    committed when it returns, before the comment is queued."""
    key = dedupe_key(fields)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for _attempt in range(TAKE_ATTEMPTS):
            duplicate_of, wait = precheck(connection, site, fields, key)
            if duplicate_of is not None or wait:
                return Taken(None, duplicate_of, wait)
            comment_id = insert_comment(connection, site, fields, key)
            if comment_id is not None:
                break
            # The same comment, sent at the same moment, was stored first: the check finds it now, or, if it was
            # deleted meanwhile, this one is stored after all.
        else:
            raise RuntimeError(f"a comment neither stored nor found as a duplicate in {TAKE_ATTEMPTS} attempts")
    broker.enqueue_score(current_app, comment_id)
    return Taken(comment_id, None, 0)


def dedupe_key(fields):
    """SHA-256 of what makes a comment a duplicate: its article, its author (the e-mail, else name and address)
    and its text. WordPress calls the same author's same text on the same post a duplicate."""
    author = ["email", fields["email"]] if fields.get("email") else ["name", fields["name"], fields.get("author_ip")]
    identity = json.dumps([fields.get("article_id") or None, *author, fields["text"]], ensure_ascii=False)
    return hashlib.sha256(identity.encode()).hexdigest()


def precheck(connection, site, fields, key):
    """(the id of the comment this one duplicates or None, seconds the author must still wait or 0): one query.

    WordPress checks duplicates before flood; its plugin, retrying a comment whose first answer was lost,
    learns the id from the 409.
    """
    flood = site.flood_seconds > 0
    by_address, by_email = flood and bool(fields.get("author_ip")), flood and bool(fields.get("email"))
    now = utcnow()
    duplicate_id, last_at = connection.execute(
        precheck_statement(by_address, by_email),
        {
            "site_id": site.id,
            "key": key,
            "author_ip": fields.get("author_ip"),
            "email": fields.get("email"),
            "since": now - timedelta(seconds=site.flood_seconds),
        },
    ).one()
    wait = max(1, math.ceil(site.flood_seconds - (now - last_at).total_seconds())) if last_at else 0
    return duplicate_id, wait


@functools.cache
def precheck_statement(by_address, by_email):
    """The query of precheck, built once for each way flood is checked (by the author's address, e-mail, both)."""
    site_id = bindparam("site_id")
    duplicate = select(Comment.id).where(Comment.site_id == site_id, Comment.dedupe_key == bindparam("key"))
    same_author = ([Comment.author_ip == bindparam("author_ip")] if by_address else []) + (
        [Comment.email == bindparam("email")] if by_email else []
    )
    last = (
        select(func.max(Comment.created_at))
        .where(Comment.site_id == site_id, or_(*same_author), Comment.created_at > bindparam("since"))
        .scalar_subquery()
        if same_author
        else null()
    )
    return select(duplicate.scalar_subquery(), last)


def insert_comment(connection, site, fields, key):
    """Insert a comment as pending; return its id, or None when one with the same duplicate key is there (stored
    at the same moment, the unique index decides)."""
    return connection.scalar(
        insert_statement(connection.dialect.name), {"site_id": site.id, "status": PENDING, "dedupe_key": key, **fields}
    )


@functools.cache
def insert_statement(dialect):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once (PostgreSQL and SQLite both have it)."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return (
        insert(Comment.__table__)
        .on_conflict_do_nothing(index_elements=["site_id", "dedupe_key"])
        .returning(Comment.__table__.c.id)
    )


def get_comment(site, comment_id):
    """The site's own comment with this id, or None."""
    comment = db.session.get(Comment, comment_id)
    return comment if comment is not None and comment.site_id == site.id else None


def approved_comments(site, article_id, after=0, limit=100):
    """Approved comments of one article in arrival order, those with an id above `after`."""
    query = (
        select(Comment)
        .where(
            Comment.site_id == site.id, Comment.article_id == article_id, Comment.status == APPROVED, Comment.id > after
        )
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
        select(Comment).where(Comment.status == PENDING, Comment.queued_at < cutoff).order_by(Comment.id).limit(batch)
    )
    stale = db.session.scalars(query).all()
    sent = 0
    for comment in stale:
        if not broker.enqueue_score(current_app, comment.id):
            break  # the broker is down again; the next sweep will try
        comment.queued_at = utcnow()
        sent += 1
    db.session.commit()
    return sent
