"""JSON errors for machine clients: never an HTML page, never a bare 500."""
import logging

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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


def _wants_json():
    return request.path.startswith(JSON_PREFIXES) or not request.accept_mimetypes.accept_html


def init_app(app):
    """Register handlers that answer JSON on API paths."""

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if not _wants_json():
            return exc
        return error_response(exc.code, _message_for(exc))

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return _("Internal error. The request was not processed."), 500
        return error_response(500, _("Internal error. The request was not processed."))
