"""Hostile text from readers, sites, admins and moderators shows as text on every dashboard page, never as markup.

Two defences stand between a payload and a script: Jinja's escaping and the Content-Security-Policy. The test
checks each apart: no element a payload would create exists in the DOM (escaping), no CSP violation is logged
(the `page` fixture; a violation means something tried to run), and nothing ran (`window.__xss`, dialogs).
"""

from sqlalchemy import select, update

from moderation.db import db
from moderation.models import HELD, Comment
from moderation.services import reasons, sites, users
from tests.e2e.support import PASSWORD, sign_in

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SVG = '"><svg onload=window.__xss=1>'
ALERT = "<img src=x onerror=alert(document.domain)>"
# Only characters an e-mail address may hold unquoted, yet it would break out of a single-quoted attribute.
EMAIL = "x'onfocus='window.__xss=1'autofocus='@evil.example.com"

COMMENT = {
    "name": f"Вася {IMG}",
    "text": f"Смотрите {SCRIPT} и {SVG} и ещё {ALERT}\nвторая строка </textarea></p>",
    "email": EMAIL,
    "url": f"https://evil.example.com/?q={SVG}",
    "article_id": f"15823{SVG}",
    "article_title": f"</title>{SCRIPT} Ремонт дорог",
    "article_url": 'https://karaganda-today.kz/news/15823?x="><script>window.__xss=1</script>',
    "parent_id": IMG,
    "user_agent": f"Mozilla/5.0 {ALERT}",
    "referrer": f"https://karaganda-today.kz/{SCRIPT}",
    "author_ip": "203.0.113.66",
}
# What a payload would create if it were parsed as markup (a plain <script src> is the dashboard's own).
INJECTED = "script:not([src]), img[onerror], svg[onload], [onfocus], [autofocus], a[href^='javascript:']"


def assert_inert(page, dialogs):
    """Nothing a payload would create is in the page, nothing ran, no dialog opened."""
    assert page.locator(INJECTED).count() == 0, page.locator(INJECTED).evaluate_all("els => els.map(e => e.outerHTML)")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []


def test_xss_payloads_render_as_text(page, live_server):
    app = live_server.app
    login = '"><svg onload=window.__xss=1>'  # an admin may name a moderator anything
    with app.app_context():
        site, key = sites.create_site(f"{SCRIPT} новости")
        users.create_user(login, PASSWORD, "moderator")
        reason = reasons.add_reason("xss", IMG, toxic=False)
        reason_position = reasons.active_reasons().index(reason)
    # The comment comes in through the API, so only what the API accepts is stored.
    response = app.test_client().post("/api/v1/comments", json=COMMENT, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 202, response.get_json()
    comment_id = response.get_json()["id"]
    with app.app_context():
        # As the worker would leave it, with the payloads as the spans that drove the scores.
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(
                status=HELD,
                spam_score=0.2,
                toxicity_score=0.7,
                risk=0.7,
                reason_codes=" toxicity ",
                reasons=[{"code": "toxicity", "score": 0.7, "spans": [SCRIPT, SVG]}, {"code": IMG, "spans": [ALERT]}],
            )
        )
        db.session.commit()
        stored = db.session.get(Comment, comment_id)
        assert (stored.name, stored.email, stored.article_title) == (COMMENT["name"], EMAIL, COMMENT["article_title"])

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server, login, PASSWORD)

    # The queue.
    card = page.locator(f"#c{comment_id}")
    assert card.locator(".author").inner_text() == COMMENT["name"]
    assert card.locator(".email").inner_text() == EMAIL
    assert card.locator(".article").inner_text() == COMMENT["article_title"]
    assert card.locator(".text").inner_text() == COMMENT["text"]
    assert card.locator(".text mark").all_inner_texts() == [SCRIPT, SVG, ALERT]
    assert card.locator(".site").inner_text() == f"{SCRIPT} новости"
    assert card.locator(".reasons").inner_text().count(IMG) == 1
    assert page.locator("header.top .who").inner_text().startswith(login)
    assert page.locator("form.filters select[name=site] option").all_inner_texts()[1] == f"{SCRIPT} новости"
    assert IMG in page.locator("#reason-picker").inner_text()
    assert_inert(page, dialogs)

    # Reject with the admin's own reason, whose name is a payload too.
    page.keyboard.press("r")
    page.keyboard.press(str(reason_position + 1))
    card.wait_for(state="detached")

    # The comment's own page shows every field the site sent.
    page.goto(live_server(f"/dashboard/comments/{comment_id}"))
    details = page.locator("dl.details").inner_text()
    for field in ("url", "article_title", "article_url", "parent_id", "user_agent", "referrer"):
        assert COMMENT[field] in details, field
    assert page.locator(".comment .text").inner_text() == COMMENT["text"]
    assert page.locator("table.history tbody td").all_inner_texts()[1] == login
    assert_inert(page, dialogs)

    # Banning the e-mail puts the address into the audit log's details.
    with page.expect_navigation():
        page.click("form.ban-form button[value=email]")
    assert_inert(page, dialogs)
    with app.app_context():
        assert db.session.scalar(select(Comment.status).where(Comment.id == comment_id)) == "spam"

    page.goto(live_server("/dashboard/audit"))
    table = page.locator("table.audit").inner_text()
    assert table.count(login) == 3  # the reject, the ban and the spam that comes with it
    assert IMG in table  # the reject reason's name
    assert EMAIL in table  # the ban's value
    assert page.locator("form.filters select[name=user] option").all_inner_texts()[1] == login
    assert_inert(page, dialogs)
