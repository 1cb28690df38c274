"""The moderators' and admins' dashboard, in Russian by default."""

from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from moderation.extensions import login_manager
from moderation.models import parse_id, session_mark
from moderation.services import users

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
OPEN_ENDPOINTS = {"dashboard.login", "dashboard.set_language"}
SESSION_ID = "session_id"  # the Flask session's key for the server-side session (users.start_session)


def idle_limit():
    """How long a dashboard session may stay unused: the signed cookie's own lifetime."""
    return timedelta(hours=current_app.config["SESSION_HOURS"])


@login_manager.user_loader
def load_user(user_key):
    """The signed-in user of an open server-side session, if still active and the password unchanged since sign-in."""
    user_id, _sep, mark = str(user_key).partition(".")
    user = users.user_for_session(session.get(SESSION_ID), parse_id(user_id), idle_limit())
    # The server-side session ends when the password changes; the mark also catches a hash changed by hand.
    if user is None or mark != session_mark(user.password_hash):
        return None
    return user


@bp.before_request
def require_sign_in():
    """Every dashboard page but sign-in needs a signed-in moderator or admin."""
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
    return None


def admin_required(view):
    """Let only admins through; moderators get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def init_app(app):
    """Bind Flask-Login and register the dashboard."""
    login_manager.init_app(app)
    login_manager.login_view = "dashboard.login"
    login_manager.login_message = _l("Please sign in.")
    login_manager.session_protection = "basic"
    from moderation.dashboard import (  # noqa: F401  (registers the routes)
        admin,
        admin_models,
        admin_rules,
        admin_site_rules,
        admin_webhooks,
        auth,
        complaints,
        helpers,
        queue,
        reports,
        spot_checks,
    )

    helpers.init_app(app)
    app.register_blueprint(bp)
