"""JSON errors for machine clients: never an HTML page, never a bare 500."""
import logging

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
JSON_PREFIXES = ("/api/", "/healthz")


def error_response(status, message, fields=None):
    """Build the contract's error body {"error", "fields"} with a status code."""
    response = jsonify({"error": str(message), "fields": fields or {}})
    response.status_code = status
    return response


def _message_for(exc):
    """A short translated message for the common HTTP errors."""
    messages = {
        400: _("Bad request."),
        401: _("A valid API key is required."),
        404: _("Not found."),
        405: _("Method not allowed."),
        413: _("The request body is too large (at most %(limit)d KB).", limit=_limit_kb()),
        415: _("Unsupported content type."),
        429: _("Too many requests. Please try again later."),
    }
    return messages.get(exc.code, exc.name)


def _limit_kb():
    from flask import current_app

    return current_app.config["MAX_CONTENT_LENGTH"] // 1024


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
