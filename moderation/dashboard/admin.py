"""Admin pages for sites and users; every change is written to the audit log.

A new site key or API token is shown once, in the answer to the POST that made it, and never again:
it is not stored (only its hash) and never put in a flash message (the session cookie is only signed).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from moderation.dashboard import admin_required, bp
from moderation.dashboard.forms import EmptyForm, SiteForm, UserForm
from moderation.db import db
from moderation.models import ROLES, ApiToken, Site, User
from moderation.services import audit, sites, users

SITE_ERRORS = {
    "name": _l("Give the site a name of at most 200 characters."),
    "timezone": _l("Unknown time zone: use an IANA name such as Asia/Almaty."),
    "exists": _l("A site with this name exists already."),
}
ROLE_LABELS = {"moderator": _l("moderator"), "admin": _l("admin")}


def record(action, **detail):
    """Write the signed-in admin's change to the audit log and commit it."""
    audit.record(action, via="dashboard", user_id=current_user.id, **detail)


def check_csrf():
    """Refuse a row action whose CSRF token is bad (CSRFProtect refuses a missing one before the view)."""
    if not EmptyForm().validate_on_submit():
        abort(400)


def posted(name, limit=200):
    """A posted text field, stripped and capped."""
    return (request.form.get(name) or "").strip()[:limit]


def form_errors(form):
    """Every validation message of a form, for a flash."""
    return "; ".join(f"{form[name].label.text}: {' '.join(map(str, errors))}" for name, errors in form.errors.items())


# --- sites -------------------------------------------------------------------------------------------


def _sites_page(form=None, new_key=None, key_site=None, status=200):
    all_sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return render_template(
        "dashboard/admin_sites.html",
        active_nav="admin",
        admin_tab="sites",
        sites=all_sites,
        site_counts=sites.comment_counts(),
        form=form or SiteForm(formdata=None),
        action_form=EmptyForm(),
        zones=sites.time_zones(),
        new_key=new_key,
        key_site=key_site,
    ), status


def _site_or_404(site_id):
    return db.session.get(Site, site_id) or abort(404)


@bp.get("/admin/sites")
@admin_required
def admin_sites():
    """The sites: name, key prefix, time zone, comments; add a site, rotate a key, change a zone."""
    return _sites_page()


@bp.post("/admin/sites")
@admin_required
def admin_site_add():
    """Create a site and show its API key, once."""
    form = SiteForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return _sites_page(form=form, status=400)
    try:
        site, key = sites.add_site(form.name.data, form.timezone.data)
    except sites.SiteError as exc:
        flash(str(SITE_ERRORS[str(exc)]), "error")
        return _sites_page(form=form, status=400)
    record(audit.SITE_ADD, site_id=site.id, name=site.name, timezone=site.timezone, key_prefix=site.key_prefix)
    return _sites_page(new_key=key, key_site=site)


@bp.post("/admin/sites/<int(max=2147483647):site_id>/rotate")
@admin_required
def admin_site_rotate(site_id):
    """Replace a site's API key; the old key stops working within MODERATION_SITE_CACHE_SECONDS (at once in this
    process, within that time in the other web workers, which keep the site they found for a key that long). The
    new key is shown once."""
    check_csrf()
    site = _site_or_404(site_id)
    old_prefix = site.key_prefix
    key = sites.rotate_key(site)
    record(audit.SITE_KEY_ROTATE, site_id=site.id, name=site.name, old_prefix=old_prefix, key_prefix=site.key_prefix)
    return _sites_page(new_key=key, key_site=site)


@bp.post("/admin/sites/<int(max=2147483647):site_id>/timezone")
@admin_required
def admin_site_timezone(site_id):
    """Change the time zone a site's times and days are shown in."""
    check_csrf()
    site = _site_or_404(site_id)
    old = site.timezone
    try:
        sites.set_timezone(site, posted("timezone"))
    except sites.SiteError:
        flash(str(SITE_ERRORS["timezone"]), "error")
        return redirect(url_for("dashboard.admin_sites"))
    if site.timezone != old:
        record(audit.SITE_TIMEZONE, site_id=site.id, name=site.name, old=old, new=site.timezone)
    flash(_("Time zone of %(name)s: %(zone)s.", name=site.name, zone=site.timezone), "success")
    return redirect(url_for("dashboard.admin_sites"))


# --- users -------------------------------------------------------------------------------------------


def _users_page(form=None, new_token=None, token_user=None, status=200):
    all_users = db.session.scalars(select(User).order_by(User.login)).all()
    tokens = dict(
        db.session.execute(
            select(ApiToken.user_id, func.count()).where(ApiToken.revoked.is_(False)).group_by(ApiToken.user_id)
        ).all()
    )
    return render_template(
        "dashboard/admin_users.html",
        active_nav="admin",
        admin_tab="users",
        users=all_users,
        tokens=tokens,
        form=form or UserForm(formdata=None),
        action_form=EmptyForm(),
        roles=ROLES,
        role_labels=ROLE_LABELS,
        new_token=new_token,
        token_user=token_user,
    ), status


def _other_user_or_refuse(user_id, message):
    """The user to change, or None (with a flash) when it is the admin acting on themselves."""
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        flash(message, "error")
        return None
    return user


@bp.get("/admin/users")
@admin_required
def admin_users():
    """Moderators and admins: add one, change a role, disable or enable, issue an API token."""
    return _users_page()


@bp.post("/admin/users")
@admin_required
def admin_user_add():
    """Add a moderator or an admin."""
    form = UserForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return _users_page(form=form, status=400)
    if users.find_user(form.login.data) is not None:
        flash(_("A user with this login exists already."), "error")
        return _users_page(form=form, status=400)
    try:
        user = users.create_user(form.login.data, form.password.data, form.role.data)
    except users.UserError as exc:
        flash(_("The user was not added: %(error)s", error=str(exc)), "error")
        return _users_page(form=form, status=400)
    record(audit.USER_ADD, target_id=user.id, login=user.login, role=user.role)
    flash(_("User %(login)s added.", login=user.login), "success")
    return redirect(url_for("dashboard.admin_users"))


@bp.post("/admin/users/<int(max=2147483647):user_id>/role")
@admin_required
def admin_user_role(user_id):
    """Make a user a moderator or an admin (not yourself: an admin cannot demote themselves)."""
    check_csrf()
    role = request.form.get("role")
    if role not in ROLES:
        abort(400)
    user = _other_user_or_refuse(user_id, _("You cannot change your own role."))
    if user is not None and user.role != role:
        old, user.role = user.role, role
        record(audit.USER_ROLE, target_id=user.id, login=user.login, old=old, new=role)
        flash(_("%(login)s is now %(role)s.", login=user.login, role=ROLE_LABELS[role]), "success")
    return redirect(url_for("dashboard.admin_users"))


@bp.post("/admin/users/<int(max=2147483647):user_id>/active")
@admin_required
def admin_user_active(user_id):
    """Disable a user (signed out, tokens refused) or enable them again; not yourself."""
    check_csrf()
    active = request.form.get("active") == "1"
    user = _other_user_or_refuse(user_id, _("You cannot disable yourself."))
    if user is not None and user.active != active:
        users.set_active(user, active)
        record(audit.USER_ENABLE if active else audit.USER_DISABLE, target_id=user.id, login=user.login)
        if active:
            flash(_("%(login)s can sign in again.", login=user.login), "success")
        else:
            flash(_("%(login)s is disabled.", login=user.login), "success")
    return redirect(url_for("dashboard.admin_users"))


@bp.post("/admin/users/<int(max=2147483647):user_id>/token")
@admin_required
def admin_user_token(user_id):
    """Issue an API token for the moderate API; it is shown once."""
    check_csrf()
    user = db.session.get(User, user_id) or abort(404)
    if not user.active:
        flash(_("Enable the user before issuing a token."), "error")
        return redirect(url_for("dashboard.admin_users"))
    token = users.issue_token(user)
    record(audit.USER_TOKEN, target_id=user.id, login=user.login, prefix=token[:10])
    return _users_page(new_token=token, token_user=user)
