"""`moderation user add` and `moderation user token`."""

import pytest
from werkzeug.security import check_password_hash

from moderation.cli import main
from moderation.db import db
from moderation.models import ApiToken
from moderation.services import users
from tests.web.dashboard_support import comment_state, make_site, seed_comment, sign_in

PASSWORD = "длинный пароль 123"


def add(runner, *args, password=PASSWORD):
    env = {"MODERATION_PASSWORD": password} if password is not None else {}
    return runner.invoke(main, args=["user", "add", *args], env=env)


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_user_add_with_the_password_from_the_environment(app, runner, role):
    result = add(runner, "aigerim", "--role", role)
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = users.find_user("aigerim")
        assert user.role == role and user.active
        assert PASSWORD not in user.password_hash
        assert check_password_hash(user.password_hash, PASSWORD)
    assert PASSWORD not in result.output


def test_user_add_defaults_to_moderator(app, runner):
    assert add(runner, "aigerim").exit_code == 0
    with app.app_context():
        assert users.find_user("aigerim").role == "moderator"


def test_added_user_can_sign_in(app, runner, client):
    assert add(runner, "aigerim").exit_code == 0
    assert sign_in(client, "aigerim", PASSWORD).status_code == 302


def test_user_add_prompts_for_the_password_without_the_environment(app, runner):
    result = runner.invoke(main, args=["user", "add", "aigerim"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert check_password_hash(users.find_user("aigerim").password_hash, PASSWORD)


@pytest.mark.parametrize("password", ["", "short", "7 chars"])
def test_short_password_is_refused(app, runner, password):
    result = add(runner, "aigerim", password=password)
    assert result.exit_code != 0
    with app.app_context():
        assert users.find_user("aigerim") is None


@pytest.mark.parametrize("existing", ["aigerim", "AIGERIM"])
def test_duplicate_login_is_refused(app, runner, existing):
    assert add(runner, existing).exit_code == 0
    result = add(runner, "aigerim", password="another password")
    assert result.exit_code != 0
    assert "exists" in result.output
    with app.app_context():
        assert check_password_hash(users.find_user("aigerim").password_hash, PASSWORD)


@pytest.mark.parametrize("role", ["root", "Admin", ""])
def test_bad_role_is_refused(app, runner, role):
    result = add(runner, "aigerim", "--role", role)
    assert result.exit_code != 0
    with app.app_context():
        assert users.find_user("aigerim") is None


@pytest.mark.parametrize("login", ["x" * 65, "   "])
def test_bad_login_is_refused(app, runner, login):
    result = add(runner, login)
    assert result.exit_code != 0


def test_user_token_prints_a_working_token_alone_on_the_last_line(app, runner, client):
    assert add(runner, "aigerim").exit_code == 0
    result = runner.invoke(main, args=["user", "token", "aigerim"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("mt_") and " " not in token and len(token) > 30
    with app.app_context():
        stored = db.session.query(ApiToken).one()
        assert token not in (stored.token_hash, stored.prefix)

    comment_id = seed_comment(app, make_site(app))
    response = client.post(
        f"/api/v1/comments/{comment_id}/moderate",
        json={"action": "approve"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.json
    assert response.json["moderated_by"] == "aigerim"
    assert comment_state(app, comment_id)[0] == "approved"


def test_each_token_call_issues_a_new_token(app, runner):
    assert add(runner, "aigerim").exit_code == 0
    first = runner.invoke(main, args=["user", "token", "aigerim"]).output.strip().splitlines()[-1]
    second = runner.invoke(main, args=["user", "token", "aigerim"]).output.strip().splitlines()[-1]
    assert first != second
    with app.app_context():
        assert users.user_for_token(first).login == users.user_for_token(second).login == "aigerim"


def test_token_for_an_unknown_user_is_refused(runner):
    result = runner.invoke(main, args=["user", "token", "nobody"])
    assert result.exit_code != 0


def test_token_for_a_disabled_user_is_refused(app, runner):
    assert add(runner, "aigerim").exit_code == 0
    with app.app_context():
        users.find_user("aigerim").active = False
        db.session.commit()
    result = runner.invoke(main, args=["user", "token", "aigerim"])
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.query(ApiToken).count() == 0
