"""A real WordPress with the project's plugin, and `moderation run` (web, real worker, embedded Redis) beside it."""

import shutil
import subprocess
import sys
from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS, ROOT, _create_postgres_database, _libpq, unavailable
from tests.tasks.service import Service
from tests.wordpress.support import DEBIAN_WORDPRESS, WordPress

SITE = "news.example.kz"
MODERATOR = ("olga", "moderator-password-1")


def cli(service, *args):
    """`moderation ...` against the service's database; its stdout's last line."""
    env = {**service.env, "MODERATION_PASSWORD": MODERATOR[1]}
    done = subprocess.run(
        [sys.executable, "-m", "moderation.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session", params=BACKENDS)
def service_database(request, tmp_path_factory):
    """An empty database of each backend, for the service alone (`moderation run` migrates it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('wp-sqlite') / 'moderation.db'}"
        return
    base, name = _create_postgres_database()
    yield _libpq(base.set(database=name))
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def stack(service_database, tmp_path_factory):
    """The service and WordPress wired together as the README tells a site's admin to do it; one pair per database
    for all the WordPress tests (each test makes its own comments)."""
    for tool in ("php", "mariadb"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is missing (apt-get install wordpress php-cli php-mysql php-curl)")
    if not (DEBIAN_WORDPRESS / "wp-comments-post.php").exists():
        unavailable(f"{DEBIAN_WORDPRESS} is missing (apt-get install wordpress wordpress-theme-twentytwentyone)")
    tmp = tmp_path_factory.mktemp("wordpress")
    service = Service(tmp, service_database).start()
    wordpress = WordPress(tmp / "site").install().start()
    try:
        key = cli(service, "site", "add", SITE)
        secret = cli(service, "site", "webhook", SITE, f"{wordpress.base}/wp-json/moderation/v1/webhook")
        cli(service, "user", "add", MODERATOR[0], "--role", "moderator")
        engine = create_engine(service_database)
        with engine.begin() as conn:  # every reader of the tests writes from 127.0.0.1: no flood wait
            conn.execute(text("UPDATE site SET flood_seconds = 0 WHERE name = :name"), {"name": SITE})
        wordpress.set_options(
            moderation_service_url=service.base, moderation_site_key=key, moderation_webhook_secret=secret
        )
        yield SimpleNamespace(service=service, wordpress=wordpress, engine=engine, key=key, secret=secret)
    finally:
        wordpress.stop()
        service.stop()
        if "engine" in locals():
            engine.dispose()
