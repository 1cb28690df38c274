"""The drop-in APIs in the app: Perspective's, Akismet's and Coral's formats, errors included, on the service's
scoring (the real models), stored in the queue and labelled like the service's own comments."""

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from moderation.db import db
from moderation.models import Comment, Label
from moderation.services import sites
from tests.web.dashboard_support import audit_events

INSULT_RU = "Ты тупой дебил, заткнись уже, идиот"
INSULT_KK = "Сен ақымақсың, аузыңды жап, малғұн"
SPAM_RU = "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot"
ORDINARY = "Спасибо за статью, дороги в нашем районе отремонтировали к осени."
CORAL_SECRET = "empsec_" + "c0" * 16


@pytest.fixture
def site_name(app, site_key):
    with app.app_context():
        site = sites.authenticate(site_key)
        site.coral_secret = CORAL_SECRET
        db.session.commit()
        return site.name


def analyze(client, key, text, attributes=("TOXICITY", "SPAM"), **extra):
    body = {"comment": {"text": text}, "requestedAttributes": {a: {} for a in attributes}, "languages": ["en"], **extra}
    return client.post(f"/v1alpha1/comments:analyze?key={key}", json=body)


def stored(app, text):
    with app.app_context():
        return db.session.execute(
            select(Comment.id, Comment.status, Comment.toxicity_score).where(Comment.text == text)
        ).all()


def coral(client, site_name, text, secret=CORAL_SECRET, signature=None):
    body = json.dumps(
        {
            "action": "NEW",
            "comment": {"body": f"<p>{text}</p>", "parentID": None},
            "author": {"id": "a1b2", "role": "COMMENTER"},
            "story": {"id": "s9", "url": "https://n.kz/s9"},
            "site": {"id": "x"},
            "tenantID": "t",
            "tenantDomain": "n.kz",
        },
        indent=2,
        ensure_ascii=False,
    )
    signature = signature or "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return client.post(
        f"/coral/sites/{site_name}/phase",
        data=body.encode(),
        headers={"Content-Type": "application/json", "X-Coral-Signature": signature},
    )


@pytest.mark.parametrize(
    "text, toxic, spam, lang",
    [
        (INSULT_RU, True, False, "ru"),
        (INSULT_KK, True, False, "kk"),
        (SPAM_RU, False, True, "ru"),
        (ORDINARY, False, False, "ru"),
    ],
)
def test_perspective_scores_detects_the_language_and_stores_the_comment_decided(
    app, client, site_key, text, toxic, spam, lang
):
    response = analyze(client, site_key, text, spanAnnotations=True, clientToken="comment:7")
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["languages"] == answer["detectedLanguages"] == [lang]  # not the "en" the client claimed
    assert answer["clientToken"] == "comment:7"
    toxicity = answer["attributeScores"]["TOXICITY"]
    assert toxicity["summaryScore"]["type"] == "PROBABILITY"
    assert (toxicity["summaryScore"]["value"] > 0.8) is toxic  # Coral's default threshold
    assert (answer["attributeScores"]["SPAM"]["summaryScore"]["value"] > 0.8) is spam
    assert toxicity["spanScores"][0] == {"begin": 0, "end": len(text), "score": toxicity["summaryScore"]}
    if toxic:  # the words that made it toxic, where they are
        assert any(
            text[s["begin"] : s["end"]].lower() in ("дебил", "идиот", "тупой", "ақымақсың", "малғұн")
            for s in toxicity["spanScores"][1:]
        )
    [(_id, status, score)] = stored(app, text)
    assert status == ("held" if toxic else "spam" if spam else "approved")
    assert score == pytest.approx(toxicity["summaryScore"]["value"])


def test_perspective_do_not_store_scores_without_storing(app, client, site_key):
    answer = analyze(client, site_key, INSULT_RU, attributes=("TOXICITY",), doNotStore=True).json
    assert answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.8
    assert "SPAM" not in answer["attributeScores"]
    assert stored(app, INSULT_RU) == []


def test_perspective_leaves_out_attributes_below_the_clients_threshold(client, site_key):
    body = {"comment": {"text": ORDINARY}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.5}}}
    assert client.post(f"/comments:analyze?key={site_key}", json=body).json["attributeScores"] == {}


@pytest.mark.parametrize(
    "body, error_type, message",
    [
        (
            {"comment": {"text": ORDINARY}, "requestedAttributes": {"PROFANITY": {}}},
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            "Attribute PROFANITY does not support request languages: ru",
        ),
        (
            {"comment": {"text": ORDINARY}, "requestedAttributes": {"NOT_AN_ATTRIBUTE": {}}},
            "INVALID_REQUEST",
            "Unknown requested attribute: NOT_AN_ATTRIBUTE",
        ),
        ({"comment": {"text": ORDINARY}}, "NO_REQUESTED_ATTRIBUTES", "No requested attributes."),
        (
            {"comment": {"text": "   "}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ),
        (
            {"comment": {"text": "я" * 10241}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_TOO_LONG",
            "Comment text was too many bytes. Value (20482) exceeded limit (20480).",
        ),
        ({"comment": "text"}, "COMMENT_EMPTY", "Comment must be non-empty."),
        ([1, 2], "INVALID_REQUEST", "Invalid JSON payload received."),
    ],
)
def test_perspective_errors_are_googles(app, client, site_key, body, error_type, message):
    response = client.post(f"/v1alpha1/comments:analyze?key={site_key}", json=body)
    assert response.status_code == 400
    error = response.json["error"]
    assert (error["code"], error["status"], error["message"]) == (400, "INVALID_ARGUMENT", message)
    assert error["details"][0]["errorType"] == error_type
    with app.app_context():
        assert db.session.scalar(select(Comment.id)) is None


def test_perspective_refuses_a_wrong_key_and_malformed_json_in_its_format(client, site_key):
    wrong = client.post("/v1alpha1/comments:analyze?key=AIzaWrong", json={})
    assert wrong.status_code == 400
    assert wrong.json["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    broken = client.post(f"/v1alpha1/comments:analyze?key={site_key}", data=b"{", content_type="application/json")
    assert broken.json["error"]["details"][0]["errorType"] == "INVALID_REQUEST"
    huge = client.post(
        f"/v1alpha1/comments:analyze?key={site_key}", data=b"x" * 70_000, content_type="application/json"
    )  # over the service's body limit
    assert huge.status_code == 413 and huge.json["error"]["details"][0]["errorType"] == "COMMENT_TOO_LONG"


def test_suggestscore_records_the_clients_verdict_as_the_sites_label(app, client, site_key):
    analyze(client, site_key, ORDINARY)
    [(comment_id, _status, _score)] = stored(app, ORDINARY)
    body = {
        "comment": {"text": ORDINARY},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "languages": ["EN"],
        "communityId": "Coral:https://n.kz/",
        "clientToken": "comment:1f",
    }
    response = client.post(f"/v1alpha1/comments:suggestscore?key={site_key}", json=body)
    assert response.json == {"clientToken": "comment:1f"}
    with app.app_context():
        label = db.session.scalar(select(Label).where(Label.comment_id == comment_id))
        assert (label.spam, label.toxic) == (False, True)
    events = audit_events(app, comment_id=comment_id)
    assert sorted((e["via"], e["to"]) for e in events) == [("site", "rejected"), ("worker", "approved")]
    # A verdict on a comment never stored (the client said doNotStore) stores it, with its label.
    other = "Власти опять обещают, а воз и ныне там."
    body = {"comment": {"text": other}, "attributeScores": {"APPROVED": {"summaryScore": {"value": 1}}}}
    assert client.post(f"/comments:suggestscore?key={site_key}", json=body).json == {}
    [(other_id, status, _score)] = stored(app, other)
    assert status == "approved"
    # A verdict agreeing with the filter's decision changes nothing but still teaches: the site's label.
    agreed = "Хорошо, что начали ремонт школы до сентября."
    analyze(client, site_key, agreed)
    [(agreed_id, status, _score)] = stored(app, agreed)
    body = {"comment": {"text": agreed}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}}}
    client.post(f"/comments:suggestscore?key={site_key}", json=body)
    with app.app_context():
        assert db.session.get(Comment, agreed_id).status == status == "approved"
        label = db.session.scalar(select(Label).where(Label.comment_id == agreed_id))
        assert (label.spam, label.toxic, label.user_id) == (False, False, None)
    bad = client.post(
        f"/comments:suggestscore?key={site_key}",
        json={"comment": {"text": other}, "attributeScores": {"TOXICITY": {"summaryScore": {}}}},
    )
    assert bad.status_code == 400 and bad.json["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    "text, answer, discard, status",
    [
        (INSULT_RU, "false", False, "held"),
        (INSULT_KK, "false", False, "held"),
        (SPAM_RU, "true", True, "spam"),
        (ORDINARY, "false", False, "approved"),
    ],
)
def test_akismet_comment_check_answers_at_once(app, client, site_key, text, answer, discard, status):
    form = {
        "api_key": site_key,
        "blog": "https://n.kz/",
        "user_ip": "203.0.113.4",
        "comment_content": text,
        "comment_author": "Гость",
        "comment_author_email": "not-an-email",
        "permalink": "https://n.kz/a/1",
    }
    response = client.post("/1.1/comment-check", data=form)
    assert (response.status_code, response.mimetype, response.text) == (200, "text/plain", answer)
    assert ("X-akismet-pro-tip" in response.headers) is discard
    assert response.headers["X-Moderation-Status"] == status
    [(comment_id, stored_status, _score)] = stored(app, text)
    assert stored_status == status and response.headers["X-akismet-guid"] == str(comment_id)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert (comment.name, comment.email, comment.article_url) == ("Гость", None, "https://n.kz/a/1")


def test_akismet_test_calls_are_not_stored_and_submits_become_labels(app, client, site_key):
    form = {"api_key": site_key, "blog": "https://n.kz/", "user_ip": "203.0.113.4"}
    assert client.post("/1.1/comment-check", data={**form, "comment_content": ORDINARY, "is_test": "1"}).text == "false"
    assert stored(app, ORDINARY) == []
    for path, text, label in (
        ("submit-spam", "Купите у нас окна недорого", (True, None)),
        ("submit-ham", ORDINARY, (False, False)),
    ):
        response = client.post(f"/1.1/{path}", data={**form, "comment_content": text})
        assert response.text == "Thanks for making the web a better place."
        [(comment_id, _status, _score)] = stored(app, text)
        with app.app_context():
            row = db.session.scalar(select(Label).where(Label.comment_id == comment_id))
            assert (row.spam, row.toxic) == label


def test_akismet_keys_and_errors_in_its_own_format(client, site_key):
    assert client.post("/1.1/verify-key", data={"key": site_key, "blog": "https://n.kz/"}).text == "valid"
    wrong = client.post("/1.1/verify-key", data={"key": "wrong", "blog": "https://n.kz/"})
    assert wrong.text == "invalid" and wrong.headers["X-akismet-debug-help"]
    check = client.post("/1.1/comment-check", data={"api_key": "wrong", "user_ip": "1.2.3.4", "comment_content": "x"})
    assert (check.status_code, check.text) == (200, "invalid")
    # Older clients put the key in the host name: KEY.rest.akismet.com
    by_host = client.post(
        "/1.1/comment-check",
        base_url=f"http://{site_key}.localhost",
        data={"user_ip": "1.2.3.4", "comment_content": ORDINARY + " (по хосту)"},
    )
    assert by_host.text == "false"
    missing = client.post("/1.1/comment-check", data={"api_key": site_key, "comment_content": "x"})
    assert missing.text == "Missing required field: user_ip."
    assert missing.headers["X-akismet-debug-help"] == 'Empty "user_ip" value'
    long = client.post(
        "/1.1/comment-check", data={"api_key": site_key, "user_ip": "1.2.3.4", "comment_content": "я" * 10241}
    )
    assert long.status_code == 200 and long.text == "Comment too long."


@pytest.mark.parametrize(
    "text, status, reasons",
    [
        (INSULT_RU, "SYSTEM_WITHHELD", ["COMMENT_DETECTED_TOXIC"]),
        (INSULT_KK, "SYSTEM_WITHHELD", ["COMMENT_DETECTED_TOXIC"]),
        (SPAM_RU, "REJECTED", ["COMMENT_DETECTED_SPAM"]),
        (ORDINARY, "APPROVED", []),
    ],
)
def test_coral_phase_answers_in_corals_schema(app, client, site_name, text, status, reasons):
    response = coral(client, site_name, text)
    assert response.status_code == 200, response.json
    assert set(response.json) <= {"status", "actions", "tags"}
    assert response.json["status"] == status
    assert [a["reason"] for a in response.json.get("actions", [])] == reasons
    assert all(a["actionType"] == "FLAG" for a in response.json.get("actions", []))
    [(comment_id, _status, _score)] = stored(app, text)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert (comment.name, comment.article_id, comment.article_url) == ("Coral a1b2", "s9", "https://n.kz/s9")


def test_coral_phase_checks_the_signature(app, client, site_name):
    assert coral(client, site_name, ORDINARY, secret="empsec_other").status_code == 401
    assert coral(client, site_name, ORDINARY, signature="sha256=" + "0" * 64).status_code == 401
    assert client.post("/coral/sites/no-such-site/phase", data=b"{}").status_code == 401
    assert stored(app, ORDINARY) == []
    # While Coral keeps a rolled secret valid, it sends one signature per secret: one right one is enough.
    body = json.dumps({"action": "NEW", "comment": {"body": ORDINARY}}, indent=2).encode()
    right = hmac.new(CORAL_SECRET.encode(), body, hashlib.sha256).hexdigest()
    rolled = client.post(
        f"/coral/sites/{site_name}/phase",
        data=body,
        headers={"Content-Type": "application/json", "X-Coral-Signature": f"sha256={'0' * 64},sha256={right}"},
    )
    assert rolled.status_code == 200 and rolled.json["status"] == "APPROVED"
    # Signed but not Coral's request: a client error Coral logs, never a 500.
    junk = b"[1, 2]"
    signed = "sha256=" + hmac.new(CORAL_SECRET.encode(), junk, hashlib.sha256).hexdigest()
    assert (
        client.post(
            f"/coral/sites/{site_name}/phase",
            data=junk,
            headers={"X-Coral-Signature": signed, "Content-Type": "application/json"},
        ).status_code
        == 400
    )
