"""Hostile or odd input gets a clear 4xx (or is cleaned), never a 500, on both databases."""

import pytest

from moderation.db import db
from moderation.models import Comment
from moderation.services import decisions


def post(client, auth, **body):
    return client.post("/api/v1/comments", json={"name": "Ли", "text": "ок", **body}, headers=auth)


def test_unbalanced_ipv6_url_is_a_field_error(client, auth):
    response = post(client, auth, url="http://[::1")
    assert response.status_code == 400
    assert list(response.json["fields"]) == ["url"]


def test_lone_surrogates_are_dropped_before_storing(app, client, auth):
    response = client.post(
        "/api/v1/comments",
        data='{"name": "\\ud800Ли", "text": "x\\udfffy"}',
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.get(Comment, response.json["id"])
        assert (comment.name, comment.text) == ("Ли", "xy")


@pytest.mark.parametrize("name", ["\u200b\u200b", "\ufeff \u00a0", "\u2060"])
def test_invisible_only_name_counts_as_blank(client, auth, name):
    response = post(client, auth, name=name)
    assert response.status_code == 400
    assert response.json["fields"] == {"name": "пожалуйста, введите ваше имя здесь"}


def test_overlong_scoped_ipv6_is_refused(client, auth):
    response = post(client, auth, author_ip="fe80::1%" + "e" * 80)
    assert response.status_code == 400
    assert list(response.json["fields"]) == ["author_ip"]


@pytest.mark.parametrize("comment_id", ["3000000000", "99999999999999999999999"])
def test_huge_comment_ids_are_404(client, auth, comment_id):
    response = client.get(f"/api/v1/comments/{comment_id}", headers=auth)
    assert response.status_code == 404
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("article_id", ["a%00b", "x" * 201])
def test_odd_article_ids_are_404(client, auth, article_id):
    response = client.get(f"/api/v1/articles/{article_id}/comments", headers=auth)
    assert response.status_code == 404
    assert response.mimetype == "application/json"


def test_json_answers_keep_cyrillic_readable(client, auth):
    body = post(client, auth, name="").get_data(as_text=True)
    assert "пожалуйста, введите ваше имя здесь" in body


def test_article_comments_come_in_pages(app, client, auth):
    ids = [post(client, auth, article_id="p", text=f"ок {n}").json["id"] for n in range(5)]
    with app.app_context():
        for comment_id in ids:
            db.session.get(Comment, comment_id).status = "approved"
        db.session.commit()
    first = client.get("/api/v1/articles/p/comments?limit=2", headers=auth).json
    assert [c["id"] for c in first["comments"]] == ids[:2] and first["next_after"] == ids[1]
    rest = client.get(f"/api/v1/articles/p/comments?limit=3&after={ids[1]}", headers=auth).json
    assert [c["id"] for c in rest["comments"]] == ids[2:] and rest["next_after"] == ids[4]
    empty = client.get(f"/api/v1/articles/p/comments?after={ids[4]}", headers=auth).json
    assert empty["comments"] == [] and empty["next_after"] is None


def test_a_comment_that_cannot_be_scored_goes_to_moderators(app, client, auth):
    comment_id = post(client, auth).json["id"]
    with app.app_context():
        assert decisions.hold_after_error(comment_id, ValueError("boom"))
        comment = db.session.get(Comment, comment_id)
        assert comment.status == "held" and comment.reasons[0]["code"] == "error"
        comment.status = "approved"
        db.session.commit()
        assert not decisions.hold_after_error(comment_id, ValueError("late")), "a decided comment stays decided"


def test_site_add_twice_is_a_clear_error(runner):
    from moderation.cli import main

    assert runner.invoke(main, ["site", "add", "twice"]).exit_code == 0
    result = runner.invoke(main, ["site", "add", "twice"])
    assert result.exit_code == 1 and "exists already" in result.output
