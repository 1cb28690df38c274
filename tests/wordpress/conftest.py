"""A real WordPress with the project's plugin, and `moderation run` (web, real worker, embedded Redis) beside it."""
import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import unavailable
from tests.tasks.service import Service, cli
from tests.wordpress.support import DEBIAN_WORDPRESS, WordPress

SITE = "news.example.kz"
MODERATOR = ("olga", "moderator-password-1")


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
        key = cli(service, "site", "add", SITE, password=MODERATOR[1])
        secret = cli(service, "site", "webhook", SITE, f"{wordpress.base}/wp-json/moderation/v1/webhook",
                     password=MODERATOR[1])
        cli(service, "user", "add", MODERATOR[0], "--role", "moderator", password=MODERATOR[1])
        engine = create_engine(service_database)
        with engine.begin() as conn:  # every reader of the tests writes from 127.0.0.1: no flood wait
            conn.execute(text("UPDATE site SET flood_seconds = 0 WHERE name = :name"), {"name": SITE})
        wordpress.set_options(moderation_service_url=service.base, moderation_site_key=key,
                              moderation_webhook_secret=secret)
        yield SimpleNamespace(service=service, wordpress=wordpress, engine=engine, key=key, secret=secret)
    finally:
        wordpress.stop()
        service.stop()
        if "engine" in locals():
            engine.dispose()

