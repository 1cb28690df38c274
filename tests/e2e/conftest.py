"""Browser fixtures: one Chromium per session, a live server per test, a fresh browser context per test."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from moderation.services import sites, users
from tests.conftest import BACKENDS
from tests.e2e.support import PASSWORD, VIEWPORT, LiveServer, sign_in

HERE = Path(__file__).resolve().parent

ONCE = {"test_screenshots"}  # the same pictures on every backend: take them on the first one only


def pytest_collection_modifyitems(config, items):
    """Run the ONCE tests on the first configured database only."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        once = item.path.parent == HERE and item.originalname in ONCE and backend not in (None, BACKENDS[0])
        (drop if once else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def live_server(make_app):
    """The app on both test databases, served over HTTP for the browser."""
    server = LiveServer(make_app())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def moderator(live_server):
    """A moderator's account: id, login, password."""
    with live_server.app.app_context():
        user = users.create_user("aigerim", PASSWORD, "moderator")
        return SimpleNamespace(id=user.id, login=user.login, password=PASSWORD)


@pytest.fixture
def site(live_server):
    """The regional news site whose comments the tests moderate."""
    with live_server.app.app_context():
        created, key = sites.create_site("Караганда сегодня")
        return SimpleNamespace(id=created.id, name=created.name, key=key)


@pytest.fixture
def page(browser):
    """A page in a fresh context (1280x800, Russian, Almaty time); fails the test on any CSP violation."""
    context = browser.new_context(viewport=VIEWPORT, locale="ru-RU", timezone_id="Asia/Almaty")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    violations = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert not violations, f"the page broke its Content-Security-Policy: {violations}"


@pytest.fixture
def signed_in(page, live_server, moderator):
    """A page signed in as the moderator, on the queue."""
    sign_in(page, live_server, moderator.login, moderator.password)
    return page
