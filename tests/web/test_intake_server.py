"""Intake through the real web server with two workers: comments sent at the same moment, and the site-key cache
of each worker process (a rotated key stops working within MODERATION_SITE_CACHE_SECONDS)."""

import os
import subprocess
import threading
import time
import uuid

import pytest
import redis
from sqlalchemy import func, select

from moderation.db import db
from moderation.models import Comment
from moderation.runner import web_command
from moderation.services import sites
from tests.conftest import QUEUE, ROOT
from tests.support import free_port
from tests.tasks.service import http, wait_until

CACHE_SECONDS = 3


@pytest.fixture
def web(tmp_path, app, database_url, redis_url):
    """gunicorn with two sync workers, as `moderation run` starts it, on the test database."""
    port = free_port()
    queue = f"{QUEUE}-intake-{uuid.uuid4().hex[:6]}"  # no worker takes these: the suite's queue stays clean
    env = {
        **os.environ,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_REDIS_URL": redis_url,
        "MODERATION_QUEUE": queue,
        "MODERATION_SECRET_KEY": "test-secret",
        "MODERATION_RATELIMIT_KEY_PREFIX": app.config["RATELIMIT_KEY_PREFIX"],
        "MODERATION_SITE_CACHE_SECONDS": str(CACHE_SECONDS),
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            web_command({"WEB_WORKERS": 2, "HOST": "127.0.0.1", "PORT": port}),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or _answers(base), timeout=60, what="gunicorn answering")
        assert process.poll() is None, log.read_text()
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        redis.Redis.from_url(redis_url).delete(queue)


def _answers(base):
    try:
        return http("GET", base + "/healthz", timeout=2)[0] in (200, 503)
    except OSError:
        return False


def at_once(count, send):
    """Call send() from `count` threads released together; return their results in order."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(index):
        barrier.wait()
        results[index] = send()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_comment_sent_twice_at_the_same_moment_is_stored_once(web, app, auth):
    """Both requests may pass the duplicate check before either is stored: the unique key still lets one in."""
    for round_number in range(15):
        body = {
            "name": "Айгерим",
            "article_id": "news-7",
            "author_ip": f"10.0.{round_number}.1",
            "text": f"Тот же комментарий, отправленный дважды, номер {round_number} {uuid.uuid4().hex[:6]}",
        }
        answers = at_once(2, lambda body=body: http("POST", web + "/api/v1/comments", body, auth))
        statuses = sorted(status for status, _body in answers)
        assert statuses == [202, 409], answers
        accepted = next(answer for status, answer in answers if status == 202)
        refused = next(answer for status, answer in answers if status == 409)
        assert refused["id"] == accepted["id"], "the 409 names the comment that was stored"
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(Comment).where(Comment.text == body["text"]))
        assert stored == 1


def test_a_rotated_key_stops_working_in_every_worker_within_the_cache_lifetime(web, app, auth, site_key):
    """Each worker keeps the site it found for a key for MODERATION_SITE_CACHE_SECONDS; the new key works at once."""
    for number in range(6):  # both workers find the site and keep it
        status, _body = http(
            "POST",
            web + "/api/v1/comments",
            {"name": "Ерлан", "text": f"Комментарий до смены ключа {number}", "author_ip": f"10.1.0.{number}"},
            auth,
        )
        assert status == 202
    with app.app_context():
        new_key = sites.rotate_key(sites.authenticate(site_key))
    rotated = time.monotonic()

    def old_key_refused():
        status, _body = http(
            "POST",
            web + "/api/v1/comments",
            {"name": "Ерлан", "text": f"Комментарий после смены ключа {uuid.uuid4().hex[:8]}"},
            auth,
        )
        assert status in (202, 401)
        return status == 401

    wait_until(old_key_refused, timeout=CACHE_SECONDS + 5, what="the old key refused")
    # Once refused, refused by both workers: their copies were taken before the rotation and have expired.
    time.sleep(max(0.0, CACHE_SECONDS + 0.5 - (time.monotonic() - rotated)))
    assert all(old_key_refused() for _ in range(6))
    status, _body = http(
        "POST",
        web + "/api/v1/comments",
        {"name": "Ерлан", "text": "С новым ключом"},
        {"Authorization": f"Bearer {new_key}"},
    )
    assert status == 202


def test_a_rotated_key_stops_working_at_once_in_the_process_that_rotated_it(client, app, auth, site_key):
    """The cache is emptied by any change to a site made in the same process (the dashboard's rotate button)."""
    assert client.post("/api/v1/comments", json={"name": "Ерлан", "text": "Первый"}, headers=auth).status_code == 202
    with app.app_context():
        sites.rotate_key(sites.authenticate(site_key))
    assert client.post("/api/v1/comments", json={"name": "Ерлан", "text": "Второй"}, headers=auth).status_code == 401


def test_the_cache_is_off_with_a_lifetime_of_zero(make_app, site_key):
    """MODERATION_SITE_CACHE_SECONDS=0: every request reads the site's row."""
    app = make_app(SITE_CACHE_SECONDS=0)
    with app.app_context():
        sites.forget_cached_sites()
        site = sites.authenticate(site_key)
        assert site is not None and sites.authenticate(site_key) is not None
    assert not sites._by_key
