"""The SQLAlchemy handle shared by the app, the worker and the migrations."""

import sqlite3
import time
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

from moderation.config import SQLITE_LOCK_SECONDS

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with portable constraint names."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def utcnow():
    """Naive UTC now: both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def end_transaction_keeping(*objects):
    """Roll the session's transaction back (no snapshot or lock held while slow work runs) without expiring
    these loaded objects: they keep the values they were read with, so reading them again needs no query."""
    kept = [obj for obj in objects if obj in db.session]
    for obj in kept:
        db.session.expunge(obj)
    db.session.rollback()
    for obj in kept:
        db.session.add(obj)


# Between tries while another connection holds SQLite's write lock: the first pause, and the longest (seconds).
LOCK_PAUSES = (0.0002, 0.001)


def while_locked(call, timeout=SQLITE_LOCK_SECONDS):
    """Call `call()` again, after a short pause, while it fails because another connection holds SQLite's write
    lock; a little longer each time, for at most `timeout` seconds. Any other failure is raised at once.

    For a connection without a busy timeout (intake's engine on SQLite). SQLite's own busy handler sleeps 1, 2, 5,
    10, 15, 20, 25 ms between its tries, so a writer finding the lock taken for 4 ms waits 9, and for 9 ms waits
    19: the Celery worker storing a batch of decisions held every web worker's insert about twice as long as it
    wrote. Here a writer goes on within about a millisecond of the lock's release. The call must change
    nothing when it fails this way: one statement, its own transaction.
    """
    deadline, pause = time.monotonic() + timeout, LOCK_PAUSES[0]
    while True:
        try:
            return call()
        except OperationalError as exc:
            if not is_locked(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 1.5, LOCK_PAUSES[1])


def is_locked(exc):
    """Whether a database error is SQLite's 'database is locked' (SQLITE_BUSY, extended codes included)."""
    error = getattr(exc, "orig", None)
    return isinstance(error, sqlite3.OperationalError) and (error.sqlite_errorcode or 0) & 0xFF == sqlite3.SQLITE_BUSY


def _lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _prepare_sqlite(dbapi_connection, _record):
    """SQLite's own lower() folds ASCII only; searches must ignore the case of Cyrillic letters too.

    The write-ahead log lets readers go on while a web worker or the Celery worker writes, and makes a commit
    one appended, synced page run instead of a journal written and deleted (synchronous stays FULL: a commit
    survives a power cut). Writers still take turns, each waiting on the others (the engine's busy timeout)
    rather than failing.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
