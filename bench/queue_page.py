"""The moderation queue's first page with 100,000 held comments in PostgreSQL, against OFFSET paging.

Usage: python bench/queue_page.py [--postgres URL] [--held 100000] [--decided 50000] [--runs 20]

Builds a throw-away database next to the given one (dropped at the end, even on error), fills it
with generated Russian comments, then times whole dashboard pages through the Flask test client,
signed in as a moderator. The baseline is measured in the same run: the same page rendered with
OFFSET pagination 1,000 pages deep, the way a naive queue would page. The login page is the floor.
"""

import argparse
import itertools
import json
import os
import random
import re
import statistics
import time
import uuid
from datetime import datetime, timedelta

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.engine import make_url

from moderation import create_app
from moderation.db import db
from moderation.models import Comment
from moderation.services import queue as queue_service
from moderation.services import sites, users

TARGET_MS = 300.0
DEEP_PAGE = 1000  # the baseline: OFFSET (DEEP_PAGE - 1) * page size over the same ordering
WORDS = (
    "город новости дорога школа акимат власти жители район рынок цены тенге зарплата пенсия налог проект "
    "строительство ремонт улица двор парк автобус маршрут остановка больница врач очередь лето зима снег "
    "жара вода свет газ отопление тариф депутат закон решение суд полиция авария пробка трасса мост "
    "работа бизнес кредит банк ипотека квартира дом аренда молодёжь студенты университет экзамен спорт "
    "футбол команда матч победа праздник концерт фестиваль музей театр история память семья дети родители "
    "спасибо правильно согласен против давно пора наконец опять снова хорошо плохо странно интересно "
    "непонятно почему когда зачем сколько можно нужно надо было будет есть нет очень совсем вообще "
    "конечно наверное просто действительно только тоже также ещё уже всегда никогда сегодня вчера завтра "
    "наш ваш этот тот каждый весь другой новый старый большой маленький главный местный областной "
    "автор статья журналист редакция фото видео комментарий мнение вопрос ответ проблема ситуация"
).split()
SPAM_WORDS = "заработок казино ставки бонус кредит без отказа выигрыш бесплатно подробнее переходи ссылка".split()
SPAM_EN = "casino bonus free money crypto win click here best offer viagra loan".split()
TOXIC_WORDS = "дурак идиот тупой бред позор вранье воры клоуны бездарь негодяй".split()
KK_WORDS = "жаңалық қала ауыл мектеп жол рахмет дұрыс жоқ бар үй халық әкім".split()
FIRST_NAMES = ("Айгуль", "Ерлан", "Сергей", "Наталья", "Дамир", "Ольга", "Асель", "Гость")
REJECT_REASONS = ("insult", "obscenity", "threat", "hate", "off-topic", "other")


def comment_rows(rng, n_held, n_decided, site_ids, moderator_id):
    """Generate the comment table's rows: held ones first, then approved, rejected and spam ones."""
    authors = []
    for i in range(3000):
        domain = rng.choice(("mail.ru", "gmail.com", "yandex.kz", "inbox.ru"))
        email = f"reader{i}@{domain}" if rng.random() < 0.8 else None
        ip = ".".join(
            str(n)
            for n in (
                rng.choice((2, 5, 37, 46, 89, 95, 178, 185)),
                rng.randrange(256),
                rng.randrange(256),
                rng.randrange(1, 255),
            )
        )
        authors.append((f"{rng.choice(FIRST_NAMES)}{i}", email, ip))
    # A few regulars write most comments; cumulative weights keep rng.choices cheap.
    cum_weights = list(itertools.accumulate(1 / (i + 1) ** 0.6 for i in range(len(authors))))
    now = datetime(2026, 11, 1, 12, 0)
    for i in range(n_held + n_decided):
        name, email, ip = rng.choices(authors, cum_weights=cum_weights)[0]
        site = rng.choices(site_ids, cum_weights=(6, 9, 10))[0]
        kind = rng.random()
        lang = "kk" if kind < 0.07 else "en" if kind < 0.10 else "ru"
        vocabulary = KK_WORDS + WORDS if lang == "kk" else WORDS
        words = rng.choices(vocabulary, k=max(3, int(rng.lognormvariate(3.0, 0.8))))
        status = "held" if i < n_held else rng.choices(("approved", "rejected", "spam"), (70, 15, 15))[0]
        spam = rng.betavariate(1, 6)
        toxicity = rng.betavariate(1, 8)
        reasons = []
        flagged_spam = status in ("held", "spam") and rng.random() < 0.5 or status == "rejected" and rng.random() < 0.2
        if flagged_spam:
            spam = rng.uniform(0.55, 0.99)
            terms = rng.sample(SPAM_EN if lang == "en" else SPAM_WORDS, 2)
            words[rng.randrange(len(words)) : 0] = terms + [f"https://promo{rng.randrange(50)}.example/"]
            reasons.append({"code": "spam", "score": round(spam, 4), "spans": terms})
        if status == "rejected" or status == "held" and not flagged_spam or status != "approved" and rng.random() < 0.1:
            toxicity = rng.uniform(0.5, 0.98)
            terms = rng.sample(TOXIC_WORDS, 2)
            words[rng.randrange(len(words)) : 0] = terms
            reasons.append({"code": "toxicity", "score": round(toxicity, 4), "spans": terms})
        text = " ".join(words).capitalize() + rng.choice((".", "!", "?", "...", ""))
        created = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        article = rng.randrange(400)
        decided = created + timedelta(seconds=rng.uniform(1, 20))
        moderated = decided + timedelta(minutes=rng.uniform(5, 600)) if status != "held" else None
        codes = f" {' '.join(r['code'] for r in reasons)} " if reasons else ""
        yield (
            site,
            name,
            text,
            email,
            f"{site}-{article}",
            f"https://news{site}.example.kz/{article}",
            f"Новость номер {article}: {rng.choice(WORDS)} и {rng.choice(WORDS)}",
            ip,
            "Mozilla/5.0 (Linux; Android 14) Mobile",
            status,
            spam,
            toxicity,
            json.dumps(reasons, ensure_ascii=False),
            "bench-1",
            max(spam, toxicity),
            codes,
            lang,
            rng.choice(REJECT_REASONS) if status == "rejected" else None,
            moderator_id if moderated else None,
            moderated,
            created,
            created,
            decided,
        )


COLUMNS = (
    "site_id, name, text, email, article_id, article_url, article_title, author_ip, user_agent, status, "
    "spam_score, toxicity_score, reasons, model_version, risk, reason_codes, lang, reject_reason, "
    "moderated_by_id, moderated_at, created_at, queued_at, decided_at"
)


def fill(libpq_url, n_held, n_decided, site_ids, moderator_id):
    """COPY the generated comments in, then VACUUM ANALYZE as a database that has run a while would be."""
    rng = random.Random(20261101)
    with psycopg.connect(libpq_url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY comment ({COLUMNS}) FROM STDIN") as copy:
            for row in comment_rows(rng, n_held, n_decided, site_ids, moderator_id):
                copy.write_row(row)
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def offset_page(view, after=None, size=50):
    """The baseline's paging: the same filter and order, OFFSET into it (`after` is ignored)."""
    key, descending = queue_service._ordering(view)
    order = (key.desc(), Comment.id.desc()) if descending else (key.asc(), Comment.id.asc())
    query = (
        select(Comment)
        .where(*queue_service._conditions(view))
        .order_by(*order)
        .offset((DEEP_PAGE - 1) * size)
        .limit(size + 1)
    )
    rows = db.session.scalars(query).all()
    return rows[:size], None


def sign_in(client, login, password):
    """Sign in through the login form, as a moderator's browser does."""
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    answer = client.post("/dashboard/login", data={"login": login, "password": password, "csrf_token": token.group(1)})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: HTTP {answer.status_code}")


def timed(client, url, runs, expect_comments):
    """Median and 95th-percentile milliseconds of GET url, after two warm-up requests."""
    times = []
    for i in range(runs + 2):
        start = time.perf_counter()
        answer = client.get(url)
        body = answer.get_data()
        elapsed = (time.perf_counter() - start) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {answer.status_code}")
        if expect_comments is not None and body.count(b'<article class="comment ') != expect_comments:
            raise RuntimeError(f"GET {url}: expected {expect_comments} comments on the page")
        if i >= 2:
            times.append(elapsed)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure(app, runs):
    """Time the scenarios: [(name, median ms, p95 ms, first page?)], baseline first, and the load before, after."""
    client = app.test_client()
    sign_in(client, "bench", "bench-password-1")
    with app.app_context():
        site_id = sites.find_by_name("news-2.example.kz").id
        view, cursor = queue_service.QueueFilter(), None
        for _page in range(199):  # walk the keyset cursor, as the "next page" links do, to page 200
            after = queue_service.parse_cursor(cursor, view) if cursor else None
            cursor = queue_service.page(view, after=after)[1]
        db.session.remove()
    size = app.config["PAGE_SIZE"]
    rows = []
    load = os.getloadavg()[0]
    original = queue_service.page
    queue_service.page = offset_page  # the view itself, rendering the same template, paged by OFFSET
    try:
        rows.append((f"baseline: OFFSET paging, page {DEEP_PAGE}", *timed(client, "/dashboard/", runs, size), False))
    finally:
        queue_service.page = original
    scenarios = (
        ("floor: login page (signed out)", None, None, False),
        ("queue first page (held, riskiest first)", "/dashboard/", size, True),
        ("first page, oldest first", "/dashboard/?order=oldest", size, False),
        # A common word, in about one comment in six: the search scans every held comment's text.
        ("first page, search q=ремонт", "/dashboard/?q=%D1%80%D0%B5%D0%BC%D0%BE%D0%BD%D1%82", size, False),
        ("first page, one site", f"/dashboard/?site={site_id}", size, False),
        ("page 200 via keyset cursor", f"/dashboard/?after={cursor}", size, False),
    )
    for name, url, expect, first in scenarios:
        if url is None:
            rows.append((name, *timed(app.test_client(), "/dashboard/login", runs, None), first))
        else:
            rows.append((name, *timed(client, url, runs, expect), first))
    return rows, (load, os.getloadavg()[0])


def report(rows, load, n_held, n_decided):
    """Print the table: each scenario against the OFFSET baseline, and the first page against the target."""
    base = rows[0][1]
    print(
        f"\n{n_held:,} held + {n_decided:,} decided comments in PostgreSQL; whole pages via the Flask test client"
        f"\n(load average {load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} cores:"
        " other work on the machine slows every row)"
    )
    print(f"{'scenario':44} {'median ms':>10} {'p95 ms':>8} {'vs baseline':>12}  target")
    for name, median, p95, first in rows:
        verdict = ("PASS" if median < TARGET_MS else "FAIL") + f" (< {TARGET_MS:.0f} ms)" if first else ""
        print(f"{name:44} {median:10.1f} {p95:8.1f} {median / base:11.2f}x  {verdict}")
    first = next(r for r in rows if r[3])
    print(
        f"\nfirst page: {first[1]:.1f} ms median, {base / first[1]:.1f}x faster than OFFSET paging at page "
        f"{DEEP_PAGE} ({base:.1f} ms); target {TARGET_MS:.0f} ms: {'PASS' if first[1] < TARGET_MS else 'FAIL'}"
    )


def main():
    """Create, fill and time a throw-away database; drop it whatever happens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("MODERATION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--redis", default=os.environ.get("MODERATION_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--held", type=int, default=100_000)
    parser.add_argument("--decided", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if args.held < DEEP_PAGE * 50 or args.runs < 1:
        parser.error(f"the OFFSET baseline needs --held of at least {DEEP_PAGE * 50:,}, and --runs at least 1")

    base = make_url(args.postgres).set(drivername="postgresql")
    name = f"moderation_bench_{uuid.uuid4().hex[:10]}"
    admin_url = base.render_as_string(hide_password=False)
    url = base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    app = None
    try:
        app = create_app(
            {
                "DATABASE_URL": url,
                "REDIS_URL": args.redis,
                "SECRET_KEY": "bench",
                "QUEUE": f"moderation-bench-{name[-10:]}",
            }
        )
        start = time.perf_counter()
        with app.app_context():
            upgrade()
            site_ids = [sites.create_site(f"news-{i}.example.kz")[0].id for i in (1, 2, 3)]
            moderator_id = users.create_user("bench", "bench-password-1", "moderator").id
            db.session.remove()
        fill(url, args.held, args.decided, site_ids, moderator_id)
        print(
            f"database {name}: {args.held + args.decided:,} comments generated, copied and analysed "
            f"in {time.perf_counter() - start:.1f} s"
        )
        report(*measure(app, args.runs), args.held, args.decided)
    finally:
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
