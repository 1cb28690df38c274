"""Perspective-compatible API: POST /v1alpha1/comments:analyze?key=<site key> and :suggestscore.

Coral Talk (and any Perspective client) switches by changing its endpoint. Requests and answers follow
Perspective's JSON, errors its Google error envelope. TOXICITY and SPAM are scored by the service's models;
other Perspective attributes are refused as Perspective refuses an attribute for a language it lacks. The
language a client declares is not trusted (Coral says "en" for a Russian site): it is detected.
"""

import re

from flask import Blueprint, current_app, g, jsonify, request

from moderation.compat import comment_fields
from moderation.extensions import limit_key, limiter
from moderation.scoring.language import guess_language
from moderation.services import instant
from moderation.services.review import APPROVE, MARK_SPAM, REJECT

bp = Blueprint("perspective", __name__)

SCORED = {"TOXICITY": "toxicity", "SPAM": "spam"}  # attribute -> the reason code whose spans it explains
# Perspective's other attributes, which the service has no model for (refused, never guessed).
KNOWN = {
    "SEVERE_TOXICITY",
    "IDENTITY_ATTACK",
    "INSULT",
    "PROFANITY",
    "THREAT",
    "SEXUALLY_EXPLICIT",
    "FLIRTATION",
    "ATTACK_ON_AUTHOR",
    "ATTACK_ON_COMMENTER",
    "INCOHERENT",
    "INFLAMMATORY",
    "LIKELY_TO_REJECT",
    "OBSCENE",
    "UNSUBSTANTIAL",
    "TOXICITY_EXPERIMENTAL",
    "SEVERE_TOXICITY_EXPERIMENTAL",
}
TOXIC_FEEDBACK = {"TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT", "OBSCENE"}
ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
FEEDBACK_REASON = "insult"  # the built-in toxic reason a client's "toxic" verdict is recorded with


def perspective_error(
    message, error_type="INVALID_REQUEST", code=400, status="INVALID_ARGUMENT", reason=None, **detail
):
    """Google's error envelope, as Perspective answers; `reason` is an ErrorInfo's (API_KEY_INVALID)."""
    details = [{"@type": ERROR_TYPE, "errorType": error_type, **detail}] if error_type else []
    if reason:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
        )
    response = jsonify({"error": {"code": code, "message": message, "status": status, "details": details}})
    response.status_code = code
    return response


@bp.before_request
def authenticate():
    """The site's key in `?key=` (or Google's X-Goog-Api-Key header), as Perspective clients send it."""
    g.site = instant.site_for_key(request.args.get("key") or request.headers.get("X-Goog-Api-Key"))
    if g.site is None:
        return perspective_error("API key not valid. Please pass a valid API key.", None, reason="API_KEY_INVALID")
    return None


@bp.errorhandler(413)
def too_large(_error):
    return perspective_error(
        f"Comment text was too many bytes. Limit: {instant.TEXT_MAX_BYTES}.",
        "COMMENT_TOO_LONG",
        413,
        "FAILED_PRECONDITION",
    )


@bp.errorhandler(429)
def too_many(_error):
    return perspective_error("Quota exceeded.", None, 429, "RESOURCE_EXHAUSTED")


def _site_limit():
    return current_app.config["API_KEY_LIMIT"]


def _site_key():
    return limit_key("site", g.site.id)


def read_comment(body):
    """(text, error response) from a request body's `comment.text`."""
    comment = body.get("comment")
    text = comment.get("text") if isinstance(comment, dict) else None
    if not isinstance(text, str):
        return None, perspective_error("Comment must be non-empty.", "COMMENT_EMPTY")
    if len(text.encode("utf-8")) > instant.TEXT_MAX_BYTES:
        return None, perspective_error(
            f"Comment text was too many bytes. Value ({len(text.encode('utf-8'))}) exceeded limit "
            f"({instant.TEXT_MAX_BYTES}).",
            "COMMENT_TOO_LONG",
        )
    if not text.strip():
        return None, perspective_error("Comment must be non-empty.", "COMMENT_EMPTY")
    return text, None


def json_body():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/v1alpha1/comments:analyze")
@bp.post("/comments:analyze")
@limiter.limit(_site_limit, key_func=_site_key)
def analyze():
    """Score a comment's TOXICITY and SPAM; unless doNotStore, store it, decided, in the moderators' queue."""
    body = json_body()
    if body is None:
        return perspective_error("Invalid JSON payload received.")
    text, error = read_comment(body)
    if error:
        return error
    requested = body.get("requestedAttributes")
    if not isinstance(requested, dict) or not requested:
        return perspective_error("No requested attributes.", "NO_REQUESTED_ATTRIBUTES")
    lang = _language(text)
    for name in requested:
        if name not in SCORED:
            if name in KNOWN:
                return perspective_error(
                    f"Attribute {name} does not support request languages: {lang}",
                    "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                    languageNotSupportedByAttributeError={"detectedLanguages": [lang], "attribute": name},
                )
            return perspective_error(f"Unknown requested attribute: {name}")
    store = body.get("doNotStore") is not True
    judgement = instant.judge(g.site, comment_fields(text), store=store)
    scores = {"TOXICITY": judgement.toxicity, "SPAM": judgement.spam}
    answer = {"attributeScores": {}, "languages": [lang], "detectedLanguages": [lang]}
    for name, options in requested.items():
        threshold = options.get("scoreThreshold") if isinstance(options, dict) else None
        if isinstance(threshold, (int, float)) and scores[name] < threshold:
            continue  # as Perspective: below the client's threshold, the attribute is left out
        entry = {"summaryScore": {"value": scores[name], "type": "PROBABILITY"}}
        if body.get("spanAnnotations"):
            entry["spanScores"] = _spans(text, scores[name], judgement.reasons, SCORED[name])
        answer["attributeScores"][name] = entry
    if isinstance(body.get("clientToken"), str):
        answer["clientToken"] = body["clientToken"]
    return jsonify(answer)


@bp.post("/v1alpha1/comments:suggestscore")
@bp.post("/comments:suggestscore")
@limiter.limit(_site_limit, key_func=_site_key)
def suggest_score():
    """A client's verdict on a comment (Coral sends one when its moderators approve or reject): the site's label."""
    body = json_body()
    if body is None:
        return perspective_error("Invalid JSON payload received.")
    text, error = read_comment(body)
    if error:
        return error
    scores = body.get("attributeScores")
    if not isinstance(scores, dict) or not scores:
        return perspective_error("attributeScores must name at least one attribute.")
    verdict = _verdict(scores)
    if verdict is None:
        return perspective_error("attributeScores needs a summaryScore value between 0 and 1.")
    action, reason = verdict
    instant.record_verdict(g.site, comment_fields(text), action, reason)
    return jsonify({"clientToken": body["clientToken"]} if isinstance(body.get("clientToken"), str) else {})


def _verdict(scores):
    """(action, reason) a client's attribute scores ask for: spam first, then toxic, else an approval.

    Coral has sent both its models' attributes (0 or 1) and, in older versions, APPROVED or DELETED with 1.
    """
    values = {}
    for name, entry in scores.items():
        value = (entry.get("summaryScore") or {}).get("value") if isinstance(entry, dict) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            return None
        values[str(name).upper()] = value
    if values.get("SPAM", 0) >= 0.5:
        return MARK_SPAM, None
    if any(values.get(name, 0) >= 0.5 for name in TOXIC_FEEDBACK):
        return REJECT, FEEDBACK_REASON
    if values.get("DELETED", 0) >= 0.5 or values.get("REJECTED", 0) >= 0.5:
        return REJECT, None  # removed for a reason the client does not say: recorded, teaches nothing
    return APPROVE, None


def _language(text):
    return guess_language(text) or "ru"


def _spans(text, score, reasons, code):
    """The whole comment with its score, then each word that pushed the score up, where it stands in the text."""
    spans = [{"begin": 0, "end": len(text), "score": {"value": score, "type": "PROBABILITY"}}]
    lowered = text.lower()
    for reason in reasons:
        if reason.get("code") != code:
            continue
        for term in reason.get("spans") or []:
            for found in re.finditer(re.escape(str(term).lower()), lowered):
                spans.append(
                    {
                        "begin": found.start(),
                        "end": found.end(),
                        "score": {"value": reason.get("score") or score, "type": "PROBABILITY"},
                    }
                )
    return spans
