"""Entry point for Celery: `celery -A worker worker` runs the moderation worker."""

from moderation import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
