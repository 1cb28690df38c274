"""The site's own moderation (WordPress: approve, spam, trash, unapprove): POST /api/v1/comments/<id>/status
with the site's key; the same status change, audit entry, label and webhook event as a moderator's."""

import pytest
from sqlalchemy import select

from moderation.db import db
from moderation.models import APPROVED, HELD, REJECTED, SPAM, Site, WebhookDelivery
from moderation.services import complaints, sites, webhooks
from tests.web.dashboard_support import audit_events, comment_state, label_of, make_site, seed_comment


@pytest.fixture
def site_id(app, site_key):
    with app.app_context():
        return sites.authenticate(site_key).id


def set_status(client, auth, comment_id, status, **extra):
    return client.post(f"/api/v1/comments/{comment_id}/status", json={"status": status, **extra}, headers=auth)


@pytest.mark.parametrize(
    "start, status, label",
    [
        (HELD, APPROVED, (False, False)),
        (APPROVED, SPAM, (True, None)),
        (APPROVED, REJECTED, None),  # trashed without a reason: maybe housekeeping, no label
        (APPROVED, HELD, None),  # unapproved: no label at all
    ],
)
def test_the_sites_decision_changes_the_status_and_teaches_as_a_moderators(
    app, client, auth, site_id, start, status, label
):
    comment_id = seed_comment(app, site_id, status=start)
    response = set_status(client, auth, comment_id, status)
    assert response.status_code == 200, response.json
    assert response.json == {"id": comment_id, "status": status, "reason": None}
    assert comment_state(app, comment_id) == (status, None, None)
    assert label_of(app, comment_id) == label
    [event] = audit_events(app, comment_id=comment_id)
    assert (event["via"], event["user_id"], event["from"], event["to"]) == ("site", None, start, status)


def test_a_rejection_may_carry_a_known_reason(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    assert set_status(client, auth, comment_id, REJECTED, reason="insult").json["reason"] == "insult"
    assert label_of(app, comment_id) == (False, True)
    assert set_status(client, auth, comment_id, REJECTED, reason="nonsense").status_code == 400


def test_the_sites_decision_closes_complaints_and_tells_its_webhook_once(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=HELD)
    with app.app_context():
        site = db.session.get(Site, site_id)
        complaints.file_complaint(site, comment_id, "reader-1", "insult", None, "secret")
        webhooks.set_webhook(site, "http://127.0.0.1:9/hook")
    assert set_status(client, auth, comment_id, SPAM).status_code == 200
    assert set_status(client, auth, comment_id, SPAM).status_code == 200  # no change: no second event
    with app.app_context():
        payloads = db.session.scalars(select(WebhookDelivery.payload)).all()
        assert complaints.reporters(comment_id, only_open=True) == 0
    assert [(p["event"], p["by"], p["previous_status"], p["comment"]["status"]) for p in payloads] == [
        ("comment.moderated", "site", HELD, SPAM)
    ]


@pytest.mark.parametrize("body", [{"status": "trash"}, {"status": None}, {}, {"status": "approved", "reason": 5}])
def test_anything_else_is_400_in_the_readers_language(app, client, auth, site_id, body):
    comment_id = seed_comment(app, site_id, status=HELD)
    response = client.post(f"/api/v1/comments/{comment_id}/status", json=body, headers=auth)
    assert response.status_code == 400 and response.json["fields"]
    assert comment_state(app, comment_id)[0] == HELD


def test_only_the_sites_own_comments_and_only_with_its_key(app, client, auth):
    other = seed_comment(app, make_site(app), status=HELD)
    assert set_status(client, auth, other, APPROVED).status_code == 404
    assert set_status(client, auth, 999999, APPROVED).status_code == 404
    assert client.post(f"/api/v1/comments/{other}/status", json={"status": "approved"}).status_code == 401
    assert comment_state(app, other)[0] == HELD


def test_the_sites_echo_of_a_moderators_decision_changes_nothing(app, client, auth, site_id):
    """WordPress reports back the status our webhook just gave it: the moderator's reason, label and the
    spot check's verdict stay, and nothing is logged."""
    from moderation.services import review, users

    comment_id = seed_comment(app, site_id, status=HELD, spot_check=True)
    with app.app_context():
        moderator = users.create_user("olga", "correct horse battery", "moderator")
        review.moderate([comment_id], moderator, "reject", "insult")
    before = audit_events(app, comment_id=comment_id)
    response = set_status(client, auth, comment_id, REJECTED)
    assert response.status_code == 200 and response.json["reason"] == "insult"
    assert label_of(app, comment_id) == (False, True)
    assert audit_events(app, comment_id=comment_id) == before
    with app.app_context():
        from moderation.models import Comment

        assert db.session.get(Comment, comment_id).spot_verdict == "toxic"


def test_the_dashboard_refuses_the_sites_own_hold_action(app, site_id):
    from tests.web.dashboard_support import FETCH, page_token, signed_in_client

    moderator, _login = signed_in_client(app)
    comment_id = seed_comment(app, site_id, status=APPROVED)
    token = page_token(moderator)
    response = moderator.post(
        f"/dashboard/comments/{comment_id}/moderate", headers=FETCH, data={"csrf_token": token, "action": "hold"}
    )
    assert response.status_code == 400 and comment_state(app, comment_id)[0] == APPROVED
