"""Dashboard sessions live on the server too: signing out, a new password or a disabled account ends them."""

import hashlib
from datetime import timedelta

from flask_login import current_user
from sqlalchemy import event, select, update

from moderation.db import db, utcnow
from moderation.models import UserSession
from moderation.services import users
from tests.web.dashboard_support import PASSWORD, make_user, page_token, sign_in, signed_in_client, user_id


def is_signed_in(client):
    return client.get("/dashboard/").status_code == 200


def sends_to_sign_in(client):
    response = client.get("/dashboard/")
    return response.status_code == 302 and response.headers["Location"].startswith("/dashboard/login")


def saved_cookie(client):
    """The session cookie as a browser (or a thief) would keep it."""
    return client.get_cookie("session").value


def replay(app, cookie):
    """A new client carrying a saved session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def sessions_of(app, login):
    """(ended, last seen) of the user's server-side sessions, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id(app, login)).order_by(UserSession.id)
        )
        return [(row.ended_at is not None, row.last_seen_at) for row in rows]


def log_out(client):
    response = client.post("/dashboard/logout", data={"csrf_token": page_token(client)})
    assert response.status_code == 302


def test_a_cookie_saved_before_sign_out_is_refused_after_it(app):
    client, login = signed_in_client(app)
    cookie = saved_cookie(client)
    assert is_signed_in(replay(app, cookie))  # the control: a copied cookie works while the session lasts
    log_out(client)
    assert sends_to_sign_in(client)
    assert sends_to_sign_in(replay(app, cookie))
    assert sessions_of(app, login)[0][0] is True


def test_signing_out_in_one_browser_leaves_the_other_signed_in(app):
    login = make_user(app)
    first, second = app.test_client(), app.test_client()
    assert sign_in(first, login).status_code == 302
    assert sign_in(second, login).status_code == 302
    log_out(first)
    assert sends_to_sign_in(first)
    assert is_signed_in(second)
    assert [ended for ended, _seen in sessions_of(app, login)] == [True, False]


def test_changing_the_password_ends_every_session(app):
    login = make_user(app)
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        assert sign_in(browser, login).status_code == 302
    cookies = [saved_cookie(browser) for browser in browsers]
    with app.app_context():
        users.set_password(users.find_user(login), "a brand new password")
    assert all(sends_to_sign_in(replay(app, cookie)) for cookie in cookies)
    assert [ended for ended, _seen in sessions_of(app, login)] == [True, True]
    fresh = app.test_client()
    assert sign_in(fresh, login, password="a brand new password").status_code == 302
    assert is_signed_in(fresh)


def test_disabling_a_user_ends_their_sessions_for_good(app):
    admin, _admin_login = signed_in_client(app, role="admin")
    moderator, login = signed_in_client(app)
    cookie = saved_cookie(moderator)
    target = f"/dashboard/admin/users/{user_id(app, login)}/active"
    token = page_token(admin, "/dashboard/admin/users")
    assert admin.post(target, data={"active": "0", "csrf_token": token}).status_code == 302
    assert sends_to_sign_in(replay(app, cookie))
    assert admin.post(target, data={"active": "1", "csrf_token": token}).status_code == 302
    # Enabled again, the account signs in anew; the session of before (perhaps a stolen laptop's) stays ended.
    assert sends_to_sign_in(replay(app, cookie))
    assert sign_in(app.test_client(), login).status_code == 302


def test_only_a_hash_of_the_session_id_is_stored(app):
    client, login = signed_in_client(app)
    data = app.session_interface.get_signing_serializer(app).loads(saved_cookie(client))
    session_id = data["session_id"]
    assert len(session_id) >= 32
    with app.app_context():
        stored = db.session.scalar(select(UserSession.token_hash).where(UserSession.user_id == user_id(app, login)))
    assert stored == hashlib.sha256(session_id.encode()).hexdigest() != session_id


def test_last_seen_is_written_every_few_minutes_not_on_every_request(app):
    client, login = signed_in_client(app)
    [(_ended, signed_in_at)] = sessions_of(app, login)
    for _ in range(3):
        assert is_signed_in(client)
    assert sessions_of(app, login) == [(False, signed_in_at)]
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    assert is_signed_in(client)
    [(_ended, seen)] = sessions_of(app, login)
    assert seen >= signed_in_at


def test_loading_the_signed_in_user_costs_one_query(app):
    client, login = signed_in_client(app)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.test_request_context("/dashboard/", headers={"Cookie": f"session={saved_cookie(client)}"}):
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            user = current_user._get_current_object()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert user.is_authenticated and user.login == login
    assert len(statements) == 1, statements


def test_idle_sessions_expire_and_are_pruned_at_the_next_sign_in(make_app):
    app = make_app(SESSION_HOURS=1)
    client, login = signed_in_client(app)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    assert sends_to_sign_in(replay(app, saved_cookie(client)))
    assert sign_in(app.test_client(), login, password=PASSWORD).status_code == 302
    assert [ended for ended, _seen in sessions_of(app, login)] == [False]  # the idle one is gone
