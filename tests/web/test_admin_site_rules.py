"""The admin page of a site's rules: word lists, settings (complaints too), the «test a comment» box, shadow-mode
agreement."""

from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import AuditEvent, Comment, Site, WordEntry
from tests.web.dashboard_support import make_site, page_token, seed_comment, signed_in_client, user_id


def site_page(site_id):
    return f"/dashboard/admin/rules/{site_id}"


def test_moderators_may_not_see_or_change_rules(app):
    site_id = make_site(app)
    client, _login = signed_in_client(app, role="moderator")
    token = page_token(client)
    assert client.get(site_page(site_id)).status_code == 403
    assert (
        client.post(
            f"{site_page(site_id)}/words", data={"csrf_token": token, "kind": "watch", "words": "аким"}
        ).status_code
        == 403
    )
    with app.app_context():
        assert db.session.scalar(select(WordEntry)) is None


def test_words_and_settings_are_saved_and_audited(app):
    site_id = make_site(app)
    client, _login = signed_in_client(app, role="admin")
    token = page_token(client, site_page(site_id))
    added = client.post(
        f"{site_page(site_id)}/words",
        data={"csrf_token": token, "kind": "block", "words": "казино\n  \nставки на спорт"},
    )
    assert added.status_code == 302
    saved = client.post(
        f"{site_page(site_id)}/settings",
        data={
            "csrf_token": token,
            "max_links": "0",
            "premoderation": "first",
            "flood_seconds": "30",
            "shadow_mode": "1",
        },
    )
    assert saved.status_code == 302
    refused = client.post(
        f"{site_page(site_id)}/settings",
        data={"csrf_token": token, "max_links": "-3", "premoderation": "sometimes", "flood_seconds": "30"},
    )
    assert refused.status_code == 400
    page = client.get(site_page(site_id)).get_data(as_text=True)
    assert "казино" in page and "ставки на спорт" in page
    with app.app_context():
        site = db.session.get(Site, site_id)
        assert (site.max_links, site.premoderation, site.flood_seconds, site.shadow_mode) == (0, "first", 30, True)
        assert sorted(e.text for e in db.session.scalars(select(WordEntry))) == ["казино", "ставки на спорт"]
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions == ["words_add", "site_rules"]
        entry_id = db.session.scalar(select(WordEntry.id).where(WordEntry.text == "казино"))
    assert client.post(f"/dashboard/admin/rules/words/{entry_id}/delete", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert [e.text for e in db.session.scalars(select(WordEntry))] == ["ставки на спорт"]


def test_the_test_box_explains_a_decision_and_stores_nothing(app):
    site_id = make_site(app)
    client, _login = signed_in_client(app, role="admin")
    token = page_token(client, site_page(site_id))
    client.post(f"{site_page(site_id)}/words", data={"csrf_token": token, "kind": "watch", "words": "аким"})
    answer = client.post(
        f"{site_page(site_id)}/test",
        data={
            "csrf_token": token,
            "name": "<b>Ерлан</b>",
            "text": "Aкимы опять <script>alert(1)</script> обещали, см. http://a.kz http://b.kz http://c.kz",
        },
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert 'class="verdict verdict-held"' in page
    assert "<mark>Aкимы</mark>" in page  # the watch-list hit, highlighted in the original text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "«аким»" in page
    with app.app_context():
        assert db.session.scalar(select(Comment)) is None


def test_stats_page_shows_shadow_mode_agreement(app):
    site_id = make_site(app)
    client, login = signed_in_client(app, role="moderator")
    moderator_id = user_id(app, login)
    pairs = [("approved", "approved"), ("approved", "approved"), ("spam", "spam"), ("approved", "rejected")]
    for filtered, decided in pairs:
        comment_id = seed_comment(app, site_id, status=decided, filter_status=filtered)
        with app.app_context():
            comment = db.session.get(Comment, comment_id)
            comment.moderated_by_id, comment.moderated_at = moderator_id, utcnow()
            db.session.commit()
    page = client.get("/dashboard/stats").get_data(as_text=True)
    assert 'id="figure-agreement">75%<' in page


def test_admins_set_the_complaint_settings_on_the_rules_page(app):
    site_id = make_site(app)
    client, _login = signed_in_client(app, role="admin")
    path = site_page(site_id)
    page = client.get(path).get_data(as_text=True)
    assert 'name="complaints_hide_after" type="number" min="0" max="1000" value="3"' in page
    assert "Скрывать одобренный комментарий" in page
    token = page_token(client, path)
    rules = {"csrf_token": token, "max_links": "2", "premoderation": "none", "flood_seconds": "15"}
    saved = client.post(
        f"{path}/settings", data={**rules, "complaints_hide_after": "5", "complaints_overdue_hours": "48"}
    )
    assert saved.status_code == 302
    for hide_after, hours, message in (
        ("1001", "48", "Жалобы: скрывать после 0–1000 читателей."),
        ("5", "0", "Жалобы: срок ответа — от 1 до 720 часов."),
        ("5", "721", "Жалобы: срок ответа — от 1 до 720 часов."),
        ("-1", "48", "Жалобы: скрывать после 0–1000 читателей."),
    ):
        refused = client.post(
            f"{path}/settings", data={**rules, "complaints_hide_after": hide_after, "complaints_overdue_hours": hours}
        )
        assert refused.status_code == 400
        assert message in refused.get_data(as_text=True)
    with app.app_context():
        site = db.session.get(Site, site_id)
        assert (site.complaints_hide_after, site.complaints_overdue_hours) == (5, 48)
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site_rules")).all()
        assert event.detail["old"]["complaints_hide_after"] == 3
        assert event.detail["new"]["complaints_overdue_hours"] == 48
