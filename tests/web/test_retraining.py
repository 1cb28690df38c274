"""Retraining from the admin page: the job, its progress, the comparison, failures, deleting old versions.

The retrain runs here in-process (`retraining.run_job`, the task's body); tests/tasks/test_retrain.py
runs it in a real worker.
"""

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from moderation.cli import main
from moderation.db import db, utcnow
from moderation.models import APPROVED, AuditEvent, RetrainJob
from moderation.scoring import registry
from moderation.services import retraining, review, users
from tests.support import beating_as_worker
from tests.unit.test_adapt import site_decisions
from tests.web.dashboard_support import csrf_token, make_site, seed_comment, signed_in_client

MODELS = Path(__file__).resolve().parents[2] / "models"
PAGE = "/dashboard/admin/models"


@pytest.fixture
def models_dir(tmp_path):
    """A writable copy of the shipped models (never the real folder)."""
    target = tmp_path / "models"
    shutil.copytree(MODELS, target)
    return target


@pytest.fixture
def retrain_app(make_app, models_dir, tmp_path):
    """An app on the models copy with no base data (a fresh install); jobs are removed afterwards."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    app = make_app(MODELS_DIR=str(models_dir), DATA_DIR=str(empty))
    with beating_as_worker(app):  # this process runs the queued jobs (run_job), so it is the worker
        yield app
    with app.app_context():
        db.session.execute(delete(RetrainJob))
        db.session.commit()


def decide(app, decisions):
    """Store comments and the moderators' decisions on them, as the queue does."""
    site_id = make_site(app)
    ids = [seed_comment(app, site_id, status=APPROVED, text=text) for text, _toxic in decisions]
    with app.app_context():
        moderator = users.create_user(f"mod-{site_id}", "correct horse battery", "moderator")
        for comment_id, (_text, toxic) in zip(ids, decisions):
            action, reason = ("reject", "insult") if toxic else ("approve", None)
            review.moderate([comment_id], moderator, action, reason)


def post(client, path, **data):
    data["csrf_token"] = csrf_token(client.get(PAGE).data)
    return client.post(path, data=data)


def queue_and_run(app, client):
    """Press «Retrain», then run the queued job as the worker would; return the job's id."""
    response = post(client, "/dashboard/admin/models/retrain")
    assert response.status_code == 302, response.data[:300]
    with app.app_context():
        job = db.session.scalars(select(RetrainJob).order_by(RetrainJob.id.desc())).first()
        assert job.status == "queued"
        retraining.run_job(job.id, app.config)
        return job.id


def active(models_dir):
    return (models_dir / "ACTIVE").read_text().strip()


def test_retrain_writes_a_version_and_shows_it_beside_the_active_one(retrain_app, models_dir):
    app = retrain_app
    decide(app, site_decisions())
    client, _login = signed_in_client(app, role="admin")
    before = active(models_dir)
    job_id = queue_and_run(app, client)

    state = client.get(f"/dashboard/admin/models/jobs/{job_id}").json
    assert state["status"] == "done" and state["progress"] == 100 and state["finished"], state
    version = state["version"]
    assert active(models_dir) == before, "a retrain never switches the model by itself"
    manifest = registry.read_manifest(models_dir, version)
    assert manifest["adapter"]["base_version"] == before
    held = manifest["retrain"]["held_out"]
    assert held["n"] == 20 and manifest["retrain"]["labels"]["train"] == 44
    assert held["toxicity"]["new"]["roc_auc"] > held["toxicity"]["active"]["roc_auc"]
    assert "base_dev" not in manifest["retrain"]  # no base data on a fresh install

    page = client.get(PAGE).get_data(as_text=True)
    assert version in page and before in page
    table = page[page.index('class="admin-table comparison"') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r'<td class="num">([^<]+)</td>', table)
    assert (
        f"{held['toxicity']['active']['roc_auc']:.3f}" in cells and f"{held['toxicity']['new']['roc_auc']:.3f}" in cells
    )
    assert f'name="version" value="{version}"' in page  # promote it from the comparison
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "model_retrain")).all()
        assert [e.detail for e in events] == [{"job": job_id, "strategy": "adapter"}]

    post(client, "/dashboard/admin/models/promote", version=version)
    assert active(models_dir) == version
    # The next retrain adapts the shipped base again (with every decision), not the adapted version.
    second = registry.read_manifest(
        models_dir, client.get(f"/dashboard/admin/models/jobs/{queue_and_run(app, client)}").json["version"]
    )
    assert second["adapter"]["adapted_from"] == second["adapter"]["base_version"] == before
    assert second["retrain"]["active_version"] == version


def test_labels_of_one_class_fail_the_job_and_keep_the_active_model(retrain_app, models_dir):
    app = retrain_app
    decide(app, [(text, False) for text, _toxic in site_decisions()])
    client, _login = signed_in_client(app, role="admin")
    before, versions = active(models_dir), sorted(p.name for p in models_dir.iterdir())
    job_id = queue_and_run(app, client)
    state = client.get(f"/dashboard/admin/models/jobs/{job_id}").json
    assert state["status"] == "failed" and "both classes" in state["error"], state
    assert active(models_dir) == before and sorted(p.name for p in models_dir.iterdir()) == versions
    page = client.get(PAGE).get_data(as_text=True)
    assert 'class="job job-failed"' in page and "both classes" in page


def test_too_few_decisions_and_a_second_retrain_are_refused(retrain_app, models_dir):
    app = retrain_app
    decide(app, site_decisions()[:5])
    client, _login = signed_in_client(app, role="admin")
    job_id = queue_and_run(app, client)
    assert "at least 20" in client.get(f"/dashboard/admin/models/jobs/{job_id}").json["error"]

    post(client, "/dashboard/admin/models/retrain")
    response = post(client, "/dashboard/admin/models/retrain")
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "under way" in page and "<progress" in page and "data-job-url" in page
    with app.app_context():
        assert db.session.scalar(select(RetrainJob).where(RetrainJob.status == "queued")) is not None
        assert len(db.session.scalars(select(RetrainJob)).all()) == 2


def test_a_job_whose_worker_died_is_failed_when_someone_looks(make_app, models_dir, tmp_path):
    app = make_app(MODELS_DIR=str(models_dir), RETRAIN_STALE_SECONDS=60)
    client, _login = signed_in_client(app, role="admin")
    try:
        with app.app_context():
            job = RetrainJob(
                status="running",
                progress=40,
                message="fitting",
                started_at=utcnow(),
                updated_at=utcnow() - timedelta(seconds=61),
                active_slot=1,
            )
            fresh = RetrainJob(
                status="done", progress=100, version="v1", finished_at=utcnow(), updated_at=utcnow() - timedelta(days=1)
            )
            db.session.add_all([job, fresh])
            db.session.commit()
            job_id, fresh_id = job.id, fresh.id
        state = client.get(f"/dashboard/admin/models/jobs/{job_id}").json
        assert state["status"] == "failed" and "stopped answering" in state["error"]
        with app.app_context():
            assert db.session.get(RetrainJob, job_id).active_slot is None  # a new retrain may start
        assert client.get(f"/dashboard/admin/models/jobs/{fresh_id}").json["status"] == "done"
        assert client.get("/dashboard/admin/models/jobs/999999").status_code == 404
    finally:
        with app.app_context():
            db.session.execute(delete(RetrainJob))
            db.session.commit()


def test_old_versions_are_deleted_but_never_the_active_or_the_shipped_one(retrain_app, models_dir):
    app = retrain_app
    shipped = (models_dir / "SHIPPED").read_text().strip()
    current = active(models_dir)
    old = "v20990101-000000"
    shutil.copytree(models_dir / current, models_dir / old)
    manifest = (models_dir / old / "manifest.json").read_text().replace(current, old)
    (models_dir / old / "manifest.json").write_text(manifest)
    client, _login = signed_in_client(app, role="admin")
    page = client.get(PAGE).get_data(as_text=True)
    deletable = set(
        re.findall(
            r'action="/dashboard/admin/models/delete"[^>]*>\s*<input[^>]*>\s*'
            r'<input type="hidden" name="version" value="([^"]+)"',
            page,
        )
    )
    assert old in deletable and current not in deletable and shipped not in deletable

    for version in (current, shipped, "../models", "v19990101-000000"):
        response = post(client, "/dashboard/admin/models/delete", version=version)
        assert response.status_code == 302
        assert (models_dir / version).is_dir() or version.startswith(("..", "v1999"))
    with pytest.raises(retraining.RetrainError, match="shipped"):
        retraining.delete_version(models_dir, shipped)
    post(client, "/dashboard/admin/models/delete", version=old)
    assert not (models_dir / old).exists()
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "model_delete")).all()
        assert [e.detail for e in events] == [{"version": old}]


def test_only_admins_retrain_delete_or_read_jobs(retrain_app):
    client, _login = signed_in_client(retrain_app, role="moderator")
    token = csrf_token(client.get("/dashboard/").data)
    assert client.get("/dashboard/admin/models/jobs/1").status_code == 403
    for path in ("/dashboard/admin/models/retrain", "/dashboard/admin/models/delete"):
        assert client.post(path, data={"csrf_token": token, "version": "x"}).status_code == 403
    admin, _login = signed_in_client(retrain_app, role="admin")
    assert admin.post("/dashboard/admin/models/retrain", data={}).status_code == 400  # no CSRF token
    with retrain_app.app_context():
        assert db.session.scalar(select(RetrainJob)) is None


def test_the_progress_script_is_a_static_file(retrain_app):
    client, _login = signed_in_client(retrain_app, role="admin")
    page = client.get(PAGE)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert '<script src="/static/models.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "no inline scripts"
    script = client.get("/static/models.js")
    assert script.status_code == 200 and b"/jobs/" not in script.data and b"data-job-url" in script.data


def test_cli_retrain_queues_a_job(retrain_app):
    result = retrain_app.test_cli_runner().invoke(main, ["retrain"])
    assert result.exit_code == 0, result.output
    assert re.match(r"retrain job \d+ queued", result.output.strip().splitlines()[-1])
    with retrain_app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "model_retrain"))
        assert event.via == "cli" and event.user_id is None


def test_measurable_drops_are_flagged_before_promotion():
    held = {
        "spam": {"active": {"roc_auc": 0.99}, "new": {"roc_auc": 0.995}},
        "toxicity": {"active": {"roc_auc": 0.95}, "new": {"roc_auc": 0.90}},
    }
    dev = {
        name: {part: {"roc_auc": 0.97, "f1": 0.88} for part in ("spam", "toxicity", "toxicity_forum")}
        for name in ("active", "new")
    }
    dev["new"]["toxicity_forum"] = {"roc_auc": 0.9695, "f1": 0.85}
    found = retraining.warnings(
        {
            "held_out": held,
            "base_dev": dev,
            "recent": {"new": {"changed": 9, "toward_moderators": 2, "away_from_moderators": 7}},
        }
    )
    assert found == [
        {"code": "held_out", "task": "toxicity", "active": 0.95, "new": 0.90},
        {"code": "base_dev", "task": "toxicity_forum", "figure": "f1", "active": 0.88, "new": 0.85},
        {"code": "recent", "away": 7, "toward": 2},
    ]
    assert (
        retraining.warnings(
            {
                "held_out": {t: {"active": {"roc_auc": None}, "new": {"roc_auc": 0.5}} for t in ("spam", "toxicity")},
                "recent": {},
            }
        )
        == []
    )


def test_only_one_job_can_be_under_way_even_in_a_race(make_app, models_dir):
    from sqlalchemy.exc import IntegrityError

    app = make_app(MODELS_DIR=str(models_dir))
    try:
        with app.app_context():
            db.session.add(RetrainJob(status="queued", active_slot=1))
            db.session.commit()
            db.session.add(RetrainJob(status="queued", active_slot=1))  # what a second admin's request would write
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
    finally:
        with app.app_context():
            db.session.execute(delete(RetrainJob))
            db.session.commit()


def test_a_silent_fit_keeps_its_job_alive(make_app, models_dir):
    import time

    app = make_app(MODELS_DIR=str(models_dir))
    try:
        with app.app_context():
            job = RetrainJob(status="running", updated_at=utcnow() - timedelta(hours=1), active_slot=1)
            db.session.add(job)
            db.session.commit()
            job_id, before = job.id, job.updated_at
            stop = retraining._keep_alive(job_id, every=0.05)
            time.sleep(0.5)
            stop.set()
            db.session.expire_all()
            assert db.session.get(RetrainJob, job_id).updated_at > before + timedelta(minutes=59)
    finally:
        with app.app_context():
            db.session.execute(delete(RetrainJob))
            db.session.commit()
