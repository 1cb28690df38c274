"""The real web server (gunicorn, as `moderation run` starts it): oversized bodies, malformed requests, proxies."""

import http.client
import json
import os
import socket
import subprocess
import time
import uuid

import pytest

from moderation.runner import web_command
from tests.conftest import QUEUE, ROOT
from tests.support import free_port


class Server:
    """gunicorn started with `moderation run`'s own command line, on a free loopback port."""

    def __init__(self, tmp_path, redis_url, **settings):
        self.port = free_port()
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        # The app never reaches the database in these tests; a file that is never created is enough.
        self.env = {
            **os.environ,
            "MODERATION_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "MODERATION_REDIS_URL": redis_url,
            "MODERATION_QUEUE": QUEUE,
            "MODERATION_SECRET_KEY": "test-secret",
            "MODERATION_RATELIMIT_KEY_PREFIX": f"{QUEUE}-{uuid.uuid4().hex[:8]}",
        }
        self.env.update({f"MODERATION_{key}": str(value) for key, value in settings.items()})
        self.process = None

    def start(self):
        """Start gunicorn without waiting for it (servers boot side by side)."""
        command = web_command({"WEB_WORKERS": 1, "HOST": "127.0.0.1", "PORT": self.port})
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait(self):
        """Wait until the app answers."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                if self.request("GET", "/dashboard/login")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer:\n{self.log_path.read_text()}")

    def stop(self):
        """Stop gunicorn and wait for it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body) of one request through http.client, which sends the whole body first."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def raw(self, data):
        """Send raw bytes; return (status, headers, body) of the answer, read until the server closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(data)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _sep, body = answer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _c, value in (line.partition(":") for line in lines)}
        return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def servers(tmp_path_factory, redis_url):
    """Two gunicorns for the module: trusting no proxy (MODERATION_PROXY_COUNT=0, the default), and one proxy."""
    path = tmp_path_factory.mktemp("server")
    started = {"direct": Server(path, redis_url).start(), "proxied": Server(path, redis_url, PROXY_COUNT=1).start()}
    try:
        yield {name: server.wait() for name, server in started.items()}
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def server(servers):
    """The gunicorn that trusts no proxy."""
    return servers["direct"]


def json_error(body):
    answer = json.loads(body)
    assert isinstance(answer["error"], str) and answer["error"] and answer["fields"] == {}
    return answer


def test_a_20_mb_body_gets_a_readable_413(server):
    """A Python client sends the whole body before reading: it must read the 413, not a reset."""
    for path in ("/api/v1/comments", "/api/v1/comments/1/moderate"):
        status, headers, body = server.request(
            "POST",
            path,
            body=b"x" * (20 * 1024 * 1024),
            headers={"Content-Type": "application/json", "Authorization": "Bearer mk_any"},
        )
        assert status == 413 and headers["Content-Type"] == "application/json"
        assert json_error(body)["error"] == "Слишком большой запрос (не больше 64 КБ)."


def test_a_body_the_app_never_reads_does_not_reset_the_answer(server):
    """A route that refuses before reading (405 here) still lets the client read the answer."""
    status, headers, body = server.request(
        "POST", "/api/v1/comments/1", body=b"x" * (60 * 1024), headers={"Content-Type": "application/json"}
    )
    assert status == 405
    json_error(body)


def test_a_body_over_the_drain_bound_is_answered_and_closed(server):
    """Beyond 32 MB the server stops reading, answers 413 and closes: a client still sending may see a reset."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        started = time.monotonic()
        try:
            sock.sendall(b"x" * (40 * 1024 * 1024))
            answer = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
    assert time.monotonic() - started < 15
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % n for n in range(120)) + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX(y): v\r\n\r\n", 400),
        (b"GET /api/v1/comments/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x7f\r\n\r\n", 400),
        (b"NOT A REQUEST\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_json_errors(server, request_bytes, status):
    answer_status, headers, body = server.raw(request_bytes)
    assert answer_status == status
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    json_error(body)


def test_malformed_request_messages_are_russian(server):
    _status, _headers, body = server.raw(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert json.loads(body)["error"] == "Слишком длинная строка запроса."


def session_cookie(headers):
    """The Set-Cookie header of the session cookie."""
    cookies = [value for value in headers.get_all("Set-Cookie") or [] if value.startswith("session=")]
    assert cookies, headers
    return cookies[0]


def test_forwarded_proto_is_not_trusted_without_a_proxy(server):
    status, headers, _body = server.request("GET", "/dashboard/login", headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert "Secure" not in session_cookie(headers)
    assert "Strict-Transport-Security" not in headers


def test_forwarded_proto_is_trusted_behind_one_proxy(servers):
    proxied = servers["proxied"]
    status, headers, _body = proxied.request("GET", "/dashboard/login", headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert "Secure" in session_cookie(headers)
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    _status, plain, _body = proxied.request("GET", "/dashboard/login")
    assert "Secure" not in session_cookie(plain) and "Strict-Transport-Security" not in plain


def test_hsts_only_on_https_answers(client):
    """The app itself: Strict-Transport-Security on answers to HTTPS requests, never over plain HTTP."""
    secure = client.get("/dashboard/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/api/v1/comments/1", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/dashboard/login").headers
