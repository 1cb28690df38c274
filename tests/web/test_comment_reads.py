"""Reading back: one comment's status, an article's approved comments, and the health check."""

import uuid
from datetime import timedelta

from moderation.db import db, utcnow
from moderation.models import Comment
from moderation.services import sites


def post(client, auth, **body):
    body = {"name": "Читатель", "text": "Комментарий", **body}
    response = client.post("/api/v1/comments", json=body, headers=auth)
    assert response.status_code == 202
    return response.json["id"]


def test_status_of_a_new_comment(client, auth):
    comment_id = post(client, auth)
    response = client.get(f"/api/v1/comments/{comment_id}", headers=auth)
    assert response.status_code == 200
    assert response.json["id"] == comment_id
    assert response.json["status"] == "pending"
    assert response.json["scores"] == {"spam": None, "toxicity": None}
    assert response.json["reasons"] == []


def test_another_sites_comment_is_not_found(app, client, auth):
    comment_id = post(client, auth)
    with app.app_context():
        _site, other_key = sites.create_site("other")
    response = client.get(f"/api/v1/comments/{comment_id}", headers={"Authorization": f"Bearer {other_key}"})
    assert response.status_code == 404
    assert response.json["error"] == "Комментарий не найден."


def test_article_lists_approved_comments_oldest_first(app, client, auth):
    ids = [post(client, auth, article_id="a-1", text=f"Комментарий {n}") for n in range(4)]
    post(client, auth, article_id="a-2")
    with app.app_context():
        now = utcnow()
        statuses = ["approved", "held", "approved", "spam"]
        for offset, (comment_id, status) in enumerate(zip(ids, statuses)):
            comment = db.session.get(Comment, comment_id)
            comment.status = status
            comment.created_at = now - timedelta(minutes=10 - offset)
        db.session.commit()
    response = client.get("/api/v1/articles/a-1/comments", headers=auth)
    assert response.status_code == 200
    assert [c["id"] for c in response.json["comments"]] == [ids[0], ids[2]]
    assert response.json["comments"][0]["text"] == "Комментарий 0"


def test_healthz_is_503_when_no_worker_beats(make_app):
    """The database and the broker answer, but no worker takes this queue (tests/tasks runs real workers)."""
    app = make_app(QUEUE=f"no-workers-{uuid.uuid4().hex[:8]}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": True, "broker": True, "worker": False}
    assert int(response.headers["Retry-After"]) > 0


def test_healthz_is_503_without_broker(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": True, "broker": False, "worker": False}
