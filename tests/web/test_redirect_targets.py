"""A `next` target with control characters (CR, LF, tab, NUL) is ignored, never a 500 or a split header."""

import pytest

from tests.web.dashboard_support import PASSWORD, csrf_token, make_site, make_user, page_token, seed_comment, sign_in

# As they arrive percent-encoded in a query string or a form body.
TARGETS = [
    "/dashboard/%0d%0aSet-Cookie:%20x=1",
    "/dashboard/%0a",
    "/dashboard/?a=%09b",
    "/dashboard/%00",
    "%0d%0a/dashboard/",
    "/dashboard/%7f",
    "//[",
    "/dashboard/%c2%85",
]


def form_body(**fields):
    """A form body whose `next` stays exactly as given (already percent-encoded)."""
    return "&".join(f"{name}={value}" for name, value in fields.items())


def post_form(client, path, **fields):
    return client.post(path, data=form_body(**fields), content_type="application/x-www-form-urlencoded")


def assert_safe_redirect(response):
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"] == "/dashboard/"
    assert "x=1" not in " ".join(response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("target", TARGETS)
def test_login(app, client, target):
    login = make_user(app)
    page = client.get(f"/dashboard/login?next={target}")
    assert page.status_code == 200
    response = post_form(
        client,
        "/dashboard/login",
        login=login,
        password=PASSWORD.replace(" ", "+"),
        next=target,
        csrf_token=csrf_token(page.data),
    )
    assert_safe_redirect(response)


@pytest.mark.parametrize("target", TARGETS)
def test_login_when_already_signed_in(app, client, target):
    assert sign_in(client, make_user(app)).status_code == 302
    response = client.get(f"/dashboard/login?next={target}")
    assert_safe_redirect(response)


@pytest.mark.parametrize("target", TARGETS)
def test_undo(app, client, target):
    assert sign_in(client, make_user(app)).status_code == 302
    response = post_form(client, "/dashboard/undo", next=target, csrf_token=page_token(client))
    assert_safe_redirect(response)


@pytest.mark.parametrize("target", TARGETS)
def test_language(app, client, target):
    assert sign_in(client, make_user(app)).status_code == 302
    response = post_form(client, "/dashboard/language", locale="en", next=target, csrf_token=page_token(client))
    assert_safe_redirect(response)


@pytest.mark.parametrize("target", TARGETS)
def test_moderate(app, client, target):
    comment_id = seed_comment(app, make_site(app))
    assert sign_in(client, make_user(app)).status_code == 302
    token = page_token(client)
    response = post_form(client, "/dashboard/moderate", ids=comment_id, action="approve", next=target, csrf_token=token)
    assert_safe_redirect(response)
    response = post_form(
        client, f"/dashboard/comments/{comment_id}/moderate", action="spam", next=target, csrf_token=token
    )
    assert_safe_redirect(response)


@pytest.mark.parametrize("target", TARGETS)
def test_signed_out_pages_carry_the_target_safely(client, target):
    response = client.get(f"/dashboard/{target}")
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert "\r" not in response.headers["Location"] and "\n" not in response.headers["Location"]


def test_a_plain_target_is_still_followed(app, client):
    assert sign_in(client, make_user(app)).status_code == 302
    response = post_form(client, "/dashboard/undo", next="/dashboard/%3Fstatus%3Dspam", csrf_token=page_token(client))
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/?status=spam"
