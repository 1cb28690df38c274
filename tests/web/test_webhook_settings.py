"""A site's webhook settings from the command line and the dashboard: URL, secret shown once, rotation, off."""

import html

import pytest
from sqlalchemy import select

from moderation.cli import main
from moderation.db import db
from moderation.models import AuditEvent, Site, WebhookDelivery
from moderation.services import webhooks
from tests.web.dashboard_support import make_site, page_token, signed_in_client


@pytest.fixture
def site_id(app):
    return make_site(app, "almaty-news")


def site_of(app, site_id):
    with app.app_context():
        site = db.session.get(Site, site_id)
        db.session.expunge(site)
    return site


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/wp-json/moderation/v1/webhook", "https://10.0.0.5/hook", "http://localhost/hook"]
)
def test_the_command_sets_any_http_url_and_prints_the_secret_alone_last(app, runner, site_id, url):
    result = runner.invoke(main, ["site", "webhook", "almaty-news", url])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    site = site_of(app, site_id)
    assert (site.webhook_url, site.webhook_secret) == (url, secret) and secret.startswith("whsec_")
    with app.app_context():
        assert db.session.scalar(select(WebhookDelivery)) is None  # nothing is sent to try it


@pytest.mark.parametrize("url", ["ftp://example.kz/hook", "news.example.kz/hook", "http://", "javascript:alert(1)"])
def test_the_command_refuses_what_is_not_an_http_url(app, runner, site_id, url):
    result = runner.invoke(main, ["site", "webhook", "almaty-news", url])
    assert result.exit_code != 0 and "http:// or https://" in result.output
    assert site_of(app, site_id).webhook_url is None


def test_a_new_url_or_rotation_gives_a_new_secret_and_off_stops_it(app, runner, site_id):
    first = runner.invoke(main, ["site", "webhook", "almaty-news", "http://127.0.0.1:9/a"]).output.split()[-1]
    second = runner.invoke(main, ["site", "webhook", "almaty-news", "http://127.0.0.1:9/a"]).output.split()[-1]
    assert first != second
    assert runner.invoke(main, ["site", "webhook", "almaty-news", "off"]).exit_code == 0
    assert (site_of(app, site_id).webhook_url, site_of(app, site_id).webhook_secret) == (None, None)


def test_the_dashboard_page_sets_rotates_and_turns_off(app, site_id):
    admin, _login = signed_in_client(app, role="admin")
    path = f"/dashboard/admin/sites/{site_id}/webhook"
    assert admin.post(path, data={"action": "set", "url": "http://127.0.0.1:9/a"}).status_code == 400  # no CSRF
    token = page_token(admin, path)
    refused = admin.post(path, data={"csrf_token": token, "action": "set", "url": "<script>x</script>"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Адрес вебхука начинается с http://" in body and "<script>x" not in body
    shown = admin.post(path, data={"csrf_token": token, "action": "set", "url": "https://news.example.kz/wp-json/x"})
    secret = site_of(app, site_id).webhook_secret
    assert shown.status_code == 200 and html.escape(secret) in shown.get_data(as_text=True)
    assert secret not in admin.get(path).get_data(as_text=True)  # shown once
    rotated = admin.post(path, data={"csrf_token": token, "action": "rotate"})
    assert rotated.status_code == 200 and site_of(app, site_id).webhook_secret != secret
    assert site_of(app, site_id).webhook_url == "https://news.example.kz/wp-json/x"
    assert admin.post(path, data={"csrf_token": token, "action": "off"}).status_code == 302
    assert site_of(app, site_id).webhook_url is None
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "site_webhook").order_by(AuditEvent.id)
        ).all()
    assert [a["new"] for a in actions] == ["https://news.example.kz/wp-json/x"] * 2 + [None]
    assert all(secret not in str(a) for a in actions)  # the secret never reaches the log


def test_moderators_cannot_see_or_change_a_webhook(app, site_id):
    moderator, _login = signed_in_client(app)
    assert moderator.get(f"/dashboard/admin/sites/{site_id}/webhook").status_code in (302, 403)


def test_a_signature_is_the_documented_hmac():
    """The value `openssl dgst -sha256 -hmac whsec_test` gives for "1767225600." and the body."""
    assert webhooks.sign("whsec_test", 1767225600, b'{"event":"comment.decided"}') == (
        "t=1767225600,v1=5347e32661af9539e70f74898c797b1fad24897bfc2a1a88062288a33056a275"
    )


def test_retries_back_off_from_the_first_wait_to_an_hour():
    waits = [webhooks._backoff(n, 30).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
