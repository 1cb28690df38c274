"""Liveness for load balancers: the database and the broker both answer."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from moderation import broker
from moderation.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database and the broker answer, 503 otherwise."""
    checks = {"database": _database_ok(), "broker": broker.ping(current_app)}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503


def _database_ok():
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        current_app.logger.exception("database check failed")
        db.session.rollback()
        return False
