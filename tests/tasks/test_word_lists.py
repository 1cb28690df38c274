"""Word lists through the real pipeline: HTTP -> Redis -> Celery worker -> decision."""

import pytest

from moderation.cli import main
from moderation.db import db
from moderation.models import Comment
from moderation.services import sites, wordlists
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.test_pipeline import post

pytestmark = pytest.mark.worker

ORDINARY = "Аким района опять обещал отремонтировать дорогу к весне."


def add(app, site_key, kind, *words):
    with app.app_context():
        site = sites.authenticate(site_key)
        wordlists.add_words(site, kind, words)


def test_watch_entry_holds_inflected_disguised_forms_and_block_entry_spares_longer_words(
    app, client, auth, site_key, start_worker
):
    add(app, site_key, "watch", "аким")
    add(app, site_key, "block", "рак", "кредит", "казино")
    worker = start_worker()
    ids = {
        "plain": post(client, auth, "Погода сегодня хорошая, спасибо за прогноз."),
        # «Акимы» inflected and written with a Latin A and o: the watch entry must still catch it.
        "watched": post(client, auth, "Aкимы oпять ничего не сделали для района."),
        # «рак» inside «прекрасная», «кредит» inside «кредитоспособность»: no hit.
        "innocent": post(client, auth, "Прекрасная страна, кредитоспособность банков растёт."),
        "blocked": post(client, auth, "Лучшее онлайн-казино, заходите!"),
        "in_name": post(client, auth, "Хорошая статья.", name="Казино Вулкан"),
    }
    statuses = wait_for_decisions(app, list(ids.values()))
    assert statuses[ids["plain"]] == "approved", worker.log()[-2000:]
    assert statuses[ids["innocent"]] == "approved"
    assert statuses[ids["watched"]] == "held"
    assert statuses[ids["blocked"]] == "spam"
    assert statuses[ids["in_name"]] == "spam"
    with app.app_context():
        watched = db.session.get(Comment, ids["watched"])
        hit = next(r for r in watched.reasons if r["code"] == "watchlist")
        assert (hit["entry"], hit["field"], hit["spans"]) == ("аким", "text", ["Aкимы"])
        assert " watchlist " in watched.reason_codes
        named = db.session.get(Comment, ids["in_name"])
        assert [(r["code"], r["field"]) for r in named.reasons if r["code"] == "blocklist"] == [("blocklist", "name")]


def test_an_added_entry_applies_to_the_next_comment_without_restart(app, client, auth, site_key, start_worker):
    start_worker()
    first = post(client, auth, ORDINARY)
    assert wait_for_decisions(app, [first])[first] == "approved"
    add(app, site_key, "watch", "аким")
    second = post(client, auth, ORDINARY, name="Другой читатель")
    assert wait_for_decisions(app, [second])[second] == "held"


def test_words_add_command(app, runner, site_key):
    with app.app_context():
        name = sites.authenticate(site_key).name
    result = runner.invoke(main, ["words", "add", name, "watch", "аким", "дурак"])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    again = runner.invoke(main, ["words", "add", name, "watch", "аким"])
    assert "0 added" in again.output
    assert runner.invoke(main, ["words", "add", "no-such-site", "watch", "x"]).exit_code != 0
    assert runner.invoke(main, ["words", "add", name, "watch", "..."]).exit_code != 0
