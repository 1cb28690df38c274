"""The JSON API that websites call, server to server."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from moderation.api import comments, complaints, moderate  # noqa: E402,F401  (registers the routes)
