"""Complaints about a comment still pending: the worker's approval is held when enough readers reported it.

Decided by `decisions.score_comment`, the function the Celery task runs, so no worker is needed.
"""

import pytest

from moderation.db import db
from moderation.models import APPROVED, HELD, PENDING, Comment, Site
from moderation.services import complaints, decisions, users
from tests.web.dashboard_support import make_site, make_user, seed_comment

HARMLESS = "Спасибо редакции за статью, давно пора было отремонтировать дорогу на нашей улице."


def decide_after(app, complainants, hide_after=3, close_first=False):
    """A pending comment reported by this many readers, then decided as the worker does: the stored comment."""
    site_id = make_site(app)
    comment_id = seed_comment(app, site_id, status=PENDING, text=HARMLESS, risk=None)
    with app.app_context():
        site = db.session.get(Site, site_id)
        site.complaints_hide_after = hide_after
        db.session.commit()
        for n in range(complainants):
            complaints.file_complaint(site, comment_id, f"reader-{n}", "insult", None, app.config["SECRET_KEY"])
        assert db.session.get(Comment, comment_id).status == PENDING  # a complaint holds only an approved one
        if close_first:
            complaints.close_open([comment_id], users.find_user(make_user(app)), HELD)
            db.session.commit()
        decisions.score_comment(comment_id)
        db.session.expire_all()
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
    return comment


def test_the_comment_is_approved_without_complaints(app):
    assert decide_after(app, 0).status == APPROVED  # the text the tests below rely on


def test_an_approval_is_held_at_the_sites_number_of_readers(app):
    comment = decide_after(app, 3)
    assert comment.status == HELD
    assert [r for r in comment.reasons if r["code"] == "reports"] == [
        {"code": "reports", "score": None, "spans": [], "count": 3}
    ]
    assert " reports " in comment.reason_codes
    assert comment.spam_score is not None and comment.model_version  # the rest of the decision is stored


@pytest.mark.parametrize(
    "complainants, hide_after, close_first",
    [
        (2, 3, False),  # fewer readers than the site's number
        (5, 0, False),  # the site never hides
        (3, 3, True),  # a moderator already answered them
    ],
    ids=["below", "never", "answered"],
)
def test_otherwise_the_approval_stands(app, complainants, hide_after, close_first):
    comment = decide_after(app, complainants, hide_after, close_first)
    assert comment.status == APPROVED
    assert "reports" not in [r["code"] for r in comment.reasons or []]
