"""The `moderation` command's contract: site add, score, models list/promote/rollback."""
import csv
import json
import shutil
from pathlib import Path

import pytest

from moderation.cli import main
from moderation.services import sites

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
        writer.writerow(["3", "", "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot"])
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
    runner = make_app(MODELS_DIR=str(models_copy)).test_cli_runner()

    listed = runner.invoke(main, ["models", "list"]).output
    assert f"* {active}" in listed and "  v-copy" in listed

    assert runner.invoke(main, ["models", "promote", "v-copy"]).exit_code == 0
    assert (models_copy / "ACTIVE").read_text().strip() == "v-copy"
    assert runner.invoke(main, ["models", "rollback"]).exit_code == 0
    assert (models_copy / "ACTIVE").read_text().strip() == active


def test_promote_refuses_a_damaged_version(make_app, models_copy):
    active = copy_version(models_copy, "v-bad")
    with open(models_copy / "v-bad" / "spam.skops", "ab") as fh:
        fh.write(b"tampered")
    runner = make_app(MODELS_DIR=str(models_copy)).test_cli_runner()
    result = runner.invoke(main, ["models", "promote", "v-bad"])
    assert result.exit_code != 0
    assert (models_copy / "ACTIVE").read_text().strip() == active
