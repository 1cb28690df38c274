"""What the drop-in APIs store is the service's own work: the moderators' queue and the retraining data.

A comment Perspective's analyze holds shows in the dashboard's queue (a moderator signed in over HTTP, as in
a browser) with its toxicity score and reason; the verdicts sites send (Akismet's submit-spam / submit-ham,
Perspective's suggestscore) are labels on the site's comments, which is what retraining reads.
"""

import html
import json
import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from moderation import create_app
from moderation.services import retraining
from tests.compat.conftest import EXTRA, MODERATOR, SITE_URL, label_of, send, stored
from tests.conftest import base_config

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TAG = re.compile(r"<[^>]+>")


def perspective_analyze(compat, text):
    status, _headers, raw = send(
        "POST",
        f"{compat.base}/v1alpha1/comments:analyze?key={compat.key}",
        json.dumps({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200, raw
    return json.loads(raw)["attributeScores"]["TOXICITY"]["summaryScore"]["value"]


def akismet(compat, operation, text, ip):
    """One Akismet call as a PHP plugin makes it: a form with api_key; the plain-text answer."""
    form = {
        "api_key": compat.key,
        "blog": SITE_URL,
        "user_ip": ip,
        "comment_type": "comment",
        "comment_author": "Дана",
        "comment_content": text,
    }
    status, _headers, raw = send(
        "POST",
        f"{compat.base}/1.1/{operation}",
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert status == 200
    return raw.decode()


def signed_in(compat):
    """A urllib opener with a cookie jar, signed in to the dashboard through its login form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"{compat.base}/dashboard/login", timeout=15).read().decode()
    token = html.unescape(CSRF.search(page).group(1))
    form = urllib.parse.urlencode({"login": MODERATOR[0], "password": MODERATOR[1], "csrf_token": token}).encode()
    with opener.open(f"{compat.base}/dashboard/login", form, timeout=15) as response:  # 302 to the queue, followed
        assert response.status == 200 and urllib.parse.urlsplit(response.url).path == "/dashboard/", response.url
    return opener


def card(page, comment_id):
    """The HTML of one comment's card in a queue page."""
    match = re.search(rf'<article class="comment[^"]*" id="c{comment_id}".*?</article>', page, re.S)
    assert match, f"comment {comment_id} is not in the queue"
    return match.group(0)


def plain(fragment):
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def test_held_comment_in_the_queue(compat):
    """The insult Perspective's analyze held is in the moderators' queue with its score and reason."""
    text = EXTRA["dashboard_insult"]
    toxicity = perspective_analyze(compat, text)
    (row,) = stored(compat, text)
    assert row.status == "held" and toxicity > 0.8

    page = signed_in(compat).open(f"{compat.base}/dashboard/", timeout=15).read().decode()
    found = card(page, row.id)
    assert " ".join(text.split()) in plain(found).replace(" ,", ",")  # highlighted words are wrapped in tags
    scores = re.findall(
        r'<span class="score-name">([^<]+)</span>.*?<span class="score-value">([^<]+)</span>', found, re.S
    )
    assert dict(scores)["токсичность"] == f"{row.toxicity_score:.2f}" == f"{toxicity:.2f}"
    assert 'class="reason reason-toxicity"' in found
    assert "status-held" in found


def test_site_verdicts_are_what_retraining_reads(compat):
    """submit-spam, submit-ham and suggestscore label the site's comments; retraining's label loader returns
    exactly those verdicts for the site (the filter's own decisions are not labels)."""
    spam, ham, toxic = EXTRA["labels_spam"], EXTRA["labels_ham"], EXTRA["labels_toxic"]
    assert akismet(compat, "submit-spam", spam, "192.0.2.31") == "Thanks for making the web a better place."
    assert akismet(compat, "submit-ham", ham, "192.0.2.30") == "Thanks for making the web a better place."
    status, _headers, raw = send(
        "POST",
        f"{compat.base}/comments:suggestscore?key={compat.key}",
        json.dumps(
            {
                "comment": {"text": toxic},
                "clientToken": "comment:labels",
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
            }
        ).encode(),
        {"Content-Type": "application/json"},
    )
    assert (status, json.loads(raw)) == (200, {"clientToken": "comment:labels"})

    assert label_of(compat, spam) == (True, None)
    assert label_of(compat, ham) == (False, False)
    assert label_of(compat, toxic) == (False, True)

    app = create_app(base_config(compat.database_url, None))
    with app.app_context():
        labels = {label.text: (label.spam, label.toxic) for label in retraining.load_labels(compat.site_id)}
        everyone = retraining.load_labels()
    assert labels[spam] == (True, None)
    assert labels[ham] == (False, False)
    assert labels[toxic] == (False, True)
    assert EXTRA["dashboard_insult"] not in labels  # held by the filter: nobody has judged it yet
    assert len(everyone) == len(labels)  # one site: every label is on its comments
