"""The WordPress plugin end to end: a reader posts through WordPress's comment form, the service's real worker
decides, a signed webhook applies the decision in WordPress, and wp-admin's own moderation comes back as labels."""

import re

from sqlalchemy import text

from tests.tasks.service import wait_until
from tests.wordpress.conftest import MODERATOR

ORDINARY = "Спасибо за статью, дороги в нашем районе и правда отремонтировали к осени."
INSULT = "Ты тупой дебил, заткнись уже, идиот"
SPAM = "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot"


def service_row(stack, wp_comment_id):
    """(id, status) of the service's comment that WordPress knows by this WordPress id."""
    service_id = int(stack.wordpress.meta(wp_comment_id, "_moderation_id").strip('"') or 0)
    with stack.engine.connect() as conn:
        return conn.execute(text("SELECT id, status FROM comment WHERE id = :id"), {"id": service_id}).one()


def shown_as(stack, wp_comment_id, status, timeout=60):
    return wait_until(
        lambda: stack.wordpress.status(wp_comment_id) == status,
        timeout=timeout,
        what=f"comment {wp_comment_id} {status} in WordPress\n{stack.wordpress.debug_log()[-2000:]}",
    )


def test_the_service_decides_what_readers_post_through_wordpress(stack):
    wordpress = stack.wordpress
    ordinary, insult, spam = (wordpress.comment(t) for t in (ORDINARY, INSULT, SPAM))

    # Each waits in WordPress while the service decides; the webhook then applies the decision.
    shown_as(stack, ordinary, "approved")
    shown_as(stack, spam, "spam")
    wait_until(lambda: service_row(stack, insult).status == "held", what="the insult held")
    assert wordpress.status(insult) == "unapproved"
    assert service_row(stack, ordinary).status == "approved" and service_row(stack, spam).status == "spam"

    page = wordpress.get(f"/?p={wordpress.post_id}")[1]
    assert "дороги в нашем районе" in page
    assert "тупой" not in page and "easy_money_bot" not in page

    # wp-admin's column: the decision, the scores and the reasons.
    column = wordpress.php(f"echo moderation_column_html({insult});")
    assert "Отложен для модератора" in column and "токсичность" in column and "дебил" in column, column
    # Each comment reached the service once.
    with stack.engine.connect() as conn:
        texts = conn.execute(text("SELECT text FROM comment")).scalars().all()
    assert sorted(t for t in texts if t in (ORDINARY, INSULT, SPAM)) == sorted((ORDINARY, INSULT, SPAM))


def test_an_approval_in_the_dashboard_publishes_the_comment_in_wordpress(stack, browser):
    wordpress = stack.wordpress
    insult = wordpress.comment("Автор статьи полный идиот и дебил, уволить такого")
    wait_until(lambda: service_row(stack, insult).status == "held", what="held")
    service_id = service_row(stack, insult).id

    page = browser.new_page()
    try:
        page.goto(f"{stack.service.base}/dashboard/")
        page.fill("input[name=login]", MODERATOR[0])
        page.fill("input[name=password]", MODERATOR[1])
        page.click("form.login-box button[type=submit]")
        page.wait_for_url(re.compile(r"/dashboard/(\?.*)?$"))
        card = page.locator(f'.comments .comment[data-id="{service_id}"]')
        assert "полный идиот" in card.inner_text()
        card.locator("button.approve").click()
        page.wait_for_load_state()
    finally:
        page.close()

    shown_as(stack, insult, "approved")
    assert "Автор статьи полный идиот" in wordpress.get(f"/?p={wordpress.post_id}")[1]
    assert wordpress.php(f"echo get_comment_meta({insult}, '_moderation_status', true);") == "approved"


def test_spam_marked_in_wp_admin_becomes_a_spam_label_in_the_service(stack):
    wordpress = stack.wordpress
    comment = wordpress.comment("Хорошая новость, спасибо редакции за оперативность.")
    shown_as(stack, comment, "approved")
    service_id = service_row(stack, comment).id

    wordpress.php(f"wp_set_current_user(1); wp_spam_comment({comment});")  # what wp-admin's «Спам» link calls

    with stack.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM comment WHERE id = :id"), {"id": service_id}).scalar() == "spam"
        assert conn.execute(text("SELECT spam FROM label WHERE comment_id = :id"), {"id": service_id}).scalar()
        audit = conn.execute(
            text("SELECT action, via FROM audit_event WHERE comment_id = :id ORDER BY id DESC"), {"id": service_id}
        ).first()
    assert tuple(audit) == ("spam", "site")
    # The service's echo of the site's own change changes nothing in WordPress.
    assert wordpress.status(comment) == "spam"


def test_a_comment_posted_while_the_service_is_down_is_sent_and_decided_once_it_is_back(stack):
    wordpress, service = stack.wordpress, stack.service
    service.stop()
    try:
        comment = wordpress.comment("Когда уже починят светофор на перекрёстке у школы?")
        assert wordpress.status(comment) == "unapproved"  # waits in WordPress, not published unchecked
        assert wordpress.meta(comment, "_moderation_unsent") != "false"
        wordpress.run_cron()  # the retry while the service is still away fails and is scheduled again
        assert wordpress.meta(comment, "_moderation_id") in ('""', "false")
    finally:
        service.start()

    def sent():
        wordpress.run_cron()
        return wordpress.meta(comment, "_moderation_id") not in ('""', "false")

    wait_until(sent, timeout=60, what="the comment sent by WP-Cron")
    shown_as(stack, comment, "approved")
    with stack.engine.connect() as conn:
        copies = conn.execute(
            text("SELECT count(*) FROM comment WHERE text LIKE :t"), {"t": "Когда уже починят светофор%"}
        ).scalar()
    assert copies == 1
