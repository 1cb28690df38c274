"""Entry point for Celery: `celery -A worker worker` runs the moderation worker."""
from moderation import create_app

app = create_app()
celery_app = app.extensions["celery"]
