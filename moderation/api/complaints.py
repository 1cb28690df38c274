"""Readers' complaints about a comment, confirmed at once: the site passes them on, server to server."""

from flask import current_app, g, jsonify
from flask_babel import gettext as _

from moderation.api import bp
from moderation.api.auth import site_required
from moderation.api.comments import body_field, read_form
from moderation.api.forms import COMPLAINT_FIELDS, ComplaintForm, clean
from moderation.api.limits import Rule, rate_limited, site_key
from moderation.errors import error_response
from moderation.extensions import limit_key
from moderation.services import complaints, intake


def reporter_key():
    """The rate-limit key of the complaining reader: their keyed hash, never the reader in clear."""
    reporter = clean(body_field("reporter", complaints.REPORTER_MAX))  # as stored: no lone surrogates to hash
    return limit_key("reporter", complaints.reporter_hash(g.site.id, reporter, current_app.config["SECRET_KEY"]))


@bp.post("/comments/<int(max=2147483647):comment_id>/reports")
@site_required
@rate_limited(
    Rule("API_KEY_LIMIT", site_key),
    Rule("API_REPORTER_LIMIT", reporter_key, exempt=lambda: not body_field("reporter", complaints.REPORTER_MAX)),
)
def report_comment(comment_id):
    """A reader's complaint about a comment: 201 with the receipt, or 200 with theirs if they had complained."""
    if intake.get_comment(g.site, comment_id) is None:
        return error_response(404, _("Comment not found."))
    form, error = read_form(ComplaintForm, COMPLAINT_FIELDS)
    if error is not None:
        return error
    receipt = complaints.file_complaint(
        g.site, comment_id, form.reporter.data, form.reason.data, form.text.data, current_app.config["SECRET_KEY"]
    )
    if receipt is None:  # deleted since the check
        return error_response(404, _("Comment not found."))
    response = jsonify(
        {
            "id": receipt.id,
            "comment_id": receipt.comment_id,
            "received_at": receipt.received_at.isoformat() + "Z",
            "reports": receipt.reports,
        }
    )
    response.status_code = 201 if receipt.created else 200
    return response
