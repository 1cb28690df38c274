"""The SQLAlchemy handle shared by the app, the worker and the migrations."""

import sqlite3
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

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
