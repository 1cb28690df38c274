"""Comment routes: intake, status, and an article's approved comments."""

import threading

from flask import g, jsonify, request
from flask_babel import gettext as _

from moderation.api import bp
from moderation.api.auth import site_required
from moderation.api.forms import FIELDS, CommentForm, clean, formdata_from_json
from moderation.api.limits import Rule, rate_limited, site_key
from moderation.errors import error_response
from moderation.extensions import limit_key
from moderation.models import PENDING
from moderation.services import intake

PAGE_SIZE, MAX_PAGE_SIZE = 100, 500


def body_field(name, limit):
    """A text field of the body as the site sent it (JSON or form), stripped and capped; '' when absent."""
    body = request.get_json(silent=True) if request.is_json else request.form
    value = body.get(name) if isinstance(body, dict) or hasattr(body, "get") else None
    return value.strip()[:limit] if isinstance(value, str) else ""


def author_ip():
    """The reader's address as the site sent it (JSON or form), for rate limiting; '' when absent."""
    return body_field("author_ip", 45)


_forms = threading.local()


def reusable_form(form_class):
    """This thread's instance of a form class. Building a WTForms form binds each of its fields anew, a sixth of
    a comment's cost at intake; processing a form again gives every field its new data and errors."""
    forms = _forms.__dict__.setdefault("by_class", {})
    if form_class not in forms:
        forms[form_class] = form_class()
    return forms[form_class]


def read_form(form_class=CommentForm, fields=FIELDS):
    """Parse a JSON or form-encoded body into a validated form; return (form, early error response)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, error_response(400, _("Malformed JSON: expected an object."))
        formdata, type_errors = formdata_from_json(body, fields)
    else:
        formdata, type_errors = request.form, {}
    form = reusable_form(form_class)
    form.process(formdata)  # every field's data and errors anew
    form.validate()
    fields = {name: messages[0] for name, messages in form.errors.items()}
    fields.update(type_errors)
    if fields:
        return None, error_response(400, _("Please correct the errors in the form."), fields)
    return form, None


@bp.post("/comments")
@site_required
@rate_limited(
    Rule("API_KEY_LIMIT", site_key),
    Rule("API_AUTHOR_LIMIT", lambda: limit_key("author", author_ip()), exempt=lambda: not author_ip()),
)
def create_comment():
    """Accept a comment for moderation: 202 with its id once it is stored."""
    form, error = read_form()
    if error is not None:
        return error
    taken = intake.take(g.site, form.cleaned())
    if taken.duplicate_of is not None:
        # With the id of the comment already taken: a retry whose first answer was lost needs it.
        return error_response(
            409, _("Duplicate comment detected; it looks as though you have already said that!"), id=taken.duplicate_of
        )
    if taken.wait:
        response = error_response(429, _("You are posting comments too quickly. Slow down."))
        response.headers["Retry-After"] = str(taken.wait)
        return response
    comment_id = taken.comment_id
    response = jsonify({"id": comment_id, "status": PENDING})
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/comments/{comment_id}"
    return response


@bp.get("/comments/<int(max=2147483647):comment_id>")
@site_required
def show_comment(comment_id):
    """The status of one of the site's comments, with its scores and reasons."""
    comment = intake.get_comment(g.site, comment_id)
    if comment is None:
        return error_response(404, _("Comment not found."))
    return jsonify(
        {
            "id": comment.id,
            "status": comment.status,
            "scores": {"spam": comment.spam_score, "toxicity": comment.toxicity_score},
            "reasons": comment.reasons or [],
            "model_version": comment.model_version,
        }
    )


@bp.get("/articles/<path:article_id>/comments")
@site_required
def article_comments(article_id):
    """Approved comments of an article, oldest first, a page at a time (`after` = the last id seen)."""
    if article_id != clean(article_id) or len(article_id) > 200:
        return error_response(404, _("Not found."))
    after = request.args.get("after", 0, type=int)
    limit = min(max(request.args.get("limit", PAGE_SIZE, type=int), 1), MAX_PAGE_SIZE)
    comments = intake.approved_comments(g.site, article_id, after=max(after, 0), limit=limit)
    next_after = comments[-1].id if len(comments) == limit else None
    return jsonify(
        {
            "article_id": article_id,
            "next_after": next_after,
            "comments": [
                {
                    "id": c.id,
                    "name": c.name,
                    "text": c.text,
                    "parent_id": c.parent_id,
                    "created_at": c.created_at.isoformat() + "Z",
                }
                for c in comments
            ],
        }
    )
