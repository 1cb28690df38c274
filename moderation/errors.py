"""JSON errors for machine clients: never an HTML page, never a bare 500."""
import logging

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
JSON_PREFIXES = ("/api/", "/healthz")


def error_response(status, message, fields=None):
    """Build the contract's error body {"error", "fields"} with a status code."""
    response = jsonify({"error": str(message), "fields": fields or {}})
    response.status_code = status
    return response


MESSAGES = {
    400: _l("Bad request."),
    401: _l("A valid API key is required."),
    404: _l("Not found."),
    405: _l("Method not allowed."),
    415: _l("Unsupported content type."),
    429: _l("Too many requests. Please try again later."),
}


def _message_for(exc):
    """A short translated message for the common HTTP errors."""
    if exc.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
        return _("The request body is too large (at most %(limit)d KB).", limit=limit)
    return MESSAGES.get(exc.code, exc.name)


PAGE_MESSAGES = {
    400: _l("The form was not accepted: it may have expired. Go back, reload the page and try again."),
    403: _l("This page is for admins only."),
    404: _l("There is no such page."),
    429: _l("Too many attempts. Please wait a minute and try again."),
}


def _page_message(exc):
    """A sentence for a person in the dashboard, not a machine."""
    return PAGE_MESSAGES.get(exc.code, exc.name)


def _wants_json():
    return request.path.startswith(JSON_PREFIXES) or not request.accept_mimetypes.accept_html


def init_app(app):
    """Register handlers that answer JSON on API paths."""

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if not _wants_json():
            if request.path.startswith("/dashboard"):
                return render_template("dashboard/error.html", code=exc.code, message=_page_message(exc)), exc.code
            return exc
        response = error_response(exc.code, _message_for(exc))
        if isinstance(exc, RateLimitExceeded):
            response.headers["Retry-After"] = str(exc.limit.limit.get_expiry())  # the limit's window, seconds
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return _("Internal error. The request was not processed."), 500
        return error_response(500, _("Internal error. The request was not processed."))
