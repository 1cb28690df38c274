"""Coral Talk's external moderation phase: POST /coral/sites/<site name>/phase.

In Coral's admin (Moderation → External moderation phases) the phase's URL is this one, and the signing secret
Coral shows is given to the service (`moderation site coral SITE SECRET`). Coral signs each request with
X-Coral-Signature: sha256=<hex HMAC-SHA256 of the raw body> (several, comma-separated, while a rolled secret is
still valid). The comment is scored at once, stored decided, and the answer is the shape Coral validates:
a status (APPROVED, SYSTEM_WITHHELD for a moderator, REJECTED for spam) and FLAG actions for toxic or spam.
"""

import hashlib
import hmac
import html
import re

from flask import Blueprint, current_app, g, jsonify, request

from moderation.compat import comment_fields
from moderation.extensions import limit_key, limiter
from moderation.models import APPROVED, SPAM
from moderation.services import instant, sites

bp = Blueprint("coral", __name__, url_prefix="/coral")

TAGS = re.compile(r"<[^>]*>")


def coral_error(message, code):
    """Coral logs any answer but 2xx and goes on without this phase; the message is for its logs."""
    response = jsonify({"error": message})
    response.status_code = code
    return response


def signed(secret, header, body):
    """Whether one of the header's `sha256=` signatures is the body's, with this secret."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    candidates = [part.strip()[len("sha256=") :] for part in header.split(",") if part.strip().startswith("sha256=")]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


@bp.errorhandler(413)
def too_large(_error):
    return coral_error(f"comment over {instant.TEXT_MAX_BYTES} bytes", 413)


@bp.errorhandler(429)
def too_many(_error):
    return coral_error("too many requests for this site", 429)


def _site_limit():
    return current_app.config["API_KEY_LIMIT"]


def _site_key():
    return limit_key("site", g.site.id)


@bp.before_request
def authenticate():
    """The site named in the URL, if it has a Coral secret and the request is signed with it."""
    site = sites.find_site((request.view_args or {}).get("site_name", ""))
    body = request.get_data(cache=True)
    if (
        site is None
        or not site.coral_secret
        or not signed(site.coral_secret, request.headers.get("X-Coral-Signature", ""), body)
    ):
        return coral_error("unknown site or invalid X-Coral-Signature", 401)
    g.site = site
    return None


@bp.post("/sites/<path:site_name>/phase")
@limiter.limit(_site_limit, key_func=_site_key)
def phase(site_name):
    """Decide a new or edited Coral comment now; 204 (no opinion) for what is not a comment to judge."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("comment"), dict):
        return coral_error("expected Coral's moderation request: {action, comment: {body}, author, story}", 400)
    text = html.unescape(TAGS.sub(" ", str(body["comment"].get("body") or ""))).strip()
    if not text:
        return "", 204
    if len(text.encode("utf-8")) > instant.TEXT_MAX_BYTES:
        return coral_error(f"comment over {instant.TEXT_MAX_BYTES} bytes", 413)
    author = body.get("author") if isinstance(body.get("author"), dict) else {}
    story = body.get("story") if isinstance(body.get("story"), dict) else {}
    fields = comment_fields(
        text,
        name=_author_name(author),
        article_id=_string(story.get("id")),
        article_url=_string(story.get("url")),
        parent_id=_string(body["comment"].get("parentID")),
    )
    judgement = instant.judge(g.site, fields)
    return jsonify(coral_answer(judgement))


def coral_answer(judgement):
    """The answer Coral's schema accepts: status, and FLAG actions saying why."""
    codes = {r.get("code") for r in judgement.reasons}
    actions = []
    if judgement.status == SPAM or "spam" in codes:
        actions.append({"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"})
    if "toxicity" in codes:
        actions.append({"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"})
    status = {APPROVED: "APPROVED", SPAM: "REJECTED"}.get(judgement.status, "SYSTEM_WITHHELD")
    return {"status": status, "actions": actions} if actions else {"status": status}


def _author_name(author):
    """Coral sends its author's id and role, not a name: the queue shows «Coral <id>»."""
    author_id = _string(author.get("id"))
    return f"Coral {author_id}" if author_id else None


def _string(value):
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
