"""The moderators' «Жалобы» page: reported comments in order, their readers' complaints, overdue, decisions."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, Comment, Complaint, Site
from moderation.services import complaints
from tests.web.dashboard_support import (
    FETCH,
    comment_ids_on,
    comment_state,
    make_site,
    page_token,
    seed_comment,
    signed_in_client,
    user_id,
)

PAGE = "/dashboard/complaints"


@pytest.fixture
def site_id(app):
    return make_site(app)


@pytest.fixture
def moderator(app):
    """(a signed-in moderator's client, their login)."""
    return signed_in_client(app)


def complain(app, comment_id, reporter, reason="insult", text=None, hours_ago=0, hide_after=0):
    """File a reader's complaint as the API does (never hiding, unless asked), then age it."""
    with app.app_context():
        site = db.session.get(Site, db.session.get(Comment, comment_id).site_id)
        site.complaints_hide_after = hide_after
        db.session.commit()
        receipt = complaints.file_complaint(site, comment_id, reporter, reason, text, app.config["SECRET_KEY"])
        if hours_ago:
            db.session.execute(
                update(Complaint)
                .where(Complaint.id == receipt.id)
                .values(created_at=utcnow() - timedelta(hours=hours_ago))
            )
            db.session.commit()
        return receipt.id


def listed(client, **args):
    response = client.get(PAGE, query_string=args)
    assert response.status_code == 200, response.status_code
    return comment_ids_on(response.data)


def card(page, comment_id):
    """The HTML of one comment's card."""
    match = re.search(rf'<article class="comment[^"]*" id="c{comment_id}".*?</article>', page, re.S)
    assert match, f"no card for comment {comment_id}"
    return match.group(0)


def open_of(app, comment_id):
    with app.app_context():
        return db.session.scalars(
            select(Complaint).where(Complaint.comment_id == comment_id, Complaint.closed_at.is_(None))
        ).all()


def test_reported_comments_are_listed_most_reported_then_riskiest(app, moderator, site_id):
    client, _login = moderator
    other_site = make_site(app)
    calm_once = seed_comment(app, site_id, status=APPROVED, risk=0.1)
    risky_once = seed_comment(app, other_site, status=APPROVED, risk=0.7)
    twice = seed_comment(app, site_id, status=APPROVED, risk=0.05)
    seed_comment(app, site_id, status=HELD, risk=0.99)  # not reported: only in the queue
    complain(app, calm_once, "a")
    complain(app, risky_once, "a", reason="spam")
    complain(app, twice, "a")
    complain(app, twice, "b", reason="threat")
    assert listed(client) == [twice, risky_once, calm_once]  # both sites, merged in one order
    # The count of reported comments sits next to the queue in the navigation, on both pages.
    for path in (PAGE, "/dashboard/"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'class="nav-complaints"[^>]*>Жалобы <span class="badge">3</span></a>', page), path


def test_the_site_filter_shows_one_sites_reported_comments(app, moderator, site_id):
    client, _login = moderator
    other_site = make_site(app)
    here = seed_comment(app, site_id, status=APPROVED)
    theirs = seed_comment(app, other_site, status=APPROVED, risk=0.9)
    complain(app, here, "a")
    complain(app, theirs, "a")
    assert listed(client, site=site_id) == [here]
    assert listed(client, site=other_site) == [theirs]


def test_each_complaint_shows_its_translated_reason_and_escaped_text(app, moderator, site_id):
    client, _login = moderator
    comment_id = seed_comment(app, site_id, status=APPROVED, risk=0.12, text="Текст <b>жирный</b>")
    complain(app, comment_id, "a", reason="insult", text="<script>alert('x')</script> оскорбил соседа")
    complain(app, comment_id, "b", reason="illegal")
    complain(app, comment_id, "c", reason="other", text='"><img src=x onerror=alert(1)>')
    page = card(client.get(PAGE).get_data(as_text=True), comment_id)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>жирный" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; оскорбил соседа" in page
    assert "Текст &lt;b&gt;жирный&lt;/b&gt;" in page
    reasons = [html.unescape(r) for r in re.findall(r'<span class="complaint-reason">([^<]*)</span>', page)]
    assert reasons == ["Оскорбление", "Противоправное содержание", "Другое"]
    assert "Пожаловались читателей: 3" in page
    assert 'class="state state-approved">одобрен' in page
    assert '<span class="score-value">0.12</span>' in page  # the scores, as in the queue
    # An approved comment can be approved again from here: that keeps it and answers the readers.
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="spam"' in page


def test_a_comment_waiting_past_the_sites_hours_is_marked_overdue(app, moderator, site_id):
    client, _login = moderator
    with app.app_context():
        db.session.get(Site, site_id).complaints_overdue_hours = 24
        db.session.commit()
    late = seed_comment(app, site_id, status=HELD)
    fresh = seed_comment(app, site_id, status=HELD)
    complain(app, late, "a", hours_ago=30)
    complain(app, fresh, "a", hours_ago=2)
    page = client.get(PAGE).get_data(as_text=True)
    assert '<span class="badge overdue-badge">просрочено</span>' in card(page, late)
    assert "ждёт 30 часов" in card(page, late)
    assert "просрочено" not in card(page, fresh)
    assert "ждёт 2 часа" in card(page, fresh)


def test_deciding_from_the_page_closes_the_complaints_and_returns_to_it(app, moderator, site_id):
    client, login = moderator
    keep = seed_comment(app, site_id, status=APPROVED)
    insult = seed_comment(app, site_id, status=HELD)
    spam = seed_comment(app, site_id, status=HELD)
    untouched = seed_comment(app, site_id, status=HELD)
    for comment_id in (keep, insult, spam, untouched):
        complain(app, comment_id, "a")
    token = page_token(client, PAGE)
    approved = client.post(
        f"/dashboard/comments/{keep}/moderate",
        data={"csrf_token": token, "action": "approve", "expected": APPROVED, "next": PAGE},
    )
    assert (approved.status_code, approved.headers["Location"]) == (302, PAGE)
    rejected = client.post(
        f"/dashboard/comments/{insult}/moderate",
        headers=FETCH,
        data={"csrf_token": token, "action": "reject", "reason": "insult", "expected": HELD, "next": PAGE},
    )
    assert rejected.json["ok"] is True
    bulk = client.post("/dashboard/moderate", data={"csrf_token": token, "action": "spam", "ids": [spam], "next": PAGE})
    assert (bulk.status_code, bulk.headers["Location"]) == (302, PAGE)
    moderator_id = user_id(app, login)
    assert comment_state(app, keep) == (APPROVED, None, moderator_id)
    assert comment_state(app, insult) == (REJECTED, "insult", moderator_id)
    assert comment_state(app, spam) == (SPAM, None, moderator_id)
    assert [open_of(app, c) for c in (keep, insult, spam)] == [[], [], []]
    assert listed(client) == [untouched]
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'>Жалобы <span class="badge">1</span></a>', page)


def test_a_decision_taken_meanwhile_is_not_overwritten_from_the_page(app, moderator, site_id):
    client, _login = moderator
    comment_id = seed_comment(app, site_id, status=HELD)
    complain(app, comment_id, "a")
    token = page_token(client, PAGE)
    with app.app_context():  # a colleague's decision, after this page was drawn (their complaint stays open)
        db.session.get(Comment, comment_id).status = SPAM
        db.session.commit()
    stale = client.post(
        f"/dashboard/comments/{comment_id}/moderate",
        headers=FETCH,
        data={"csrf_token": token, "action": "approve", "expected": HELD, "next": PAGE},
    )
    assert stale.status_code == 409
    assert comment_state(app, comment_id)[0] == SPAM and len(open_of(app, comment_id)) == 1


def test_no_open_complaints(app, moderator):
    client, _login = moderator
    page = client.get(PAGE).get_data(as_text=True)
    assert "Открытых жалоб нет." in page
    assert 'class="nav-complaints" aria-current="page">Жалобы</a>' in page


def test_the_page_needs_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
