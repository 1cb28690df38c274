"""The audit log and the statistics page, on both databases."""

import re
import uuid
from datetime import date, datetime, timedelta

from moderation.db import db, utcnow
from moderation.models import AuditEvent, Comment, Site
from moderation.services import sites, stats, users

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def sign_in(app, client, role="moderator", login=None):
    """Sign a new user in; return their id."""
    login = login or f"{role}-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        user_id = users.create_user(login, PASSWORD, role).id
    token = CSRF.search(client.get("/dashboard/login").get_data(as_text=True)).group(1)
    response = client.post("/dashboard/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return user_id


def add_comments(app, rows, zone="Asia/Almaty"):
    """A new site with comments given as (status, created_at, moderated_at, held_before); return the site id."""
    with app.app_context():
        site, _key = sites.create_site(f"stats-{uuid.uuid4().hex[:6]}")
        site.timezone = zone
        for status, created, moderated, held_before in rows:
            comment = Comment(
                site=site, name="Читатель", text="текст", status=status, created_at=created, moderated_at=moderated
            )
            db.session.add(comment)
            db.session.flush()
            if held_before:
                action = {"approved": "approve", "rejected": "reject"}.get(status, "spam")
                db.session.add(AuditEvent(action=action, comment_id=comment.id, from_status="held", to_status=status))
        db.session.commit()
        return site.id


# 12:00 UTC on 10 March 2026 is 17:00 in Almaty (UTC+5): the last of seven days, 4 to 10 March.
NOW = datetime(2026, 3, 10, 12, 0)
ROWS = [
    ("approved", datetime(2026, 3, 10, 10, 0), None, False),
    ("spam", datetime(2026, 3, 10, 5, 0), None, False),
    ("held", datetime(2026, 3, 9, 20, 0), None, False),  # 01:00 on 10 March in Almaty
    ("rejected", datetime(2026, 3, 8, 12, 0), datetime(2026, 3, 8, 14, 0), True),
    ("approved", datetime(2026, 3, 8, 13, 0), datetime(2026, 3, 8, 17, 0), True),
    ("pending", datetime(2026, 3, 7, 9, 0), None, False),
    ("approved", datetime(2026, 3, 3, 18, 0), None, False),  # 23:00 on 3 March in Almaty: outside
    ("approved", datetime(2026, 3, 3, 19, 30), None, False),  # 00:30 on 4 March in Almaty: inside
]


def test_summary_counts_days_in_the_site_zone(app):
    site_id = add_comments(app, ROWS)
    with app.app_context():
        site = db.session.get(Site, site_id)
        summary = stats.summary(7, site, now=NOW)
    assert [d.day for d in summary.days] == [date(2026, 3, n) for n in range(4, 11)]
    by_day = {d.day.day: {k: v for k, v in d.counts.items() if v} for d in summary.days}
    assert by_day == {
        4: {"approved": 1},
        5: {},
        6: {},
        7: {"pending": 1},
        8: {"rejected": 1, "approved": 1},
        9: {},
        10: {"approved": 1, "spam": 1, "held": 1},
    }
    assert summary.totals == {"pending": 1, "approved": 3, "held": 1, "spam": 1, "rejected": 1}
    assert (summary.total, summary.decided, summary.held_ever, summary.moderated) == (7, 6, 3, 2)
    assert summary.hold_rate == 0.5
    assert abs(summary.spam_rate - 1 / 6) < 1e-9
    assert summary.median_decision == timedelta(hours=3)


def test_summary_of_an_empty_period(app):
    site_id = add_comments(app, [])
    with app.app_context():
        summary = stats.summary(30, db.session.get(Site, site_id), now=NOW)
    assert len(summary.days) == 30 and summary.total == 0
    assert (summary.hold_rate, summary.spam_rate, summary.median_decision) == (None, None, None)


def test_stats_page_shows_the_counts(app, client):
    sign_in(app, client)
    now = utcnow()
    site_id = add_comments(
        app,
        [
            ("approved", now - timedelta(minutes=5), None, False),
            ("approved", now - timedelta(minutes=6), None, False),
            ("held", now - timedelta(minutes=7), None, False),
            ("spam", now - timedelta(days=2), None, False),
            ("rejected", now - timedelta(days=3), now - timedelta(days=3) + timedelta(minutes=40), True),
            ("approved", now - timedelta(days=20), None, False),  # outside the last 7 days
        ],
    )
    page = client.get(f"/dashboard/stats?days=7&site={site_id}").get_data(as_text=True)
    totals = dict(re.findall(r'id="total-(\w+)">(\d+)<', page))
    assert totals == {"approved": "2", "pending": "0", "held": "1", "rejected": "1", "spam": "1"}
    assert re.search(r'id="figure-total">5<', page)
    assert re.search(r'id="figure-hold-rate">40\s?%<', page)
    assert re.search(r'id="figure-spam-rate">20\s?%<', page)
    assert "40" in re.search(r'id="figure-median">([^<]+)<', page).group(1)
    assert "<svg" in page and "<rect" in page and "<script" not in page.split("</head>")[1]
    assert 'style="' not in page

    page = client.get(f"/dashboard/stats?days=30&site={site_id}").get_data(as_text=True)
    assert re.search(r'id="figure-total">6<', page)


def test_stats_page_ignores_odd_arguments(app, client):
    sign_in(app, client)
    for query in ("days=5", "days=x", "site=abc", "site=99999999999", "site=²"):
        assert client.get(f"/dashboard/stats?{query}").status_code == 200, query


def test_audit_log_escapes_hostile_values(app, client):
    hostile = f'<script>alert("{uuid.uuid4().hex[:4]}")</script>'
    with app.app_context():
        user = users.create_user(hostile, PASSWORD, "moderator")
        db.session.add(
            AuditEvent(
                user_id=user.id,
                action="reject",
                reason="<img src=x onerror=alert(1)>",
                from_status="held",
                to_status="<b>rejected</b>",
                detail={"name": "<iframe src=//evil>"},
            )
        )
        db.session.commit()
    sign_in(app, client, "admin")
    page = client.get("/dashboard/audit").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<iframe" not in page and "<b>rejected" not in page


def test_audit_log_filters_and_pages(make_app):
    app = make_app(PAGE_SIZE=2)
    client = app.test_client()
    user_id = sign_in(app, client)
    site_id = add_comments(app, [("held", utcnow(), None, False)])
    with app.app_context():
        comment_id = db.session.query(Comment.id).filter(Comment.site_id == site_id).scalar()
        for n in range(3):
            db.session.add(
                AuditEvent(
                    user_id=user_id,
                    action="approve",
                    comment_id=comment_id,
                    from_status="held",
                    to_status="approved",
                    detail={"n": n},
                    undone=n == 0,
                    via="api",
                )
            )
        db.session.add(AuditEvent(user_id=user_id, action="undo", detail={"n": 9}))
        db.session.commit()
    page = client.get(f"/dashboard/audit?user={user_id}&action=approve").get_data(as_text=True)
    assert "n: 2" in page and "n: 1" in page and "n: 0" not in page and "n: 9" not in page
    assert f'href="/dashboard/comments/{comment_id}"' in page
    older = re.search(r'href="(/dashboard/audit\?[^"]*before=\d+[^"]*)"', page).group(1).replace("&amp;", "&")
    page = client.get(older).get_data(as_text=True)
    assert "n: 0" in page and "n: 1" not in page and 'class="undone"' in page
    assert 'rel="next"' not in page
    page = client.get(f"/dashboard/audit?comment={comment_id}").get_data(as_text=True)
    assert page.count(f'href="/dashboard/comments/{comment_id}"') == 2  # a page of two events
