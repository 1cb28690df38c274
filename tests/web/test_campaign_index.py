"""The campaign check reads the fingerprint index (services/rules.campaign_members): it finds what a comparison
with every stored fingerprint finds, within the window, on both databases; by bands, it may miss a comment just
at the similarity threshold (fingerprint.bands), never one clearly similar, and finds none that is not."""

import random
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import APPROVED, Comment, Site
from moderation.scoring import fingerprint
from moderation.services import rules, sites

WORDS = (
    "акция скидка часы дешево сайт заказ доставка бесплатно сегодня только сейчас звоните выгодно новинка "
    "подарок купить магазин качество гарантия быстро"
).split()
CAMPAIGN = "Купите дешёвые часы у нас на сайте прямо сейчас со скидкой и бесплатной доставкой по всему Казахстану"


def variant(rng, changes):
    """The campaign's text with `changes` of its words replaced at random."""
    words = CAMPAIGN.split()
    for index in rng.sample(range(len(words)), changes):
        words[index] = rng.choice(WORDS)
    return " ".join(words)


def store(site, text, name, created_at):
    comment = Comment(
        site_id=site.id,
        name=name,
        text=text,
        status=APPROVED,
        created_at=created_at,
        fingerprint=fingerprint.signature(text),
        decided_at=created_at,
    )
    db.session.add(comment)
    db.session.flush()
    rules.index_fingerprints([(comment.id, site.id, comment.fingerprint)], created_at)
    return comment


def brute_force(site, signature, since, at_least=fingerprint.SIMILAR):
    rows = db.session.execute(
        select(Comment.id, Comment.fingerprint).where(
            Comment.site_id == site.id, Comment.created_at >= since, Comment.fingerprint.is_not(None)
        )
    ).all()
    scores = fingerprint.similarities(signature, [row.fingerprint for row in rows])
    return {row.id for row, score in zip(rows, scores) if score >= at_least}


def test_the_index_finds_what_comparing_every_fingerprint_finds(app):
    rng = random.Random(7)
    with app.app_context():
        site, _key = sites.create_site("campaigns.example.kz")
        other, _key = sites.create_site("other.example.kz")
        now = utcnow()
        for n in range(300):  # near and far variants, some outside the window, some on another site
            created = now - timedelta(hours=rng.choice((1, 2, 30)))
            store(rng.choice((site, site, site, other)), variant(rng, rng.randrange(0, 12)), f"reader{n}", created)
        db.session.commit()
        since = now - timedelta(hours=app.config["CAMPAIGN_HOURS"])
        found_any, similar, missed = 0, 0, 0
        for changes in range(0, 12):
            text = variant(rng, changes)
            signature = fingerprint.signature(text)
            similar_ones = rules.similar_comments(Comment(name="x", text=text), site.id, signature, app.config)
            found, expected = {m.id for m in similar_ones}, brute_force(site, signature, since)
            assert found <= expected  # nothing that is not similar, nothing outside the window or the site
            assert brute_force(site, signature, since, at_least=0.5) <= found  # 16 of 32 positions: never missed
            similar, missed = similar + len(expected), missed + len(expected - found)
            members = rules.campaign_members(Comment(name="new reader", text=text), site.id, signature, app.config)
            assert {m.id for m in members} == (found if len(found) + 1 >= app.config["CAMPAIGN_SIZE"] else set())
            found_any += bool(expected)
        assert found_any >= 6  # the comparison was not trivially empty
        assert missed <= 0.03 * similar, (missed, similar)
        assert fingerprint.MIN_SHARED == int(np.ceil(fingerprint.SIMILAR * fingerprint.PERMUTATIONS))


def test_a_decided_comment_indexes_its_fingerprint_once(app):
    from moderation.services import instant

    with app.test_request_context():
        site = db.session.get(Site, sites.create_site("index.example.kz")[0].id)
        judged = instant.judge(site, {"name": "Аноним", "text": CAMPAIGN})
        slots = db.session.scalars(
            select(rules.FingerprintSlot.slot).where(rules.FingerprintSlot.comment_id == judged.comment_id)
        ).all()
        assert sorted(slots) == sorted(fingerprint.bands(fingerprint.signature(CAMPAIGN)))
        short = instant.judge(site, {"name": "Аноним", "text": "Согласен"})  # too short to fingerprint
        assert (
            db.session.scalars(
                select(rules.FingerprintSlot).where(rules.FingerprintSlot.comment_id == short.comment_id)
            ).all()
            == []
        )


def test_rows_older_than_the_window_are_forgotten_and_the_check_still_finds_the_recent_ones(app):
    rng = random.Random(3)
    with app.app_context():
        site, _key = sites.create_site("forget.example.kz")
        now, hours = utcnow(), app.config["CAMPAIGN_HOURS"]
        old = [store(site, variant(rng, 1), f"old{n}", now - timedelta(hours=hours + 2)).id for n in range(3)]
        recent = [store(site, variant(rng, 1), f"new{n}", now - timedelta(hours=1)).id for n in range(3)]
        db.session.commit()
        assert rules.forget_fingerprints(hours) == 3 * fingerprint.BANDS
        left = set(db.session.scalars(select(rules.FingerprintSlot.comment_id)).all())
        assert left == set(recent) and not left & set(old)
        members = rules.campaign_members(
            Comment(name="new reader", text=CAMPAIGN), site.id, fingerprint.signature(CAMPAIGN), app.config
        )
        assert {m.id for m in members} == set(recent)
