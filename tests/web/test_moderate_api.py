"""The moderators' API: POST /api/v1/comments/<id>/moderate with a moderator's bearer token."""

import pytest
from sqlalchemy import select

from moderation.db import db
from moderation.models import ApiToken
from moderation.services import reasons, users
from tests.web.dashboard_support import (
    audit_events,
    comment_state,
    label_of,
    make_site,
    make_user,
    seed_comment,
    user_id,
)


@pytest.fixture
def moderator(app):
    """(login, a fresh API token) of a new moderator."""
    login = make_user(app)
    with app.app_context():
        token = users.issue_token(users.find_user(login))
    return login, token


@pytest.fixture
def comment_id(app):
    return seed_comment(app, make_site(app))


def moderate(client, comment_id, token, body=None, **raw):
    """POST to the moderate API: a JSON body (approve by default), or a raw body as test-client arguments."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if not raw:
        raw = {"json": {"action": "approve"} if body is None else body}
    return client.post(f"/api/v1/comments/{comment_id}/moderate", headers=headers, **raw)


def assert_unauthorised(response):
    assert response.status_code == 401
    assert response.json["error"] and response.json["fields"] == {}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "action, reason, status, label",
    [
        ("approve", None, "approved", (False, False)),
        ("reject", "obscenity", "rejected", (False, True)),
        ("reject", "other", "rejected", (False, None)),
        ("spam", None, "spam", (True, None)),
    ],
)
def test_moderate_changes_status_audit_and_label(app, client, moderator, comment_id, action, reason, status, label):
    login, token = moderator
    body = {"action": action} | ({"reason": reason} if reason else {})
    response = moderate(client, comment_id, token, body)
    assert response.status_code == 200
    assert response.json == {"id": comment_id, "status": status, "reason": reason, "moderated_by": login}
    assert comment_state(app, comment_id) == (status, reason, user_id(app, login))
    assert label_of(app, comment_id) == label
    [event] = audit_events(app, comment_id=comment_id)
    assert (event["user_id"], event["action"], event["from"], event["to"], event["reason"], event["via"]) == (
        user_id(app, login),
        action,
        "held",
        status,
        reason,
        "api",
    )


def test_admins_reason_marked_toxic_teaches_toxicity(app, client, moderator, comment_id):
    with app.app_context():
        reasons.add_reason("doxxing", "Personal data", toxic=True)
    response = moderate(client, comment_id, moderator[1], {"action": "reject", "reason": "doxxing"})
    assert response.status_code == 200
    assert label_of(app, comment_id) == (False, True)


def test_admins_token_works_too(app, client, comment_id):
    login = make_user(app, role="admin")
    with app.app_context():
        token = users.issue_token(users.find_user(login))
    assert moderate(client, comment_id, token).status_code == 200


def test_token_use_is_recorded(app, client, moderator, comment_id):
    moderate(client, comment_id, moderator[1])
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_no_token_is_401(client, comment_id):
    assert_unauthorised(moderate(client, comment_id, None))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token mt_x", "mt_x"])
def test_malformed_authorization_is_401(client, moderator, comment_id, header):
    response = client.post(
        f"/api/v1/comments/{comment_id}/moderate", json={"action": "approve"}, headers={"Authorization": header}
    )
    assert_unauthorised(response)


def test_a_sites_api_key_is_not_a_moderator_token(app, client, site_key, comment_id):
    assert_unauthorised(moderate(client, comment_id, site_key))
    assert comment_state(app, comment_id)[0] == "held"


@pytest.mark.parametrize("token", ["mt_unknown", "mt_" + "x" * 300, "x" * 40])
def test_unknown_token_is_401(client, comment_id, token):
    assert_unauthorised(moderate(client, comment_id, token))


def test_revoked_token_is_401(app, client, moderator, comment_id):
    with app.app_context():
        db.session.scalar(select(ApiToken)).revoked = True
        db.session.commit()
    assert_unauthorised(moderate(client, comment_id, moderator[1]))
    assert comment_state(app, comment_id)[0] == "held"


def test_disabled_users_token_is_401(app, client, moderator, comment_id):
    with app.app_context():
        users.find_user(moderator[0]).active = False
        db.session.commit()
    assert_unauthorised(moderate(client, comment_id, moderator[1]))
    assert comment_state(app, comment_id)[0] == "held"


def test_a_new_token_leaves_the_old_one_working(app, client, moderator, comment_id):
    with app.app_context():
        users.issue_token(users.find_user(moderator[0]))
    assert moderate(client, comment_id, moderator[1]).status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "{not json", "content_type": "application/json"},
        {"data": "[1, 2]", "content_type": "application/json"},
        {"data": '"approve"', "content_type": "application/json"},
        {"data": "null", "content_type": "application/json"},
        {"data": "action=approve", "content_type": "application/x-www-form-urlencoded"},
        {"data": b"\xff\xfe", "content_type": "application/json"},
    ],
)
def test_malformed_body_is_400(app, client, moderator, comment_id, kwargs):
    response = moderate(client, comment_id, moderator[1], **kwargs)
    assert response.status_code == 400
    assert response.json["error"]
    assert comment_state(app, comment_id)[0] == "held"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "action"),
        ({"action": "ban"}, "action"),
        ({"action": "undo"}, "action"),
        ({"action": "APPROVE"}, "action"),
        ({"action": ["approve"]}, "action"),
        ({"action": None}, "action"),
        ({"action": 1}, "action"),
        ({"action": "reject"}, "reason"),
        ({"action": "reject", "reason": ""}, "reason"),
        ({"action": "reject", "reason": "nonsense"}, "reason"),
        ({"action": "reject", "reason": 5}, "reason"),
        ({"action": "reject", "reason": ["insult"]}, "reason"),
    ],
)
def test_bad_action_or_reason_is_a_field_error(app, client, moderator, comment_id, body, field):
    response = moderate(client, comment_id, moderator[1], body)
    assert response.status_code == 400
    assert list(response.json["fields"]) == [field]
    assert comment_state(app, comment_id)[0] == "held"
    assert audit_events(app) == []


def test_inactive_reason_is_refused(app, client, moderator, comment_id):
    with app.app_context():
        reasons.set_active(reasons.find("other"), False)
    response = moderate(client, comment_id, moderator[1], {"action": "reject", "reason": "other"})
    assert response.status_code == 400 and list(response.json["fields"]) == ["reason"]


@pytest.mark.parametrize("missing", [2**31 - 1, 0])
def test_unknown_comment_is_404(client, moderator, missing):
    response = moderate(client, missing, moderator[1])
    assert response.status_code == 404
    assert response.json["error"]


def test_comment_id_beyond_the_database_range_is_404(client, moderator):
    assert moderate(client, 2**31, moderator[1]).status_code == 404


def test_get_is_405_json(client, moderator, comment_id):
    response = client.get(
        f"/api/v1/comments/{comment_id}/moderate", headers={"Authorization": f"Bearer {moderator[1]}"}
    )
    assert response.status_code == 405
    assert response.is_json


def test_needs_no_csrf_token(app, client, moderator, comment_id):
    """The API authenticates with bearer tokens, never cookies, so it is exempt from CSRF."""
    response = moderate(client, comment_id, moderator[1], {"action": "spam"})
    assert response.status_code == 200


def test_a_later_api_decision_replaces_the_dashboards_label(app, client, moderator, comment_id):
    assert moderate(client, comment_id, moderator[1], {"action": "reject", "reason": "hate"}).status_code == 200
    assert moderate(client, comment_id, moderator[1], {"action": "approve"}).status_code == 200
    assert label_of(app, comment_id) == (False, False)
    assert [e["to"] for e in audit_events(app, comment_id=comment_id)] == ["rejected", "approved"]
