"""A database that is down or silent answers 503 with Retry-After, never a bare 500 or a hung request."""

import socket
import time

import pytest

from moderation import create_app
from tests.conftest import REDIS_URL, base_config
from tests.support import free_port
from tests.web.dashboard_support import csrf_token, signed_in_client

MESSAGE_RU = "База данных временно недоступна. Повторите запрос позже."


@pytest.fixture
def dead_database_url():
    """A PostgreSQL URL on a loopback port where nothing listens: every connection is refused."""
    return f"postgresql://postgres@127.0.0.1:{free_port()}/test"


@pytest.fixture
def silent_database_url():
    """A PostgreSQL URL on a port that accepts connections but never answers, as a hung host would."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes the handshakes; nobody ever reads or answers
        yield f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/test"


def outage_app(url, **extra):
    return create_app(base_config(url, REDIS_URL, **extra))


def signed_in(client, app):
    """Give the client the session cookie of a moderator signed in on a working app (same secret key)."""
    live_client, _login = signed_in_client(app)
    client.set_cookie("session", live_client.get_cookie("session").value)
    return client


def assert_unavailable_json(response, message=MESSAGE_RU):
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json == {"error": message, "fields": {}}
    assert int(response.headers["Retry-After"]) > 0


def test_intake_and_reads_answer_503_json(dead_database_url):
    client = outage_app(dead_database_url).test_client()
    auth = {"Authorization": "Bearer mk_any"}
    assert_unavailable_json(client.post("/api/v1/comments", json={"name": "Ли", "text": "ок"}, headers=auth))
    assert_unavailable_json(client.get("/api/v1/comments/1", headers=auth))
    assert_unavailable_json(client.get("/api/v1/articles/a/comments", headers=auth))


def test_the_message_follows_accept_language(dead_database_url):
    client = outage_app(dead_database_url).test_client()
    response = client.get("/api/v1/comments/1", headers={"Authorization": "Bearer mk_any", "Accept-Language": "en"})
    assert_unavailable_json(response, "The database is temporarily unavailable. Please try again later.")


def test_dashboard_pages_answer_a_503_page(app, dead_database_url):
    client = signed_in(outage_app(dead_database_url).test_client(), app)
    response = client.get("/dashboard/", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert MESSAGE_RU in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_sign_in_during_an_outage_answers_a_503_page(dead_database_url):
    client = outage_app(dead_database_url).test_client()
    token = csrf_token(client.get("/dashboard/login").data)
    response = client.post("/dashboard/login", data={"login": "olga", "password": "secret", "csrf_token": token})
    assert response.status_code == 503
    assert MESSAGE_RU in response.get_data(as_text=True)


def test_a_silent_database_times_out_instead_of_hanging(silent_database_url):
    client = outage_app(silent_database_url, DATABASE_CONNECT_TIMEOUT=2).test_client()
    started = time.monotonic()
    response = client.get("/api/v1/comments/1", headers={"Authorization": "Bearer mk_any"})
    assert_unavailable_json(response)
    assert time.monotonic() - started < 10


def test_postgresql_connections_have_a_connect_timeout():
    from moderation.config import engine_options

    assert 0 < engine_options("postgresql+psycopg://db/x")["connect_args"]["connect_timeout"] <= 10
