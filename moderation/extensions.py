"""Flask extensions created once and bound to each app in create_app, and the sign-in limits' keys."""

import logging

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from limits import parse_many

log = logging.getLogger(__name__)

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
# Storage, key prefix and fallback come from app.config (RATELIMIT_*), set in config.finalise.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def _api_counts_its_own():
    """The JSON API's routes count their limits themselves, in one Redis round trip (api/limits.py): Flask-Limiter
    need not look for limits of theirs on every request."""
    return request.blueprint == "api"


def limit_key(*parts):
    """A rate-limit key scoped by the app's own prefix.

    The limiter is one object shared by every app in the process and keeps the first app's key
    prefix, so the app's prefix goes into the keys: apps (tests) never count each other's requests.
    """
    return ":".join([current_app.config["RATELIMIT_KEY_PREFIX"], *map(str, parts)])


def address_key():
    """Rate-limit key for the caller's address."""
    return limit_key("address", get_remote_address())


def _login():
    """The login typed in the sign-in form, as accounts are matched: stripped, lowercased."""
    return (request.form.get("login") or "").strip().lower()[:64]


def login_key():
    """Rate-limit key for sign-in attempts against one account from one address.

    Never the account alone: failures from anywhere would then lock its owner out (LOGIN_PACE instead).
    """
    return limit_key("login", _login(), get_remote_address())


def pace_key():
    """Rate-limit key for the pace of sign-ins against one account from one address while it is under attack."""
    return limit_key("pace", _login(), get_remote_address())


def _account_key():
    return limit_key("account", _login())


def account_is_calm():
    """True unless the account in the sign-in form failed LOGIN_PACE_AFTER times lately, from any address."""
    if request.method != "POST":
        return True
    try:
        return all(
            limiter.limiter.test(item, _account_key()) for item in parse_many(current_app.config["LOGIN_PACE_AFTER"])
        )
    except Exception:  # the limits' storage failing must not refuse sign-ins
        log.exception("could not read the sign-in failures of an account")
        return True


def count_account_failure():
    """Count a failed sign-in against the account in the form, from any address: it paces, never refuses."""
    try:
        for item in parse_many(current_app.config["LOGIN_PACE_AFTER"]):
            limiter.limiter.hit(item, _account_key())
    except Exception:  # as Flask-Limiter does with RATELIMIT_SWALLOW_ERRORS
        log.exception("could not count a failed sign-in of an account")
