"""Coral Talk's external moderation phase against POST /coral/sites/<site>/phase, requests built as Coral builds
them (services/comments/pipeline/phases/external.ts and services/fetch).

Coral posts `JSON.stringify(request, null, 2)` signed with X-Coral-Signature: sha256=<hex HMAC-SHA256 of that
exact body> (one signature per active secret, comma-joined, while a rolled secret is still valid), and validates
the answer with a Joi schema: an answer outside it makes Coral log an error and skip the phase. A small mirror of
that schema checks every answer here, stricter in one way: no key Coral would strip is allowed either.
"""

import hashlib
import hmac
import json
import uuid

import pytest

from tests.compat.conftest import EXTRA, KINDS, SITE, STATUS, TEXTS, send, stored

TEXT = TEXTS["coral"]
TENANT_ID, SITE_ID, STORY_ID = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
# Coral's answer for each kind: a moderator's queue for insults, rejected for spam, approved otherwise.
EXPECTED = {
    "ru_insult": ("SYSTEM_WITHHELD", ["COMMENT_DETECTED_TOXIC"]),
    "kz_insult": ("SYSTEM_WITHHELD", ["COMMENT_DETECTED_TOXIC"]),
    "spam": ("REJECTED", ["COMMENT_DETECTED_SPAM"]),
    "ordinary": ("APPROVED", []),
}

# The Joi schema of external.ts (ExternalModerationResponseSchema), as sets of the values it allows.
STATUSES = {"NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD"}  # GQLCOMMENT_STATUS keys, case-sensitive
ACTION_TYPES = {"FLAG"}
FLAG_REASONS = {"COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"}
TAGS = {"FEATURED", "STAFF"}


def schema_errors(answer):
    """What Coral's response schema (and our no-extra-keys rule) finds wrong in an answer; [] when valid."""
    if not isinstance(answer, dict):
        return ["the answer is not an object"]
    errors = [f"unexpected key {key!r}" for key in answer if key not in {"actions", "status", "tags"}]
    if "status" in answer and answer["status"] not in STATUSES:
        errors.append(f"status {answer['status']!r}")
    actions = answer.get("actions", [])
    if not isinstance(actions, list):
        errors.append("actions is not an array")
        actions = []
    for action in actions:
        if not isinstance(action, dict):
            errors.append(f"action {action!r} is not an object")
            continue
        errors += [f"unexpected action key {key!r}" for key in action if key not in {"actionType", "reason"}]
        if action.get("actionType") not in ACTION_TYPES:
            errors.append(f"actionType {action.get('actionType')!r}")
        if action.get("reason") not in FLAG_REASONS:
            errors.append(f"reason {action.get('reason')!r}")
    tags = answer.get("tags", [])
    if not isinstance(tags, list) or any(tag not in TAGS for tag in tags):
        errors.append(f"tags {tags!r}")
    return errors


def test_schema_mirror():
    """The mirror accepts what Coral's spec accepts and refuses what it refuses."""
    for valid in (
        {},
        {"status": "NONE"},
        {"status": "SYSTEM_WITHHELD"},
        {"tags": ["FEATURED"]},
        {"actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]},
    ):
        assert schema_errors(valid) == [], valid
    for invalid in (
        {"status": "approved"},
        {"status": "fail"},
        {"tags": ["NOT_REAL"]},
        {"tags": [""]},
        {"actions": [{"actionType": "BAN", "reason": "COMMENT_DETECTED_SPAM"}]},
        {"actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_LINKS"}]},
    ):
        assert schema_errors(invalid), invalid


def coral_request(text, author_id=None):
    """The body Coral sends for a new comment (HTML format), serialised as Coral serialises it."""
    request = {
        "action": "NEW",
        "comment": {"body": f"<p>{text}</p>", "parentID": None},
        "author": {"id": author_id or str(uuid.uuid4()), "role": "COMMENTER"},
        "story": {"id": STORY_ID, "url": "https://news.example.kz/2026/festival"},
        "site": {"id": SITE_ID},
        "tenantID": TENANT_ID,
        "tenantDomain": "news.example.kz",
    }
    return json.dumps(request, indent=2, ensure_ascii=False).encode("utf-8")


def signature(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def phase(compat, body, signatures, site=SITE):
    """POST to the phase URL with Coral's headers: (status, parsed answer or None)."""
    status, _headers, raw = send(
        "POST",
        f"{compat.base}/coral/sites/{site}/phase",
        body,
        {"Content-Type": "application/json", "User-Agent": "Coral Moderation/9.0.0", "X-Coral-Signature": signatures},
    )
    return status, json.loads(raw) if raw else None


@pytest.mark.parametrize("kind", KINDS)
def test_phase(compat, kind):
    """Each kind gets the status and flags Coral acts on, in the shape its schema accepts; stored decided."""
    author = str(uuid.uuid4())
    body = coral_request(getattr(TEXT, kind), author)
    status, answer = phase(compat, body, signature(compat.coral_secret, body))
    assert status == 200, answer
    assert schema_errors(answer) == []
    expected_status, expected_flags = EXPECTED[kind]
    assert answer["status"] == expected_status
    assert [a["reason"] for a in answer.get("actions", [])] == expected_flags
    (row,) = stored(compat, getattr(TEXT, kind))  # the HTML's text, without the tags
    assert row.status == STATUS[kind] and row.name == f"Coral {author}"


def test_rolled_secret(compat):
    """While a rolled secret is valid Coral signs with both (old one first): one good signature is enough."""
    body = coral_request(EXTRA["coral_rolled_secret"])
    old = signature("empsec_" + "0" * 64, body)
    status, answer = phase(compat, body, f"{old},{signature(compat.coral_secret, body)}")
    assert (status, answer) == (200, {"status": "APPROVED"})


def test_forged_requests(compat):
    """A wrong signature, a signature of another body, none at all, or an unknown site: 401, nothing stored."""
    text = EXTRA["coral_forged"]
    body = coral_request(text)
    other = coral_request(text + " ")
    attempts = (
        (SITE, signature("empsec_" + "1" * 64, body)),
        (SITE, signature(compat.coral_secret, other)),
        (SITE, ""),
        ("unknown.example.kz", signature(compat.coral_secret, body)),
    )
    for site, signatures in attempts:
        status, answer = phase(compat, body, signatures, site)
        assert status == 401, (site, signatures, answer)
    assert stored(compat, text) == []
