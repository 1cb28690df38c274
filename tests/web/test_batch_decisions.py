"""A worker decides a batch of comments at once (decisions.score_comments), each as if the batch's earlier ones
had been decided and stored before it: the same decisions as one by one, on each test database.

Decided by the functions the Celery task runs, so no worker is needed; the batching of the queue's messages is
tested in tests/tasks/test_batches.py.
"""

from sqlalchemy import select, update

from moderation import batching, tasks
from moderation.db import db
from moderation.models import APPROVED, PENDING, AuditEvent, Comment
from moderation.services import bans, decisions, pipeline
from tests.web.dashboard_support import make_site, seed_comment

CAMPAIGN = "Купите дешёвые часы у нас на сайте прямо сейчас со скидкой и бесплатной доставкой по всему Казахстану"
# (name, e-mail, address, text), in the order they came.
COMMENTS = [
    ("Айгуль", "aigul@example.kz", None, "Спасибо редакции, давно пора было отремонтировать дорогу на нашей улице."),
    ("Айгуль", "aigul@example.kz", None, "Согласна с комментатором выше, в нашем районе всё то же самое."),
    ("Продавец 1", None, "203.0.113.1", CAMPAIGN),
    ("Продавец 2", None, "203.0.113.2", CAMPAIGN + " Звоните!"),
    ("Продавец 3", None, "203.0.113.3", "Срочно! " + CAMPAIGN),
    ("Тролль", None, "198.51.100.9", "Ты тупой дебил, заткнись уже, идиот"),
    ("Забаненный", "banned@example.kz", None, "Обычный комментарий о новостях района и о погоде на выходных."),
    (
        "Читатель",
        None,
        "192.0.2.7",
        "Источники: https://tengrinews.kz/1 https://www.zakon.kz/2 https://informburo.kz/3",
    ),
    ("Айгуль", "aigul@example.kz", None, "Жақсы жаңалық, рахмет! Ауылымызда жол әлі күнге дейін жөнделмеген."),
]


def seeded_site(app):
    """A site where Айгуль has an approved comment already; return (site id, the pending comments' ids)."""
    site_id = make_site(app)
    seed_comment(app, site_id, status=APPROVED, name="Айгуль", email="aigul@example.kz", text="Хорошая статья.")
    ids = [
        seed_comment(app, site_id, status=PENDING, risk=None, name=name, email=email, author_ip=ip, text=text)
        for name, email, ip, text in COMMENTS
    ]
    return site_id, ids


def outcome(app, ids):
    """What was stored of each comment, in order: status, reason codes, and which campaign it joined (as the
    position of the campaign's first comment in the list), and how many audit entries each has."""
    with app.app_context():
        rows = {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(ids))).all()}
        entries = db.session.scalars(select(AuditEvent.comment_id).where(AuditEvent.comment_id.in_(ids))).all()
        return [
            (
                rows[i].status,
                sorted(r["code"] for r in rows[i].reasons),
                ids.index(rows[i].campaign_id) if rows[i].campaign_id in ids else rows[i].campaign_id,
                rows[i].model_version is not None or rows[i].status == "spam",
                entries.count(i),
            )
            for i in ids
        ]


def test_a_batch_decides_as_one_by_one_would(app):
    with app.app_context():
        bans.add_ban(bans.EMAIL, "banned@example.kz")
        db.session.commit()
    one_site, one_ids = seeded_site(app)
    batch_site, batch_ids = seeded_site(app)
    with app.app_context():
        for comment_id in one_ids:
            decisions.score_comment(comment_id)
        decided = decisions.score_comments(batch_ids)
    one_by_one, batched = outcome(app, one_ids), outcome(app, batch_ids)
    assert batched == one_by_one
    assert set(decided) == set(batch_ids)
    # What the batch had to tell its later comments was there to tell: the author's approval before, a campaign
    # of three names (the first one held again when the third came), a ban, the links held.
    statuses = [status for status, *_ in one_by_one]
    codes = [reasons for _status, reasons, *_ in one_by_one]
    assert statuses[:2] == ["approved", "approved"] and statuses[8] == "approved"
    assert all("campaign" in codes[i] for i in (2, 3, 4)) and {one_by_one[i][2] for i in (2, 3, 4)} == {2}
    assert "banned" in codes[6] and statuses[6] == "spam"
    assert statuses[5] == "held" and statuses[7] == "held"


def test_a_comment_a_moderator_decides_while_the_batch_is_scored_keeps_that_decision(app, monkeypatch):
    _site, ids = seeded_site(app)
    scored = pipeline.run_all

    def moderator_meanwhile(contexts):  # after the batch was read, before it is stored
        with db.engine.begin() as connection:
            connection.execute(update(Comment).where(Comment.id == ids[1]).values(status="rejected"))
        return scored(contexts)

    monkeypatch.setattr(pipeline, "run_all", moderator_meanwhile)
    with app.app_context():
        decided = decisions.score_comments(ids)
    assert ids[1] not in decided and len(decided) == len(ids) - 1
    stored = outcome(app, ids)
    assert stored[1][0] == "rejected" and stored[1][4] == 0  # no audit entry of the filter's for it
    assert all(status != PENDING for status, *_ in stored)


def test_a_comment_that_fails_its_batch_is_held_and_the_others_are_decided(app, monkeypatch):
    """The task itself (without a worker): a batch that raises is decided one comment at a time."""
    _site, ids = seeded_site(app)
    real = pipeline.run

    def broken_on_one(ctx, *args, **kwargs):
        if ctx.comment.id == ids[3]:
            raise ValueError("the model cannot read this comment")
        return real(ctx, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run", broken_on_one)
    assert tasks.score_comment([batching.Call((comment_id,), 0) for comment_id in ids]) == len(ids) - 1
    stored = outcome(app, ids)
    assert stored[3][:2] == ("held", ["error"])
    assert [status for status, *_ in stored[:2]] == ["approved", "approved"]
    assert all(status != PENDING for status, *_ in stored)
