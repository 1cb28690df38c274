"""Comment moderation service for Russian-language news sites."""
from pathlib import Path

from flask import Flask

from moderation import config as settings

PACKAGE_DIR = Path(__file__).resolve().parent


def create_app(config=None):
    """Build the Flask app: settings, database, translations, Celery, blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.from_mapping(config)
    settings.finalise(app.config, app.instance_path)
    app.json.ensure_ascii = False  # readable Cyrillic in every JSON answer

    from moderation import broker, i18n
    from moderation.db import db
    from moderation.extensions import migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    i18n.init_app(app)
    broker.init_app(app)

    from moderation import errors, health
    from moderation.api import bp as api_bp

    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_bp)
    return app
