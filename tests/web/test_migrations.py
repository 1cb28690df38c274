"""Upgrading a database from the first release keeps its comments and fills the queue's new filters."""
import json

from flask_migrate import upgrade
from sqlalchemy import text

from moderation import create_app
from moderation.db import db


def test_upgrade_from_the_first_release_backfills_reasons_language_and_risk(tmp_path, redis_url):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "REDIS_URL": redis_url,
                      "SECRET_KEY": "test"})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="e2853733813d")
        db.session.execute(text("INSERT INTO site (name, key_prefix, key_hash, created_at) "
                                "VALUES ('s', 'mk_', 'h', '2026-01-01')"))
        for name, body, status, reasons, spam, toxic in (
                ("a", "Ты дебил", "held", [{"code": "toxicity", "spans": ["дебил"]}], 0.1, 0.9),
                ("b", "Сен ақымақсың ба", "approved", [], 0.0, 0.2)):
            db.session.execute(text(
                "INSERT INTO comment (site_id, name, text, status, reasons, spam_score, toxicity_score, created_at, "
                "queued_at) VALUES (1, :name, :body, :status, :reasons, :spam, :toxic, '2026-01-01', '2026-01-01')"),
                {"name": name, "body": body, "status": status, "reasons": json.dumps(reasons), "spam": spam,
                 "toxic": toxic})
        db.session.commit()
        upgrade(directory=directory)
        rows = db.session.execute(text("SELECT name, reason_codes, lang, risk FROM comment ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [("a", " toxicity ", "ru", 0.9), ("b", "", "kk", 0.2)]
