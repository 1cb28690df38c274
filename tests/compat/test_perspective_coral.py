"""The Perspective API as Coral Talk calls it: the exact requests of its toxicity phase and moderation feedback.

Coral builds the URL from the endpoint an admin enters (`path.join(endpoint path, "/comments:analyze")`, the key
set with URLSearchParams), posts compact JSON asking for ONE attribute with `languages: ["en"]` whatever the
site's language, reads `attributeScores[model].summaryScore.value` and holds the comment when it is > 0.8.
When its moderators decide, it sends comments:suggestscore (newer Coral: the model's attribute = 1; older Coral:
APPROVED or DELETED = 1, pretty-printed, languages ["EN"]). Requests are sent raw with urllib, as Coral's code
writes them, so that nothing a client library adds or fixes up helps.
"""

import json
import posixpath
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.compat.conftest import EXTRA, KINDS, SITE_URL, STATUS, TEXTS, label_of, rows, send, stored

THRESHOLD = 0.8  # TOXICITY_THRESHOLD_DEFAULT (80) / 100; Coral compares score > threshold
STORY_URL = "https://news.example.kz/2026/roads"
# The admin's endpoint setting: Perspective's own path, or the bare service.
ENDPOINTS = {"perspective_v1alpha1": "/v1alpha1", "perspective_root": ""}


def coral_url(endpoint, operation, key):
    """The URL Coral requests (services/perspective: path.join, then searchParams.set("key", key.trim()))."""
    parts = urlsplit(endpoint.strip())
    path = posixpath.normpath(posixpath.join(parts.path or "/", operation.lstrip("/")))
    query = urlencode([*[(k, v) for k, v in parse_qsl(parts.query) if k != "key"], ("key", key.strip())])
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def coral_post(url, body, pretty=False):
    """POST JSON as Coral's fetch does it: JSON.stringify (compact, or 2-space in older Coral), UTF-8."""
    data = json.dumps(
        body, ensure_ascii=False, indent=2 if pretty else None, separators=None if pretty else (",", ":")
    ).encode()
    status, headers, raw = send("POST", url, data, {"Content-Type": "application/json"})
    return status, headers, json.loads(raw) if raw else None


def analyze(compat, endpoint, text, model="TOXICITY", do_not_store=False):
    """Coral's toxic phase: (HTTP status, the score Coral reads, the whole answer)."""
    url = coral_url(f"{compat.base}{endpoint}", "comments:analyze", compat.key)
    status, headers, answer = coral_post(
        url,
        {
            "comment": {"text": text},
            "doNotStore": do_not_store,
            "requestedAttributes": {model: {}},
            "languages": ["en"],
        },
    )
    assert headers["Content-Type"].startswith("application/json")
    score = answer["attributeScores"][model]["summaryScore"]["value"] if status == 200 else None
    return status, score, answer


def suggest_score(compat, text, attribute, older=False, endpoint="/v1alpha1"):
    """Coral's moderation feedback for a comment with this text: (status, answer, clientToken sent)."""
    comment_id = str(uuid.uuid4())
    token = f"comment:{comment_id}"
    context = json.dumps(
        {
            "url": f"{STORY_URL}?commentID={comment_id}",
            "reply_to_id_Coral_comment_id": None,
            "Coral_comment_id": comment_id,
        },
        separators=(",", ":"),
    )
    body = {
        "comment": {"text": text},
        "context": {"entries": [{"text": context}]},
        "attributeScores": {attribute: {"summaryScore": {"value": 1}}},
        "languages": ["EN" if older else "en"],
        "communityId": f"Coral:{SITE_URL}",
        "clientToken": token,
    }
    if older:  # services/perspective/index.ts: `${endpoint}/${method}?key=${apiKey}`, JSON.stringify(body, null, 2)
        url = f"{compat.base}{endpoint}/comments:suggestscore?key={compat.key}"
    else:
        url = coral_url(f"{compat.base}{endpoint}", "comments:suggestscore", compat.key)
    status, _headers, answer = coral_post(url, body, pretty=older)
    return status, answer, token


def test_coral_builds_the_urls_we_serve():
    """The URL rules reproduced from Coral (checked against node in the notes)."""
    assert (
        coral_url("http://127.0.0.1:5000/v1alpha1", "comments:analyze", " k+/y ")
        == "http://127.0.0.1:5000/v1alpha1/comments:analyze?key=k%2B%2Fy"
    )
    assert (
        coral_url("http://127.0.0.1:5000/v1alpha1/", "comments:analyze", "k")
        == "http://127.0.0.1:5000/v1alpha1/comments:analyze?key=k"
    )
    assert coral_url("http://127.0.0.1:5000", "comments:analyze", "k") == "http://127.0.0.1:5000/comments:analyze?key=k"


@pytest.mark.parametrize("api", ENDPOINTS)
@pytest.mark.parametrize("kind", KINDS)
def test_toxic_phase(compat, api, kind):
    """Coral's verdict from our TOXICITY: > 0.8 for the insults only; a SPAM model reads spam; stored decided."""
    text = getattr(TEXTS[api], kind)
    status, toxicity, answer = analyze(compat, ENDPOINTS[api], text)
    assert status == 200, answer
    assert (toxicity > THRESHOLD) == kind.endswith("insult"), (kind, toxicity)
    assert set(answer["attributeScores"]) == {"TOXICITY"}
    assert answer["languages"] and answer["languages"] != ["en"]  # detected: Russian or Kazakh, not Coral's "en"

    # The same phase with the admin's model set to SPAM (doNotStore, so the comment is not stored twice).
    status, spam, _answer = analyze(compat, ENDPOINTS[api], text, model="SPAM", do_not_store=True)
    assert status == 200
    assert (spam > THRESHOLD) == (kind == "spam"), (kind, spam)
    if kind == "ordinary":
        assert toxicity < 0.3 and spam < 0.3

    (row,) = stored(compat, text)  # doNotStore false: in the moderators' queue, decided
    assert row.status == STATUS[kind]
    assert row.toxicity_score == pytest.approx(toxicity)


def test_do_not_store(compat):
    """Coral's default doNotStore: true scores the comment and keeps nothing."""
    text = EXTRA["perspective_not_stored"]
    status, toxicity, _answer = analyze(compat, "/v1alpha1", text, do_not_store=True)
    assert status == 200 and toxicity < THRESHOLD
    assert stored(compat, text) == []


def test_feedback_on_a_rejected_comment(compat):
    """Newer Coral: the comment its toxic phase held, rejected by its moderators -> TOXICITY 1. The stored comment
    is rejected for an insult, its label toxic; the answer echoes clientToken."""
    text = EXTRA["perspective_rejected_toxic"]
    status, toxicity, _answer = analyze(compat, "/v1alpha1", text)
    assert status == 200 and toxicity > THRESHOLD
    status, answer, token = suggest_score(compat, text, "TOXICITY", endpoint="")  # an admin's bare endpoint
    assert (status, answer) == (200, {"clientToken": token})
    (row,) = stored(compat, text)
    assert row.status == "rejected"
    assert label_of(compat, text) == (False, True)
    (audit,) = rows(
        compat.engine, "SELECT action, reason FROM audit_event WHERE comment_id = :id AND via = 'site'", id=row.id
    )
    assert tuple(audit) == ("reject", "insult")


def test_older_feedback(compat):
    """Older Coral (pretty-printed, languages ["EN"], unencoded key) on comments it never had scored: APPROVED 1
    stores a ham label; DELETED 1 rejects the comment but, saying no reason, teaches nothing."""
    approved, deleted = EXTRA["perspective_approved"], EXTRA["perspective_deleted"]
    status, answer, token = suggest_score(compat, approved, "APPROVED", older=True)
    assert (status, answer) == (200, {"clientToken": token})
    status, answer, token = suggest_score(compat, deleted, "DELETED", older=True)
    assert (status, answer) == (200, {"clientToken": token})
    assert [r.status for r in stored(compat, approved)] == ["approved"]
    assert [r.status for r in stored(compat, deleted)] == ["rejected"]
    assert label_of(compat, approved) == (False, False)
    assert label_of(compat, deleted) is None


def test_wrong_key(compat):
    """A key that is no site's: Google's 400 envelope with API_KEY_INVALID (Coral logs it and lets the comment by)."""
    url = coral_url(f"{compat.base}/v1alpha1", "comments:analyze", "mk_not-a-site-key")
    status, _headers, answer = coral_post(
        url,
        {
            "comment": {"text": "Привет"},
            "doNotStore": True,
            "requestedAttributes": {"TOXICITY": {}},
            "languages": ["en"],
        },
    )
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert any(d.get("reason") == "API_KEY_INVALID" for d in answer["error"]["details"])
