"""Liveness for load balancers: the database and the broker answer, and a worker was seen recently."""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from moderation import broker, heartbeat
from moderation.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database and the broker answer and a worker beat recently, 503 otherwise."""
    checks = {"database": _database_ok(), "broker": broker.ping(current_app)}
    workers = heartbeat.workers_alive(current_app.config) if checks["broker"] else None
    checks["worker"] = bool(workers)
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "workers": len(workers or ())}
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    if not healthy:
        response.headers["Retry-After"] = str(heartbeat.ttl(current_app.config))
    return response


def _database_ok():
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        current_app.logger.exception("database check failed")
        db.session.rollback()
        return False
