"""Taking in a comment: store it first, then hand its id to the broker."""

import functools
import hashlib
import json
import math
from collections import namedtuple
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from moderation import broker, heartbeat
from moderation.config import INTAKE_BIND
from moderation.db import db, utcnow, while_locked
from moderation.models import APPROVED, PENDING, Comment

# What became of a comment posted to intake: stored with its id; or refused as a duplicate of the comment with
# that id; or refused for flood, the author having to wait that many seconds.
Taken = namedtuple("Taken", "comment_id duplicate_of wait")
TAKE_ATTEMPTS = 3  # each attempt past the first needs a duplicate stored and deleted within one request


def take(site, fields):
    """Store a validated comment as pending unless it repeats one or comes too soon after the author's last, and
    queue it once stored. Usually one statement, on intake's engine, where each is its own transaction: the insert
    has committed when it returns, before the comment is queued. Only a comment it refused is looked at again,
    to say why."""
    key, started = dedupe_key(fields), utcnow()
    try:
        comment_id, refused = while_locked(lambda: store(site, fields, key))
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # The connection was dead (the database restarted since it was last used), and the engine has dropped its
        # other connections of that time. Usually the statement never ran; if it ran and committed before the
        # connection broke, the second try meets the comment as a duplicate stored since this request began.
        comment_id, refused = while_locked(lambda: store(site, fields, key))
        if refused is not None and stored_since(refused.duplicate_of, started):
            comment_id, refused = refused.duplicate_of, None
    if refused is not None:
        return refused
    broker.enqueue_score(current_app, comment_id)
    return Taken(comment_id, None, 0)


def stored_since(comment_id, moment):
    """Whether the comment with this id (or None) was stored at or after the moment."""
    if comment_id is None:
        return False
    with db.engines[INTAKE_BIND].connect() as connection:
        created_at = connection.scalar(select(Comment.created_at).where(Comment.id == comment_id))
    return created_at is not None and created_at >= moment


def store(site, fields, key):
    """(the new comment's id, None) or (None, Taken saying why it was refused), on intake's engine."""
    with db.engines[INTAKE_BIND].connect() as connection:
        for _attempt in range(TAKE_ATTEMPTS):
            comment_id = insert_comment(connection, site, fields, key)
            if comment_id is not None:
                return comment_id, None
            duplicate_of, wait = precheck(connection, site, fields, key)
            if duplicate_of is not None or wait:
                return None, Taken(None, duplicate_of, wait)
            # What refused it is gone: a duplicate deleted meanwhile, or the author's last comment now old enough.
    raise RuntimeError(f"a comment neither stored nor refused in {TAKE_ATTEMPTS} attempts")


def dedupe_key(fields):
    """SHA-256 of what makes a comment a duplicate: its article, its author (the e-mail, else name and address)
    and its text. WordPress calls the same author's same text on the same post a duplicate."""
    author = ["email", fields["email"]] if fields.get("email") else ["name", fields["name"], fields.get("author_ip")]
    identity = json.dumps([fields.get("article_id") or None, *author, fields["text"]], ensure_ascii=False)
    return hashlib.sha256(identity.encode()).hexdigest()


def precheck(connection, site, fields, key):
    """Why a comment was not stored: (the id of the comment it duplicates or None, seconds the author must still
    wait or 0), in one query.

    WordPress checks duplicates before flood; its plugin, retrying a comment whose first answer was lost,
    learns the id from the 409.
    """
    now = utcnow()
    duplicate_id, *last = connection.execute(
        precheck_statement(*flood_checks(site, fields)),
        {
            "site_id": site.id,
            "key": key,
            "author_ip": fields.get("author_ip"),
            "email": fields.get("email"),
            "since": now - timedelta(seconds=site.flood_seconds),
        },
    ).one()
    last_at = max((at for at in last if at is not None), default=None)
    wait = max(1, math.ceil(site.flood_seconds - (now - last_at).total_seconds())) if last_at else 0
    return duplicate_id, wait


@functools.cache
def precheck_statement(by_address, by_email):
    """The query of precheck, built once for each way flood is checked (by the author's address, e-mail, both)."""
    site_id, key = bindparam("site_id"), bindparam("key")
    duplicate = select(Comment.id).where(Comment.site_id == site_id, Comment.dedupe_key == key)
    recent = [select(func.max(Comment.created_at)).where(*same) for same in recent_by_author(by_address, by_email)]
    return select(duplicate.scalar_subquery(), *(query.scalar_subquery() for query in recent))


def recent_by_author(by_address, by_email):
    """The conditions for the author's comments on the site within the flood interval: one list for their address,
    one for their e-mail, each answered from its own index (author_ip or e-mail, then created_at)."""
    recent = [Comment.created_at > bindparam("since"), Comment.site_id == bindparam("site_id")]
    return ([[Comment.author_ip == bindparam("author_ip"), *recent]] if by_address else []) + (
        [[Comment.email == bindparam("email"), *recent]] if by_email else []
    )


def insert_comment(connection, site, fields, key):
    """Insert a comment as pending unless the author's last comment is within the site's flood interval; return its
    id, or None when it was not stored: the flood rule, or one with the same duplicate key (the unique index
    decides between two sent at the same moment)."""
    by_address, by_email = flood_checks(site, fields)
    now = utcnow()
    values = {"site_id": site.id, "status": PENDING, "dedupe_key": key, "created_at": now, "queued_at": now}
    return connection.scalar(
        insert_statement(connection.dialect.name, tuple(fields), by_address, by_email),
        {**values, **fields, "since": now - timedelta(seconds=site.flood_seconds)},
    )


def flood_checks(site, fields):
    """Whether the flood rule looks for the author's last comment by address and by e-mail."""
    flood = site.flood_seconds > 0
    return flood and bool(fields.get("author_ip")), flood and bool(fields.get("email"))


@functools.cache
def insert_statement(dialect, field_names, by_address, by_email):
    """INSERT … SELECT … WHERE no comment of the author's within the flood interval ON CONFLICT DO NOTHING
    RETURNING id, built once for each way flood is checked (PostgreSQL and SQLite both have it)."""
    table = Comment.__table__
    columns = ["site_id", "status", "dedupe_key", "created_at", "queued_at", *field_names]
    row = select(*(bindparam(name, type_=table.c[name].type) for name in columns))
    # (SQLite parses an upsert's SELECT only with a WHERE.)
    row = row.where(true(), *(~exists().where(*same) for same in recent_by_author(by_address, by_email)))
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return (
        insert(table)
        .from_select(columns, row)
        .on_conflict_do_nothing(index_elements=["site_id", "dedupe_key"])
        .returning(table.c.id)
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
