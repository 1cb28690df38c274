"""JSON errors for machine clients: never an HTML page, never a bare 500."""

import logging

from flask import current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import AnonymousUserMixin
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from moderation.db import db

log = logging.getLogger(__name__)
JSON_PREFIXES = ("/api/", "/healthz")
# Seconds a client should wait before trying again after a database outage (a restart or a failover).
DATABASE_RETRY_AFTER = 30


def error_response(status, message, fields=None, **extra):
    """Build the contract's error body {"error", "fields"} (and any `extra` keys) with a status code."""
    response = jsonify({"error": str(message), "fields": fields or {}, **extra})
    response.status_code = status
    return response


MESSAGES = {
    400: _l("Bad request."),
    401: _l("A valid API key is required."),
    404: _l("Not found."),
    405: _l("Method not allowed."),
    414: _l("The request line is too long."),
    415: _l("Unsupported content type."),
    429: _l("Too many requests. Please try again later."),
    431: _l("The request headers are too large or too many."),
    500: _l("Internal error. The request was not processed."),
    501: _l("This transfer encoding is not supported."),
}


def status_name(status):
    """The standard English name of an HTTP status ("Bad Request")."""
    return HTTP_STATUS_CODES.get(status, "Error")


def message_for_status(status):
    """A short translated message for an HTTP error status (the web server's own refusals use it too)."""
    if status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
        return _("The request body is too large (at most %(limit)d KB).", limit=limit)
    return str(MESSAGES.get(status, status_name(status)))


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


def is_database_outage(exc):
    """Whether a SQLAlchemy error means the database cannot be reached or used now, rather than a bug."""
    if isinstance(exc, sa_exc.TimeoutError):  # every pooled connection busy for pool_timeout seconds
        return True
    # OperationalError: refused, timed out, shut down, locked; InterfaceError: the driver lost the connection.
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def _database_unavailable():
    """503 with Retry-After: JSON for machines, the dashboard's error page for people."""
    try:
        db.session.rollback()  # the failed transaction must not be reused by this or the next request
    except Exception:  # the connection is gone; the pool discards it and the session starts afresh
        log.debug("rollback after a database error failed", exc_info=True)
    message = _("The database is temporarily unavailable. Please try again later.")
    if _wants_json():
        response = error_response(503, message)
    elif request.path.startswith("/dashboard"):
        g._login_user = AnonymousUserMixin()  # the page's header shows the user, and loading them needs the database
        response = current_app.make_response((render_template("dashboard/error.html", code=503, message=message), 503))
    else:
        response = current_app.make_response((message, 503))
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def init_app(app):
    """Register handlers that answer JSON on API paths."""

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if not _wants_json():
            if request.path.startswith("/dashboard"):
                return render_template("dashboard/error.html", code=exc.code, message=_page_message(exc)), exc.code
            return exc
        response = error_response(exc.code, message_for_status(exc.code))
        if isinstance(exc, RateLimitExceeded):
            response.headers["Retry-After"] = str(exc.limit.limit.get_expiry())  # the limit's window, seconds
        return response

    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_error(exc):
        """503 while the database is down or unreachable; any other database error is a 500 like the rest."""
        if not is_database_outage(exc):
            return unexpected_error(exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        return _database_unavailable()

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return message_for_status(500), 500
        return error_response(500, message_for_status(500))
