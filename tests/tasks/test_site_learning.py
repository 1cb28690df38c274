"""Sites learning on their own, in a real worker and its beat: a retrain after enough decisions, promoted for
that site alone when better, kept as a candidate when not.

A fresh install: DATA_DIR is an empty folder, so each retrain is a site adapter on the shipped model.
"""

import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from moderation.db import db
from moderation.models import APPROVED, HELD, AuditEvent, RetrainJob, Site
from moderation.services import learning, sites, users
from tests.model.test_behaviour import TOXIC
from tests.tasks.test_retrain import decided, post_comments
from tests.unit.test_adapt import INSULT_NEW, NEUTRAL_NEW, site_decisions

MODELS = Path(__file__).resolve().parents[2] / "models"
LATER_NEUTRAL = ["Спасибо, что написали про остановку на Абая", "Интересно, когда закончат ремонт моста"]
pytestmark = pytest.mark.worker


@pytest.fixture
def fresh_install(make_app, tmp_path):
    """(app, settings for the worker): a copy of the shipped models, no base data, a beat checking every 2 s."""
    models_dir, data_dir = tmp_path / "models", tmp_path / "no-data"
    shutil.copytree(MODELS, models_dir)
    data_dir.mkdir()
    settings = {"MODELS_DIR": str(models_dir), "DATA_DIR": str(data_dir), "AUTO_RETRAIN_INTERVAL": 2}
    app = make_app(**settings)
    yield app, settings
    with app.app_context():
        db.session.execute(delete(RetrainJob))
        db.session.commit()


def new_site(app, name, **columns):
    with app.app_context():
        site, key = sites.create_site(name)
        site.flood_seconds = 0
        for column, value in columns.items():
            setattr(site, column, value)
        db.session.commit()
        return site.id, key


def moderate_in_order(client, token, ids, toxic_flags):
    """The moderators' decisions, one by one in this order (the latest ones are held out)."""
    for comment_id, toxic in zip(ids, toxic_flags):
        body = {"action": "reject", "reason": "insult"} if toxic else {"action": "approve"}
        response = client.post(
            f"/api/v1/comments/{comment_id}/moderate", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.json


def site_job(app, site_id, timeout=180):
    """The site's retrain job once finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = learning.latest_job(site_id)
            if job is not None and job.status in ("done", "failed"):
                db.session.expunge(job)
                return job
        time.sleep(0.5)
    raise AssertionError(f"no finished retrain for site {site_id} after {timeout}s")


def audit_of(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)).all()


def test_a_site_learns_its_local_insult_and_no_other_site_does(fresh_install, start_worker):
    app, settings = fresh_install
    shipped = (Path(settings["MODELS_DIR"]) / "ACTIVE").read_text().strip()
    learner, learner_key = new_site(app, "almaty-news", auto_retrain_after=60)
    other, other_key = new_site(app, "astana-news")  # the default: 200 decisions, never reached here
    with app.app_context():
        token = users.issue_token(users.create_user("moderator-1", "correct horse battery", "moderator"))
    start_worker(**settings)
    client = app.test_client()

    decisions = site_decisions()
    ids = post_comments(client, learner_key, [text for text, _toxic in decisions], "news-1")
    decided(app, ids)
    moderate_in_order(client, token, ids, [toxic for _text, toxic in decisions])

    job = site_job(app, learner)
    assert job.status == "done", job.error
    assert job.metrics["promotion"]["promoted"] is True, job.metrics["promotion"]
    with app.app_context():
        own = db.session.get(Site, learner).model_version
        assert own == job.version and db.session.get(Site, other).model_version is None
    assert (Path(settings["MODELS_DIR"]) / "ACTIVE").read_text().strip() == shipped, "the install's model is kept"
    [promoted] = audit_of(app, "model_auto_promote")
    assert (promoted["site_id"], promoted["old"], promoted["new"]) == (learner, None, own)

    # The learner's readers meet its own version; the other site's readers the shipped one.
    here = decided(app, post_comments(client, learner_key, INSULT_NEW + NEUTRAL_NEW, "news-2"))
    there = decided(app, post_comments(client, other_key, INSULT_NEW + NEUTRAL_NEW, "news-2"))
    statuses_here = [here[i] for i in sorted(here)]
    assert statuses_here == [(HELD, own)] * len(INSULT_NEW) + [(APPROVED, own)] * len(NEUTRAL_NEW)
    assert {there[i] for i in sorted(there)} == {(APPROVED, shipped)}
    with app.app_context():
        assert learning.latest_job(other) is None  # no retrain for a site without enough decisions


def test_a_version_worse_for_the_site_is_kept_as_a_candidate(fresh_install, start_worker):
    """The moderators changed their minds: first they rejected the local word, lately they let it stand and
    reject only plain insults. Learnt from the earlier decisions, the new version ranks the latest ones worse
    than the shipped model, which ranks them perfectly: it is not used."""
    app, settings = fresh_install
    earlier = site_decisions()
    latest = (
        [(text, False) for text in INSULT_NEW]
        + [(text, True) for text in TOXIC]
        + [(text, False) for text in NEUTRAL_NEW + LATER_NEUTRAL]
    )
    rows = earlier + latest  # 84: the latest 20 are held out
    site_id, key = new_site(app, "karaganda-news", auto_retrain_after=len(rows))
    with app.app_context():
        token = users.issue_token(users.create_user("moderator-2", "correct horse battery", "moderator"))
    start_worker(**settings)
    client = app.test_client()
    ids = post_comments(client, key, [text for text, _toxic in rows], "news-1")
    decided(app, ids)
    moderate_in_order(client, token, ids, [toxic for _text, toxic in rows])

    job = site_job(app, site_id)
    assert job.status == "done", job.error
    promotion = job.metrics["promotion"]
    why = [w["code"] for w in promotion["why"]]
    assert promotion["promoted"] is False and why[:2] == ["not_better", "held_out"], why  # measurably worse
    worse = promotion["why"][0]
    assert worse["active"] == 1.0 and worse["new"] < worse["active"], worse
    assert "kept as a candidate: not_better, held_out" in job.message
    with app.app_context():
        assert db.session.get(Site, site_id).model_version is None
    [kept] = audit_of(app, "model_auto_keep")
    assert (kept["site_id"], kept["new"], kept["why"]) == (site_id, job.version, why)
