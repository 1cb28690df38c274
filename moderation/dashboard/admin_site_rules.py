"""Admin page for a site's rules: word lists, links, pre-moderation, shadow mode, flood, complaints, spot checks."""

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from moderation.dashboard import admin_required, bp
from moderation.dashboard.admin import check_csrf, posted, record
from moderation.db import db
from moderation.models import RETRAIN_DONE, Comment, Site, WordEntry
from moderation.services import audit, decisions, learning, scorer, sites, wordlists
from moderation.services.rules import PREMODERATION_MODES

MODE_LABELS = {
    "none": _l("none: the filter decides"),
    "first": _l("an author's first comment"),
    "links": _l("comments with links"),
    "all": _l("every comment"),
}
RULE_ERRORS = {
    "max_links": _l("Links: a number from 0 to 100."),
    "premoderation": _l("Unknown pre-moderation mode."),
    "flood_seconds": _l("Flood interval: 0 to 3600 seconds."),
    "complaints_hide_after": _l("Complaints: hide after 0 to 1000 readers."),
    "complaints_overdue_hours": _l("Complaints: answer within 1 to 720 hours."),
    "spot_check_percent": _l("Spot checks: a percentage from 0 to 20."),
    "auto_retrain_after": _l("Retrain after 0 (never) or 20 to 100,000 new decisions."),
    "version": _l("That model version does not load."),
    "base": _l("That version adapts another base model than the active one: the site would not use it."),
}
# Why an automatic retrain's version was kept as a candidate (services/learning.promotion_refusals).
REFUSALS = {
    "not_better": _l("no better on the site's latest decisions"),
    "base_dev": _l("worse on the base development data"),
    "recent": _l("it would move more recent decisions away from the moderators than toward them"),
    "auto_promote_off": _l("automatic use is off for this site"),
    "held_out": _l("measurably worse on one kind of the site's decisions"),
    "changed": _l("an admin changed the site's model while it was trained"),
    "site_gone": _l("the site was deleted"),
}
SETTINGS = (
    "max_links",
    "premoderation",
    "shadow_mode",
    "flood_seconds",
    "complaints_hide_after",
    "complaints_overdue_hours",
    "spot_check_percent",
)


def _percent(name):
    """A posted percentage; -1 (out of range) when not a number, None when the field was not sent."""
    if name not in request.form:
        return None
    try:
        return float(posted(name, 10).replace(",", "."))
    except ValueError:
        return -1.0


def _site(site_id):
    return db.session.get(Site, site_id) or abort(404)


def _number(name, absent=-1):
    """A posted whole number; -1 (out of every range) when not one, `absent` when the field was not sent."""
    if name not in request.form:
        return absent
    try:
        return int(posted(name, 10))
    except ValueError:
        return -1


@bp.get("/admin/rules")
@admin_required
def admin_rules():
    """Pick a site; its rules page follows."""
    first = db.session.scalar(select(Site).order_by(Site.name).limit(1))
    if first is None:
        flash(_("Add a site first."), "info")
        return redirect(url_for("dashboard.admin_sites"))
    return redirect(url_for("dashboard.admin_site_rules", site_id=first.id))


def _learning(site):
    """What the page shows of the site's learning: its model, the latest retrain and what came of it."""
    job = learning.latest_job(site.id)
    promotion = ((job.metrics or {}).get("promotion") if job else None) or {}
    candidate = job is not None and job.status == RETRAIN_DONE and job.version and job.version != site.model_version
    return {
        "job": job,
        "promotion": promotion,
        "candidate": job.version if candidate else None,
        "new_decisions": learning.new_decisions(site),
        "why": REFUSALS,
        "deciding": scorer.deciding_version(current_app.config["MODELS_DIR"], site.model_version),
    }


def _page(site, verdict=None, sample=None, status=200):
    all_sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return render_template(
        "dashboard/admin_rules.html",
        active_nav="admin",
        admin_tab="rules",
        site=site,
        sites=all_sites,
        entries=wordlists.list_entries(site.id),
        modes=PREMODERATION_MODES,
        mode_labels=MODE_LABELS,
        verdict=verdict,
        sample=sample or {},
        learning=_learning(site),
    ), status


@bp.get("/admin/rules/<int(max=2147483647):site_id>")
@admin_required
def admin_site_rules(site_id):
    """A site's word lists and rules, and a box to test a comment against them."""
    return _page(_site(site_id))


@bp.post("/admin/rules/<int(max=2147483647):site_id>/settings")
@admin_required
def admin_site_rules_save(site_id):
    """Change links, pre-moderation, shadow mode, flood, complaints and spot checks; the next comment follows them."""
    check_csrf()
    site = _site(site_id)
    old = {name: getattr(site, name) for name in SETTINGS}
    try:
        # A form without the complaint fields (an older page still open) leaves them as they are.
        sites.set_rules(
            site,
            _number("max_links"),
            posted("premoderation", 8),
            bool(request.form.get("shadow_mode")),
            _number("flood_seconds"),
            _number("complaints_hide_after", None),
            _number("complaints_overdue_hours", None),
            _percent("spot_check_percent"),
        )
    except sites.SiteError as exc:
        db.session.rollback()
        flash(str(RULE_ERRORS[str(exc)]), "error")
        return _page(site, status=400)
    new = {name: getattr(site, name) for name in SETTINGS}
    record(audit.SITE_RULES, site_id=site.id, name=site.name, old=old, new=new)
    flash(_("Rules of %(name)s saved; they apply to the next comment.", name=site.name), "success")
    return redirect(url_for("dashboard.admin_site_rules", site_id=site.id))


@bp.post("/admin/rules/<int(max=2147483647):site_id>/words")
@admin_required
def admin_words_add(site_id):
    """Add word-list entries, one per line."""
    check_csrf()
    site = _site(site_id)
    kind = posted("kind", 8)
    words = [line.strip() for line in (request.form.get("words") or "")[:20000].splitlines() if line.strip()]
    try:
        added = wordlists.add_words(site, kind, words)
    except wordlists.WordListError:
        db.session.rollback()
        flash(_("Each line must be a word or phrase of at most 200 characters, with letters."), "error")
        return _page(site, status=400)
    if added:
        record(audit.WORDS_ADD, site_id=site.id, kind=kind, words=[e.text for e in added])
    flash(_("Added: %(n)d.", n=len(added)), "success")
    return redirect(url_for("dashboard.admin_site_rules", site_id=site.id))


@bp.post("/admin/rules/words/<int(max=2147483647):entry_id>/delete")
@admin_required
def admin_word_delete(entry_id):
    """Remove a word-list entry."""
    check_csrf()
    entry = db.session.get(WordEntry, entry_id) or abort(404)
    site_id, detail = entry.site_id, {"kind": entry.kind, "word": entry.text}
    wordlists.remove_entry(entry)
    record(audit.WORDS_REMOVE, site_id=site_id, **detail)
    return redirect(url_for("dashboard.admin_site_rules", site_id=site_id))


@bp.post("/admin/rules/<int(max=2147483647):site_id>/test")
@admin_required
def admin_rules_test(site_id):
    """What the rules and models would decide on a comment, and why; nothing is stored."""
    check_csrf()
    site = _site(site_id)
    sample = {
        field: posted(field, limit)
        for field, limit in (("name", 100), ("email", 254), ("url", 2000), ("author_ip", 45), ("text", 10000))
    }
    if not sample["text"]:
        flash(_("Write a comment to test."), "error")
        return _page(site, sample=sample, status=400)
    probe = Comment(
        site_id=site.id,
        name=sample["name"] or "—",
        text=sample["text"],
        email=sample["email"].lower() or None,
        url=sample["url"] or None,
        author_ip=sample["author_ip"] or None,
    )
    verdict = decisions.assess(probe, site, current_app.config)
    db.session.rollback()  # the probe is never added to the session; make sure nothing of it is written
    return _page(site, verdict=verdict, sample=sample)


@bp.post("/admin/rules/<int(max=2147483647):site_id>/learning")
@admin_required
def admin_site_learning(site_id):
    """Change when the site retrains on its own, or which version decides its comments."""
    check_csrf()
    site = _site(site_id)
    action = request.form.get("action", "settings")
    old = {
        "auto_retrain_after": site.auto_retrain_after,
        "auto_promote": site.auto_promote,
        "model_version": site.model_version,
    }
    try:
        if action == "settings":
            learning.set_settings(site, _number("auto_retrain_after"), bool(request.form.get("auto_promote")))
        elif action in ("use", "reset"):
            version = posted("version", 64) if action == "use" else None
            learning.use_version(site, Path(current_app.config["MODELS_DIR"]), version)
        else:
            abort(400)
    except learning.LearningError as exc:
        db.session.rollback()
        flash(str(RULE_ERRORS[str(exc)]), "error")
        return _page(site, status=400)
    new = {name: getattr(site, name) for name in old}
    record(
        audit.SITE_MODEL if action != "settings" else audit.SITE_LEARNING,
        site_id=site.id,
        name=site.name,
        old=old,
        new=new,
    )
    flash(_("Saved for %(name)s.", name=site.name), "success")
    return redirect(url_for("dashboard.admin_site_rules", site_id=site.id, _anchor="learning"))
