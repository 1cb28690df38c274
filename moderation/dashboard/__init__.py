"""The moderators' and admins' dashboard, in Russian by default."""
from functools import wraps

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from moderation.db import db
from moderation.extensions import login_manager
from moderation.models import User, session_mark

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
OPEN_ENDPOINTS = {"dashboard.login", "dashboard.set_language"}


@login_manager.user_loader
def load_user(session_id):
    """The signed-in user of a session, if still active and the password unchanged since sign-in."""
    user_id, _sep, mark = str(session_id).partition(".")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) <= 10 else None
    if user is None or not user.active or mark != session_mark(user.password_hash):
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
        admin, admin_models, admin_rules, admin_site_rules, auth, helpers, queue, reports,
    )

    helpers.init_app(app)
    app.register_blueprint(bp)
