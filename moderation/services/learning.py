"""Learning on its own: each site's automatic retrain, and its promotion when it is better for that site.

When a site has gathered `Site.auto_retrain_after` new moderators' decisions, the beat's
`moderation.auto_retrain` task queues a retrain of a site adapter on that site's decisions alone
(services/retraining.py). The new version is compared with the one deciding the site's comments on
the site's latest decisions, held out; it becomes the site's own version (`Site.model_version`) only
if it ranks them better, loses nothing measurable on the base dev data and does not move more recent
decisions away from the moderators than toward them, and only if the site allows automatic promotion.
Otherwise it is kept as a candidate an admin may promote, with the reasons. Other sites never see it:
each site's comments are decided by its own version or, without one, by the active version.
"""

import logging

from sqlalchemy import func, select, update

from moderation import scoring
from moderation.db import db
from moderation.models import RETRAIN_QUEUED, AuditEvent, Comment, Label, RetrainJob, Site
from moderation.scoring import adapt
from moderation.services import audit, retraining

log = logging.getLogger(__name__)
MAX_RETRAIN_AFTER = 100_000


def promotion_refusals(metrics):
    """Why a site's new version must not replace the one in force ([]: promote it).

    It must rank the site's held-out decisions better by a measurable margin (WORSE_AUC: a tie or noise
    is no reason to switch), be measurably worse on no task there, lose nothing measurable on the base
    dev data (when the base data is there) and not move more recent decisions away from the moderators
    than toward them.
    """
    old, new = retraining.held_out_score(metrics, "active"), retraining.held_out_score(metrics, "new")
    better = new > old + retraining.WORSE_AUC
    why = [] if better else [{"code": "not_better", "active": round(old, 4), "new": round(new, 4)}]
    return why + [w for w in metrics.get("warnings", []) if w["code"] in ("held_out", "base_dev", "recent")]


def promote_for_site(site_id, job_id, version, metrics):
    """Make the new version the site's own if it is better and the site allows it; audit either way.

    The caller commits, with the job's own record. The switch is conditional: if an admin changed the
    site's version while the job ran, the new one was compared with a version no longer in force, and
    the admin's choice stands.
    """
    site = db.session.get(Site, site_id)
    if site is None:
        return {"promoted": False, "why": [{"code": "site_gone"}], "previous": None}
    why = promotion_refusals(metrics)
    if not site.auto_promote:
        why = [{"code": "auto_promote_off"}, *why]
    previous = metrics.get("site_version")
    if not why:
        same = Site.model_version.is_(None) if previous is None else Site.model_version == previous
        switched = db.session.execute(
            update(Site).where(Site.id == site_id, same).values(model_version=version)
        ).rowcount
        if not switched:
            why = [{"code": "changed"}]
    db.session.add(
        AuditEvent(
            action=audit.MODEL_AUTO_KEEP if why else audit.MODEL_AUTO_PROMOTE,
            via="auto",
            detail={
                "site_id": site.id,
                "name": site.name,
                "job": job_id,
                "old": previous,
                "new": version,
                "why": [w["code"] for w in why],
            },
        )
    )
    return {"promoted": not why, "why": why, "previous": previous}


def due_site():
    """The site that waited longest among those with enough new decisions since their last automatic retrain."""
    candidates = db.session.scalars(
        select(Site)
        .where(Site.auto_retrain_after > 0)
        .order_by(Site.retrained_at.is_not(None), Site.retrained_at, Site.id)
    ).all()
    return next((site for site in candidates if new_decisions(site) >= site.auto_retrain_after), None)


def retrain_due(app):
    """The beat's part: queue the retrain of one site that has gathered enough new decisions; return its job."""
    retraining.expire_stale(app.config)
    if retraining.current_job() is not None:
        return None  # one retrain at a time; the next beat tries again
    site = due_site()
    if site is None:
        return None
    site_id = site.id
    try:
        job = retraining.queue_job(app, strategy="adapter", via="auto", site_id=site_id)
    except retraining.RetrainError as exc:
        log.warning("automatic retrain of site %s not queued: %s", site_id, exc)
        return None
    if job.status == RETRAIN_QUEUED:  # not when the broker refused it: the next beat tries again
        db.session.execute(update(Site).where(Site.id == site_id).values(retrained_at=job.created_at))
        db.session.commit()
    return job


class LearningError(ValueError):
    """A site's learning setting or version that cannot be used; the message names the field."""


def set_settings(site, auto_retrain_after, auto_promote):
    """Change when the site retrains on its own (0: never) and whether a better version is used at once."""
    if auto_retrain_after != 0 and not retraining.MIN_LABELS <= auto_retrain_after <= MAX_RETRAIN_AFTER:
        raise LearningError("auto_retrain_after")
    site.auto_retrain_after, site.auto_promote = auto_retrain_after, bool(auto_promote)
    db.session.commit()


def use_version(site, models_dir, version):
    """Make `version` the site's own (None: the active version again); LearningError if it cannot decide here."""
    if version is not None:
        if version not in {m["version"] for m in scoring.list_versions(models_dir)}:  # never a path
            raise LearningError("version")
        try:
            own = scoring.load_version(models_dir, version)
            active = scoring.load_active(models_dir)
        except scoring.ModelLoadError as exc:
            raise LearningError("version") from exc
        if adapt.base_version_of(own.manifest) != adapt.base_version_of(active.manifest):
            raise LearningError("base")  # it would be ignored: sites follow the active version's base
    site.model_version = version
    db.session.commit()


def new_decisions(site):
    """Moderators' decisions on the site's comments since its last automatic retrain was queued."""
    query = (
        select(func.count())
        .select_from(Label)
        .join(Comment, Comment.id == Label.comment_id)
        .where(Comment.site_id == site.id)
    )
    if site.retrained_at is not None:
        query = query.where(Label.created_at > site.retrained_at)
    return db.session.scalar(query)


def latest_job(site_id):
    """The site's latest retrain job, or None."""
    return db.session.scalar(
        select(RetrainJob).where(RetrainJob.site_id == site_id).order_by(RetrainJob.id.desc()).limit(1)
    )
