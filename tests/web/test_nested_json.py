"""JSON nested deeper than the parser can follow is malformed JSON (400) or too large (413), never a 500."""

import pytest

from moderation.services import users
from tests.web.dashboard_support import make_site, make_user, seed_comment


def nested(kind, depth):
    """A JSON text nested `depth` levels deep: arrays, or objects with one key."""
    return "[" * depth if kind == "array" else '{"a":' * depth


@pytest.fixture
def moderator_auth(app):
    login = make_user(app)
    with app.app_context():
        token = users.issue_token(users.find_user(login))
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response, depth):
    assert response.status_code == (400 if depth == 1000 else 413), response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.json["error"] and response.json["fields"] == {}


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_json_on_intake(client, auth, kind, depth):
    body = nested(kind, depth)
    response = client.post("/api/v1/comments", data=body, content_type="application/json", headers=auth)
    assert_refused(response, depth)
    if depth == 1000:
        assert response.json["error"] == "Некорректный JSON: ожидается объект."


@pytest.mark.parametrize("kind", ["array", "object"])
def test_deep_json_is_refused_even_when_closed(client, auth, kind):
    body = "[" * 1000 + "]" * 1000 if kind == "array" else '{"a":' * 1000 + "1" + "}" * 1000
    response = client.post("/api/v1/comments", data=body, content_type="application/json", headers=auth)
    assert_refused(response, 1000)


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_json_on_the_moderate_api(app, client, moderator_auth, kind, depth):
    comment_id = seed_comment(app, make_site(app))
    response = client.post(
        f"/api/v1/comments/{comment_id}/moderate",
        data=nested(kind, depth),
        content_type="application/json",
        headers=moderator_auth,
    )
    assert_refused(response, depth)


def test_deep_json_with_an_author_ip_key_still_reaches_the_limiter_safely(client, auth):
    body = '{"author_ip": "203.0.113.9", "x": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post("/api/v1/comments", data=body, content_type="application/json", headers=auth)
    assert_refused(response, 1000)
