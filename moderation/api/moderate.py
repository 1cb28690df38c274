"""The moderators' API: the dashboard's actions for bots and tools, with a moderator's token; and the site's own
moderation, with its key."""

from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from moderation.api import bp
from moderation.api.auth import bearer_required, site_required
from moderation.api.limits import Rule, rate_limited, site_key
from moderation.db import db
from moderation.errors import error_response
from moderation.models import Comment
from moderation.services import intake, review, users

FIELD_MESSAGES = {
    "action": _l("The action must be approve, reject or spam."),
    "reason": _l("A rejection needs a known reason code."),
}


# A moderator or admin, by their API token.
moderator_required = bearer_required(users.user_for_token, _l("A valid moderator token is required."), "user")


@bp.post("/comments/<int(max=2147483647):comment_id>/moderate")
@moderator_required
def moderate_comment(comment_id):
    """Approve, reject with a reason, or mark a comment as spam: the same effect, audit and label as the dashboard."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, _("Malformed JSON: expected an object."))
    action, reason = body.get("action"), body.get("reason")
    if not isinstance(action, str) or action not in review.DECISIONS:
        return error_response(
            400, _("Please correct the errors in the form."), {"action": str(FIELD_MESSAGES["action"])}
        )
    if reason is not None and not isinstance(reason, str):
        return error_response(
            400, _("Please correct the errors in the form."), {"reason": str(FIELD_MESSAGES["reason"])}
        )
    if db.session.get(Comment, comment_id) is None:
        return error_response(404, _("Comment not found."))
    try:
        _batch, changed = review.moderate([comment_id], g.user, action, reason, via="api")
    except review.ReviewError as exc:
        return error_response(
            400, _("Please correct the errors in the form."), {exc.field: str(FIELD_MESSAGES.get(exc.field, exc))}
        )
    if not changed:  # deleted between the check and the update
        return error_response(404, _("Comment not found."))
    comment = changed[0]
    return jsonify(
        {"id": comment.id, "status": comment.status, "reason": comment.reject_reason, "moderated_by": g.user.login}
    )


SITE_STATUS_MESSAGE = _l("The status must be approved, held, spam or rejected.")


@bp.post("/comments/<int(max=2147483647):comment_id>/status")
@site_required
@rate_limited(Rule("API_KEY_LIMIT", site_key))
def site_status(comment_id):
    """The site's own moderation of one of its comments (approved, held, spam, rejected in its admin): the same
    status change, audit entry, training label and webhook event as a moderator's, recorded as the site's."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, _("Malformed JSON: expected an object."))
    status, reason = body.get("status"), body.get("reason")
    if not isinstance(status, str) or status not in review.SITE_ACTIONS:
        return error_response(400, _("Please correct the errors in the form."), {"status": str(SITE_STATUS_MESSAGE)})
    if reason is not None and not isinstance(reason, str):
        return error_response(
            400, _("Please correct the errors in the form."), {"reason": str(FIELD_MESSAGES["reason"])}
        )
    if intake.get_comment(g.site, comment_id) is None:
        return error_response(404, _("Comment not found."))
    try:
        _batch, changed = review.moderate([comment_id], None, review.SITE_ACTIONS[status], reason, via="site")
    except review.ReviewError as exc:
        return error_response(
            400, _("Please correct the errors in the form."), {exc.field: str(FIELD_MESSAGES.get(exc.field, exc))}
        )
    comment = changed[0] if changed else intake.get_comment(g.site, comment_id)  # unchanged: it had that status
    if comment is None:
        return error_response(404, _("Comment not found."))
    return jsonify({"id": comment.id, "status": comment.status, "reason": comment.reject_reason})
