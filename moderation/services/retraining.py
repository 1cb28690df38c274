"""Retraining from the moderators' decisions: jobs, the new version, and how it compares with the active one.

Two ways to learn the site's judgement (see `retrain`):
- "adapter" (the default): a site adapter (`scoring.adapt`) on top of the active version's base,
  fitted on the labels alone, the base model's score as its starting point. It needs no base data,
  so it works on a fresh install, and takes seconds (50,000 decisions: under 20 s, bench/retrain.py).
- "full": `train_version` on the base data plus the labels (each label repeated SITE_WEIGHT times,
  so one moderator's decision weighs as much as three corpus rows); minutes, needs DATA_DIR.
- "best": both; the full retrain is kept only if its held-out ROC-AUC beats the adapter's by WORSE_AUC.
Why the adapter is the default, with base data too: on 3,500 realistic decisions (2ch/Pikabu and
detox test-split comments plus an invented local insult, 701 held out) the two rank the held-out
toxicity labels alike (ROC-AUC 0.9746 adapter, 0.9755 full, active 0.8928), but at the thresholds
the adapter decides more of them as the moderators did (F1 0.911 vs 0.872; of the last 500
decisions 67 change toward the moderators and 5 away, vs 52 and 17), in 9 s instead of 79 s.
The latest decisions are held out (never trained on) and score the new and the active version alike.
"""

import logging
import math
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from moderation import broker, heartbeat, scoring
from moderation.db import db, utcnow
from moderation.models import (
    RETRAIN_DONE,
    RETRAIN_FAILED,
    RETRAIN_QUEUED,
    RETRAIN_RUNNING,
    AuditEvent,
    Comment,
    Label,
    RetrainJob,
    Site,
)
from moderation.scoring import adapt, registry
from moderation.services import audit, scorer, settings

log = logging.getLogger(__name__)
STRATEGIES = ("adapter", "full", "best")
MIN_LABELS = 20  # fewer decisions teach nothing that could be measured
HELD_OUT_SHARE, MIN_HELD_OUT = 0.2, 20  # the latest 20% of decisions, at least 20 (at most half)
RECENT_DECISIONS = 500  # "how many of the last N decisions would change"
SITE_WEIGHT = 3  # "full": each label counts as this many corpus rows
SHIPPED_FILE = "SHIPPED"
WORSE_AUC, WORSE_F1 = 0.002, 0.01  # drops the comparison flags (about the noise of 1,700 forum dev comments)


class RetrainError(RuntimeError):
    """A retrain cannot run or cannot finish as asked; the message is shown to admins."""


def has_base_data(data_dir):
    """Whether the base corpora (spam.csv and toxicity.csv) are there to train and evaluate on."""
    return all((Path(data_dir) / name).is_file() for name in ("spam.csv", "toxicity.csv"))


def shipped_version(models_dir):
    """The version shipped with the service (models/SHIPPED), which may never be deleted; None if unknown."""
    try:
        return (Path(models_dir) / SHIPPED_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def delete_version(models_dir, version):
    """Delete an old version; refuses the active and the shipped one, and a site's own (RetrainError)."""
    if version == shipped_version(models_dir):
        raise RetrainError(f"{version} is the shipped model version; it is never deleted")
    user = db.session.scalar(select(Site.name).where(Site.model_version == version).limit(1))
    if user is not None:
        raise RetrainError(f"{version} decides the comments of site {user!r}; give it the shared model first")
    try:
        scoring.remove_version(Path(models_dir), version)
    except (ValueError, OSError, scoring.ModelLoadError) as exc:
        raise RetrainError(str(exc)) from exc


# --- jobs ----------------------------------------------------------------------------------------------


def expire_stale(config, now=None):
    """Fail running jobs whose heartbeat stopped (a killed worker) and queued ones no worker took.

    How long each may wait is the app's configuration (RETRAIN_STALE_SECONDS, RETRAIN_QUEUE_SECONDS in config.py).

    When Redis says no worker is alive at all, neither kind can progress: they fail once the workers'
    heartbeats have had time to show, instead of blocking the next retrain for an hour.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=config["RETRAIN_STALE_SECONDS"])
    waited = now - timedelta(seconds=config["RETRAIN_QUEUE_SECONDS"])
    if current_job() is not None and heartbeat.workers_alive(config) == []:
        stale = waited = now - timedelta(seconds=heartbeat.ttl(config))
    for status, column, cutoff, error in (
        (RETRAIN_RUNNING, RetrainJob.updated_at, stale, "The worker stopped answering (killed or out of memory)."),
        (RETRAIN_QUEUED, RetrainJob.created_at, waited, "No worker took the job."),
    ):
        db.session.execute(
            update(RetrainJob)
            .where(RetrainJob.status == status, column < cutoff)
            .values(status=RETRAIN_FAILED, error=error, finished_at=now, active_slot=None)
        )
    db.session.commit()


def current_job():
    """The queued or running job, if any (only one runs at a time)."""
    return db.session.scalar(
        select(RetrainJob)
        .where(RetrainJob.status.in_((RETRAIN_QUEUED, RETRAIN_RUNNING)))
        .order_by(RetrainJob.id.desc())
        .limit(1)
    )


def recent_jobs(limit=5):
    """The latest jobs, newest first."""
    return db.session.scalars(select(RetrainJob).order_by(RetrainJob.id.desc()).limit(limit)).all()


def queue_job(app, user_id=None, strategy="adapter", via="dashboard", site_id=None):
    """Create a job and send it to the workers; RetrainError when one is under way already.

    With `site_id`, the job learns from that site's decisions only, and its version is for that site alone.
    """
    if strategy not in STRATEGIES or (site_id is not None and strategy != "adapter"):
        raise RetrainError(f"unknown strategy {strategy!r}" + (" for a site" if site_id is not None else ""))
    expire_stale(app.config)
    if current_job() is not None:
        raise RetrainError("a retrain is under way already")
    try:
        broker.require_worker(app)  # a job no worker takes would only block the next one
    except broker.BrokerUnavailable as exc:
        raise RetrainError(str(exc)) from exc
    job = RetrainJob(
        status=RETRAIN_QUEUED,
        strategy=strategy,
        created_by_id=user_id,
        message="queued",
        active_slot=1,
        site_id=site_id,
    )
    db.session.add(job)
    try:
        db.session.flush()
    except IntegrityError as exc:  # another admin queued one at the same moment
        db.session.rollback()
        raise RetrainError("a retrain is under way already") from exc
    if via != "dashboard":  # the dashboard records its own audit event (admin.record)
        db.session.add(
            AuditEvent(
                user_id=user_id,
                action=audit.MODEL_RETRAIN,
                via=via,
                detail={"job": job.id, "strategy": strategy, "site_id": site_id},
            )
        )
    db.session.commit()
    if not broker.enqueue(app, "moderation.retrain", job.id):
        _finish(job.id, RETRAIN_FAILED, error="The broker is unreachable; nothing was started.", only_from=None)
    return db.session.get(RetrainJob, job.id)


def job_state(job):
    """What the page and its script show of a job."""
    return {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "version": job.version,
        "strategy": job.strategy,
        "finished": job.status in (RETRAIN_DONE, RETRAIN_FAILED),
    }


def _heartbeat(job_id, progress=None, message=None):
    values = {"updated_at": utcnow()}
    if progress is not None:
        values["progress"] = int(progress)
    if message:
        values["message"] = str(message)[:500]
    db.session.execute(
        update(RetrainJob).where(RetrainJob.id == job_id, RetrainJob.status == RETRAIN_RUNNING).values(**values)
    )
    db.session.commit()


def _keep_alive(job_id, every=30):
    """Touch the job's heartbeat from a thread while the fit runs silent; set the returned event to stop.

    A long fit reports no progress for minutes; without this, the stale-job check would fail a job
    that is still running and let a second one start.
    """
    engine, stop = db.engine, threading.Event()

    def beat():
        while not stop.wait(every):
            with engine.begin() as connection:
                connection.execute(
                    update(RetrainJob)
                    .where(RetrainJob.id == job_id, RetrainJob.status == RETRAIN_RUNNING)
                    .values(updated_at=utcnow())
                )

    threading.Thread(target=beat, name=f"retrain-{job_id}-heartbeat", daemon=True).start()
    return stop


def _finish(job_id, status, only_from=RETRAIN_RUNNING, commit=True, **values):
    query = update(RetrainJob).where(RetrainJob.id == job_id)
    if only_from:
        query = query.where(RetrainJob.status == only_from)
    values = {"status": status, "finished_at": utcnow(), "updated_at": utcnow(), "active_slot": None, **values}
    if status == RETRAIN_DONE:
        values["progress"] = 100
    done = db.session.execute(query.values(**values)).rowcount == 1
    if commit:
        db.session.commit()
    return done


def run_job(job_id, config):
    """The worker's part: claim a queued job, retrain, record the outcome; return the new version or None."""
    now = utcnow()
    claimed = (
        db.session.execute(
            update(RetrainJob)
            .where(RetrainJob.id == job_id, RetrainJob.status == RETRAIN_QUEUED)
            .values(status=RETRAIN_RUNNING, started_at=now, updated_at=now, progress=1, message="started")
        ).rowcount
        == 1
    )
    db.session.commit()
    if not claimed:  # a duplicate delivery, or a job failed meanwhile: never run twice
        log.warning("retrain job %s is not queued; not run", job_id)
        return None
    job = db.session.get(RetrainJob, job_id)
    strategy, site_id = job.strategy, job.site_id
    alive = _keep_alive(job_id)
    try:
        version, metrics = retrain(
            config, strategy, progress=lambda pct, msg=None: _heartbeat(job_id, pct, msg), site_id=site_id
        )
    except Exception as exc:  # shown to the admins; the active model is untouched in every case
        db.session.rollback()
        log.exception("retrain job %s failed", job_id)
        message = str(exc) if isinstance(exc, (RetrainError, adapt.AdaptError)) else f"{type(exc).__name__}: {exc}"
        _finish(job_id, RETRAIN_FAILED, error=message[:2000], message="failed")
        return None
    finally:
        alive.set()
    # A site's job switches its site in the transaction that records it done, and only if it is done.
    finished = _finish(
        job_id, RETRAIN_DONE, commit=site_id is None, version=version, metrics=metrics, message=f"wrote {version}"
    )
    if finished and site_id is not None:
        from moderation.services import learning  # it builds on this module

        promotion = learning.promote_for_site(site_id, job_id, version, metrics)
        message = f"wrote {version}" + (
            "; the site's model now"
            if promotion["promoted"]
            else "; kept as a candidate: " + ", ".join(w["code"] for w in promotion["why"])
        )
        db.session.execute(
            update(RetrainJob)
            .where(RetrainJob.id == job_id)
            .values(metrics={**metrics, "promotion": promotion}, message=message)
        )
    db.session.commit()
    if not finished:
        log.warning("retrain job %s was failed meanwhile; version %s is written all the same", job_id, version)
    return version


# --- the retrain itself --------------------------------------------------------------------------------


def load_labels(site_id=None):
    """Every moderator's label (on one site's comments, when given) with its comment's text, oldest first."""
    query = select(Comment.text, Label.spam, Label.toxic).join(Comment, Comment.id == Label.comment_id)
    if site_id is not None:
        query = query.where(Comment.site_id == site_id)
    rows = db.session.execute(query.order_by(Label.created_at, Label.id)).all()
    db.session.rollback()  # hold no transaction while training
    return [adapt.SiteLabel(text or "", bool(spam), toxic) for text, spam, toxic in rows]


def split_labels(labels):
    """(train, held out): the latest decisions are held out, never trained on."""
    if len(labels) < MIN_LABELS:
        raise RetrainError(f"{len(labels)} moderators' decisions so far; at least {MIN_LABELS} are needed")
    held = min(max(math.ceil(len(labels) * HELD_OUT_SHARE), MIN_HELD_OUT), len(labels) // 2)
    return labels[:-held], labels[-held:]


def retrain(config, strategy="adapter", labels=None, progress=lambda pct, msg=None: None, site_id=None):
    """Train a new version from the labels, compare it with the one in force, write it; return (version, metrics).

    With `site_id`: from that site's labels, compared with the version deciding that site's comments now.
    """
    models_dir, data_dir = Path(config["MODELS_DIR"]), Path(config["DATA_DIR"])
    labels = load_labels(site_id) if labels is None else labels
    train, held_out = split_labels(labels)
    progress(5, f"{len(labels)} decisions: {len(train)} to learn from, the latest {len(held_out)} held out")
    base_data = has_base_data(data_dir)
    if strategy in ("full", "best") and not base_data:
        raise RetrainError(f"no base data in {data_dir}: only the site adapter can be trained")
    active = scoring.load_active(models_dir)
    site_version = None if site_id is None else _site_version_of(site_id)
    db.session.rollback()  # no transaction open while the models load
    current = active if site_id is None else scorer.bundle_for(models_dir, site_version)
    overrides = settings.threshold_overrides()
    db.session.rollback()
    candidates = {}
    if strategy in ("full", "best"):  # first: its progress steps lie below the adapter's
        candidates["full"] = _full_candidate(data_dir, train, progress)
    if strategy in ("adapter", "best"):
        candidates["adapter"] = _adapter_candidate(models_dir, active, train, progress)
    progress(70, "scoring the held-out decisions")
    limits = {"active": scorer.thresholds(current, config, overrides)}
    compared = {}
    for name, bundle in candidates.items():
        limits["new"] = scorer.thresholds(bundle, config, overrides)
        # "Would change" counts only decisions the new version never learnt from.
        compared[name] = adapt.compare_on_labels(
            {"active": current, "new": bundle}, limits, held_out, held_out[-RECENT_DECISIONS:]
        )
    # The full retrain must beat the adapter by a measurable margin: the adapter is cheaper and moves less.
    chosen = max(candidates, key=lambda name: held_out_score(compared[name]) + (WORSE_AUC if name == "adapter" else 0))
    bundle, metrics = candidates[chosen], compared[chosen]
    metrics.update(
        strategy=chosen,
        tried={n: held_out_score(c) for n, c in compared.items()},
        active_version=current.version,
        site_id=site_id,
        site_version=site_version,
        labels={"train": len(train), "held_out": len(held_out), "split": "latest decisions held out"},
    )
    manifest = dict(bundle.manifest)
    if base_data:
        progress(80, "scoring the base dev split")
        dev = adapt.dev_comparison({"active": current, "new": bundle}, data_dir)
        metrics["base_dev"] = {name: _dev_summary(result) for name, result in dev.items()}
        manifest["dev_metrics"] = {task: dev["new"][task] for task in ("spam", "toxicity")}
    metrics["warnings"] = warnings(metrics)
    manifest["retrain"] = metrics
    progress(90, f"writing {bundle.version}")
    version, n = bundle.version, 1
    while (models_dir / version).exists():
        n += 1
        version = f"{bundle.version}-{n}"
    registry.save_version(models_dir, version, bundle.pipelines, manifest)
    metrics["new_version"] = version
    return version, metrics


def _adapter_candidate(models_dir, active, train, progress):
    """The site adapter on top of the active version's base (the active one when its base is gone)."""
    base = active
    root = adapt.base_version_of(active.manifest)
    if root != active.version:
        try:
            base = scoring.load_version(models_dir, root)
        except scoring.ModelLoadError as exc:
            log.warning("base %s of %s does not load (%s); adapting the active version", root, active.version, exc)
    progress(20, f"fitting the site adapter on {base.version}")
    step = iter((40, 60, 65))
    models, account = adapt.adapt(base, adapt.task_rows(train), log=lambda msg: progress(next(step, None), msg))
    version = adapt.version_id(models_dir)
    return adapt.bundle_of(version, models, adapt.adapted_manifest(base, version, account))


def _full_candidate(data_dir, train, progress):
    """A full `train_version` on the base data plus the labels, written to a scratch folder and read back."""
    rows = adapt.task_rows(train)
    scratch = Path(tempfile.mkdtemp(prefix="moderation-retrain-"))
    try:
        progress(10, "training on the base data and the decisions (takes minutes)")
        version = scoring.train_version(
            data_dir,
            scratch,
            extra_spam_rows=rows["spam"] * SITE_WEIGHT,
            extra_toxicity_rows=rows["toxicity"] * SITE_WEIGHT,
            log=lambda msg: progress(None, msg),
        )
        models, manifest = registry.load_models(scratch, version)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    manifest = {k: v for k, v in manifest.items() if k != "files"}
    manifest["site_weight"] = SITE_WEIGHT
    return adapt.bundle_of(version, models, manifest)


def held_out_score(compared, side="new"):
    """Mean held-out ROC-AUC of one side over the tasks that have both classes held out."""
    aucs = [compared["held_out"][task][side]["roc_auc"] for task in ("spam", "toxicity")]
    aucs = [a for a in aucs if a is not None]
    return sum(aucs) / len(aucs) if aucs else 0.0


def warnings(metrics):
    """What an admin should look at before promoting: figures the new version makes measurably worse."""
    found = []
    for task in ("spam", "toxicity"):
        old, new = (metrics["held_out"][task][name]["roc_auc"] for name in ("active", "new"))
        if old is not None and new is not None and new < old - WORSE_AUC:
            found.append({"code": "held_out", "task": task, "active": old, "new": new})
    dev = metrics.get("base_dev") or {}
    for part in ("spam", "toxicity", "toxicity_forum") if dev else ():
        for figure, margin in (("roc_auc", WORSE_AUC), ("f1", WORSE_F1)):
            old, new = dev["active"][part][figure], dev["new"][part][figure]
            if old is not None and new is not None and new < old - margin:
                found.append({"code": "base_dev", "task": part, "figure": figure, "active": old, "new": new})
    changed = (metrics.get("recent") or {}).get("new") or {}
    if changed.get("away_from_moderators", 0) > changed.get("toward_moderators", 0):
        found.append(
            {"code": "recent", "away": changed["away_from_moderators"], "toward": changed["toward_moderators"]}
        )
    return found


def _dev_summary(result):
    """The base dev figures the models page shows: overall, per task, and the forum comments' toxicity."""
    pick = ("roc_auc", "precision", "recall", "f1", "n")
    forum = result["toxicity"]["by_source"].get("ru_2ch_pikabu", {})
    return {
        "spam": {k: result["spam"]["overall"][k] for k in pick},
        "toxicity": {k: result["toxicity"]["overall"][k] for k in pick},
        "toxicity_forum": {k: forum.get(k) for k in pick},
        "ordinary_ru_flagged": result["summary"].get("ordinary_ru_flagged_at_spam"),
    }


def _site_version_of(site_id):
    site = db.session.get(Site, site_id)
    if site is None:
        raise RetrainError(f"site {site_id} is gone")
    return site.model_version
