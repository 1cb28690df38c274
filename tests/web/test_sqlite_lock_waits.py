"""Intake on SQLite waits for another writer's lock in short pauses of its own (db.while_locked), not SQLite's."""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from moderation import db as db_module
from moderation.config import INTAKE_BIND
from moderation.db import db, is_locked, while_locked
from moderation.models import Comment


@pytest.fixture
def sqlite_file(app):
    """The test database's file; the test is SQLite's alone."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write lock and busy handler; PostgreSQL locks rows")
        return db.engine.url.database


def hold_write_lock(path, seconds):
    """Another connection takes the database's write lock now and keeps it for `seconds`; join the thread after."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release():
        threading.Event().wait(seconds)  # not time.sleep, which a test counts
        holder.execute("COMMIT")
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_intake_stores_a_comment_sent_while_another_writer_holds_the_lock(app, client, auth, sqlite_file, monkeypatch):
    pauses = []
    real_sleep = time.sleep
    monkeypatch.setattr(db_module.time, "sleep", lambda seconds: (pauses.append(seconds), real_sleep(seconds)))
    holder = hold_write_lock(sqlite_file, 0.3)
    body = {"name": "Айгерим", "author_ip": "10.7.0.1", "text": "Пишу, пока база занята другим процессом"}
    response = client.post("/api/v1/comments", json=body, headers=auth)
    holder.join()
    assert response.status_code == 202, response.get_json()
    # Intake's engine has no busy timeout of SQLite's: the waiting was in our pauses, each at most a millisecond.
    assert pauses and max(pauses) <= db_module.LOCK_PAUSES[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.text == body["text"])) == 1
        engine = db.engines[INTAKE_BIND]
        with engine.connect() as connection:
            assert connection.connection.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0] == 0


def test_a_lock_held_past_the_timeout_is_raised(sqlite_file):
    engine = create_engine(f"sqlite:///{sqlite_file}", connect_args={"timeout": 0}, isolation_level="AUTOCOMMIT")
    holder = hold_write_lock(sqlite_file, 0.5)
    try:
        with engine.connect() as connection, pytest.raises(OperationalError) as raised:
            while_locked(lambda: connection.execute(text("CREATE TABLE lock_probe (x)")), timeout=0.05)
        assert is_locked(raised.value)
    finally:
        holder.join()
        engine.dispose()


def test_other_database_errors_are_raised_at_once(sqlite_file):
    engine = create_engine(f"sqlite:///{sqlite_file}", connect_args={"timeout": 0})
    calls = []

    def query_a_missing_table():
        calls.append(1)
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(OperationalError) as raised:
            while_locked(query_a_missing_table)
        assert not is_locked(raised.value)
        assert len(calls) == 1
    finally:
        engine.dispose()
