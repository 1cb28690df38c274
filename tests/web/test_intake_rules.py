"""Intake refusals before anything is stored: duplicates (409), flood (429) and the API rate limits (429)."""

import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError

from moderation.config import INTAKE_BIND
from moderation.db import db, utcnow
from moderation.models import Comment
from moderation.services import intake, sites
from tests.web.dashboard_support import configure

TEXT = "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы."
DUPLICATE_RU = "Обнаружен дубликат комментария; похоже, вы уже это говорили!"
DUPLICATE_EN = "Duplicate comment detected; it looks as though you have already said that!"
FLOOD_RU = "Вы отправляете комментарии слишком быстро. Помедленнее."
LIMIT_RU = "Слишком много запросов. Пожалуйста, попробуйте позже."


def post(client, auth, text=TEXT, headers=None, **fields):
    body = {"name": "Читатель", "text": text, "article_id": "news-1", **fields}
    return client.post("/api/v1/comments", json=body, headers={**auth, **(headers or {})})


def stored(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Comment))


def age_comments(app, seconds):
    """Move every stored comment back in time, as if the author had waited."""
    with app.app_context():
        for comment in db.session.scalars(select(Comment)):  # in Python: SQLite has no interval arithmetic
            comment.created_at -= timedelta(seconds=seconds)
        db.session.commit()


def new_site(app, **columns):
    """A site of this app with these rule settings; returns its Authorization header."""
    with app.app_context():
        _site, key = sites.create_site(f"site-{uuid.uuid4().hex[:6]}")
    configure(app, key, **columns)
    return {"Authorization": f"Bearer {key}"}


# Duplicates


def test_the_same_text_again_from_the_same_email_is_a_duplicate_before_it_is_a_flood(app, client, auth):
    author = {"email": "aigul@example.kz", "author_ip": "192.0.2.10"}
    first = post(client, auth, **author)
    assert first.status_code == 202
    # Within the flood window: the duplicate answers first, as WordPress does, naming the comment already taken.
    again = post(client, auth, **author)
    assert again.status_code == 409, again.json
    assert again.json["id"] == first.json["id"]
    assert again.json["error"] == DUPLICATE_RU
    english = post(client, auth, headers={"Accept-Language": "en-US,en;q=0.9"}, **author)
    assert (english.status_code, english.json["error"]) == (409, DUPLICATE_EN)
    # The address is compared case-insensitively, from any address.
    shouted = post(client, auth, email="AIGUL@Example.KZ", author_ip="198.51.100.3")
    assert shouted.status_code == 409
    assert stored(app) == 1


def test_the_same_text_on_another_article_or_from_another_author_is_accepted(app, client, auth):
    author = {"email": "aigul@example.kz", "author_ip": "192.0.2.10"}
    assert post(client, auth, **author).status_code == 202
    other = post(client, auth, email="bauyrzhan@example.kz", author_ip="192.0.2.11")
    assert other.status_code == 202, other.json
    age_comments(app, 3600)  # past the flood window, which would answer 429 first
    assert post(client, auth, article_id="news-2", **author).status_code == 202
    assert post(client, auth, **author).status_code == 409  # the first article still has it
    assert stored(app) == 3


def test_without_email_the_author_is_the_name_and_address(app, client, auth):
    assert post(client, auth, name="Гость", author_ip="192.0.2.20").status_code == 202
    age_comments(app, 3600)
    assert post(client, auth, name="Гость", author_ip="192.0.2.20").status_code == 409
    assert post(client, auth, name="Гость", author_ip="192.0.2.21").status_code == 202
    assert post(client, auth, name="Другой гость", author_ip="192.0.2.20").status_code == 202
    assert stored(app) == 3


# Flood


def test_a_second_comment_within_the_flood_interval_waits(app, client, auth, site_key):
    assert (
        post(
            client, auth, "Первый комментарий к новости.", email="erlan@example.kz", author_ip="192.0.2.30"
        ).status_code
        == 202
    )
    same_ip = post(
        client, auth, "Второй комментарий, с того же адреса.", email="other@example.kz", author_ip="192.0.2.30"
    )
    assert same_ip.status_code == 429, same_ip.json
    assert same_ip.json["error"] == FLOOD_RU
    assert 1 <= int(same_ip.headers["Retry-After"]) <= 15
    same_email = post(
        client, auth, "Третий комментарий, с той же почты.", email="erlan@example.kz", author_ip="198.51.100.30"
    )
    assert same_email.status_code == 429
    assert 1 <= int(same_email.headers["Retry-After"]) <= 15
    assert stored(app) == 1  # refused comments are not kept

    another = post(client, auth, "Комментарий другого читателя.", email="dinara@example.kz", author_ip="192.0.2.31")
    assert another.status_code == 202, another.json
    assert stored(app) == 2

    # Ten seconds later, five remain of the fifteen: a site that waits that long gets through.
    age_comments(app, 10)
    later = post(client, auth, "Второй комментарий, с того же адреса.", author_ip="192.0.2.30")
    assert later.status_code == 429
    assert later.headers.getlist("Retry-After") == ["5"]

    configure(app, site_key, flood_seconds=0)
    allowed = post(
        client, auth, "Второй комментарий, с того же адреса.", email="erlan@example.kz", author_ip="192.0.2.30"
    )
    assert allowed.status_code == 202, allowed.json
    assert stored(app) == 3


def test_the_flood_interval_is_the_sites(app, client, auth, site_key):
    configure(app, site_key, flood_seconds=60)
    assert post(client, auth, "Первый комментарий к новости.", author_ip="192.0.2.40").status_code == 202
    age_comments(app, 30)
    refused = post(client, auth, "Второй комментарий к новости.", author_ip="192.0.2.40")
    assert refused.status_code == 429
    assert 25 <= int(refused.headers["Retry-After"]) <= 30
    age_comments(app, 31)
    assert post(client, auth, "Второй комментарий к новости.", author_ip="192.0.2.40").status_code == 202


def test_in_the_last_second_of_the_interval_the_author_still_waits_a_second(app, client, auth, monkeypatch):
    """Retry-After: 0 would send the site straight back into another 429."""
    first_at = utcnow()  # a stopped clock: half a second of real time is too little on a busy machine
    monkeypatch.setattr(intake, "utcnow", lambda: first_at)
    assert post(client, auth, "Первый комментарий к новости.", author_ip="192.0.2.41").status_code == 202
    monkeypatch.setattr(intake, "utcnow", lambda: first_at + timedelta(seconds=14.5))
    refused = post(client, auth, "Второй комментарий к новости.", author_ip="192.0.2.41")
    assert refused.status_code == 429
    assert refused.headers.getlist("Retry-After") in (["1"], ["2"])


# Rate limits (in Redis, one round trip for all of a request's)


def test_the_author_ip_limit_refuses_that_address_only(make_app):
    app = make_app(API_AUTHOR_LIMIT="3 per minute")
    client, auth = app.test_client(), new_site(app, flood_seconds=0)  # the limit, not the flood rule
    for n in range(3):
        response = post(client, auth, f"Комментарий номер {n} к новости.", author_ip="192.0.2.50")
        assert response.status_code == 202, (n, response.json)
    refused = post(client, auth, "Комментарий номер 3 к новости.", author_ip="192.0.2.50")
    assert refused.status_code == 429
    assert refused.json["error"] == LIMIT_RU
    assert refused.headers["Retry-After"] == "60"  # the limit's window ("3 per minute")
    assert stored(app) == 3
    assert post(client, auth, "Комментарий номер 3 к новости.", author_ip="192.0.2.51").status_code == 202
    # A site that sends no reader address is limited by its key alone.
    assert post(client, auth, "Комментарий без адреса читателя.").status_code == 202
    assert stored(app) == 5


def test_the_site_key_limit_refuses_that_site_only(make_app):
    app = make_app(API_KEY_LIMIT="3 per minute")
    client, auth, other = app.test_client(), new_site(app), new_site(app)
    for n in range(3):
        response = post(client, auth, f"Комментарий номер {n} к новости.", author_ip=f"192.0.2.{60 + n}")
        assert response.status_code == 202, (n, response.json)
    refused = post(client, auth, "Комментарий номер 3 к новости.", author_ip="192.0.2.63")
    assert refused.status_code == 429
    assert refused.json["error"] == LIMIT_RU
    assert stored(app) == 3
    assert post(client, other, "Комментарий номер 3 к новости.", author_ip="192.0.2.63").status_code == 202
    assert stored(app) == 4


def test_both_limits_are_counted_in_one_redis_round_trip(make_app, redis_url, monkeypatch):
    app = make_app(API_AUTHOR_LIMIT="3 per minute")
    client, auth = app.test_client(), new_site(app, flood_seconds=0)
    assert post(client, auth, "Первый комментарий: Redis узнаёт скрипт.", author_ip="192.0.2.69").status_code == 202
    sent, send = [], redis.Redis.execute_command

    def execute_command(self, *args, **options):
        sent.append(args[0])
        return send(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    assert post(client, auth, "Комментарий с адресом читателя.", author_ip="192.0.2.70").status_code == 202
    assert sent == ["EVALSHA", "LPUSH"]  # both limits, then the queue
    monkeypatch.undo()
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    keys = {key.decode() for key in redis.Redis.from_url(redis_url).scan_iter(f"LIMITER/{prefix}:*")}
    assert {key.split("/", 2)[2] for key in keys} == {"200/1/second", "3/1/minute"}
    assert all(key.split("/")[1].endswith(":api.create_comment") for key in keys if ":site:" in key)  # per route
    assert f"LIMITER/{prefix}:author:192.0.2.70/3/1/minute" in keys
    assert all(0 < redis.Redis.from_url(redis_url).ttl(key) <= 60 for key in keys)


def test_limits_are_counted_in_each_process_while_their_redis_is_down(make_app, monkeypatch):
    from moderation.api import limits

    monkeypatch.setattr(limits, "_dead_until", {})
    app = make_app(API_AUTHOR_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    client, auth = app.test_client(), new_site(app, flood_seconds=0)
    for n in range(2):
        assert post(client, auth, f"Комментарий {n} при недоступном Redis.", author_ip="192.0.2.80").status_code == 202
    refused = post(client, auth, "Третий комментарий при недоступном Redis.", author_ip="192.0.2.80")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert stored(app) == 2


def test_a_comment_is_stored_on_a_new_connection_when_intakes_pooled_one_died(app, client, auth):
    """Intake's engine does not ping a connection before using it: one the database dropped since (a restart, an
    idle timeout) fails on first use, and intake tries once more on a new one instead of answering 503."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("an SQLite connection cannot be dropped by its server")
    assert post(client, auth, "Первый комментарий, соединение открыто.").status_code == 202
    with app.app_context():
        with db.engines[INTAKE_BIND].connect() as connection:  # the pool's one connection, given back at once
            pid = connection.scalar(text("SELECT pg_backend_pid()"))
        with db.engine.connect() as other:
            assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    taken = post(client, auth, "Второй комментарий, после обрыва соединения.")
    assert taken.status_code == 202, taken.json
    assert stored(app) == 2


def test_a_comment_stored_just_before_its_connection_broke_is_taken_not_called_a_duplicate(
    app, client, auth, monkeypatch
):
    """The insert committed, then the connection broke before its answer came: the second try meets the comment
    itself. It is the reader's comment, stored by this request: 202 with its id, queued, not a 409."""
    real_store, calls = intake.store, []

    def store(site, fields, key):
        calls.append(key)
        stored = real_store(site, fields, key)
        if len(calls) == 1:
            raise DBAPIError("INSERT ...", {}, OSError("connection lost"), connection_invalidated=True)
        return stored

    monkeypatch.setattr(intake, "store", store)
    taken = post(client, auth)
    assert taken.status_code == 202, taken.json
    assert len(calls) == 2
    with app.app_context():
        assert db.session.scalars(select(Comment.id)).all() == [taken.json["id"]]
    assert post(client, auth).status_code == 409  # the same comment sent again is a duplicate, as ever


def test_a_duplicate_deleted_between_the_conflict_and_the_second_check_leaves_this_comment_stored(
    app, client, auth, monkeypatch
):
    """The race behind intake's retry: this comment's insert met an identical one, and a moderator deleted that one
    before the check that would have said why it was refused. It is stored, not lost."""
    first = post(client, auth)
    assert first.status_code == 202
    checks, inserts = [], []
    real_precheck, real_insert = intake.precheck, intake.insert_comment

    def precheck(connection, site, fields, key):
        checks.append(key)
        return (None, 0) if len(checks) == 1 else real_precheck(connection, site, fields, key)

    def insert_comment(connection, site, fields, key):
        comment_id = real_insert(connection, site, fields, key)
        inserts.append(comment_id)
        if comment_id is None:  # met the first comment: delete it now, as a moderator would
            with db.engine.begin() as other:
                other.execute(delete(Comment).where(Comment.id == first.json["id"]))
        return comment_id

    monkeypatch.setattr(intake, "precheck", precheck)
    monkeypatch.setattr(intake, "insert_comment", insert_comment)
    with app.app_context():
        again = post(client, auth)
    assert again.status_code == 202, again.json
    # (SQLite may give the new row the deleted one's id.)
    assert inserts[0] is None and inserts[1] is not None and again.json["id"] == inserts[1]
    with app.app_context():
        assert db.session.scalars(select(Comment.id)).all() == [again.json["id"]]
