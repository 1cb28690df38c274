"""The drop-in APIs (Perspective, Akismet, Coral) driven by their own clients against `moderation run`.

One service (gunicorn web, a real Celery worker, embedded Redis) per database backend serves the whole folder:
its site has a key, a Coral signing secret and a moderator, and the tests read the service's database to see what
the APIs stored.
"""

import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import NamedTuple

import psycopg
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS, ROOT, _create_postgres_database, _libpq
from tests.tasks.service import Service

SITE = "news.example.kz"
SITE_URL = "https://news.example.kz/"
MODERATOR = ("olga", "moderator-password-1")


class Texts(NamedTuple):
    """One comment of each kind the filter must tell apart."""

    ru_insult: str
    kz_insult: str
    spam: str
    ordinary: str


KINDS = Texts._fields
# What the filter decides on each kind: insults go to moderators, look-alike-letter spam to spam.
STATUS = {"ru_insult": "held", "kz_insult": "held", "spam": "spam", "ordinary": "approved"}

# Every client gets its own wording: the same text from three clients (three author names) is a campaign,
# which the rules hold whatever the models say. Spam may repeat itself (a campaign of spam stays spam).
TEXTS = {
    "perspective_v1alpha1": Texts(
        "Ты тупой дебил, заткнись уже, идиот",
        "Сен ақымақсың, аузыңды жап, малғұн",
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot",
        "Спасибо за статью, дороги в нашем районе отремонтировали к осени.",
    ),
    "perspective_root": Texts(
        "Автор статьи полный идиот и дебил",
        "Ақымақ, аузыңды жап",
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 7000 рyб в день! Пишите в тeлeгpaм @fast_cash_bot",
        "Хорошая новость, в нашем дворе наконец поставили новые скамейки.",
    ),
    "discovery": Texts(
        "Заткнись, урод, ты тупой дебил",
        "Сен малғұн ақымақсың",
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 9000 рyб в день! Пишите в тeлeгpaм @rich_home_bot",
        "Интересно, когда откроют новую школу на левом берегу?",
    ),
    "akismet_python": Texts(
        "Редактор безмозглый идиот, уволить этого урода",
        "Аузыңды жап, ақымақ малғұн",
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 3000 рyб в день! Пишите в тeлeгpaм @job_online_bot",
        "Спасибо редакции, автобус номер 12 теперь ходит чаще.",
    ),
    "akismet_node": Texts(
        "Какой же ты кретин и дебил, читать противно",
        "Малғұн, сен нағыз ақымақсың",
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 4500 рyб в день! Пишите в тeлeгpaм @home_profit_bot",
        "В нашем селе наконец провели газ, жители очень довольны.",
    ),
    "coral": Texts(
        "Заткнись, идиот, ты просто жалкий дебил",
        "Сен ақымақсың ғой, малғұн",
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 6000 рyб в день! Пишите в тeлeгpaм @money_now_bot",
        "Фестиваль домбры в эти выходные прошёл замечательно, спасибо организаторам.",
    ),
}
# Single comments some tests need besides (a verdict to correct, feedback, a forged request, the dashboard's).
EXTRA = {
    "akismet_python_missed_spam": "Отличный репортаж, фотографии набережной получились очень красивыми.",
    "akismet_python_false_spam": (
        "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 2500 рyб в день! Пишите в тeлeгpaм @dengi24_bot"
    ),
    "akismet_node_missed_spam": "Расписание маршрута до аэропорта удобное, спасибо акимату.",
    "akismet_node_false_spam": "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 10000 рyб в день! Пишите в тeлeгpaм @bystro_bot",
    "perspective_rejected_toxic": "Ты дебил и урод, вали отсюда",
    "perspective_approved": "Жаль, что концерт перенесли, но надеемся увидеть его весной.",
    "perspective_deleted": "Журналист тупой идиот, пишет бред",
    "perspective_not_stored": "Урожай в этом году хороший, цены на овощи на базаре снизились.",
    "discovery_spam_feedback": "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 12000 рyб в день! Пишите в тeлeгpaм @legko_bot",
    "coral_rolled_secret": "Новый мост через реку сильно сократил дорогу до работы.",
    "coral_forged": "Библиотека продлила часы работы, теперь удобно заходить после смены.",
    "akismet_python_test_mode": "Проверка связи: тестовый комментарий от плагина, сохранять его не нужно.",
    "akismet_python_unseen_spam": "Пpeдлaгaeм кредит без справок, одобрение за 5 минут, пишите @credit_fast_kz",
    "dashboard_insult": "Мэр идиот, а ты дебил, раз веришь ему",
    "labels_ham": "Наконец-то поставили светофор у школы, детям стало безопаснее.",
    "labels_spam": "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 1500 рyб в день! Пишите в тeлeгpaм @kazna_bot",
    "labels_toxic": "Аузыңды жап, малғұн",
}


def send(method, url, body=None, headers=None, timeout=15):
    """(status, headers, raw body) of one request sent exactly as given; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def cli(service, *args):
    """`moderation ...` against the service's database; its stdout's last line."""
    env = {**service.env, "MODERATION_PASSWORD": MODERATOR[1]}
    done = subprocess.run(
        [sys.executable, "-m", "moderation.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def rows(engine, sql, **params):
    """The rows of one query on the service's database."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def stored(compat, comment_text):
    """(id, status, spam_score, toxicity_score, name) of each comment the site stored with this text, oldest first."""
    return rows(
        compat.engine,
        "SELECT id, status, spam_score, toxicity_score, name FROM comment "
        "WHERE site_id = :site AND text = :text ORDER BY id",
        site=compat.site_id,
        text=comment_text,
    )


def label_of(compat, comment_text):
    """(spam, toxic) of the training label on the site's latest comment with this text, or None."""
    found = rows(
        compat.engine,
        "SELECT label.spam, label.toxic FROM label "
        "JOIN comment ON comment.id = label.comment_id "
        "WHERE comment.site_id = :site AND comment.text = :text ORDER BY comment.id DESC",
        site=compat.site_id,
        text=comment_text,
    )
    return (bool(found[0].spam), None if found[0].toxic is None else bool(found[0].toxic)) if found else None


@pytest.fixture(scope="session", params=BACKENDS)
def service_database(request, tmp_path_factory):
    """An empty database of each backend, for the service alone (`moderation run` migrates it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('compat-sqlite') / 'moderation.db'}"
        return
    base, name = _create_postgres_database()
    yield _libpq(base.set(database=name))
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def compat(service_database, tmp_path_factory):
    """The running service with a site set up as a newsroom sets it up for its Perspective, Akismet and Coral
    clients: its key, Coral's signing secret, a moderator."""
    service = Service(tmp_path_factory.mktemp("compat"), service_database).start()
    engine = None
    try:
        key = cli(service, "site", "add", SITE)
        coral_secret = "empsec_" + secrets.token_hex(32)  # the form Coral generates
        cli(service, "site", "coral", SITE, coral_secret)
        cli(service, "user", "add", MODERATOR[0], "--role", "moderator")
        engine = create_engine(service_database)
        with engine.begin() as conn:  # every client here writes from 127.0.0.1: no flood wait
            conn.execute(text("UPDATE site SET flood_seconds = 0 WHERE name = :name"), {"name": SITE})
        site_id = rows(engine, "SELECT id FROM site WHERE name = :name", name=SITE)[0].id
        yield SimpleNamespace(
            service=service,
            base=service.base,
            port=service.port,
            key=key,
            coral_secret=coral_secret,
            engine=engine,
            site_id=site_id,
            database_url=service_database,
        )
    finally:
        service.stop()
        if engine is not None:
            engine.dispose()
