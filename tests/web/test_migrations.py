"""Upgrading a database from the first release keeps its comments and fills the queue's new filters; later
revisions go down and up again, and the migrations build what the models describe."""

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from moderation import create_app
from moderation.db import db
from moderation.scoring import fingerprint
from moderation.services import intake


def test_upgrade_from_the_first_release_backfills_reasons_language_and_risk(tmp_path, redis_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test",
        }
    )
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="e2853733813d")
        db.session.execute(
            text("INSERT INTO site (name, key_prefix, key_hash, created_at) VALUES ('s', 'mk_', 'h', '2026-01-01')")
        )
        for name, body, status, reasons, spam, toxic in (
            ("a", "Ты дебил", "held", [{"code": "toxicity", "spans": ["дебил"]}], 0.1, 0.9),
            ("b", "Сен ақымақсың ба", "approved", [], 0.0, 0.2),
        ):
            db.session.execute(
                text(
                    "INSERT INTO comment (site_id, name, text, status, reasons, spam_score, toxicity_score, "
                    "created_at, queued_at) VALUES (1, :name, :body, :status, :reasons, :spam, :toxic, '2026-01-01', "
                    "'2026-01-01')"
                ),
                {
                    "name": name,
                    "body": body,
                    "status": status,
                    "reasons": json.dumps(reasons),
                    "spam": spam,
                    "toxic": toxic,
                },
            )
        db.session.commit()
        upgrade(directory=directory)
        rows = db.session.execute(text("SELECT name, reason_codes, lang, risk FROM comment ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [("a", " toxicity ", "ru", 0.9), ("b", "", "kk", 0.2)]


def test_complaints_revision_gives_existing_sites_the_defaults_and_goes_down_and_up_again(tmp_path, redis_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test",
        }
    )
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="b7d41f0c9e25")
        db.session.execute(
            text("INSERT INTO site (name, key_prefix, key_hash, created_at) VALUES ('s', 'mk_', 'h', '2026-01-01')")
        )
        db.session.commit()
        upgrade(directory=directory, revision="bcb5139da87e")
        settings = db.session.execute(text("SELECT complaints_hide_after, complaints_overdue_hours FROM site")).one()
        downgrade(directory=directory, revision="b7d41f0c9e25")
        after_downgrade = inspect(db.engine)
        tables, site_columns = after_downgrade.get_table_names(), after_downgrade.get_columns("site")
        upgrade(directory=directory)
        tables_again = inspect(db.engine).get_table_names()
        db.engine.dispose()
    assert tuple(settings) == (3, 24)
    assert "complaint" not in tables and not any(c["name"].startswith("complaints_") for c in site_columns)
    assert "complaint" in tables_again


def test_the_migrations_build_what_the_models_describe(app):
    """The test database of each backend, migrated to the head, has every table, column and index the models have."""
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_learning_revision_leaves_existing_sites_off_and_new_ones_on_and_goes_down_and_up_again(tmp_path, redis_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test",
        }
    )
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="4f2a9c7e1d3b")
        db.session.execute(
            text("INSERT INTO site (name, key_prefix, key_hash, created_at) VALUES ('old', 'mk_', 'h1', '2026-01-01')")
        )
        db.session.commit()
        upgrade(directory=directory, revision="9b1e5d2c7a64")
        db.session.execute(
            text("INSERT INTO site (name, key_prefix, key_hash, created_at) VALUES ('new', 'mk_', 'h2', '2026-01-01')")
        )
        db.session.commit()
        learning = db.session.execute(
            text("SELECT name, auto_retrain_after, auto_promote, model_version FROM site ORDER BY id")
        ).all()
        downgrade(directory=directory, revision="4f2a9c7e1d3b")
        columns = [c["name"] for c in inspect(db.engine).get_columns("site")]
        upgrade(directory=directory)
        db.engine.dispose()
    assert [tuple(r) for r in learning] == [("old", 0, 1, None), ("new", 200, 1, None)]
    assert "auto_retrain_after" not in columns and "spot_check_percent" in columns


def test_dedupe_revision_keys_the_oldest_of_each_duplicate_and_goes_down_and_up_again(tmp_path, redis_url):
    """Stored comments get the duplicate key intake would give them; of two identical ones only the oldest does,
    as the unique index allows one, and a later identical post is a 409 with that oldest id."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test",
        }
    )
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="e4a7c2d9b1f3")
        db.session.execute(
            text("INSERT INTO site (name, key_prefix, key_hash, created_at) VALUES ('s', 'mk_', 'h', '2026-01-01')")
        )
        for name, body in (("a", "Согласен"), ("a", "Согласен"), ("b", "Согласен")):
            db.session.execute(
                text(
                    "INSERT INTO comment (site_id, name, text, article_id, status, reasons, created_at, queued_at) "
                    "VALUES (1, :name, :body, 'news-1', 'approved', '[]', '2026-01-01', '2026-01-01')"
                ),
                {"name": name, "body": body},
            )
        db.session.commit()
        upgrade(directory=directory)
        keys = db.session.execute(text("SELECT dedupe_key FROM comment ORDER BY id")).scalars().all()
        expected = [intake.dedupe_key({"name": name, "text": "Согласен", "article_id": "news-1"}) for name in "ab"]
        assert keys == [expected[0], None, expected[1]]
        downgrade(directory=directory, revision="e4a7c2d9b1f3")
        assert "dedupe_key" not in {c["name"] for c in inspect(db.engine).get_columns("comment")}
        upgrade(directory=directory)
        db.engine.dispose()


def test_fingerprint_slots_revision_indexes_stored_fingerprints_and_goes_down_and_up_again(tmp_path, redis_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test",
        }
    )
    directory = app.extensions["migrate"].directory
    signature = fingerprint.signature("Купите дешёвые часы у нас на сайте прямо сейчас со скидкой")
    with app.app_context():
        upgrade(directory=directory, revision="f1c3a5e7b9d2")
        db.session.execute(
            text("INSERT INTO site (name, key_prefix, key_hash, created_at) VALUES ('s', 'mk_', 'h', '2026-01-01')")
        )
        for body, print_, decided in (
            ("a", signature, "2026-01-02 10:00:00.000000"),
            ("b", None, "2026-01-02 10:00:00.000000"),
            ("c", signature, None),
        ):
            db.session.execute(
                text(
                    "INSERT INTO comment (site_id, name, text, status, reasons, fingerprint, created_at, queued_at, "
                    "decided_at) VALUES (1, 'n', :body, 'approved', '[]', :print, '2026-01-01 09:00:00.000000', "
                    "'2026-01-01', :decided)"
                ),
                {"body": body, "print": print_, "decided": decided},
            )
        db.session.commit()

        def indexed():
            return db.session.execute(
                text("SELECT comment_id, slot, site_id, decided_at FROM fingerprint_slot ORDER BY comment_id, slot")
            ).all()

        upgrade(directory=directory, revision="a7e3c9f1b5d8")
        rows = indexed()
        assert [r.slot for r in rows] == sorted(fingerprint.slots(signature)) * 2
        when = {(r.comment_id, r.site_id, str(r.decided_at)[:10]) for r in rows}
        assert when == {(1, 1, "2026-01-02"), (3, 1, "2026-01-01")}  # the creation time when the decision's is unknown
        upgrade(directory=directory)  # by bands, the same comments, with the same times
        assert [r.slot for r in indexed()] == sorted(fingerprint.bands(signature)) * 2
        assert {(r.comment_id, r.site_id, str(r.decided_at)[:10]) for r in indexed()} == when
        downgrade(directory=directory, revision="a7e3c9f1b5d8")
        assert [r.slot for r in indexed()] == sorted(fingerprint.slots(signature)) * 2
        downgrade(directory=directory, revision="f1c3a5e7b9d2")
        assert "fingerprint_slot" not in inspect(db.engine).get_table_names()
        upgrade(directory=directory)
        db.engine.dispose()


def test_migrations_import_no_live_code():
    # A revision that called live code would do something else once that code changed.
    import ast
    from pathlib import Path

    versions = Path(create_app.__code__.co_filename).parent / "migrations" / "versions"
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.split(".")[0] == "moderation"], path.name
