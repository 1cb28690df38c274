"""Signing in and out of the dashboard: the form, wrong passwords, redirects, cookies, CSRF."""

import re

import pytest
from sqlalchemy import func, select

from moderation.db import db
from moderation.models import AuditEvent, Ban, Comment, Label
from moderation.services import users
from tests.web.dashboard_support import PASSWORD, csrf_token, make_site, make_user, page_token, seed_comment, sign_in


def session_cookie_header(response):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert headers, "no session cookie set"
    return headers[-1]


def is_signed_in(client):
    return client.get("/dashboard/").status_code == 200


def test_signed_out_dashboard_redirects_to_the_login_form(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")
    form = client.get(response.headers["Location"])
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert re.search(r'<input[^>]+name="login"', page)
    assert re.search(r'<input[^>]+name="password"[^>]+type="password"', page)
    assert 'name="csrf_token"' in page


def test_service_root_leads_to_the_dashboard(client):
    response = client.get("/")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 302  # and from there to the login form


def test_right_password_signs_in(app, client):
    login = make_user(app)
    response = sign_in(client, login)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    assert is_signed_in(client)
    with app.app_context():
        assert users.find_user(login).last_login_at is not None


def test_login_is_case_insensitive(app, client):
    make_user(app, login="Aigerim")
    assert sign_in(client, "aigerim").status_code == 302


def test_wrong_password_is_401_and_no_session(app, client):
    login = make_user(app)
    response = sign_in(client, login, password="wrong password")
    assert response.status_code == 401
    assert 'name="login"' in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_unknown_login_is_401(client):
    assert sign_in(client, "nobody", password=PASSWORD).status_code == 401
    assert not is_signed_in(client)


def test_disabled_user_cannot_sign_in(app, client):
    login = make_user(app)
    with app.app_context():
        users.find_user(login).active = False
        db.session.commit()
    assert sign_in(client, login).status_code == 401
    assert not is_signed_in(client)


def test_disabling_a_user_ends_their_session(app, client):
    login = make_user(app)
    assert sign_in(client, login).status_code == 302
    with app.app_context():
        users.find_user(login).active = False
        db.session.commit()
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dashboard/login")


def test_login_post_without_csrf_token_is_400(app, client):
    login = make_user(app)
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_login_post_with_another_sessions_token_is_400(app, client):
    login = make_user(app)
    other = app.test_client()
    token = csrf_token(other.get("/dashboard/login").data)
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400
    assert not is_signed_in(client)


@pytest.mark.parametrize("target", ["/dashboard/?status=spam", "/dashboard/comments/1"])
def test_next_inside_the_dashboard_is_followed(app, client, target):
    login = make_user(app)
    token = csrf_token(client.get("/dashboard/login", query_string={"next": target}).data)
    response = client.post(
        "/dashboard/login", data={"login": login, "password": PASSWORD, "next": target, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/dashboard/",
        "//evil.example/dashboard",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        " //evil.example",
        "/api/v1/comments",
    ],
)
def test_next_outside_the_dashboard_is_refused(app, client, target):
    login = make_user(app)
    token = csrf_token(client.get("/dashboard/login", query_string={"next": target}).data)
    response = client.post(
        "/dashboard/login", data={"login": login, "password": PASSWORD, "next": target, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


def test_the_login_page_carries_next_from_the_redirect(client):
    response = client.get("/dashboard/?status=spam")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'name="next"[^>]*value="/dashboard/\?status=spam"', page)


def test_session_cookie_is_httponly_and_lax_but_not_secure_over_http(app, client):
    login = make_user(app)
    response = sign_in(client, login)
    cookie = session_cookie_header(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app, client):
    login = make_user(app)
    # Over HTTPS Flask-WTF also wants a same-origin Referer, which browsers send (Referrer-Policy: same-origin).
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/dashboard/login"}}
    response = sign_in(client, login, **https)
    assert response.status_code == 302
    cookie = session_cookie_header(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_sign_in_from_another_origin_is_refused(app, client):
    login = make_user(app)
    response = sign_in(
        client, login, base_url="https://localhost", headers={"Referer": "https://evil.example/dashboard/login"}
    )
    assert response.status_code == 400


def test_secure_cookies_always_when_configured(make_app):
    app = make_app(SECURE_COOKIES="1")
    response = app.test_client().get("/dashboard/login")
    assert "Secure" in session_cookie_header(response)


def test_dashboard_pages_carry_security_headers(client):
    response = client.get("/dashboard/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_sign_out_needs_post_with_csrf(app, client):
    login = make_user(app)
    assert sign_in(client, login).status_code == 302
    assert client.get("/dashboard/logout").status_code == 405
    assert is_signed_in(client)
    assert client.post("/dashboard/logout").status_code == 400
    assert is_signed_in(client)
    token = page_token(client)
    response = client.post("/dashboard/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")
    assert not is_signed_in(client)


def test_language_switch_needs_csrf(app, client):
    login = make_user(app)
    assert sign_in(client, login).status_code == 302
    assert 'lang="ru"' in client.get("/dashboard/").get_data(as_text=True)
    assert client.post("/dashboard/language", data={"locale": "en"}).status_code == 400
    assert 'lang="ru"' in client.get("/dashboard/").get_data(as_text=True)
    token = page_token(client)
    response = client.post("/dashboard/language", data={"locale": "en", "csrf_token": token, "next": "//evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert 'lang="en"' in client.get("/dashboard/").get_data(as_text=True)


# Every state-changing dashboard route refuses a POST without the session's CSRF token.
CSRF_ROUTES = {
    "moderate": lambda c: (f"/dashboard/comments/{c}/moderate", {"action": "spam"}),
    "bulk moderate": lambda c: ("/dashboard/moderate", {"action": "spam", "ids": [str(c)]}),
    "ban": lambda c: (f"/dashboard/comments/{c}/ban", {"kind": "email"}),
    "undo": lambda c: ("/dashboard/undo", {}),
    "language": lambda c: ("/dashboard/language", {"locale": "en"}),
    "logout": lambda c: ("/dashboard/logout", {}),
}


def snapshot(app, client):
    """What a forged POST could change: comments, audit log, labels, bans, the session's language and sign-in."""
    with app.app_context():
        comments = db.session.execute(select(Comment.id, Comment.status).order_by(Comment.id)).all()
        counts = [db.session.scalar(select(func.count()).select_from(t)) for t in (AuditEvent, Label, Ban)]
    page = client.get("/dashboard/")
    lang = re.search(r'<html lang="(\w+)"', page.get_data(as_text=True))
    return comments, counts, page.status_code, lang and lang[1]


@pytest.mark.parametrize("route", sorted(CSRF_ROUTES))
@pytest.mark.parametrize("token", ["missing", "forged", "another session's"])
def test_dashboard_posts_without_a_valid_csrf_token_are_400_and_change_nothing(app, client, route, token):
    login = make_user(app)
    assert sign_in(client, login).status_code == 302
    site_id = make_site(app)
    target = seed_comment(app, site_id, email="spammer@example.com")
    decided = seed_comment(app, site_id)
    approve = {"action": "approve", "csrf_token": page_token(client)}
    assert client.post(f"/dashboard/comments/{decided}/moderate", data=approve).status_code == 302
    before = snapshot(app, client)
    assert before[2:] == (200, "ru")

    path, data = CSRF_ROUTES[route](target)
    if token == "forged":
        data["csrf_token"] = "IjEyMyI.forged.token"
    elif token == "another session's":
        other = app.test_client()
        data["csrf_token"] = csrf_token(other.get("/dashboard/login").data)
    for headers in ({}, {"X-Requested-With": "fetch", "Accept": "application/json"}):
        response = client.post(path, data=data, headers=headers)
        assert response.status_code == 400, (route, headers)
    assert snapshot(app, client) == before
    data["csrf_token"] = page_token(client)  # the control: with the session's token the same POST works
    assert client.post(path, data=data).status_code == 302
    assert snapshot(app, client) != before


def test_changing_the_password_signs_out_every_session(app):
    from moderation.services import users as user_service
    from tests.web.dashboard_support import signed_in_client

    client, login = signed_in_client(app)
    assert client.get("/dashboard/").status_code == 200
    with app.app_context():
        user_service.set_password(user_service.find_user(login), "a brand new password")
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
