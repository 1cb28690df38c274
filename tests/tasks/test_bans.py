"""Banned authors' comments go to spam unscored, through a real Redis and a real Celery worker."""

import itertools
from datetime import timedelta

import pytest

from moderation.db import db
from moderation.models import Comment
from moderation.services import bans, sites
from tests.tasks.conftest import wait_for_decisions

pytestmark = pytest.mark.worker

CLEAN = "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы."
TEXTS = itertools.cycle(
    f"{CLEAN} {tail}"
    for tail in (
        "Жду продолжения.",
        "Хорошо написано.",
        "Согласен с автором.",
        "Всё верно.",
        "Полезно знать.",
        "Интересно.",
        "Благодарю.",
    )
)


def post(client, auth, **body):
    """Post a clean comment (a different one each time: the intake refuses duplicates)."""
    body = {"name": "Читатель", "text": next(TEXTS), "article_id": "news-1", **body}
    response = client.post("/api/v1/comments", json=body, headers=auth)
    assert response.status_code == 202, response.json
    return response.json["id"]


def ban(app, kind, value, site_id=None):
    with app.app_context():
        bans.add_ban(kind, value, site_id=site_id)
        db.session.commit()


def test_banned_email_ip_and_range_go_to_spam_unscored(app, client, auth, start_worker):
    ban(app, "email", "Spammer@Example.com")
    ban(app, "ip", "198.51.100.7")
    ban(app, "ip", "10.20.0.0/16")
    worker = start_worker()
    ids = {
        "email": post(client, auth, email="SPAMMER@example.com", author_ip="192.0.2.1"),
        "ip": post(client, auth, email="someone@example.kz", author_ip="198.51.100.7"),
        "range": post(client, auth, author_ip="10.20.33.44"),
        "mapped": post(client, auth, author_ip="::ffff:10.20.1.2"),
        "clean": post(client, auth, email="reader@example.kz", author_ip="10.21.0.1"),
    }
    statuses = wait_for_decisions(app, list(ids.values()))
    expected_bans = {
        "email": ("email", "spammer@example.com"),
        "ip": ("ip", "198.51.100.7"),
        "range": ("ip", "10.20.0.0/16"),
        "mapped": ("ip", "10.20.0.0/16"),
    }
    with app.app_context():
        for name, (kind, value) in expected_bans.items():
            comment = db.session.get(Comment, ids[name])
            assert statuses[ids[name]] == "spam", (name, worker.log()[-2000:])
            assert comment.spam_score is None and comment.toxicity_score is None, name
            assert comment.model_version is None, name
            assert comment.reason_codes == " banned "
            [reason] = comment.reasons
            assert reason["code"] == "banned" and reason["score"] is None
            assert reason["ban"] == {"kind": kind, "value": value}, name

        clean = db.session.get(Comment, ids["clean"])
        assert statuses[ids["clean"]] == "approved"
        assert clean.spam_score is not None and clean.toxicity_score is not None
        assert clean.model_version
        assert "banned" not in clean.reason_codes

    shown = client.get(f"/api/v1/comments/{ids['email']}", headers=auth).json
    assert shown["status"] == "spam" and shown["reasons"][0]["code"] == "banned"


def test_a_ban_for_another_site_does_not_apply(app, client, auth, start_worker):
    with app.app_context():
        other, _key = sites.create_site("other-site")
        other_id = other.id
    ban(app, "ip", "198.51.100.7", site_id=other_id)
    start_worker()
    comment_id = post(client, auth, author_ip="198.51.100.7")
    assert wait_for_decisions(app, [comment_id]) == {comment_id: "approved"}


def test_lifting_a_ban_lets_the_author_be_scored_again(app, client, auth, start_worker):
    ban(app, "email", "spammer@example.com")
    start_worker()
    banned = post(client, auth, email="spammer@example.com")
    assert wait_for_decisions(app, [banned]) == {banned: "spam"}
    with app.app_context():
        bans.remove_ban(bans.all_bans()[0].id)
        # An hour back, so the site's flood interval does not stop the author's next comment.
        db.session.get(Comment, banned).created_at -= timedelta(hours=1)
        db.session.commit()
    again = post(client, auth, email="spammer@example.com")
    assert wait_for_decisions(app, [again]) == {again: "approved"}
    with app.app_context():
        assert db.session.get(Comment, again).spam_score is not None
