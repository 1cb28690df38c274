"""Dashboard forms take form bodies only: a JSON body (with the CSRF header) is refused, never a 500."""

import pytest

from tests.web.dashboard_support import csrf_token, make_site, make_user, page_token, seed_comment, sign_in

BODIES = [
    "[1, 2]",
    '"text"',
    "123",
    '{"login": ["a"], "password": {"x": 1}}',
    '{"login": 5, "password": 6}',
    '{"action": 5, "reason": ["x"], "ids": [[1]]}',
    "[" * 1000,
]


@pytest.mark.parametrize("body", BODIES)
def test_login_refuses_json(client, body):
    token = csrf_token(client.get("/dashboard/login").data)
    response = client.post(
        "/dashboard/login", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/undo",
        "/dashboard/language",
        "/dashboard/moderate",
        "/dashboard/logout",
        "/dashboard/comments/{id}/moderate",
        "/dashboard/comments/{id}/ban",
    ],
)
def test_signed_in_forms_refuse_json(app, client, path):
    comment_id = seed_comment(app, make_site(app))
    assert sign_in(client, make_user(app)).status_code == 302
    token = page_token(client)
    for body in BODIES:
        response = client.post(
            path.format(id=comment_id), data=body, content_type="application/json", headers={"X-CSRFToken": token}
        )
        assert response.status_code in (302, 400), (body, response.get_data(as_text=True)[:300])
