"""Readers' complaints in a real browser: the «Жалобы» page, a reason in Russian, overdue, a decision from there."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, SPAM, Comment, Complaint, Site
from moderation.services import complaints
from tests.e2e.seed import ROADS
from tests.e2e.support import sign_in


def seed_reported(site_id):
    """Two reported comments: one approved, reported by two readers a day and a half ago; one held, fresh."""
    now = utcnow()
    site = db.session.get(Site, site_id)
    site.complaints_hide_after, site.complaints_overdue_hours = 0, 24
    article_id, title, url = ROADS
    texts = {
        "late": ("Серик", "Все чиновники в акимате воры и бездельники, гнать их надо.", APPROVED, 0.45),
        "fresh": ("Кредит Онлайн", "Кредит онлайн за 5 минут без справок, одобрение 99%!", HELD, 0.62),
    }
    ids = {}
    for key, (name, text, status, risk) in texts.items():
        comment = Comment(
            site_id=site_id,
            status=status,
            name=name,
            text=text,
            risk=risk,
            spam_score=risk,
            toxicity_score=0.1,
            reasons=[],
            reason_codes="",
            lang="ru",
            article_id=article_id,
            article_title=title,
            article_url=url,
            created_at=now - timedelta(hours=40),
            queued_at=now - timedelta(hours=40),
            decided_at=now - timedelta(hours=40),
        )
        db.session.add(comment)
        db.session.commit()
        ids[key] = comment.id
    return ids


def file(live_server, site_id, comment_id, reporter, reason, text=None, hours_ago=0):
    def run():
        site = db.session.get(Site, site_id)
        receipt = complaints.file_complaint(
            site, comment_id, reporter, reason, text, live_server.app.config["SECRET_KEY"]
        )
        complaint = db.session.get(Complaint, receipt.id)
        complaint.created_at = utcnow() - timedelta(hours=hours_ago)
        db.session.commit()

    live_server.query(run)


def open_count(live_server, comment_id):
    return live_server.query(
        lambda: db.session.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.comment_id == comment_id, Complaint.closed_at.is_(None))
        )
    )


def status_of(live_server, comment_id):
    return live_server.query(lambda: db.session.get(Comment, comment_id).status)


def test_complaints_page(page, live_server, site, moderator):
    ids = live_server.query(lambda: seed_reported(site.id))
    file(live_server, site.id, ids["late"], "reader-1", "insult", "Оскорбляет всех чиновников", hours_ago=30)
    file(live_server, site.id, ids["late"], "reader-2", "hate", hours_ago=3)
    file(live_server, site.id, ids["fresh"], "reader-3", "spam", hours_ago=1)

    sign_in(page, live_server, moderator.login, moderator.password)
    nav = page.locator("nav.main-nav a.nav-complaints")
    assert nav.inner_text().split() == ["Жалобы", "2"]
    nav.click()
    page.wait_for_url(re.compile(r"/dashboard/complaints$"))
    assert page.locator("h1").inner_text().startswith("Жалобы")

    cards = page.locator(".comments .comment")
    assert cards.evaluate_all("cards => cards.map(c => Number(c.dataset.id))") == [ids["late"], ids["fresh"]]
    late = page.locator(f"#c{ids['late']}")
    assert late.locator(".complaint-reason").all_inner_texts() == ["Оскорбление", "Разжигание ненависти"]
    assert late.locator(".complaint-text").inner_text() == "Оскорбляет всех чиновников"
    assert late.locator(".overdue-badge").inner_text() == "просрочено"
    assert late.locator(".overdue-badge").is_visible()
    assert "ждёт 30 часов" in late.locator(".complaints-summary").inner_text()
    fresh = page.locator(f"#c{ids['fresh']}")
    assert fresh.locator(".complaint-reason").inner_text() == "Спам"
    assert fresh.locator(".overdue-badge").count() == 0

    # The most reported comment is first and focused: a keeps it approved and answers its readers.
    assert int(page.locator(".comments .comment.current").get_attribute("data-id")) == ids["late"]
    page.keyboard.press("a")
    page.wait_for_selector(f"#c{ids['late']}", state="detached")
    assert (status_of(live_server, ids["late"]), open_count(live_server, ids["late"])) == (APPROVED, 0)

    # The other one is spam: its button.
    fresh.locator("button[value=spam]").click()
    page.wait_for_selector(f"#c{ids['fresh']}", state="detached")
    assert (status_of(live_server, ids["fresh"]), open_count(live_server, ids["fresh"])) == (SPAM, 0)

    page.reload()
    assert page.locator(".comments .comment").count() == 0
    assert page.locator(".comments .empty").inner_text() == "Открытых жалоб нет."
    assert page.locator("nav.main-nav a.nav-complaints").inner_text().strip() == "Жалобы"
