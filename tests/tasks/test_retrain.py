"""Retraining in a real worker: moderators teach the filter a local insult; promote, roll back; a killed retrain.

A fresh install: DATA_DIR is an empty folder, so the retrain is the site adapter on the shipped model.
"""

import re
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from moderation.cli import main
from moderation.db import db, utcnow
from moderation.models import APPROVED, Comment, Label, RetrainJob
from moderation.scoring import registry
from moderation.services import retraining, sites, users
from tests.tasks.conftest import wait_for_decisions
from tests.unit.test_adapt import INSULT_NEW, NEUTRAL_NEW, ORDINARY, site_decisions
from tests.web.dashboard_support import csrf_token, signed_in_client

MODELS = Path(__file__).resolve().parents[2] / "models"
PAGE = "/dashboard/admin/models"
pytestmark = pytest.mark.worker


@pytest.fixture
def fresh_install(make_app, tmp_path):
    """(app, settings for the worker): a copy of the shipped models and no base data."""
    models_dir, data_dir = tmp_path / "models", tmp_path / "no-data"
    shutil.copytree(MODELS, models_dir)
    data_dir.mkdir()
    settings = {"MODELS_DIR": str(models_dir), "DATA_DIR": str(data_dir)}
    app = make_app(**settings)
    yield app, settings
    with app.app_context():
        db.session.execute(delete(RetrainJob))
        db.session.commit()


def post_comments(client, key, texts, article):
    ids = []
    for text in texts:
        response = client.post(
            "/api/v1/comments",
            json={"name": "Читатель", "text": text, "article_id": article},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 202, response.json
        ids.append(response.json["id"])
    return ids


def decided(app, ids):
    """{id: (status, model_version)} once none is pending."""
    wait_for_decisions(app, ids)
    with app.app_context():
        rows = db.session.execute(select(Comment.id, Comment.status, Comment.model_version).where(Comment.id.in_(ids)))
        return {row.id: (row.status, row.model_version) for row in rows}


def dashboard_post(client, path, **data):
    data["csrf_token"] = csrf_token(client.get(PAGE).data)
    response = client.post(path, data=data)
    assert response.status_code == 302, response.data[:300]
    return response


def wait_for_job(client, job_id, timeout=120):
    """Poll the job's JSON endpoint as the page's script does, until it is finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/dashboard/admin/models/jobs/{job_id}").json
        if state["finished"]:
            return state
        time.sleep(0.5)
    raise AssertionError(f"retrain job {job_id} unfinished after {timeout}s: {state}")


def test_moderators_teach_the_filter_a_local_insult(fresh_install, start_worker):
    app, settings = fresh_install
    models_dir = Path(settings["MODELS_DIR"])
    shipped = (models_dir / "ACTIVE").read_text().strip()
    start_worker(**settings)
    client = app.test_client()
    with app.app_context():
        _site, key = sites.create_site("almaty-news")
        token = users.issue_token(users.create_user("moderator-1", "correct horse battery", "moderator"))

    decisions = site_decisions()
    ids = post_comments(client, key, [text for text, _toxic in decisions], "news-1")
    before = decided(app, ids)
    insults = [i for i, (_text, toxic) in zip(ids, decisions) if toxic]
    assert all(before[i] == (APPROVED, shipped) for i in insults), "the shipped model lets the insult through"
    for comment_id, (_text, toxic) in zip(ids, decisions):
        body = {"action": "reject", "reason": "insult"} if toxic else {"action": "approve"}
        response = client.post(
            f"/api/v1/comments/{comment_id}/moderate", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.json

    admin, _login = signed_in_client(app, role="admin")
    dashboard_post(admin, "/dashboard/admin/models/retrain")
    with app.app_context():
        job_id = db.session.scalar(select(RetrainJob.id).order_by(RetrainJob.id.desc()))
    state = wait_for_job(admin, job_id)
    assert state["status"] == "done", state
    version = state["version"]
    assert (models_dir / "ACTIVE").read_text().strip() == shipped, "retraining alone switches nothing"

    page = admin.get(PAGE).get_data(as_text=True)
    comparison = page[page.index('class="admin-table comparison"') :]
    comparison = comparison[: comparison.index("</table>")]
    assert version in comparison and shipped in comparison
    side_by_side = re.findall(
        r'<tr class="metric"><td>([^<]+)</td><td class="num">([0-9.]+)</td><td class="num">([0-9.]+)</td>', comparison
    )
    held = registry.read_manifest(models_dir, version)["retrain"]["held_out"]["toxicity"]
    recall = (f"{held['active']['recall']:.3f}", f"{held['new']['recall']:.3f}")
    assert recall in [(old, new) for _label, old, new in side_by_side] and float(recall[1]) > float(recall[0])

    dashboard_post(admin, "/dashboard/admin/models/promote", version=version)
    new_ids = post_comments(client, key, INSULT_NEW + NEUTRAL_NEW + ORDINARY[:4], "news-2")
    after = decided(app, new_ids)
    assert [after[i] for i in new_ids[: len(INSULT_NEW)]] == [("held", version)] * len(INSULT_NEW)
    assert [after[i] for i in new_ids[len(INSULT_NEW) :]] == [(APPROVED, version)] * (len(new_ids) - len(INSULT_NEW))

    dashboard_post(admin, "/dashboard/admin/models/rollback")
    assert (models_dir / "ACTIVE").read_text().strip() == shipped
    old_ids = post_comments(client, key, INSULT_NEW[:3], "news-3")
    assert set(decided(app, old_ids).values()) == {(APPROVED, shipped)}

    # The command line runs the same retrain in the worker and prints the new version last.
    result = app.test_cli_runner().invoke(main, ["retrain", "--wait", "--timeout", "120"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()[-1]
    assert printed != version and (models_dir / printed / "manifest.json").is_file()


def seed_labels(app, n):
    """n decided comments with moderators' labels, written in bulk (the retrain then runs for seconds)."""
    decisions = site_decisions()
    with app.app_context():
        site, _key = sites.create_site("bulk-news")
        user = users.create_user("moderator-bulk", "correct horse battery", "moderator")
        now = utcnow()
        rows = [
            {
                "site_id": site.id,
                "name": "Читатель",
                "text": f"{decisions[i % len(decisions)][0]} ({i})",
                "status": APPROVED,
                "reasons": [],
                "created_at": now,
                "queued_at": now,
            }
            for i in range(n)
        ]
        db.session.execute(insert(Comment), rows)
        ids = db.session.scalars(select(Comment.id).where(Comment.site_id == site.id).order_by(Comment.id)).all()
        db.session.execute(
            insert(Label),
            [
                {
                    "comment_id": c,
                    "user_id": user.id,
                    "spam": False,
                    "toxic": decisions[i % len(decisions)][1],
                    "created_at": now,
                }
                for i, c in enumerate(ids)
            ],
        )
        db.session.commit()


def test_a_retrain_whose_worker_is_killed_fails_and_keeps_the_active_model(fresh_install, start_worker):
    app, settings = fresh_install
    app.config["RETRAIN_STALE_SECONDS"] = 3  # this app looks for stopped heartbeats after 3 s
    models_dir = Path(settings["MODELS_DIR"])
    active, versions = (models_dir / "ACTIVE").read_text(), sorted(p.name for p in models_dir.iterdir())
    seed_labels(app, 3000)
    worker = start_worker(**settings)
    worker.wait_for_log("ready.")
    with app.app_context():
        job_id = retraining.queue_job(app, via="cli").id
    deadline = time.monotonic() + 60
    while True:
        with app.app_context():
            status = db.session.get(RetrainJob, job_id).status
        if status != "queued" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == "running", worker.log()[-2000:]
    worker.kill()

    admin, _login = signed_in_client(app, role="admin")
    time.sleep(3.5)  # the heartbeat has stopped
    page = admin.get(PAGE).get_data(as_text=True)
    assert f'<tr class="job job-failed" id="job-{job_id}">' in page and "stopped answering" in page
    assert admin.get(f"/dashboard/admin/models/jobs/{job_id}").json["status"] == "failed"
    assert (models_dir / "ACTIVE").read_text() == active
    assert sorted(p.name for p in models_dir.iterdir() if not p.name.startswith(".")) == versions
    assert 'name="compare_full"' not in page and 'action="/dashboard/admin/models/retrain"' in page, "retrain again"
