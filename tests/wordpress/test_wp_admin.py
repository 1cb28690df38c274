"""wp-admin in Russian: the plugin's settings page (the README's screenshot) and its column in Comments."""

import os
import re

import pytest
from sqlalchemy import text

from tests.conftest import ROOT
from tests.e2e.support import VIEWPORT
from tests.tasks.service import wait_until
from tests.wordpress.support import PASSWORD
from tests.wordpress.test_plugin import INSULT, service_row, shown_as

# The README's picture is refreshed only when asked (MODERATION_SCREENSHOTS=1), so test runs leave the tree clean.
SCREENSHOT = ROOT / "docs" / "screenshots" / "wordpress-settings.png"


@pytest.fixture
def wp_admin(stack, browser):
    page = browser.new_page(viewport=VIEWPORT, locale="ru-RU")
    page.goto(f"{stack.wordpress.base}/wp-login.php")
    page.fill("#user_login", "admin")
    page.fill("#user_pass", PASSWORD)
    page.click("#wp-submit")
    page.wait_for_url(re.compile(r"/wp-admin/"))
    yield page
    page.close()


def test_the_settings_page_speaks_russian_and_checks_the_connection(stack, wp_admin, tmp_path):
    wp_admin.goto(f"{stack.wordpress.base}/wp-admin/options-general.php?page=moderation")
    assert wp_admin.locator("h1").inner_text() == "Модерация комментариев"
    assert wp_admin.input_value("#moderation_service_url") == stack.service.base
    assert wp_admin.input_value("#moderation_site_key") == stack.key
    assert f"{stack.wordpress.base}/wp-json/moderation/v1/webhook" in wp_admin.inner_text(".form-table")
    wp_admin.get_by_role("button", name="Проверить соединение").click()
    assert "Соединение есть: сервис принимает ключ сайта." in wp_admin.locator(".notice-success").inner_text()
    shot = SCREENSHOT if os.environ.get("MODERATION_SCREENSHOTS") == "1" else tmp_path / SCREENSHOT.name
    wp_admin.screenshot(path=str(shot))

    # A wrong key is told apart from an unreachable service.
    stack.wordpress.set_options(moderation_site_key="not-a-key")
    try:
        wp_admin.get_by_role("button", name="Проверить соединение").click()
        assert wp_admin.locator(".notice-error").inner_text() == "Сервис не принимает ключ сайта."
    finally:
        stack.wordpress.set_options(moderation_site_key=stack.key)


def test_the_comments_list_shows_the_decision_scores_and_reasons(stack, wp_admin):
    comment = stack.wordpress.comment(INSULT + " " + "и вся ваша редакция тоже")
    wait_until(lambda: service_row(stack, comment).status == "held", what="held")
    shown_as(stack, comment, "unapproved")
    wait_until(lambda: "held" in stack.wordpress.meta(comment, "_moderation_status"), what="the webhook applied")
    wp_admin.goto(f"{stack.wordpress.base}/wp-admin/edit-comments.php?comment_status=moderated")
    assert "Сервис модерации" in wp_admin.locator("thead").inner_text()
    cell = wp_admin.locator(f"#comment-{comment} td.column-moderation").inner_text()
    assert "Отложен для модератора" in cell and "токсичность" in cell and "Причины: toxicity" in cell, cell


def test_spam_and_restore_clicked_in_wp_admin_reach_the_service_as_the_sites_labels(stack, wp_admin):
    comment = stack.wordpress.comment("Отличный репортаж, спасибо корреспонденту за честный рассказ.")
    shown_as(stack, comment, "approved")
    service_id = service_row(stack, comment).id
    wp_admin.goto(f"{stack.wordpress.base}/wp-admin/edit-comments.php")
    row = wp_admin.locator(f"#comment-{comment}")
    row.hover()
    row.locator(".row-actions .spam a").click()  # wp-admin's «Спам» link (admin-ajax, as an editor clicks it)
    wait_until(lambda: service_row(stack, comment).status == "spam", what="the site's spam in the service")
    assert label(stack, service_id) == (True, None)

    wp_admin.goto(f"{stack.wordpress.base}/wp-admin/edit-comments.php?comment_status=spam")
    row = wp_admin.locator(f"#comment-{comment}")
    row.hover()
    row.locator(".row-actions .unspam a").click()  # «Не спам»: back to where it was, approved
    wait_until(lambda: service_row(stack, comment).status == "approved", what="the site's restore in the service")
    assert label(stack, service_id) == (False, False)
    assert stack.wordpress.status(comment) == "approved"


def label(stack, service_id):
    with stack.engine.connect() as conn:
        row = conn.execute(text("SELECT spam, toxic FROM label WHERE comment_id = :id"), {"id": service_id}).one()
    return (bool(row.spam), None if row.toxic is None else bool(row.toxic))


@pytest.mark.parametrize(("locale", "expected"), [("ru_RU", "Модерация комментариев"), ("kk", "Пікірлер модерациясы")])
def test_wordpress_reads_the_plugins_translations(stack, locale, expected):
    shown = stack.wordpress.php(
        "unload_textdomain('moderation');"
        f"load_textdomain('moderation', WP_PLUGIN_DIR . '/moderation/languages/moderation-{locale}.mo');"
        "echo __('Comment moderation', 'moderation');"
    )
    assert shown == expected
