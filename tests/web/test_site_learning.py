"""A site's own model: when an automatic retrain is promoted, the rules page's settings and buttons, isolation.

The retrain runs here in-process (`retraining.run_job`); tests/tasks/test_site_learning.py runs it in a
real worker and its beat.
"""

from pathlib import Path

import pytest
from sqlalchemy import select

from moderation import scoring
from moderation.db import db
from moderation.models import AuditEvent, Site
from moderation.services import learning, retraining, scorer
from tests.unit.test_adapt import site_decisions
from tests.web.dashboard_support import page_token, signed_in_client
from tests.web.test_retraining import decide, models_dir, retrain_app  # noqa: F401  (fixtures)

# The previous shipped version, kept for rollback (the last line of models/HISTORY): another base.
OLD_BASE = (Path(__file__).resolve().parents[2] / "models" / "HISTORY").read_text(encoding="utf-8").split()[-1]


def metrics(active, new, warnings=()):
    return {
        "held_out": {
            "spam": {"active": {"roc_auc": None}, "new": {"roc_auc": None}},
            "toxicity": {"active": {"roc_auc": active}, "new": {"roc_auc": new}},
        },
        "warnings": list(warnings),
    }


@pytest.mark.parametrize(
    "figures, expected",
    [
        ((0.80, 0.95), []),
        ((0.95, 0.95), ["not_better"]),
        ((0.95, 0.80), ["not_better"]),
        ((0.80, 0.95, [{"code": "base_dev", "task": "toxicity"}]), ["base_dev"]),
        ((0.80, 0.95, [{"code": "recent", "away": 9, "toward": 2}]), ["recent"]),
        ((0.95, 0.951), ["not_better"]),  # within the noise
        ((0.80, 0.95, [{"code": "held_out", "task": "spam"}]), ["held_out"]),  # measurably worse on one task
    ],
)
def test_a_version_is_promoted_only_when_better_for_the_site_and_no_worse_elsewhere(figures, expected):
    assert [w["code"] for w in learning.promotion_refusals(metrics(*figures))] == expected


def site_of(app, site_id):
    with app.app_context():
        site = db.session.get(Site, site_id)
        db.session.expunge(site)
    return site


def run_due(app):
    """The beat's check, then the worker's job, in this process; return the finished job's state."""
    with app.app_context():
        job = learning.retrain_due(app)
        assert job is not None, "the site had enough new decisions"
        retraining.run_job(job.id, app.config)
        return retraining.job_state(learning.latest_job(job.site_id))


def learner(app, auto_promote=True):
    """A site whose moderators decided the local-insult comments, set to retrain after 40 of them."""
    decide(app, site_decisions())
    with app.app_context():
        site = db.session.scalars(select(Site).order_by(Site.id.desc())).first()
        site.auto_retrain_after, site.auto_promote = 40, auto_promote
        db.session.commit()
        return site.id


def test_a_better_version_becomes_the_sites_own_and_no_other_sites(retrain_app, models_dir):
    app = retrain_app
    site_id = learner(app)
    other = learner(app)  # its decisions are as many, but it was due second: one job at a time
    state = run_due(app)
    assert state["status"] == "done"
    version = state["version"]
    assert site_of(app, site_id).model_version == version and site_of(app, other).model_version is None
    assert site_of(app, site_id).retrained_at is not None
    with app.app_context():
        assert scorer.bundle_for(models_dir, version).version == version
        assert scorer.bundle_for(models_dir, None).version == scoring.load_active(models_dir).version
        assert learning.retrain_due(app).site_id == other  # the other site's turn now
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "model_auto_promote")).one()
        assert (event.via, event.detail["site_id"], event.detail["new"]) == ("auto", site_id, version)
        with pytest.raises(retraining.RetrainError, match="decides the comments of site"):
            retraining.delete_version(models_dir, version)
        # Admins promote a version with another base: the site follows the active version until it retrains.
        scoring.set_active(models_dir, OLD_BASE)
        assert scorer.bundle_for(models_dir, version).version == OLD_BASE


def test_without_automatic_use_the_version_waits_for_an_admin(retrain_app):
    app = retrain_app
    site_id = learner(app, auto_promote=False)
    state = run_due(app)
    assert state["status"] == "done" and "kept as a candidate: auto_promote_off" in state["message"]
    assert site_of(app, site_id).model_version is None

    admin, _login = signed_in_client(app, role="admin")
    page = admin.get(f"/dashboard/admin/rules/{site_id}").get_data(as_text=True)
    assert "автоматическое использование для этого сайта выключено" in page
    assert f'name="version" value="{state["version"]}"' in page
    path = f"/dashboard/admin/rules/{site_id}/learning"
    token = page_token(admin, f"/dashboard/admin/rules/{site_id}")
    used = admin.post(path, data={"csrf_token": token, "action": "use", "version": state["version"]})
    assert used.status_code == 302
    assert site_of(app, site_id).model_version == state["version"]
    page = admin.get(f"/dashboard/admin/rules/{site_id}").get_data(as_text=True)
    assert "(своя, обучена на его решениях)" in page

    assert admin.post(path, data={"csrf_token": token, "action": "reset"}).status_code == 302
    assert site_of(app, site_id).model_version is None
    with app.app_context():
        changes = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "site_model").order_by(AuditEvent.id)
        ).all()
    assert [c["new"]["model_version"] for c in changes] == [state["version"], None]


@pytest.mark.parametrize(
    "version, message",
    [
        ("../../etc", "Эта версия модели не загружается."),
        (OLD_BASE, "Эта версия дообучает другую базовую модель"),
    ],
)
def test_a_version_that_cannot_decide_the_sites_comments_is_refused(retrain_app, version, message):
    app = retrain_app
    site_id = learner(app)
    admin, _login = signed_in_client(app, role="admin")
    token = page_token(admin, f"/dashboard/admin/rules/{site_id}")
    refused = admin.post(
        f"/dashboard/admin/rules/{site_id}/learning", data={"csrf_token": token, "action": "use", "version": version}
    )
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert site_of(app, site_id).model_version is None


def test_the_learning_settings(retrain_app):
    app = retrain_app
    site_id = learner(app)
    admin, _login = signed_in_client(app, role="admin")
    path = f"/dashboard/admin/rules/{site_id}/learning"
    token = page_token(admin, f"/dashboard/admin/rules/{site_id}")
    for bad in ("5", "100001", "-1", "x"):
        response = admin.post(path, data={"csrf_token": token, "auto_retrain_after": bad, "auto_promote": "1"})
        assert response.status_code == 400, bad
    assert admin.post(path, data={"csrf_token": token, "auto_retrain_after": "0"}).status_code == 302
    site = site_of(app, site_id)
    assert (site.auto_retrain_after, site.auto_promote) == (0, False)
    with app.app_context():
        assert learning.retrain_due(app) is None  # 0: never
    assert admin.post(path, data={"action": "reset"}).status_code == 400  # no CSRF token
