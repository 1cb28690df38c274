"""Admin page for model versions: retrain from the moderators' decisions, compare, promote, roll back, delete."""

from datetime import UTC, datetime
from pathlib import Path

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from moderation import scoring
from moderation.dashboard import admin_required, bp
from moderation.dashboard.admin import check_csrf, record
from moderation.dashboard.forms import EmptyForm
from moderation.db import db
from moderation.models import RetrainJob, Site
from moderation.services import audit, retraining, versions

METRICS = ("roc_auc", "average_precision", "precision", "recall", "f1")
# Rows of the retrain comparison: (group, label, path to the figure in the metrics).
COMPARISON = (
    ("held_out", _l("Toxicity ROC-AUC"), ("held_out", "toxicity", "roc_auc")),
    ("held_out", _l("Toxicity precision"), ("held_out", "toxicity", "precision")),
    ("held_out", _l("Toxicity recall"), ("held_out", "toxicity", "recall")),
    ("held_out", _l("Spam ROC-AUC"), ("held_out", "spam", "roc_auc")),
    ("held_out", _l("Spam precision"), ("held_out", "spam", "precision")),
    ("held_out", _l("Spam recall"), ("held_out", "spam", "recall")),
    ("base_dev", _l("Toxicity ROC-AUC"), ("toxicity", "roc_auc")),
    ("base_dev", _l("Toxicity F1"), ("toxicity", "f1")),
    ("base_dev", _l("Forum toxicity ROC-AUC"), ("toxicity_forum", "roc_auc")),
    ("base_dev", _l("Spam ROC-AUC"), ("spam", "roc_auc")),
    ("base_dev", _l("Spam F1"), ("spam", "f1")),
    ("base_dev", _l("Ordinary comments flagged as spam"), ("ordinary_ru_flagged",)),
)


def _models_dir():
    return Path(current_app.config["MODELS_DIR"])


def _created(manifest):
    """A manifest's creation time as naive UTC (what `local_time` expects), or None."""
    try:
        moment = datetime.fromisoformat(str(manifest.get("created", "")))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def version_rows(manifests, shipped=None, used=None):
    """What the page shows of each version, newest first: id, active, shipped, created, thresholds, dev metrics,
    and the site it was learnt for (`used`: version -> the name of the site it decides for)."""
    rows = []
    for manifest in reversed(manifests):
        metrics = {}
        for model in ("spam", "toxicity"):
            overall = ((manifest.get("dev_metrics") or {}).get(model) or {}).get("overall") or {}
            metrics[model] = {name: overall.get(name) for name in METRICS}
            metrics[model]["n"] = overall.get("n")
        rows.append(
            {
                "version": manifest["version"],
                "active": bool(manifest.get("active")),
                "shipped": manifest["version"] == shipped,
                "created": _created(manifest),
                "thresholds": manifest.get("thresholds") or {},
                "metrics": metrics,
                "kind": "adapter" if manifest.get("adapter") else "retrained" if manifest.get("retrain") else "",
                "site": (used or {}).get(manifest["version"]),
                "for_site": (manifest.get("retrain") or {}).get("site_id") is not None,
                "has_metrics": any(v is not None for m in metrics.values() for v in m.values()),
            }
        )
    return rows


def _dig(data, path):
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def comparison(manifest):
    """The newest retrained version's figures beside those of the version active when it was trained."""
    metrics = manifest.get("retrain") or {}
    rows = []
    for group, label, path in COMPARISON:
        source = metrics.get(group) or {}
        if group == "held_out":
            # Without a held-out positive, precision and recall say nothing (they would read 0).
            old, new = (
                (
                    _dig(metrics, path[:2] + (side,) + path[2:])
                    if _dig(metrics, path[:2] + (side, "positives"))
                    else None
                )
                for side in ("active", "new")
            )
        else:
            old, new = _dig(source.get("active"), path), _dig(source.get("new"), path)
        if old is not None or new is not None:
            rows.append({"group": group, "label": label, "active": old, "new": new})
    recent = metrics.get("recent") or {}
    return {
        "version": manifest["version"],
        "active_version": metrics.get("active_version"),
        "rows": rows,
        "held_out_n": _dig(metrics, ("held_out", "n")),
        "recent_n": recent.get("n"),
        "changed": recent.get("new") or {},
        "strategy": metrics.get("strategy"),
        "train_n": _dig(metrics, ("labels", "train")),
        "active": bool(manifest.get("active")),
        "warnings": metrics.get("warnings") or [],
    }


@bp.get("/admin/models")
@admin_required
def admin_models():
    """The model versions with their dev metrics, the latest retrain beside the active model, and the jobs."""
    retraining.expire_stale(current_app.config)
    try:
        manifests = scoring.list_versions(_models_dir())
    except OSError as exc:
        flash(_("Cannot read the model folder: %(error)s", error=str(exc)), "error")
        manifests = []
    # The comparison is the install's retrain, promoted for every site; a site's own retrain is on its rules page.
    retrained = [m for m in manifests if m.get("retrain") and m["retrain"].get("site_id") is None]
    used = dict(db.session.execute(select(Site.model_version, Site.name).where(Site.model_version.is_not(None))).all())
    return render_template(
        "dashboard/admin_models.html",
        active_nav="admin",
        admin_tab="models",
        versions=version_rows(manifests, retraining.shipped_version(_models_dir()), used),
        metrics=METRICS,
        form=EmptyForm(),
        models_dir=str(_models_dir()),
        jobs=retraining.recent_jobs(),
        job=retraining.current_job(),
        compared=comparison(retrained[-1]) if retrained else None,
        base_data=retraining.has_base_data(current_app.config["DATA_DIR"]),
    )


@bp.post("/admin/models/retrain")
@admin_required
def admin_model_retrain():
    """Queue a retrain from the moderators' decisions; the page then follows its progress."""
    check_csrf()
    strategy = (
        "best"
        if request.form.get("compare_full") and retraining.has_base_data(current_app.config["DATA_DIR"])
        else "adapter"
    )
    try:
        job = retraining.queue_job(current_app._get_current_object(), current_user.id, strategy)
    except retraining.RetrainError as exc:
        flash(_("No retrain: %(error)s", error=str(exc)), "error")
        return redirect(url_for("dashboard.admin_models"))
    record(audit.MODEL_RETRAIN, job=job.id, strategy=strategy)
    if job.error:
        flash(_("The retrain could not start: %(error)s", error=job.error), "error")
    else:
        flash(_("Retrain queued; the active model stays in use until you promote the new one."), "success")
    return redirect(url_for("dashboard.admin_models", _anchor="retrain"))


@bp.get("/admin/models/jobs/<int(max=2147483647):job_id>")
@admin_required
def admin_model_job(job_id):
    """A retrain job's status and progress as JSON, for the page's script."""
    retraining.expire_stale(current_app.config)
    job = db.session.get(RetrainJob, job_id) or abort(404)
    labels = {"queued": _("queued"), "running": _("running"), "done": _("done"), "failed": _("failed")}
    return jsonify({**retraining.job_state(job), "status_label": labels.get(job.status, job.status)})


@bp.post("/admin/models/promote")
@admin_required
def admin_model_promote():
    """Make a version the active model after checking it loads; workers switch on their next comment."""
    check_csrf()
    version = (request.form.get("version") or "").strip()
    if not versions.is_known(_models_dir(), version):
        flash(_("Unknown model version: %(version)s.", version=version[:64]), "error")
        return redirect(url_for("dashboard.admin_models"))
    if version == versions.active_or_none(_models_dir()):
        flash(_("%(version)s is the active model already.", version=version), "info")
        return redirect(url_for("dashboard.admin_models"))
    try:
        versions.promote(_models_dir(), version, via="dashboard", user_id=current_user.id)
    except scoring.ModelLoadError as exc:
        flash(_("Model %(version)s was not promoted: %(error)s", version=version, error=str(exc)), "error")
        return redirect(url_for("dashboard.admin_models"))
    flash(_("Active model: %(version)s.", version=version), "success")
    return redirect(url_for("dashboard.admin_models"))


@bp.post("/admin/models/rollback")
@admin_required
def admin_model_rollback():
    """Go back to the most recent previously active version that still loads."""
    check_csrf()
    try:
        version = versions.roll_back(_models_dir(), via="dashboard", user_id=current_user.id)
    except scoring.ModelLoadError as exc:
        flash(_("No rollback: %(error)s", error=str(exc)), "error")
        return redirect(url_for("dashboard.admin_models"))
    flash(_("Rolled back; active model: %(version)s.", version=version), "success")
    return redirect(url_for("dashboard.admin_models"))


@bp.post("/admin/models/delete")
@admin_required
def admin_model_delete():
    """Delete an old version's files; never the active one, never the shipped one."""
    check_csrf()
    version = (request.form.get("version") or "").strip()
    if not versions.is_known(_models_dir(), version):
        flash(_("Unknown model version: %(version)s.", version=version[:64]), "error")
        return redirect(url_for("dashboard.admin_models"))
    try:
        retraining.delete_version(_models_dir(), version)
    except retraining.RetrainError as exc:
        flash(_("Model %(version)s was not deleted: %(error)s", version=version, error=str(exc)), "error")
        return redirect(url_for("dashboard.admin_models"))
    record(audit.MODEL_DELETE, version=version)
    flash(_("Model %(version)s deleted.", version=version), "success")
    return redirect(url_for("dashboard.admin_models"))
