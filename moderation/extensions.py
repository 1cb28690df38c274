"""Flask extensions created once and bound to each app in create_app."""
from flask import request
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


def submitted_login():
    """Rate-limit key for sign-in attempts against one account, whatever address they come from."""
    return "login:" + (request.form.get("login") or "").strip().lower()[:64]
