"""Readers' complaints through the real pipeline: the site posts a comment, a real worker publishes it, readers
report it through the API, the site sees it hidden, the «Жалобы» view marks it overdue, a moderator's decision
closes the complaints and becomes a training label."""

from datetime import timedelta

from sqlalchemy import select, update

from moderation.db import db, utcnow
from moderation.models import Complaint, Label
from moderation.services import sites, users
from tests.tasks.conftest import wait_for_decisions
from tests.web.dashboard_support import signed_in_client

HARMLESS = "Спасибо редакции за статью, давно пора было отремонтировать дорогу на нашей улице."
RUDE = "Автор статьи полный идиот, ничего не понимает в дорогах"


def post(client, auth, text, name="Читатель"):
    response = client.post("/api/v1/comments", json={"name": name, "text": text, "article_id": "roads"}, headers=auth)
    assert response.status_code == 202, response.json
    return response.json["id"]


def report(client, auth, comment_id, reporter, reason="insult"):
    return client.post(
        f"/api/v1/comments/{comment_id}/reports", json={"reporter": reporter, "reason": reason}, headers=auth
    )


def test_complaints_from_receipt_to_a_moderators_decision(app, client, auth, site_key, start_worker):
    start_worker()
    with app.app_context():
        site = sites.authenticate(site_key)
        site.flood_seconds = 0
        db.session.commit()
        token = users.issue_token(users.create_user("moderator-1", "correct horse battery", "moderator"))
    comment_id = post(client, auth, HARMLESS)
    assert wait_for_decisions(app, [comment_id]) == {comment_id: "approved"}

    first = report(client, auth, comment_id, "user-1")
    assert first.status_code == 201 and first.json["reports"] == 1 and first.json["received_at"].endswith("Z")
    again = report(client, auth, comment_id, "USER-1", "spam")  # the same reader: counted once
    assert (again.status_code, again.json["id"], again.json["reports"]) == (200, first.json["id"], 1)
    assert report(client, auth, comment_id, "user-2").json["reports"] == 2
    assert client.get(f"/api/v1/comments/{comment_id}", headers=auth).json["status"] == "approved"
    assert report(client, auth, comment_id, "user-3", "hate").json["reports"] == 3
    shown = client.get(f"/api/v1/comments/{comment_id}", headers=auth).json
    assert shown["status"] == "held" and "reports" in [r["code"] for r in shown["reasons"]]

    # A day and more later, the complaints are overdue in the moderators' view.
    with app.app_context():
        db.session.execute(
            update(Complaint)
            .where(Complaint.comment_id == comment_id)
            .values(created_at=utcnow() - timedelta(hours=30))
        )
        db.session.commit()
    moderator, _login = signed_in_client(app)
    page = moderator.get("/dashboard/complaints").get_data(as_text=True)
    assert f'id="c{comment_id}"' in page and "просрочено" in page and "Пожаловались читателей: 3" in page

    decided = client.post(
        f"/api/v1/comments/{comment_id}/moderate",
        json={"action": "reject", "reason": "insult"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert decided.status_code == 200
    with app.app_context():
        left_open = db.session.scalars(
            select(Complaint).where(Complaint.comment_id == comment_id, Complaint.closed_at.is_(None))
        ).all()
        label = db.session.scalar(select(Label).where(Label.comment_id == comment_id))
        decisions = set(db.session.scalars(select(Complaint.decision).where(Complaint.comment_id == comment_id)))
    assert left_open == [] and decisions == {"rejected"}
    assert (label.spam, label.toxic) == (False, True)
    assert f'id="c{comment_id}"' not in moderator.get("/dashboard/complaints").get_data(as_text=True)
    assert client.get(f"/api/v1/comments/{comment_id}", headers=auth).json["status"] == "rejected"


def test_a_comment_reported_while_pending_is_held_by_the_worker(app, client, auth, site_key, start_worker):
    """Reported by three readers before any worker runs, the comment the filter would approve is held."""
    with app.app_context():
        sites.authenticate(site_key).flood_seconds = 0
        db.session.commit()
    comment_id = post(client, auth, HARMLESS)
    for n in range(3):
        assert report(client, auth, comment_id, f"reader-{n}").status_code == 201
    start_worker()
    assert wait_for_decisions(app, [comment_id]) == {comment_id: "held"}
    reasons = client.get(f"/api/v1/comments/{comment_id}", headers=auth).json["reasons"]
    assert [r for r in reasons if r["code"] == "reports"][0]["count"] == 3
