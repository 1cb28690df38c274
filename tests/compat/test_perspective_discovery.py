"""The Perspective API through Google's own client, google-api-python-client, as Perspective's docs use it.

Perspective is not in the library's bundled discovery cache, so the client is built from a discovery document
(commentanalyzer_v1alpha1.json, the two methods the service serves) with the service as its endpoint; it then
sends what it sends to Google (`?key=...&alt=json`) and raises its own HttpError on Google's error envelope.
"""

import json
import uuid
from pathlib import Path

import pytest
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from tests.compat.conftest import EXTRA, KINDS, STATUS, TEXTS, label_of, stored

DISCOVERY = Path(__file__).with_name("commentanalyzer_v1alpha1.json")
TEXT = TEXTS["discovery"]


def perspective(compat, key=None):
    """A Perspective client on the service, with the site's key (or another)."""
    return build_from_document(
        DISCOVERY.read_text(), developerKey=key or compat.key, client_options={"api_endpoint": f"{compat.base}/"}
    )


def error_of(raised):
    """The Google error envelope's `error` from an HttpError."""
    return json.loads(raised.value.content)["error"]


@pytest.mark.parametrize("kind", KINDS)
def test_analyze(compat, kind):
    """TOXICITY and SPAM in one request: each high for its own kind only; the comment is stored decided."""
    text = getattr(TEXT, kind)
    answer = (
        perspective(compat)
        .comments()
        .analyze(body={"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "SPAM": {}}})
        .execute()
    )
    toxicity = answer["attributeScores"]["TOXICITY"]["summaryScore"]
    spam = answer["attributeScores"]["SPAM"]["summaryScore"]
    assert toxicity["type"] == spam["type"] == "PROBABILITY"
    assert (toxicity["value"] > 0.8) == kind.endswith("insult"), (kind, toxicity)
    assert (spam["value"] > 0.8) == (kind == "spam"), (kind, spam)
    if kind != "spam":
        assert spam["value"] < 0.2
    if kind == "ordinary":
        assert toxicity["value"] < 0.3
    assert answer["languages"] == answer["detectedLanguages"]
    (row,) = stored(compat, text)
    assert row.status == STATUS[kind]


def test_threshold_and_spans(compat):
    """scoreThreshold leaves out an attribute under it; spanAnnotations adds the words behind the score."""
    answer = (
        perspective(compat)
        .comments()
        .analyze(
            body={
                "comment": {"text": TEXT.ru_insult + " "},
                "doNotStore": True,
                "spanAnnotations": True,
                "clientToken": "t-42",
                "requestedAttributes": {"TOXICITY": {}, "SPAM": {"scoreThreshold": 0.5}},
            }
        )
        .execute()
    )
    assert set(answer["attributeScores"]) == {"TOXICITY"}
    assert answer["clientToken"] == "t-42"
    spans = answer["attributeScores"]["TOXICITY"]["spanScores"]
    assert spans[0]["begin"] == 0 and spans[0]["end"] == len(TEXT.ru_insult) + 1
    assert all(0 <= s["begin"] < s["end"] <= len(TEXT.ru_insult) + 1 for s in spans)


def test_suggestscore(compat):
    """A client's verdict (SPAM 1) answers {clientToken} and becomes the site's spam label."""
    text, token = EXTRA["discovery_spam_feedback"], f"comment:{uuid.uuid4()}"
    answer = (
        perspective(compat)
        .comments()
        .suggestscore(
            body={
                "comment": {"text": text},
                "clientToken": token,
                "communityId": "Coral:https://news.example.kz/",
                "attributeScores": {"SPAM": {"summaryScore": {"value": 1}}},
            }
        )
        .execute()
    )
    assert answer == {"clientToken": token}
    assert [r.status for r in stored(compat, text)] == ["spam"]
    assert label_of(compat, text) == (True, None)


def test_unsupported_attribute(compat):
    """PROFANITY, which the service has no model for, is refused as Perspective refuses an attribute for a language:
    HttpError 400, errorType LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE; nothing is stored."""
    text = "Сен малғұн ақымақсың ғой, жап аузыңды"
    with pytest.raises(HttpError) as raised:
        perspective(compat).comments().analyze(
            body={"comment": {"text": text}, "requestedAttributes": {"PROFANITY": {}}}
        ).execute()
    assert raised.value.resp.status == 400
    error = error_of(raised)
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    (detail,) = [d for d in error["details"] if "errorType" in d]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["attribute"] == "PROFANITY"
    assert raised.value.error_details == error["details"]
    assert stored(compat, text) == []


def test_wrong_key(compat):
    """A key that is no site's: HttpError 400 with API_KEY_INVALID in the details, as Google answers."""
    with pytest.raises(HttpError) as raised:
        perspective(compat, key="mk_not-a-site-key").comments().analyze(
            body={"comment": {"text": "Привет"}, "requestedAttributes": {"TOXICITY": {}}}
        ).execute()
    assert raised.value.resp.status == 400
    error = error_of(raised)
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert [d["reason"] for d in error["details"] if "reason" in d] == ["API_KEY_INVALID"]
