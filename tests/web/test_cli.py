"""The `moderation` command's contract: site add, score, models list/promote/rollback."""

import csv
import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from moderation import create_app
from moderation.cli import main
from moderation.db import db
from moderation.models import AuditEvent
from moderation.services import sites
from tests.conftest import REDIS_URL, base_config

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_site_add_prints_a_working_key_alone_on_the_last_line(app, runner):
    result = runner.invoke(main, ["site", "add", "news.example.kz"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("mk_") and " " not in key
    with app.app_context():
        site = sites.authenticate(key)
        assert site is not None and site.name == "news.example.kz"
        assert key not in (site.key_hash, site.key_prefix)  # only a hash is stored


def test_score_writes_spam_toxicity_and_decision(runner, tmp_path):
    source = tmp_path / "in.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "text"])
        writer.writerow(["1", "Айгерим", "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы."])
        writer.writerow(["2", "Гость", "Ты тупой дебил, заткнись уже, идиот"])
        writer.writerow(
            ["3", "", "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot"]
        )
    target = tmp_path / "out.csv"
    result = runner.invoke(main, ["score", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    with open(target, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["id"] for row in rows] == ["1", "2", "3"]
    assert all(0.0 <= float(row["spam"]) <= 1.0 and 0.0 <= float(row["toxicity"]) <= 1.0 for row in rows)
    assert [row["decision"] for row in rows] == ["approved", "held", "spam"]


def test_score_refuses_a_csv_without_text(runner, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("comment\nпривет\n", encoding="utf-8")
    result = runner.invoke(main, ["score", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code != 0


@pytest.fixture
def models_copy(tmp_path):
    """A copy of the shipped models to switch versions in."""
    target = tmp_path / "models"
    shutil.copytree(MODELS, target)
    return target


def copy_version(models_dir, new_version):
    """Copy the active version under another id, its manifest renamed to match."""
    active = (models_dir / "ACTIVE").read_text().strip()
    shutil.copytree(models_dir / active, models_dir / new_version)
    manifest_path = models_dir / new_version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] = new_version
    manifest_path.write_text(json.dumps(manifest))
    return active


def test_models_promote_and_rollback(make_app, models_copy):
    active = copy_version(models_copy, "v-copy")
    app = make_app(MODELS_DIR=str(models_copy))
    runner = app.test_cli_runner()

    listed = runner.invoke(main, ["models", "list"]).output
    assert f"* {active}" in listed and "  v-copy" in listed

    assert runner.invoke(main, ["models", "promote", "v-copy"]).exit_code == 0
    assert (models_copy / "ACTIVE").read_text().strip() == "v-copy"
    assert runner.invoke(main, ["models", "rollback"]).exit_code == 0
    assert (models_copy / "ACTIVE").read_text().strip() == active
    with app.app_context():  # audited as the dashboard's buttons are
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.via, AuditEvent.detail)
            .where(AuditEvent.action.like("model_%"))
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("model_promote", "cli", {"old": active, "new": "v-copy"}),
        ("model_rollback", "cli", {"old": "v-copy", "new": active}),
    ]


def test_promote_refuses_a_damaged_version(make_app, models_copy):
    active = copy_version(models_copy, "v-bad")
    with open(models_copy / "v-bad" / "spam.skops", "ab") as fh:
        fh.write(b"tampered")
    runner = make_app(MODELS_DIR=str(models_copy)).test_cli_runner()
    result = runner.invoke(main, ["models", "promote", "v-bad"])
    assert result.exit_code != 0
    assert (models_copy / "ACTIVE").read_text().strip() == active


def _news_data(tmp_path):
    """A tiny data dir for `evaluate` (rows in the test split) and hand labels of its news comments."""
    from moderation.scoring.data import Example, split_of

    data = tmp_path / "data"
    data.mkdir()

    def in_test(prefix, source, n):
        texts = (f"{prefix} {i}" for i in range(10_000))
        return [t for t in texts if split_of(Example(t, 0, source, "ru")) == "test"][:n]

    with open(data / "toxicity.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "toxic", "source", "lang", "group"])
        writer.writerows([t, 0, "ru_2ch_pikabu", "ru", ""] for t in in_test("Спасибо за статью", "ru_2ch_pikabu", 3))
        writer.writerows([t, 1, "ru_2ch_pikabu", "ru", ""] for t in in_test("Ты тупой дебил", "ru_2ch_pikabu", 2))
    with open(data / "spam.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "spam", "source", "lang", "group"])
        writer.writerows([t, 0, "ru_tg_admissions", "ru", ""] for t in in_test("Когда экзамен", "ru_tg_admissions", 2))
        writer.writerows(
            [t, 1, "ru_tg_spam_extra", "ru", ""]
            for t in in_test("Заработок от 3000 в день, пиши в личку", "ru_tg_spam_extra", 2)
        )
    texts = [
        "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы.",
        "Ты тупой дебил, заткнись уже, идиот",
    ]
    with open(data / "unlabelled_comments.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "source", "lang"])
        writer.writerows([t, "news", "ru"] for t in texts)
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "sha1", "lang", "toxic", "spam", "uncertain", "note"])
        writer.writerows(
            [i, hashlib.sha1(t.encode("utf-8")).hexdigest(), "ru", i, 0, 0, ""] for i, t in enumerate(texts)
        )
    return data, labels


def test_evaluate_prints_the_news_sections_and_writes_json(runner, tmp_path):
    data, labels = _news_data(tmp_path)
    out = tmp_path / "results.json"
    result = runner.invoke(main, ["evaluate", "--data", str(data), "--labels", str(labels), "--json", str(out)])
    assert result.exit_code == 0, result.output
    for title in (
        "[toxicity]",
        "[spam targets]",
        "[held ordinary comments]",
        "[toxic caught at 5% held]",
        "[unlabelled news comments]",
        "[in-domain news comments, hand-labelled]",
    ):
        assert title in result.output
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["in_domain"]["overall"]["n"] == 2 and saved["in_domain"]["overall"]["caught"] == 1.0
    assert saved["unlabelled"]["by_lang"]["ru"]["held"] == 0.5

    skipped = runner.invoke(main, ["evaluate", "--data", str(data), "--labels", str(tmp_path / "none.csv")])
    assert skipped.exit_code == 0 and "[in-domain news comments, hand-labelled] skipped: no file" in skipped.output


def test_evaluate_fails_on_labels_that_do_not_match_the_comments(runner, tmp_path):
    data, labels = _news_data(tmp_path)
    header, first, second = labels.read_text(encoding="utf-8").splitlines()
    labels.write_text("\n".join([header, "1" + first[1:], "0" + second[1:]]) + "\n", encoding="utf-8")  # rows swapped
    result = runner.invoke(main, ["evaluate", "--data", str(data), "--labels", str(labels)])
    assert result.exit_code != 0
    assert "does not match" in result.output and "has sha1" in result.output


def test_commands_on_a_database_not_migrated_say_so_and_change_nothing(models_copy, tmp_path):
    """A fresh install asked to add a site or promote a model before `moderation run`: one clear line, not an SQL
    traceback, and the active model stays as it was."""
    path = tmp_path / "fresh.db"
    app = create_app(base_config(f"sqlite:///{path}", REDIS_URL, MODELS_DIR=str(models_copy)))
    runner = app.test_cli_runner()
    active = (models_copy / "ACTIVE").read_text()
    copy_version(models_copy, "v-copy")
    commands = (["site", "add", "news.example.kz"], ["models", "promote", "v-copy"], ["models", "rollback"])
    for found in ("does not exist yet", "has no tables yet"):
        for command in commands:
            result = runner.invoke(main, command)
            assert result.exit_code == 1, result.output
            assert found in result.output and "moderation db upgrade" in result.output, result.output
        if found == "does not exist yet":
            assert not path.exists()  # not created by the check
            path.touch()  # an empty file: SQLite's empty database
        else:
            with closing(sqlite3.connect(path)) as connection:
                assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []  # nothing created
    assert (models_copy / "ACTIVE").read_text() == active
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        downgrade(directory=app.extensions["migrate"].directory, revision="-1")  # an update not migrated yet
        db.engine.dispose()
    result = runner.invoke(main, ["site", "add", "news.example.kz"])
    assert result.exit_code == 1 and "this release needs" in result.output, result.output
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    assert runner.invoke(main, ["site", "add", "news.example.kz"]).exit_code == 0
