"""POST /api/v1/comments: every validation rule, in the site form's exact words."""

import pytest
from sqlalchemy import func, select

from moderation.db import db
from moderation.models import Comment

TEXT_RU = "Пожалуйста, введите ваш комментарий!"
NAME_RU = "пожалуйста, введите ваше имя здесь"


def post(client, auth, body=None, **kwargs):
    return client.post("/api/v1/comments", json=body, headers={**auth, **kwargs.pop("headers", {})}, **kwargs)


def count_comments(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Comment))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "text": ""},
        {"name": "   ", "text": " \n\t "},
        {"name": None, "text": None},
    ],
)
def test_missing_or_blank_name_and_text_answer_in_russian(app, client, auth, body):
    response = post(client, auth, body)
    assert response.status_code == 400
    assert response.json["fields"] == {"name": NAME_RU, "text": TEXT_RU}
    assert response.json["error"]
    assert count_comments(app) == 0


def test_missing_text_alone(client, auth):
    response = post(client, auth, {"name": "Айгерим"})
    assert response.status_code == 400
    assert response.json["fields"] == {"text": TEXT_RU}


def test_missing_name_alone(client, auth):
    response = post(client, auth, {"text": "Хорошая статья"})
    assert response.status_code == 400
    assert response.json["fields"] == {"name": NAME_RU}


@pytest.mark.parametrize(
    "language, name_message, text_message",
    [
        ("en-US,en;q=0.9", "please enter your name here", "Please enter your comment!"),
        ("kk-KZ,kk;q=0.9,ru;q=0.8", "өтінеміз, атыңызды осында енгізіңіз", "Өтінеміз, пікіріңізді енгізіңіз!"),
        ("ru-RU,ru;q=0.9", NAME_RU, TEXT_RU),
        ("de-DE", NAME_RU, TEXT_RU),
    ],
)
def test_messages_follow_accept_language(client, auth, language, name_message, text_message):
    response = post(client, auth, {}, headers={"Accept-Language": language})
    assert response.status_code == 400
    assert response.json["fields"] == {"name": name_message, "text": text_message}


def test_form_encoded_body_is_validated_the_same(client, auth):
    response = client.post("/api/v1/comments", data={"name": " "}, headers=auth)
    assert response.status_code == 400
    assert response.json["fields"] == {"name": NAME_RU, "text": TEXT_RU}


def test_form_encoded_comment_is_accepted(client, auth):
    response = client.post("/api/v1/comments", data={"name": "Ерлан", "text": "Спасибо за новости"}, headers=auth)
    assert response.status_code == 202
    assert response.json["status"] == "pending"


def test_name_limit_counts_after_trimming(client, auth):
    accepted = post(client, auth, {"name": "  " + "я" * 100 + "  ", "text": "ок"})
    assert accepted.status_code == 202
    refused = post(client, auth, {"name": "я" * 101, "text": "ок"})
    assert refused.status_code == 400
    assert refused.json["fields"] == {"name": "Имя должно быть не длиннее 100 символов."}


def test_text_limit(client, auth):
    assert post(client, auth, {"name": "Ли", "text": "ж" * 5000}).status_code == 202
    refused = post(client, auth, {"name": "Ли", "text": "ж" * 5001})
    assert refused.status_code == 400
    assert refused.json["fields"] == {"text": "Комментарий должен быть не длиннее 5000 символов."}


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_invalid_email_has_its_own_message(client, auth, email):
    response = post(client, auth, {"name": "Ли", "text": "ок", "email": email})
    assert response.status_code == 400
    assert response.json["fields"] == {"email": "Пожалуйста, введите корректный адрес электронной почты."}


@pytest.mark.parametrize("field", ["url", "article_url"])
@pytest.mark.parametrize("value", ["javascript:alert(1)", "ftp://example.com/x", "example.com", "http://"])
def test_invalid_urls_have_their_own_message(client, auth, field, value):
    response = post(client, auth, {"name": "Ли", "text": "ок", field: value})
    assert response.status_code == 400
    assert response.json["fields"] == {field: "Пожалуйста, введите корректный веб-адрес (http:// или https://)."}


def test_invalid_ip_has_its_own_message(client, auth):
    response = post(client, auth, {"name": "Ли", "text": "ок", "author_ip": "999.1.1.1"})
    assert response.status_code == 400
    assert response.json["fields"] == {"author_ip": "Пожалуйста, введите корректный IP-адрес."}


def test_too_long_identifiers_are_refused(client, auth):
    response = post(client, auth, {"name": "Ли", "text": "ок", "article_id": "1" * 201})
    assert response.status_code == 400
    assert response.json["fields"] == {"article_id": "Не длиннее 200 символов."}


@pytest.mark.parametrize("value", [["list"], {"a": 1}, True])
def test_non_text_values_are_refused(client, auth, value):
    response = post(client, auth, {"name": value, "text": "ок"})
    assert response.status_code == 400
    assert response.json["fields"] == {"name": "Должно быть текстом."}


def test_numbers_are_accepted_as_identifiers(app, client, auth):
    response = post(client, auth, {"name": "Ли", "text": "ок", "article_id": 4521, "parent_id": 17})
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.get(Comment, response.json["id"])
        assert (comment.article_id, comment.parent_id) == ("4521", "17")


def test_every_optional_field_is_stored(app, client, auth):
    body = {
        "name": "  Асель ",
        "text": "Отличная\x00 статья\x07, спасибо!",
        "email": "asel@example.kz",
        "url": "https://asel.example.kz/",
        "article_id": "news-42",
        "article_url": "https://news.example.kz/42",
        "article_title": "Т" * 600,
        "parent_id": "41",
        "author_ip": "2a02:6b8::1",
        "user_agent": "Mozilla/5.0 " + "x" * 600,
        "referrer": "https://news.example.kz/",
    }
    response = post(client, auth, body)
    assert response.status_code == 202
    assert response.headers["Location"] == f"/api/v1/comments/{response.json['id']}"
    with app.app_context():
        comment = db.session.get(Comment, response.json["id"])
        assert comment.name == "Асель"
        assert comment.text == "Отличная статья, спасибо!"  # control characters never reach the database
        assert comment.email == "asel@example.kz"
        assert comment.url == "https://asel.example.kz/"
        assert comment.article_id == "news-42"
        assert comment.article_url == "https://news.example.kz/42"
        assert len(comment.article_title) == 500
        assert comment.parent_id == "41"
        assert comment.author_ip == "2a02:6b8::1"
        assert len(comment.user_agent) == 500
        assert comment.referrer == "https://news.example.kz/"
        assert comment.status == "pending"


def test_unknown_fields_are_ignored(client, auth):
    assert post(client, auth, {"name": "Ли", "text": "ок", "status": "approved"}).json["status"] == "pending"


def test_nothing_of_one_comment_is_left_in_the_form_for_the_next(app, client, auth):
    """Each thread processes one form instance again for every comment (api/comments.reusable_form)."""
    full = {"name": "Айгерим", "text": "Первый комментарий.", "email": "a@example.kz", "url": "https://a.example.kz/"}
    assert post(client, auth, full).status_code == 202
    refused = post(client, auth, {"name": "Айгерим", "email": "not an address"})
    assert refused.status_code == 400
    assert set(refused.json["fields"]) == {"text", "email"}
    taken = post(client, auth, {"name": "Ерлан", "text": "Второй комментарий, без почты и сайта."})
    assert taken.status_code == 202
    with app.app_context():
        second = db.session.get(Comment, taken.json["id"])
        assert (second.name, second.email, second.url) == ("Ерлан", None, None)
