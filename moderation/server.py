"""gunicorn's sync worker, answering the requests gunicorn itself refuses in the API's JSON error shape."""

import json

from gunicorn.workers.sync import SyncWorker


class JsonErrorWorker(SyncWorker):
    """A sync worker whose answers to malformed requests are `{"error", "fields"}` JSON, not an HTML page."""

    def handle_error(self, req, client, addr, exc):
        """gunicorn's own handling (its status for each error, its logs), with the answer written as JSON."""
        super().handle_error(req, _JsonErrorSocket(client, self.error_body), addr, exc)

    def error_body(self, status):
        """The JSON body for a status, worded by the app (Russian, its default: the request could not be read)."""
        from moderation import errors

        try:
            with self.wsgi.test_request_context("/"):
                message = errors.message_for_status(status)
        except Exception:  # never fail while answering a failure; gunicorn logs the request either way
            self.log.debug("no translated message for %s", status, exc_info=True)
            message = errors.status_name(status)
        return json.dumps({"error": message, "fields": {}}, ensure_ascii=False).encode()


class _JsonErrorSocket:
    """The client socket as gunicorn's error writer sees it: its HTML answer is replaced by JSON.

    gunicorn writes the whole answer with one sendall (util.write_error); its first line carries the status
    gunicorn chose, which is kept. Everything else is the real socket's.
    """

    def __init__(self, sock, body_for):
        self._sock, self._body_for = sock, body_for

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data, *args):
        """Send a JSON answer with the status of gunicorn's HTML one."""
        status_line = data.split(b"\r\n", 1)[0].decode("latin-1")  # "HTTP/1.1 414 URI Too Long"
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            return self._sock.sendall(data, *args)
        body = self._body_for(status)
        head = (
            f"{status_line}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return self._sock.sendall(head.encode("latin-1") + body, *args)
