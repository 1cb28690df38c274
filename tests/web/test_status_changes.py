"""Every change of a comment's status goes through status.change: the filter's decision, holds after complaints and
for campaigns, moderators and the site; each writes one audit entry and its event, and no change writes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, PENDING, SPAM, Comment, Site, WebhookDelivery
from moderation.services import audit, complaints, decisions, review, rules, status, users, webhooks
from tests.web.dashboard_support import audit_events, label_of, make_site, seed_comment, signed_in_client

HARMLESS = "Спасибо редакции за статью, давно пора было отремонтировать дорогу на нашей улице."


@pytest.fixture
def site_id(app):
    """A site with a webhook, so that every change's event is in the outbox."""
    site_id = make_site(app)
    with app.app_context():
        webhooks.set_webhook(db.session.get(Site, site_id), "http://127.0.0.1:9/hook")
    return site_id


@pytest.fixture
def changes(monkeypatch):
    """The actions status.change was called with, and status.FILTER for each of the filter's decisions through
    status.decide_all (the real functions still run)."""
    calls, real, real_decide_all = [], status.change, status.decide_all

    def spy(comment, to, action, **kwargs):
        calls.append(action)
        return real(comment, to, action, **kwargs)

    def spy_decide_all(decisions, **kwargs):
        calls.extend(status.FILTER for _decision in decisions)
        return real_decide_all(decisions, **kwargs)

    monkeypatch.setattr(status, "change", spy)
    monkeypatch.setattr(status, "decide_all", spy_decide_all)
    return calls


def events_of(app, comment_id):
    """(event, previous status, status, by) of the comment's webhook events, oldest first."""
    with app.app_context():
        payloads = db.session.scalars(
            select(WebhookDelivery.payload).where(WebhookDelivery.comment_id == comment_id).order_by(WebhookDelivery.id)
        ).all()
    return [(p["event"], p.get("previous_status"), p["comment"]["status"], p.get("by")) for p in payloads]


def test_the_filters_decision_writes_one_audit_entry_from_pending(app, site_id, changes):
    comment_id = seed_comment(app, site_id, status=PENDING, text=HARMLESS, risk=None)
    with app.app_context():
        assert decisions.score_comment(comment_id) == APPROVED
        assert decisions.hold_after_error(comment_id, RuntimeError("late")) is False  # decided: no change
    [event] = audit_events(app, comment_id=comment_id)
    assert (event["action"], event["from"], event["to"], event["user_id"], event["via"], event["batch"]) == (
        "filter",
        PENDING,
        APPROVED,
        None,
        "worker",
        None,
    )
    assert event["detail"] == {"reasons": []}
    assert events_of(app, comment_id) == [("comment.decided", None, APPROVED, None)]
    assert label_of(app, comment_id) is None  # the filter teaches nothing
    assert changes == [status.FILTER, status.FILTER]


def test_a_hold_after_a_scoring_error_names_its_reason_in_the_audit_entry(app, site_id):
    comment_id = seed_comment(app, site_id, status=PENDING)
    with app.app_context():
        assert decisions.hold_after_error(comment_id, RuntimeError("model missing")) is True
    [event] = audit_events(app, comment_id=comment_id)
    assert (event["action"], event["from"], event["to"], event["detail"]) == (
        "filter",
        PENDING,
        HELD,
        {"reasons": ["error"]},
    )


def test_a_campaign_hold_goes_through_status_change_and_leaves_decided_comments_alone(app, site_id, changes):
    published = seed_comment(app, site_id, status=APPROVED)
    approved_by_moderator = seed_comment(app, site_id, status=APPROVED, moderated_at=utcnow() - timedelta(hours=1))
    held = seed_comment(app, site_id, status=HELD)
    with app.app_context():
        members = db.session.scalars(select(Comment).where(Comment.id.in_([published, approved_by_moderator, held])))
        rules.hold_campaign(members.all(), published, 4)
    [event] = audit_events(app, comment_id=published)
    assert (event["action"], event["from"], event["to"], event["via"], event["detail"]) == (
        audit.CAMPAIGN_HOLD,
        APPROVED,
        HELD,
        "worker",
        {"campaign_id": published},
    )
    assert events_of(app, published) == [("comment.moderated", APPROVED, HELD, "filter")]
    assert audit_events(app, comment_id=approved_by_moderator) == audit_events(app, comment_id=held) == []
    assert events_of(app, approved_by_moderator) == events_of(app, held) == []
    assert changes == [audit.CAMPAIGN_HOLD]


def test_a_complaint_hold_goes_through_status_change(app, site_id, changes):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    with app.app_context():
        site = db.session.get(Site, site_id)
        site.complaints_hide_after = 1
        complaints.file_complaint(site, comment_id, "reader-1", "insult", None, app.config["SECRET_KEY"])
        complaints.file_complaint(site, comment_id, "reader-2", "insult", None, app.config["SECRET_KEY"])
    assert [(e["action"], e["from"], e["to"]) for e in audit_events(app, comment_id=comment_id)] == [
        ("complaint", None, None),
        (audit.REPORTS_HOLD, APPROVED, HELD),
        ("complaint", None, None),
    ]
    assert events_of(app, comment_id) == [("comment.moderated", APPROVED, HELD, "readers")]
    assert changes == [audit.REPORTS_HOLD]  # the second reader found it held: no change tried


def test_a_moderators_decision_and_its_undo_go_through_status_change(app, site_id, changes):
    comment_id = seed_comment(app, site_id, status=HELD)
    with app.app_context():
        moderator = users.create_user("aliya", "correct horse battery", "moderator")
        review.moderate([comment_id], moderator, review.MARK_SPAM)
        assert review.undo_last(moderator) == [comment_id]
    assert changes == [review.MARK_SPAM, review.UNDO]
    assert [e["action"] for e in audit_events(app, comment_id=comment_id)] == ["spam"]  # the undo is the batch's
    assert events_of(app, comment_id) == [
        ("comment.moderated", HELD, SPAM, "moderator"),
        ("comment.moderated", SPAM, HELD, "moderator"),
    ]


@pytest.mark.parametrize(
    "start, to, action, expected",
    [
        (SPAM, SPAM, review.MARK_SPAM, None),  # the site's echo of a status it already shows
        (HELD, HELD, audit.CAMPAIGN_HOLD, APPROVED),  # a hold of a comment no longer approved
        (APPROVED, HELD, status.FILTER, PENDING),  # a decision on a comment no longer pending
    ],
)
def test_an_unchanged_status_writes_nothing(app, site_id, start, to, action, expected):
    comment_id = seed_comment(app, site_id, status=start)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        result = status.change(comment, to, action, via="site", expected=expected, by="site")
        db.session.commit()
        assert result == (False, None)
        assert db.session.get(Comment, comment_id).status == start
    assert audit_events(app, comment_id=comment_id) == [] and label_of(app, comment_id) is None
    assert events_of(app, comment_id) == []


def test_filter_entries_are_in_a_comments_history_but_not_in_the_audit_logs_default_view(app, site_id):
    comment_id = seed_comment(app, site_id, status=PENDING)
    with app.app_context():
        decisions.hold_after_error(comment_id, RuntimeError("model missing"))
    moderator, _login = signed_in_client(app)
    assert "Решение фильтра" in moderator.get(f"/dashboard/comments/{comment_id}").get_data(as_text=True)
    link = f'href="/dashboard/comments/{comment_id}"'
    assert link not in moderator.get("/dashboard/audit").get_data(as_text=True)
    assert link in moderator.get("/dashboard/audit?action=filter").get_data(as_text=True)
    assert link in moderator.get(f"/dashboard/audit?comment={comment_id}").get_data(as_text=True)
