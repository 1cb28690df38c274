"""The API answers JSON for every error: 401, 413, malformed JSON, unknown routes."""

import pytest


def assert_json_error(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert isinstance(response.json["error"], str) and response.json["error"]
    assert "<html" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer " + "k" * 5000},
    ],
)
def test_missing_or_wrong_key_is_401(client, headers):
    response = client.post("/api/v1/comments", json={"name": "Ли", "text": "ок"}, headers=headers)
    assert_json_error(response, 401)
    assert response.json["error"] == "Нужен действующий API-ключ."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_reads_need_the_key_too(client):
    assert_json_error(client.get("/api/v1/comments/1"), 401)
    assert_json_error(client.get("/api/v1/articles/a/comments"), 401)


@pytest.mark.parametrize("body", ["{bad json", '{"name": "Ли", "text": }', "[1, 2]", '"text"', "null", ""])
def test_malformed_json_is_400(client, auth, body):
    response = client.post("/api/v1/comments", data=body, content_type="application/json", headers=auth)
    assert_json_error(response, 400)
    assert response.json["error"] == "Некорректный JSON: ожидается объект."


def test_invalid_utf8_is_400(client, auth):
    response = client.post(
        "/api/v1/comments", data=b'{"name": "\xff\xfe", "text": "x"}', content_type="application/json", headers=auth
    )
    assert_json_error(response, 400)


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_body_over_64_kb_is_413(client, auth, content_type):
    body = '{"name": "Ли", "text": "' + "ы" * 40_000 + '"}'  # 80 KB of UTF-8
    response = client.post("/api/v1/comments", data=body, content_type=content_type, headers=auth)
    assert_json_error(response, 413)
    assert response.json["error"] == "Слишком большой запрос (не больше 64 КБ)."


def test_body_just_under_the_limit_is_read(client, auth):
    body = '{"name": "Ли", "text": "' + "ы" * 5000 + '", "article_title": "' + "t" * 50_000 + '"}'
    response = client.post("/api/v1/comments", data=body, content_type="application/json", headers=auth)
    assert response.status_code == 202


def test_unknown_route_and_wrong_method_are_json(client, auth):
    assert_json_error(client.get("/api/v1/nothing-here", headers=auth), 404)
    assert_json_error(client.delete("/api/v1/comments", headers=auth), 405)


def test_error_language_follows_accept_language(client):
    response = client.post("/api/v1/comments", json={}, headers={"Accept-Language": "en"})
    assert response.json["error"] == "A valid API key is required."
