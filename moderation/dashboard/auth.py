"""Sign-in, sign-out and the dashboard language."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from moderation.dashboard import SESSION_ID, bp, idle_limit
from moderation.dashboard.forms import EmptyForm, LoginForm
from moderation.dashboard.helpers import safe_next
from moderation.extensions import account_is_calm, address_key, count_account_failure, limiter, login_key, pace_key
from moderation.i18n import LOCALES
from moderation.services import users


def _failed(response):
    """Only failed sign-ins count against the limits (a success redirects)."""
    return response.status_code != 302


# Failed sign-ins are limited per address, and per account from each address: never per account alone, or
# anyone could lock a known login out. An account failing from many addresses is paced instead.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], key_func=address_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_LIMIT"], key_func=login_key, methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_PACE"],
    key_func=pace_key,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=account_is_calm,
)
def login():
    """Sign in with a login and a password."""
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("dashboard.queue"))
    if form.validate_on_submit():
        user = users.authenticate(form.login.data, form.password.data)
        if user is not None:
            users.end_session(session.get(SESSION_ID))  # signing in again replaces a session, if any
            session.clear()  # a new session id on sign-in: no fixation
            login_user(user)
            session[SESSION_ID] = users.start_session(user, idle_limit())
            session.permanent = True
            return redirect(safe_next(form.next.data) or url_for("dashboard.queue"))
        count_account_failure()
        flash(_("Wrong login or password."), "error")
        return render_template("dashboard/login.html", form=form), 401
    form.next.data = form.next.data or request.args.get("next", "")
    status = 400 if request.method == "POST" else 200
    return render_template("dashboard/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out, ending the session on the server: a copy of the cookie is refused from now on."""
    if EmptyForm().validate_on_submit():
        users.end_session(session.get(SESSION_ID))
        logout_user()
        session.clear()
    return redirect(url_for("dashboard.login"))


@bp.post("/language")
def set_language():
    """Switch the dashboard's language: Russian, Kazakh or English."""
    if EmptyForm().validate_on_submit() and request.form.get("locale") in LOCALES:
        session["locale"] = request.form["locale"]
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.queue"))
