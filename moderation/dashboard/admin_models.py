"""Admin page for model versions: compare them, promote one, roll back to the previous one."""
import re
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from moderation import scoring
from moderation.dashboard import admin_required, bp
from moderation.dashboard.admin import check_csrf, record
from moderation.dashboard.forms import EmptyForm
from moderation.scoring.registry import active_version

# A version is a folder name under MODELS_DIR: never a path.
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
METRICS = ("roc_auc", "average_precision", "precision", "recall", "f1")


def _models_dir():
    return Path(current_app.config["MODELS_DIR"])


def _created(manifest):
    """A manifest's creation time as naive UTC (what `local_time` expects), or None."""
    try:
        moment = datetime.fromisoformat(str(manifest.get("created", "")))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def version_rows(manifests):
    """What the page shows of each version, newest first: id, active, created, thresholds, dev metrics."""
    rows = []
    for manifest in reversed(manifests):
        metrics = {}
        for model in ("spam", "toxicity"):
            overall = ((manifest.get("dev_metrics") or {}).get(model) or {}).get("overall") or {}
            metrics[model] = {name: overall.get(name) for name in METRICS}
            metrics[model]["n"] = overall.get("n")
        rows.append({"version": manifest["version"], "active": bool(manifest.get("active")),
                     "created": _created(manifest), "thresholds": manifest.get("thresholds") or {},
                     "metrics": metrics,
                     "has_metrics": any(v is not None for m in metrics.values() for v in m.values())})
    return rows


def _active_version():
    try:
        return active_version(_models_dir())
    except scoring.ModelLoadError:
        return None


@bp.get("/admin/models")
@admin_required
def admin_models():
    """The model versions with their dev metrics; the active one marked."""
    try:
        manifests = scoring.list_versions(_models_dir())
    except OSError as exc:
        flash(_("Cannot read the model folder: %(error)s", error=str(exc)), "error")
        manifests = []
    return render_template(
        "dashboard/admin_models.html", active_nav="admin", admin_tab="models", versions=version_rows(manifests),
        metrics=METRICS, form=EmptyForm(), models_dir=str(_models_dir()),
    )


@bp.post("/admin/models/promote")
@admin_required
def admin_model_promote():
    """Make a version the active model after checking it loads; workers switch on their next comment."""
    check_csrf()
    version = (request.form.get("version") or "").strip()
    known = {m["version"] for m in scoring.list_versions(_models_dir())} if VERSION_PATTERN.match(version) else set()
    if version not in known:
        flash(_("Unknown model version: %(version)s.", version=version[:64]), "error")
        return redirect(url_for("dashboard.admin_models"))
    previous = _active_version()
    if version == previous:
        flash(_("%(version)s is the active model already.", version=version), "info")
        return redirect(url_for("dashboard.admin_models"))
    try:
        scoring.load_version(_models_dir(), version)  # refuse a damaged version before switching to it
        scoring.set_active(_models_dir(), version)
    except scoring.ModelLoadError as exc:
        flash(_("Model %(version)s was not promoted: %(error)s", version=version, error=str(exc)), "error")
        return redirect(url_for("dashboard.admin_models"))
    record("model_promote", old=previous, new=version)
    flash(_("Active model: %(version)s.", version=version), "success")
    return redirect(url_for("dashboard.admin_models"))


@bp.post("/admin/models/rollback")
@admin_required
def admin_model_rollback():
    """Go back to the most recent previously active version that still loads."""
    check_csrf()
    previous = _active_version()
    try:
        version = scoring.rollback(_models_dir())
    except scoring.ModelLoadError as exc:
        flash(_("No rollback: %(error)s", error=str(exc)), "error")
        return redirect(url_for("dashboard.admin_models"))
    record("model_rollback", old=previous, new=version)
    flash(_("Rolled back; active model: %(version)s.", version=version), "success")
    return redirect(url_for("dashboard.admin_models"))
