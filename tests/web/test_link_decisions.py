"""Links alone never make a comment spam (issue 12): the decision a worker stores, on each test database.

The comments are stored pending and decided by `decisions.score_comment`, the function the Celery task runs,
so these tests need no worker; the pipeline around it is tested in tests/tasks.
"""

import pytest

from moderation.db import db
from moderation.models import PENDING, Comment
from moderation.services import decisions, scorer
from tests.web.dashboard_support import make_site, page_token, seed_comment, signed_in_client

SOURCES = "https://tengrinews.kz/kazakhstan_news/123 https://www.zakon.kz/456 https://informburo.kz/novosti/789"
# A reader pointing to three sources, and a comment of bare links: the shipped model calls both spam for their links
# (v20261205-132823: spam 0.67 and 0.98; 0.22 and 0.02 with the links taken out). «Источники: …» was one (0.61) until
# v20261203-042439, «Ссылки: …» until v20261205-112834 (0.31 now: the writing signals leave the links out).
CITING = [f"Подробнее: {SOURCES}", "https://tengrinews.kz/... https://www.zakon.kz/... https://informburo.kz/..."]
SPAM_WITH_LINK = "Заработок от 5000 в день, пиши https://t.me/xxx"
SPAM_WITH_LINKS = (
    "Заработок от 5000 в день без вложений, подробности: https://t.me/xxx https://bit.ly/3xYz https://earn.top"
)


def decide(app, site_id, text, **site_columns):
    """Store a pending comment on the site, decide it as the worker does; return the stored comment, detached."""
    comment_id = seed_comment(app, site_id, status=PENDING, text=text, risk=None)
    with app.app_context():
        site = db.session.get(Comment, comment_id).site
        for name, value in site_columns.items():
            setattr(site, name, value)
        db.session.commit()
        decisions.score_comment(comment_id)
        db.session.expire_all()
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
    return comment


def model_verdict(app, text):
    """(spam score, spam threshold) of the text under the active model and the app's thresholds."""
    with app.app_context():
        bundle = scorer.active_bundle(app.config["MODELS_DIR"])
        return bundle.score([text], explain=False)[0].spam, scorer.thresholds(bundle, app.config)["spam"]


def codes(comment):
    return [r["code"] for r in comment.reasons or []]


def reason(comment, code):
    [found] = [r for r in comment.reasons if r["code"] == code]
    return found


@pytest.mark.parametrize("text", CITING, ids=["citing", "bare-links"])
@pytest.mark.parametrize("max_links", [2, 5])  # over the site's limit, and within it
def test_a_comment_spam_only_for_its_links_is_held_with_the_links_reason(app, text, max_links):
    spam, threshold = model_verdict(app, text)
    assert spam >= threshold, f"the active model no longer calls {text!r} spam ({spam:.3f}); pick a text it does"
    comment = decide(app, make_site(app), text, max_links=max_links)
    assert comment.status == "held"
    # The model may hold such a comment for toxicity too (it does for the first text now): not at issue here.
    assert [code for code in codes(comment) if code != "toxicity"] == ["spam", "links"]
    spam_reason, links = reason(comment, "spam"), reason(comment, "links")
    assert spam_reason["score"] == pytest.approx(spam, abs=1e-4) and comment.spam_score == pytest.approx(spam)
    assert links["count"] == 3
    assert 0 <= links["spam_without_links"] < threshold
    assert comment.reason_codes.startswith(" spam ") and comment.reason_codes.endswith(" links ")


def test_spam_with_a_link_is_still_spam(app):
    site_id = make_site(app)
    one, three = decide(app, site_id, SPAM_WITH_LINK), decide(app, site_id, SPAM_WITH_LINKS)
    assert (one.status, codes(one)) == ("spam", ["spam"])
    assert (three.status, codes(three)) == ("spam", ["spam", "links"])
    assert reason(three, "links") == {"code": "links", "score": None, "spans": [], "count": 3}  # too many, that is all


def test_the_dashboard_says_the_links_alone_look_like_spam(app):
    site_id = make_site(app)
    held = decide(app, site_id, CITING[0], max_links=5)
    spam = decide(app, site_id, SPAM_WITH_LINKS, max_links=2)
    client, _login = signed_in_client(app)
    page = client.get(f"/dashboard/comments/{held.id}").get_data(as_text=True)
    without = reason(held, "links")["spam_without_links"]
    assert "спамом выглядят только ссылки" in page
    assert f"оценка спама без ссылок: {without:.2f}" in page
    assert "слишком много ссылок" not in page
    page = client.get(f"/dashboard/comments/{spam.id}").get_data(as_text=True)
    assert "слишком много ссылок" in page and "спамом выглядят только ссылки" not in page
    for locale, label in (("kk", "тек сілтемелер спамға ұқсайды"), ("en", "links alone look like spam")):
        client.post("/dashboard/language", data={"locale": locale, "csrf_token": page_token(client)})
        assert label in client.get(f"/dashboard/comments/{held.id}").get_data(as_text=True), locale


def test_the_admins_test_box_explains_the_hold(app):
    site_id = make_site(app)
    client, _login = signed_in_client(app, role="admin")
    page = f"/dashboard/admin/rules/{site_id}"
    answer = client.post(
        f"{page}/test", data={"csrf_token": page_token(client, page), "name": "Читатель", "text": CITING[1]}
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert 'class="verdict verdict-held"' in html
    assert "спамом выглядят только ссылки" in html and "оценка спама без ссылок: 0.0" in html
