"""Request bodies over the limit: refused with 413 before any view, after reading them so the client can listen."""

import io
import time

from flask import abort, request

DRAIN_BYTES = 32 * 1024 * 1024  # read at most this much of a refused body ...
DRAIN_SECONDS = 5.0  # ... for at most this long; beyond either the server answers and closes
CHUNK = 64 * 1024


def discard(stream, limit, deadline):
    """Read and drop up to `limit` bytes of a stream until the deadline; return whether it reached its end."""
    left = limit
    while left > 0 and time.monotonic() < deadline:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            return True
        left -= len(chunk)
    return False


class DrainRequestBody:
    """WSGI middleware: read what the app left unread of a request body before the server answers.

    A server that answers without reading the body and closes the socket with data still unread makes the
    kernel reset the connection, and a client that sends its whole body before reading (Python's urllib
    and requests, most server-side HTTP clients) sees a broken pipe instead of the answer.
    """

    def __init__(self, app, limit, drain_bytes=DRAIN_BYTES, drain_seconds=DRAIN_SECONDS):
        self.app, self.limit = app, limit
        self.drain_bytes, self.drain_seconds = drain_bytes, drain_seconds

    def __call__(self, environ, start_response):
        """Read an oversized body first (the app then refuses it unread), or the rest of any body afterwards."""
        stream = environ.get("wsgi.input")
        length = _content_length(environ)
        if stream is not None and length is not None and length > self.limit:
            discard(stream, min(length, self.drain_bytes), time.monotonic() + self.drain_seconds)
            environ["wsgi.input"] = io.BytesIO()  # refused_oversized answers 413 from the declared length
            return self.app(environ, start_response)
        result = self.app(environ, start_response)
        # Only a server that marks its input as ending with the body (gunicorn, chunked bodies) can be read
        # to the end safely; elsewhere a read past Content-Length could wait on the socket.
        if stream is not None and environ.get("wsgi.input_terminated"):
            discard(stream, self.drain_bytes, time.monotonic() + self.drain_seconds)
        return result


def _content_length(environ):
    """The declared Content-Length, or None when absent or not a number."""
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def refuse_oversized():
    """Answer 413 before any view, sign-in check or rate limit when the declared body is over the limit."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def init_app(app):
    """Install the middleware and the early 413."""
    app.wsgi_app = DrainRequestBody(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    app.before_request(refuse_oversized)
