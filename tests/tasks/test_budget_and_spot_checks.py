"""A site's hold budget and spot checks through the real pipeline: HTTP API, Redis, a Celery worker and its beat.

The comments are real news comments (../shared/data/unlabelled_comments.csv), posted in file order.
"""

import csv
import functools
import uuid

import pytest
from scipy.stats import binom
from sqlalchemy import select

from moderation import scoring
from moderation.db import db
from moderation.models import APPROVED, HELD, Comment, Site
from moderation.services import budget, sites
from tests.conftest import ROOT, unavailable
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.service import wait_until

NEWS = ROOT.parent / "shared" / "data" / "unlabelled_comments.csv"


@pytest.fixture
def app(make_app):
    """The app, with the site key's rate limit out of the way: the test client posts hundreds of comments a second."""
    return make_app(API_KEY_LIMIT="1000000 per second")


@functools.cache
def news_texts():
    """Distinct real news comments of a few words or more, in file order."""
    if not NEWS.exists():
        unavailable(f"no {NEWS}: ../shared/data is not beside the checkout")
    with open(NEWS, encoding="utf-8", newline="") as fh:
        texts = [row["text"].strip() for row in csv.DictReader(fh)]
    return list(dict.fromkeys(t for t in texts if 20 <= len(t) <= 2000))


def new_site(app, **columns):
    """A site that takes comments as fast as the test sends them; return (id, Authorization header)."""
    with app.app_context():
        site, key = sites.create_site(f"site-{uuid.uuid4().hex[:6]}")
        site.flood_seconds = 0
        for name, value in columns.items():
            setattr(site, name, value)
        db.session.commit()
        return site.id, {"Authorization": f"Bearer {key}"}


def post_all(client, auth, texts):
    ids = []
    for n, text in enumerate(texts):
        response = client.post("/api/v1/comments", json={"name": f"Читатель {n}", "text": text}, headers=auth)
        assert response.status_code == 202, response.json
        ids.append(response.json["id"])
    return ids


def decided(app, ids):
    with app.app_context():
        rows = db.session.scalars(select(Comment).where(Comment.id.in_(ids))).all()
        db.session.expunge_all()
    return rows


def toxicity_held(comments):
    """The toxicity scores of the comments held by the toxicity threshold."""
    return [r["score"] for c in comments for r in c.reasons or [] if r["code"] == "toxicity"]


def test_a_hold_budget_moves_the_thresholds_so_the_held_share_follows_it(app, client, start_worker):
    texts = news_texts()
    model = scoring.load_active(app.config["MODELS_DIR"]).thresholds
    site_id, auth = new_site(app, hold_budget_percent=30.0)
    start_worker(BUDGET_INTERVAL=2)
    warm_up = post_all(client, auth, texts[: budget.MIN_COMMENTS + 20])
    wait_for_decisions(app, warm_up, timeout=240)
    # No threshold was in force before the site had enough decided comments: the model's decided them (the
    # beat may set the budget's while the last few are decided).
    assert min(toxicity_held(decided(app, warm_up[: budget.MIN_COMMENTS])), default=1.0) >= model["toxicity_hold"]

    def state():
        with app.app_context():
            found = db.session.get(Site, site_id).budget_state
        return found if found and found["status"] == "active" and found["window"] >= len(warm_up) else None

    first = wait_until(state, timeout=60, what="the beat's budget thresholds")
    # The model holds about an eighth of these comments; a 30% budget makes both hold thresholds stricter.
    assert first["toxicity_hold"] < model["toxicity_hold"] and first["spam_hold"] < model["spam_hold"]
    assert abs(first["expected_share"] - 0.30) <= 0.02, first

    later = decided(app, list(wait_for_decisions(app, post_all(client, auth, texts[400:650]), timeout=240)))
    held = sum(c.status == HELD for c in later) / len(later)
    assert 0.20 <= held <= 0.40, held
    assert min(toxicity_held(later), default=1.0) < model["toxicity_hold"]  # the budget's threshold, not the model's

    with app.app_context():
        budget.set_budget(db.session.get(Site, site_id))  # off: the model's thresholds at once
    after = decided(app, list(wait_for_decisions(app, post_all(client, auth, texts[700:800]), timeout=120)))
    assert min(toxicity_held(after), default=1.0) >= model["toxicity_hold"]
    assert sum(c.status == HELD for c in after) / len(after) < held


def test_spot_checks_draw_the_sites_share_of_the_filters_approvals(app, client, start_worker):
    texts = news_texts()
    checked_id, checked_auth = new_site(app, spot_check_percent=25.0)
    never_id, never_auth = new_site(app, spot_check_percent=0.0)
    start_worker()
    ids = post_all(client, checked_auth, texts[:300]) + post_all(client, never_auth, texts[300:400])
    comments = decided(app, list(wait_for_decisions(app, ids, timeout=240)))

    checked = [c for c in comments if c.site_id == checked_id]
    approved = [c for c in checked if c.status == APPROVED]
    drawn = [c for c in checked if c.spot_check]
    assert {c.status for c in drawn} == {APPROVED}  # only the filter's approvals are checked
    low, high = binom.interval(0.9999, len(approved), 0.25)
    assert low <= len(drawn) <= high, (len(drawn), len(approved))
    assert not [c for c in comments if c.site_id == never_id and c.spot_check]
