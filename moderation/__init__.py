"""Comment moderation service for Russian-language news sites."""

from pathlib import Path

from flask import Flask, redirect, url_for

from moderation import config as settings

PACKAGE_DIR = Path(__file__).resolve().parent


def create_app(config=None):
    """Build the Flask app: settings, database, translations, Celery, blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.from_mapping(config)
    settings.finalise(app.config, app.instance_path)

    from moderation import body_limit, broker, i18n, security
    from moderation.db import db
    from moderation.extensions import csrf, limiter, migrate
    from moderation.json_provider import JSONProvider

    app.json = JSONProvider(app)  # readable Cyrillic out; JSON too deep to parse is malformed, not a 500
    body_limit.init_app(app)  # first: an oversized body is refused before sign-in, CSRF and rate limits
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    i18n.init_app(app)
    broker.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from moderation import compat, dashboard, errors, health
    from moderation.api import bp as api_bp

    errors.init_app(app)
    app.register_blueprint(health.bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never with cookies
    app.register_blueprint(api_bp)
    dashboard.init_app(app)
    compat.init_app(app)

    @app.get("/")
    def index():
        """The service's root leads people to the dashboard."""
        return redirect(url_for("dashboard.queue"))

    return app
