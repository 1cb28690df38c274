"""An admin's edit on the rules page applies to the next comment a running worker decides, with no restart."""

import pytest

from moderation.db import db
from moderation.models import Comment
from moderation.services import sites
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.test_pipeline import post
from tests.web.dashboard_support import page_token, signed_in_client

pytestmark = pytest.mark.worker


def test_rules_page_edits_reach_a_running_worker(app, client, auth, site_key, start_worker):
    start_worker()
    admin, _login = signed_in_client(app, role="admin")
    with app.app_context():
        site_id = sites.authenticate(site_key).id  # this test's site, whatever others the database holds
    page = f"/dashboard/admin/rules/{site_id}"
    token = page_token(admin, page)
    text = "Аким района обещал отремонтировать дорогу к весне, посмотрим."
    before = post(client, auth, text)
    assert wait_for_decisions(app, [before])[before] == "approved"

    edited = admin.post(f"{page}/words", data={"csrf_token": token, "kind": "watch", "words": "аким"})
    assert edited.status_code == 302, edited.get_data(as_text=True)[:500]
    watched = post(client, auth, text, name="Второй читатель")
    edited = admin.post(
        f"{page}/settings", data={"csrf_token": token, "max_links": "0", "premoderation": "none", "flood_seconds": "15"}
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)[:500]
    linked = post(
        client,
        auth,
        "Об этом уже писали вчера: https://tengrinews.kz/kazakhstan_news/123 — спасибо редакции за продолжение темы.",
        name="Третий",
    )  # the model approves it
    statuses = wait_for_decisions(app, [watched, linked])
    assert statuses == {watched: "held", linked: "held"}
    with app.app_context():
        assert " watchlist " in db.session.get(Comment, watched).reason_codes
        assert " links " in db.session.get(Comment, linked).reason_codes
