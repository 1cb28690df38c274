"""Admin pages for the rules moderation follows: reject reasons, bans, and the models' thresholds."""

from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional

from moderation import broker, scoring
from moderation.dashboard import admin_required, bp
from moderation.dashboard.admin import check_csrf, form_errors, record
from moderation.dashboard.forms import BanForm, EmptyForm, ReasonForm
from moderation.db import db
from moderation.models import Ban, Comment, Reason, Site, User, parse_id
from moderation.services import audit, bans, budget, reasons, scorer, settings, thresholds

REASON_ERRORS = {
    "code": _l("The code is 1 to 40 lower-case Latin letters, digits, '-' or '_'."),
    "label": _l("Give the reason a name of at most 100 characters."),
    "exists": _l("A reason with this code exists already."),
}
BAN_ERRORS = {
    "email": _l("That is not an e-mail address."),
    "ip": _l("That is not an IP address or a CIDR range."),
    "kind": _l("Choose e-mail or IP."),
    "wide": _l("That range is too wide to ban (at most /8 for IPv4, /32 for IPv6)."),
}
THRESHOLD_ERRORS = {
    "number": _l("A threshold is a number from 0 to 1, or empty to follow the model."),
    "order": _l("Holding for spam must start at or below the spam threshold."),
}
BAN_KINDS = ((bans.EMAIL, "e-mail"), (bans.IP, "IP"))


class AdminBanForm(BanForm):
    """A ban by e-mail, IP or IP range, on every site or one, with a note for the other admins."""

    site_id = StringField(_l("Site"), validators=[Optional(), Length(max=11)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


# --- reasons -----------------------------------------------------------------------------------------


def _reason_or_404(reason_id):
    return db.session.get(Reason, reason_id) or abort(404)


def _reasons_page(form=None, status=200):
    used = set(
        db.session.scalars(select(Comment.reject_reason).where(Comment.reject_reason.is_not(None)).distinct()).all()
    )
    return render_template(
        "dashboard/admin_reasons.html",
        active_nav="admin",
        admin_tab="reasons",
        reasons=reasons.all_reasons(),
        label_of=reasons.label_of,
        used=used,
        form=form or ReasonForm(formdata=None),
        action_form=EmptyForm(),
    ), status


@bp.get("/admin/reasons")
@admin_required
def admin_reasons():
    """Reject reasons: the built-in ones and the admins' own; add, switch on or off, delete unused own ones."""
    return _reasons_page()


@bp.post("/admin/reasons")
@admin_required
def admin_reason_add():
    """Add an own reject reason, marked as teaching toxicity or not."""
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return _reasons_page(form=form, status=400)
    try:
        reason = reasons.add_reason(form.code.data, form.label.data, form.toxic.data)
    except reasons.ReasonError as exc:
        flash(str(REASON_ERRORS.get(str(exc), REASON_ERRORS["code"])), "error")
        return _reasons_page(form=form, status=400)
    record(audit.REASON_ADD, code=reason.code, label=reason.label, toxic=reason.toxic)
    flash(_("Reason %(code)s added.", code=reason.code), "success")
    return redirect(url_for("dashboard.admin_reasons"))


@bp.post("/admin/reasons/<int(max=2147483647):reason_id>/toggle")
@admin_required
def admin_reason_toggle(reason_id):
    """Offer a reason to moderators again, or stop offering it (past decisions keep it)."""
    check_csrf()
    reason = _reason_or_404(reason_id)
    reasons.set_active(reason, not reason.active)
    record(audit.REASON_TOGGLE, code=reason.code, active=reason.active)
    return redirect(url_for("dashboard.admin_reasons"))


@bp.post("/admin/reasons/<int(max=2147483647):reason_id>/delete")
@admin_required
def admin_reason_delete(reason_id):
    """Delete an own reason no decision used; built-in and used ones can only be switched off."""
    check_csrf()
    reason = _reason_or_404(reason_id)
    code = reason.code
    try:
        reasons.delete_reason(reason)
    except reasons.ReasonError:
        flash(_("Only an own reason that no decision used can be deleted; switch this one off instead."), "error")
        return redirect(url_for("dashboard.admin_reasons"))
    record(audit.REASON_DELETE, code=code)
    return redirect(url_for("dashboard.admin_reasons"))


# --- bans --------------------------------------------------------------------------------------------


def _bans_page(form=None, status=200):
    all_sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return render_template(
        "dashboard/admin_bans.html",
        active_nav="admin",
        admin_tab="bans",
        bans=bans.all_bans(),
        sites={s.id: s for s in all_sites},
        site_list=all_sites,
        kinds=BAN_KINDS,
        users={u.id: u for u in db.session.scalars(select(User))},
        form=form or AdminBanForm(formdata=None),
        action_form=EmptyForm(),
    ), status


@bp.get("/admin/bans")
@admin_required
def admin_bans():
    """Banned authors: e-mail addresses, IPs and ranges whose comments go to spam unscored."""
    return _bans_page()


@bp.post("/admin/bans")
@admin_required
def admin_ban_add():
    """Ban an e-mail address, an IP address or a CIDR range, on every site or one."""
    form = AdminBanForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return _bans_page(form=form, status=400)
    raw_site = (form.site_id.data or "").strip()
    site_id = parse_id(raw_site)
    if raw_site and (site_id is None or db.session.get(Site, site_id) is None):
        abort(400)
    try:
        ban, created = bans.add_ban(
            form.kind.data, form.value.data, user=current_user, site_id=site_id, note=form.note.data or None
        )
    except bans.BanError as exc:
        db.session.rollback()
        flash(str(BAN_ERRORS.get(str(exc), BAN_ERRORS["kind"])), "error")
        return _bans_page(form=form, status=400)
    db.session.commit()
    if created:
        record(audit.BAN_ADD, ban_id=ban.id, kind=ban.kind, value=ban.value, site_id=site_id)
        flash(_("Banned %(value)s.", value=ban.value), "success")
    else:
        flash(_("%(value)s is banned already.", value=ban.value), "info")
    return redirect(url_for("dashboard.admin_bans"))


@bp.post("/admin/bans/<int(max=2147483647):ban_id>/remove")
@admin_required
def admin_ban_remove(ban_id):
    """Lift a ban; the author's next comments are scored as anyone's."""
    check_csrf()
    ban = db.session.get(Ban, ban_id) or abort(404)
    detail = {"ban_id": ban.id, "kind": ban.kind, "value": ban.value, "site_id": ban.site_id}
    bans.remove_ban(ban.id)
    record(audit.BAN_REMOVE, **detail)
    flash(_("Lifted the ban on %(value)s.", value=detail["value"]), "success")
    return redirect(url_for("dashboard.admin_bans"))


# --- thresholds --------------------------------------------------------------------------------------


def _model_thresholds():
    """(version, thresholds, error) of the active model, read from its manifest: no need to load the models."""
    try:
        manifest = next((m for m in scoring.list_versions(current_app.config["MODELS_DIR"]) if m.get("active")), None)
    except OSError as exc:
        return None, {}, str(exc)
    if manifest is None:
        return None, {}, _("No active model.")
    return manifest["version"], dict(manifest.get("thresholds") or {}), None


def _budgets(version, overrides):
    """Each site with its hold budget and what it does now: the state, and whether it is in force."""
    explicit = scorer.explicit(current_app.config, overrides)
    rows = []
    for site in db.session.scalars(select(Site).order_by(Site.name)):
        state = site.budget_state or {}
        deciding = scorer.deciding_version(current_app.config["MODELS_DIR"], site.model_version) or version
        rows.append(
            {
                "site": site,
                "budget": budget.describe(site),
                "state": state,
                "in_force": bool(budget.in_force(state, deciding, budget.budget_of(site))),
                "stale": bool(state) and state.get("version") != deciding,
                "overridden": [key for key in budget.BUDGET_KEYS if key in explicit],
            }
        )
    return rows


def _thresholds_page(status=200, posted=None, budget_posted=None):
    version, model, error = _model_thresholds()
    overrides = settings.threshold_overrides()
    effective = scorer.thresholds(SimpleNamespace(thresholds=model), current_app.config, overrides)
    return render_template(
        "dashboard/admin_thresholds.html",
        active_nav="admin",
        admin_tab="thresholds",
        version=version,
        model=model,
        model_error=error,
        environment=scorer.explicit(current_app.config),
        overrides=overrides,
        effective=effective,
        labels=thresholds.LABELS,
        keys=thresholds.NAMES,
        posted=posted,
        form=EmptyForm(),
        budgets=_budgets(version, overrides),
        min_comments=budget.MIN_COMMENTS,
        budget_posted=budget_posted or {},
    ), status


@bp.get("/admin/thresholds")
@admin_required
def admin_thresholds():
    """The thresholds: the active model's, the environment's, the admins' overrides, and what applies now."""
    return _thresholds_page()


@bp.post("/admin/thresholds")
@admin_required
def admin_thresholds_set():
    """Override thresholds (empty: follow the model); the next comment is decided with them."""
    check_csrf()
    _version, model, _error = _model_thresholds()
    try:
        changes = settings.override_thresholds(
            thresholds.parse_all(request.form), model, current_app.config, user=current_user
        )
    except thresholds.ThresholdError as exc:
        flash(str(THRESHOLD_ERRORS[str(exc)]), "error")
        return _thresholds_page(400, posted=request.form)
    if changes:
        record(audit.THRESHOLD_SET, **changes)
        flash(_("Thresholds saved; they apply from the next comment."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("dashboard.admin_thresholds"))


BUDGET_ERRORS = {
    "budget": _l("A budget is a percentage (5 or 5%), a number of comments a day (40/day), or empty for none."),
    "hold_budget_percent": _l("A percentage above 0 and at most 50."),
    "hold_budget_per_day": _l("From 1 to 100,000 comments a day."),
}


@bp.post("/admin/thresholds/budget/<int(max=2147483647):site_id>")
@admin_required
def admin_budget_set(site_id):
    """Set or remove a site's hold budget; its thresholds are derived in the background within minutes."""
    check_csrf()
    site = db.session.get(Site, site_id) or abort(404)
    raw = (request.form.get("budget") or "")[:40]
    old = budget.describe(site)
    try:
        changed = budget.set_budget(site, *budget.parse(raw))
    except budget.BudgetError as exc:
        db.session.rollback()
        flash(str(BUDGET_ERRORS[str(exc)]), "error")
        return _thresholds_page(400, budget_posted={site.id: raw})
    if not changed:
        flash(_("Nothing changed."), "info")
        return redirect(url_for("dashboard.admin_thresholds"))
    record(audit.SITE_BUDGET, site_id=site.id, name=site.name, old=old, new=budget.describe(site))
    if budget.has_budget(site):
        broker.enqueue(current_app, "moderation.budgets")  # the beat would do it within BUDGET_INTERVAL anyway
        flash(_("Hold budget of %(name)s saved; its thresholds follow within minutes.", name=site.name), "success")
    else:
        flash(_("%(name)s has no hold budget now: the model's thresholds apply.", name=site.name), "success")
    return redirect(url_for("dashboard.admin_thresholds"))
