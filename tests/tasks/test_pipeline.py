"""From POST to decision through a real Redis and a real Celery worker process."""

import time

from moderation.db import db
from moderation.models import Comment
from tests.tasks.conftest import wait_for_decisions

CLEAN = "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы."
TOXIC = "Ты тупой дебил, заткнись уже, идиот"
SPAM = "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot"


def post(client, auth, text, name="Читатель"):
    response = client.post("/api/v1/comments", json={"name": name, "text": text, "article_id": "news-1"}, headers=auth)
    assert response.status_code == 202, response.json
    return response.json["id"]


def test_clean_toxic_and_spam_comments_reach_their_decisions(app, client, auth, start_worker):
    worker = start_worker()
    ids = {label: post(client, auth, text) for label, text in (("clean", CLEAN), ("toxic", TOXIC), ("spam", SPAM))}
    statuses = wait_for_decisions(app, list(ids.values()))
    assert statuses[ids["clean"]] == "approved", worker.log()[-2000:]
    assert statuses[ids["toxic"]] == "held"
    assert statuses[ids["spam"]] == "spam"

    with app.app_context():
        toxic = db.session.get(Comment, ids["toxic"])
        assert toxic.toxicity_score >= 0.5
        assert toxic.model_version
        assert toxic.decided_at is not None
        assert [reason["code"] for reason in toxic.reasons] == ["toxicity"]

    shown = client.get(f"/api/v1/comments/{ids['spam']}", headers=auth).json
    assert shown["status"] == "spam"
    assert shown["scores"]["spam"] > shown["scores"]["toxicity"]
    assert shown["reasons"][0]["code"] == "spam"
    approved = client.get("/api/v1/articles/news-1/comments", headers=auth).json["comments"]
    assert [c["id"] for c in approved] == [ids["clean"]]


def test_a_redelivered_task_changes_nothing(app, client, auth, start_worker):
    """Scoring is idempotent: a second delivery of a decided comment leaves it as it was."""
    worker = start_worker()
    comment_id = post(client, auth, TOXIC)
    wait_for_decisions(app, [comment_id])
    with app.app_context():
        before = db.session.get(Comment, comment_id)
        decided_at, status = before.decided_at, before.status
        before.status = "approved"  # a moderator's decision must survive a late duplicate
        db.session.commit()
        duplicate = app.extensions["celery"].send_task("moderation.score_comment", args=[comment_id])
    done = f"{duplicate.id}] succeeded"
    deadline = time.monotonic() + 30
    while done not in worker.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert done in worker.log(), "the duplicate must actually have run"
    with app.app_context():
        after = db.session.get(Comment, comment_id)
        assert (after.status, after.decided_at) == ("approved", decided_at)
    assert status == "held"
