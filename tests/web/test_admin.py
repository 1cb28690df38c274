"""Admin pages: only admins get in, every change is audited, CSRF is enforced, keys and tokens work."""

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from moderation.db import db
from moderation.models import AuditEvent, Ban, Reason, Site, User
from moderation.services import bans, reasons, settings, thresholds, users

MODELS = Path(__file__).resolve().parents[2] / "models"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ADMIN_PAGES = [
    "/dashboard/admin/sites",
    "/dashboard/admin/users",
    "/dashboard/admin/reasons",
    "/dashboard/admin/bans",
    "/dashboard/admin/thresholds",
    "/dashboard/admin/models",
]
ADMIN_POSTS = [
    "/dashboard/admin/sites",
    "/dashboard/admin/sites/1/rotate",
    "/dashboard/admin/sites/1/timezone",
    "/dashboard/admin/users",
    "/dashboard/admin/users/1/role",
    "/dashboard/admin/users/1/active",
    "/dashboard/admin/users/1/token",
    "/dashboard/admin/reasons",
    "/dashboard/admin/reasons/1/toggle",
    "/dashboard/admin/reasons/1/delete",
    "/dashboard/admin/bans",
    "/dashboard/admin/bans/1/remove",
    "/dashboard/admin/thresholds",
    "/dashboard/admin/models/promote",
    "/dashboard/admin/models/rollback",
]
PASSWORD = "correct horse battery"


def csrf_token(client, path="/dashboard/login"):
    """The CSRF token from a page's hidden input."""
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def make_user(app, role, login=None):
    """A user with a unique login (the database outlives the test)."""
    login = login or f"{role}-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        return users.create_user(login, PASSWORD, role).id, login


def sign_in(app, client, role="admin"):
    """Sign a new user of this role in; return (id, login)."""
    user_id, login = make_user(app, role)
    response = client.post(
        "/dashboard/login", data={"login": login, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return user_id, login


def post(client, path, page=None, follow=False, **data):
    """POST a dashboard form with a CSRF token taken from the page it lives on."""
    data["csrf_token"] = csrf_token(client, page or path)
    return client.post(path, data=data, follow_redirects=follow)


def events(app, action, **detail):
    """Audit events of an action whose detail contains these items."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [(e.user_id, e.via, e.detail) for e in rows if all(e.detail.get(k) == v for k, v in detail.items())]


def test_moderators_get_403_on_every_admin_page_and_post(app, client):
    sign_in(app, client, "moderator")
    token = csrf_token(client, "/dashboard/audit")
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    for path in ADMIN_POSTS:
        assert client.post(path, data={"csrf_token": token, "name": "x", "version": "x"}).status_code == 403, path


def test_admin_pages_render(app, client):
    sign_in(app, client)
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'class="admin-nav"' in response.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(app, client):
    sign_in(app, client)
    name = f"no-csrf-{uuid.uuid4().hex[:6]}"
    assert client.post("/dashboard/admin/sites", data={"name": name, "timezone": "UTC"}).status_code == 400
    assert (
        client.post(
            "/dashboard/admin/sites", data={"name": name, "timezone": "UTC", "csrf_token": "forged"}
        ).status_code
        == 400
    )
    with app.app_context():
        assert db.session.scalar(select(Site).where(Site.name == name)) is None


def _shown_secret(response, element_id):
    match = re.search(rf'id="{element_id}">([^<]+)<', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def _post_comment(client, key):
    text = f"Спасибо за статью {uuid.uuid4().hex[:6]}"  # the same text twice would be a duplicate (409)
    return client.post(
        "/api/v1/comments", json={"name": "Айгуль", "text": text}, headers={"Authorization": f"Bearer {key}"}
    )


def test_site_add_shows_a_working_key_once_and_rotation_replaces_it(app, client):
    admin_id, _login = sign_in(app, client)
    name = f"Новости {uuid.uuid4().hex[:6]}"
    response = post(client, "/dashboard/admin/sites", name=name, timezone="Asia/Qostanay")
    assert response.status_code == 200
    key = _shown_secret(response, "new-key")
    assert _post_comment(client, key).status_code == 202
    with app.app_context():
        site = db.session.scalar(select(Site).where(Site.name == name))
        assert site.timezone == "Asia/Qostanay"
        site_id = site.id
    assert key not in client.get("/dashboard/admin/sites").get_data(as_text=True)  # never shown again
    assert events(app, "site_add", site_id=site_id) == [
        (admin_id, "dashboard", {"site_id": site_id, "name": name, "timezone": "Asia/Qostanay", "key_prefix": key[:10]})
    ]

    response = post(client, f"/dashboard/admin/sites/{site_id}/rotate", page="/dashboard/admin/sites")
    new_key = _shown_secret(response, "new-key")
    assert new_key != key
    assert _post_comment(client, key).status_code == 401
    assert _post_comment(client, new_key).status_code == 202
    assert len(events(app, "site_key_rotate", site_id=site_id)) == 1


def test_site_time_zone_is_validated(app, client):
    sign_in(app, client)
    with app.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.name == _new_site(app)))
    path = f"/dashboard/admin/sites/{site_id}/timezone"
    post(client, path, page="/dashboard/admin/sites", timezone="Mars/Olympus")
    post(client, path, page="/dashboard/admin/sites", timezone="../../etc/passwd")
    with app.app_context():
        assert db.session.get(Site, site_id).timezone == "Asia/Almaty"
    post(client, path, page="/dashboard/admin/sites", timezone="Europe/Moscow")
    with app.app_context():
        assert db.session.get(Site, site_id).timezone == "Europe/Moscow"
    assert events(app, "site_timezone", site_id=site_id)[0][2]["new"] == "Europe/Moscow"


def _new_site(app):
    from moderation.services import sites

    with app.app_context():
        site, _key = sites.create_site(f"site-{uuid.uuid4().hex[:6]}")
        return site.name


def test_user_add_role_disable_and_token(app, client):
    admin_id, admin_login = sign_in(app, client)
    login = f"modr-{uuid.uuid4().hex[:6]}"
    assert post(client, "/dashboard/admin/users", login=login, password="short", role="moderator").status_code == 400
    response = post(client, "/dashboard/admin/users", login=login, password=PASSWORD, role="moderator")
    assert response.status_code == 302
    assert login in client.get("/dashboard/admin/users").get_data(as_text=True)
    with app.app_context():
        user_id = users.find_user(login).id
    assert events(app, "user_add", login=login)[0][:2] == (admin_id, "dashboard")

    post(client, f"/dashboard/admin/users/{user_id}/role", page="/dashboard/admin/users", role="admin")
    post(client, f"/dashboard/admin/users/{user_id}/active", page="/dashboard/admin/users", active="0")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.role, user.active) == ("admin", False)
        assert users.authenticate(login, PASSWORD) is None
    assert events(app, "user_role", login=login)[0][2]["new"] == "admin"
    assert len(events(app, "user_disable", login=login)) == 1

    post(client, f"/dashboard/admin/users/{user_id}/active", page="/dashboard/admin/users", active="1")
    response = post(client, f"/dashboard/admin/users/{user_id}/token", page="/dashboard/admin/users")
    token = _shown_secret(response, "new-token")
    with app.app_context():
        assert users.user_for_token(token).id == user_id
    assert events(app, "user_token", login=login)[0][2]["prefix"] == token[:10]


def test_an_admin_cannot_demote_or_disable_themselves(app, client):
    admin_id, login = sign_in(app, client)
    post(client, f"/dashboard/admin/users/{admin_id}/role", page="/dashboard/admin/users", role="moderator")
    post(client, f"/dashboard/admin/users/{admin_id}/active", page="/dashboard/admin/users", active="0")
    with app.app_context():
        user = db.session.get(User, admin_id)
        assert (user.role, user.active) == ("admin", True)
    assert client.get("/dashboard/admin/users").status_code == 200


def test_reason_add_appears_and_can_be_switched_off(app, client):
    sign_in(app, client)
    code = f"ads-{uuid.uuid4().hex[:6]}"
    response = post(client, "/dashboard/admin/reasons", code=code, label="Реклама <b>", toxic="y")
    assert response.status_code == 302
    page = client.get("/dashboard/admin/reasons").get_data(as_text=True)
    assert code in page and "Реклама &lt;b&gt;" in page
    with app.app_context():
        reason = reasons.find(code)
        assert reason.toxic and not reason.builtin
        reason_id = reason.id
    assert events(app, "reason_add", code=code)[0][2]["toxic"] is True
    assert post(client, "/dashboard/admin/reasons", code=code, label="again").status_code == 400

    post(client, f"/dashboard/admin/reasons/{reason_id}/toggle", page="/dashboard/admin/reasons")
    with app.app_context():
        assert reasons.find(code) is None
    assert events(app, "reason_toggle", code=code)[0][2]["active"] is False
    post(client, f"/dashboard/admin/reasons/{reason_id}/delete", page="/dashboard/admin/reasons")
    with app.app_context():
        assert reasons.get(code) is None


def test_builtin_reasons_cannot_be_deleted(app, client):
    sign_in(app, client)
    with app.app_context():
        insult = reasons.get("insult").id
    post(client, f"/dashboard/admin/reasons/{insult}/delete", page="/dashboard/admin/reasons")
    with app.app_context():
        assert db.session.get(Reason, insult) is not None


def test_ban_add_and_remove(app, client):
    sign_in(app, client)
    email = f"Spammer-{uuid.uuid4().hex[:6]}@Example.com"
    assert post(client, "/dashboard/admin/bans", kind="email", value=email).status_code == 302
    assert post(client, "/dashboard/admin/bans", kind="ip", value="198.51.100.0/24", note="бот").status_code == 302
    assert post(client, "/dashboard/admin/bans", kind="ip", value="not an ip").status_code == 400
    assert post(client, "/dashboard/admin/bans", kind="ip", value="0.0.0.0/0").status_code == 400
    with app.app_context():
        assert bans.ban_for(None, email, None).value == email.lower()
        assert bans.ban_for(None, None, "198.51.100.77").note == "бот"
        ids = [b.id for b in bans.all_bans() if b.value in (email.lower(), "198.51.100.0/24")]
    assert events(app, "ban_add", value=email.lower())[0][2]["kind"] == "email"
    for ban_id in ids:
        post(client, f"/dashboard/admin/bans/{ban_id}/remove", page="/dashboard/admin/bans")
    with app.app_context():
        assert bans.ban_for(None, email, "198.51.100.77") is None
        assert db.session.scalars(select(Ban).where(Ban.id.in_(ids))).all() == []
    assert len(events(app, "ban_remove", value=email.lower())) == 1


def test_threshold_overrides_persist_and_clear(app, client):
    sign_in(app, client)
    try:
        response = post(client, "/dashboard/admin/thresholds", spam_hold="0,25", spam="0.9", toxicity_hold="")
        assert response.status_code == 302
        with app.app_context():
            assert settings.threshold_overrides() == {"spam_hold": 0.25, "spam": 0.9}
        assert events(app, "threshold_set")[-1][2] == {"spam_hold": [None, 0.25], "spam": [None, 0.9]}
        page = client.get("/dashboard/admin/thresholds").get_data(as_text=True)
        assert 'value="0.25"' in page

        assert post(client, "/dashboard/admin/thresholds", spam_hold="1.5").status_code == 400
        assert post(client, "/dashboard/admin/thresholds", spam_hold="0.95", spam="0.9").status_code == 400
        assert post(client, "/dashboard/admin/thresholds", spam_hold="nan").status_code == 400
        with app.app_context():
            assert settings.threshold_overrides() == {"spam_hold": 0.25, "spam": 0.9}

        post(client, "/dashboard/admin/thresholds", spam_hold="", spam="", toxicity_hold="0.6")
        with app.app_context():
            assert settings.threshold_overrides() == {"toxicity_hold": 0.6}
    finally:
        with app.app_context():
            for key in thresholds.NAMES:
                settings.put(f"threshold.{key}", None)


@pytest.fixture
def models_copy(tmp_path):
    """A writable copy of the shipped models, with a second version to promote."""
    target = tmp_path / "models"
    shutil.copytree(MODELS, target)
    active = (target / "ACTIVE").read_text().strip()
    second = "v20990101-000000"
    shutil.copytree(target / active, target / second)
    manifest = json.loads((target / second / "manifest.json").read_text())
    manifest.update(version=second, created="2099-01-01T00:00:00+00:00")
    (target / second / "manifest.json").write_text(json.dumps(manifest))
    (target / "HISTORY").write_text("")  # nothing to roll back to until something is promoted here
    return target, active, second


def test_promote_refuses_unknown_and_damaged_versions(make_app, models_copy):
    models_dir, active, second = models_copy
    app = make_app(MODELS_DIR=str(models_dir))
    client = app.test_client()
    sign_in(app, client)
    for version in ("v19990101-000000", "../models", ""):
        response = post(
            client, "/dashboard/admin/models/promote", page="/dashboard/admin/models", follow=True, version=version
        )
        assert 'class="flash error"' in response.get_data(as_text=True)
        assert (models_dir / "ACTIVE").read_text().strip() == active
    (models_dir / second / "spam.skops").write_bytes(b"damaged")
    response = post(
        client, "/dashboard/admin/models/promote", page="/dashboard/admin/models", follow=True, version=second
    )
    assert "checksum" in response.get_data(as_text=True)
    assert (models_dir / "ACTIVE").read_text().strip() == active
    assert events(app, "model_promote", new=second) == []


def test_promote_then_roll_back(make_app, models_copy):
    models_dir, active, second = models_copy
    app = make_app(MODELS_DIR=str(models_dir))
    client = app.test_client()
    admin_id, _login = sign_in(app, client)
    page = client.get("/dashboard/admin/models").get_data(as_text=True)
    assert second in page and active in page
    post(client, "/dashboard/admin/models/promote", page="/dashboard/admin/models", version=second)
    assert (models_dir / "ACTIVE").read_text().strip() == second
    assert (admin_id, "dashboard", {"old": active, "new": second}) in events(app, "model_promote")
    post(client, "/dashboard/admin/models/rollback", page="/dashboard/admin/models")
    assert (models_dir / "ACTIVE").read_text().strip() == active
    assert (admin_id, "dashboard", {"old": second, "new": active}) in events(app, "model_rollback")
    response = post(client, "/dashboard/admin/models/rollback", page="/dashboard/admin/models", follow=True)
    assert 'class="flash error"' in response.get_data(as_text=True)
    assert (models_dir / "ACTIVE").read_text().strip() == active
