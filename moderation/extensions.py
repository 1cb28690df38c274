"""Flask extensions created once and bound to each app in create_app."""
from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
# Storage, key prefix and fallback come from app.config (RATELIMIT_*), set in config.finalise.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def limit_key(*parts):
    """A rate-limit key scoped by the app's own prefix.

    The limiter is one object shared by every app in the process and keeps the first app's key
    prefix, so the app's prefix goes into the keys: apps (tests) never count each other's requests.
    """
    return ":".join([current_app.config["RATELIMIT_KEY_PREFIX"], *map(str, parts)])


def address_key():
    """Rate-limit key for the caller's address."""
    return limit_key("address", get_remote_address())


def login_key():
    """Rate-limit key for sign-in attempts against one account, whatever address they come from."""
    return limit_key("login", (request.form.get("login") or "").strip().lower()[:64])
