"""PyPI `akismet` (James Bennett's httpx client) against the service's Akismet API.

The client has Akismet's address built in (https://rest.akismet.com/1.1/...), so, as a site would, it is given
an httpx client whose transport sends every request to the service instead; the key travels in the form body
and the Host header still says rest.akismet.com. It shows: the key is verified (a wrong one refused the way the
library understands), comment-check tells spam from ham for Russian, Kazakh and look-alike-letter spam, and a
site's submit-spam / submit-ham become training labels the retrain reads.
"""

import akismet
import httpx
import pytest

from tests.compat.conftest import EXTRA, KINDS, SITE_URL, STATUS, TEXTS, label_of, rows, stored

TEXT = TEXTS["akismet_python"]
AUTHOR = {
    "comment_author": "Ерлан",
    "comment_author_email": "erlan@example.kz",
    "comment_type": "comment",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "permalink": "https://news.example.kz/roads-2026",
}
# Akismet's answer to comment-check: spam is `true` (SPAM, or DISCARD when blatant); held or approved is `false`.
EXPECTED = {
    "ru_insult": {akismet.CheckResponse.HAM},
    "kz_insult": {akismet.CheckResponse.HAM},
    "spam": {akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD},
    "ordinary": {akismet.CheckResponse.HAM},
}


class ToService(httpx.HTTPTransport):
    """Sends what the client addresses to rest.akismet.com to the service, over plain HTTP."""

    def __init__(self, port, **options):
        super().__init__(**options)
        self.port = port

    def handle_request(self, request):
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return super().handle_request(request)


@pytest.fixture
def client(compat):
    """A validated client on the site's key; `client.answers` keeps each raw httpx response (headers)."""
    answers = []
    http = httpx.Client(
        transport=ToService(compat.port),
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=10,
        event_hooks={"response": [answers.append]},
    )
    validated = akismet.SyncClient.validated_client(
        config=akismet.Config(key=compat.key, url=SITE_URL), http_client=http
    )
    validated.answers = answers
    yield validated
    http.close()


def test_verify_key(compat, client):
    """The site's key is `valid`; another key is `invalid`, and a client made with it is refused."""
    assert client.verify_key() is True
    assert client.verify_key(key="mk_not-a-site-key", url=SITE_URL) is False
    with httpx.Client(transport=ToService(compat.port), timeout=10) as http:
        with pytest.raises(akismet.APIKeyError):
            akismet.SyncClient.validated_client(
                config=akismet.Config(key="mk_not-a-site-key", url=SITE_URL), http_client=http
            )
        unchecked = akismet.SyncClient(config=akismet.Config(key="mk_not-a-site-key", url=SITE_URL), http_client=http)
        with pytest.raises(akismet.APIKeyError):
            unchecked.comment_check(user_ip="203.0.113.9", comment_content=TEXT.ordinary)


@pytest.mark.parametrize("kind", KINDS)
def test_comment_check(compat, client, kind):
    """Spam is `true`, an insult or an ordinary comment `false`; the comment is stored decided (an insult held,
    which X-Moderation-Status tells)."""
    comment = getattr(TEXT, kind)
    verdict = client.comment_check(user_ip="203.0.113.10", comment_content=comment, **AUTHOR)
    assert verdict in EXPECTED[kind], (kind, verdict)
    answer = client.answers[-1]
    assert answer.headers["X-Moderation-Status"] == STATUS[kind]
    (row,) = stored(compat, comment)
    assert row.status == STATUS[kind] and row.name == AUTHOR["comment_author"]
    assert answer.headers["X-akismet-guid"] == str(row.id)
    if kind.endswith("insult"):
        assert row.toxicity_score > 0.8 and row.spam_score < 0.2


def test_is_test_stores_nothing(compat, client):
    """`is_test=True` (Akismet's test mode) is judged but leaves nothing in the queue."""
    comment = EXTRA["akismet_python_test_mode"]
    assert (
        client.comment_check(user_ip="203.0.113.11", comment_content=comment, is_test=True) == akismet.CheckResponse.HAM
    )
    assert stored(compat, comment) == []


def test_submissions_become_labels(compat, client):
    """The site correcting the filter: submit-spam on a comment it let through, submit-ham on one it called spam.
    Both answer True, change the comment's status and leave the label retraining reads, with an audit entry."""
    missed, false_spam = EXTRA["akismet_python_missed_spam"], EXTRA["akismet_python_false_spam"]
    assert client.comment_check(user_ip="203.0.113.12", comment_content=missed, **AUTHOR) == akismet.CheckResponse.HAM
    assert client.comment_check(user_ip="203.0.113.13", comment_content=false_spam, **AUTHOR) in EXPECTED["spam"]

    assert client.submit_spam(user_ip="203.0.113.12", comment_content=missed, **AUTHOR) is True
    assert client.submit_ham(user_ip="203.0.113.13", comment_content=false_spam, **AUTHOR) is True

    (spam_row,), (ham_row,) = stored(compat, missed), stored(compat, false_spam)  # the same comments, no copies
    assert (spam_row.status, ham_row.status) == ("spam", "approved")
    assert label_of(compat, missed) == (True, None)  # spam says nothing about toxicity
    assert label_of(compat, false_spam) == (False, False)
    for row, action, before in ((spam_row, "spam", "approved"), (ham_row, "approve", "spam")):
        audit = rows(
            compat.engine,
            "SELECT action, via, user_id, from_status FROM audit_event WHERE comment_id = :id AND via = 'site'",
            id=row.id,
        )
        assert [tuple(a) for a in audit] == [(action, "site", None, before)]


def test_submission_of_an_unseen_comment(compat, client):
    """submit-spam for a comment the service never checked stores it, as spam, with its label."""
    comment = EXTRA["akismet_python_unseen_spam"]
    assert client.submit_spam(user_ip="203.0.113.14", comment_content=comment) is True
    (row,) = stored(compat, comment)
    assert row.status == "spam"
    assert label_of(compat, comment) == (True, None)
