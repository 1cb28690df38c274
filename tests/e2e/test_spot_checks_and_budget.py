"""Spot checks and hold budgets in a real browser: «Выборочная проверка», its weekly estimate, a site's budget."""

import re
from datetime import UTC, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import APPROVED, REJECTED, AuditEvent, Comment, Label, Site
from moderation.services import budget, reasons, scorer, users
from tests.e2e import seed
from tests.e2e.support import PASSWORD, sign_in

# Wilson's 95% interval of 1 toxic in 2 checked is 9.45%..90.55%; of 0 in 2, 0%..65.76%.
TOXIC_ONE_IN_TWO = "50% (9,5%–90,5%)"
SPAM_NONE_IN_TWO = "0% (0%–65,8%)"
BUDGET_SAVED = "Бюджет модерации сайта Караганда сегодня сохранён; пороги пересчитаются в течение нескольких минут."
BUDGET_REMOVED = "У сайта Караганда сегодня больше нет бюджета модерации: действуют пороги модели."
BUDGET_INVALID = "Бюджет — это процент (5 или 5%), число комментариев в день (40/день) или пусто, если бюджета нет."


@pytest.fixture
def admin(live_server):
    """An admin's account: id, login, password."""
    with live_server.app.app_context():
        user = users.create_user("galym", PASSWORD, "admin")
        return SimpleNamespace(id=user.id, login=user.login, password=PASSWORD)


def ru(number, pattern="0.00"):
    """A number as the Russian dashboard writes it."""
    return format_decimal(number, pattern, locale="ru")


def seed_spot_checks(site_id):
    """Three comments the filter published half an hour ago; two of them drawn for a spot check."""
    published = utcnow() - timedelta(minutes=30)
    texts = {
        "harmless": ("Галина Петровна", "Хорошая новость, наконец-то отремонтируют мост на Сатпаева.", True),
        "insult": ("Серик", "Автор статьи дебил, а не журналист, таких увольнять надо.", True),
        "unchecked": ("Дана", "Интересно, сколько это всё стоило бюджету?", False),
    }
    comments = {
        key: seed.add_comment(
            site_id,
            name=name,
            text=text,
            status=APPROVED,
            spam=0.03,
            toxicity=0.2,
            created_at=published,
            spot_check=drawn,
        )
        for key, (name, text, drawn) in texts.items()
    }
    db.session.commit()
    return {key: comment.id for key, comment in comments.items()}


def card_ids(page):
    """The ids of the cards on the page, top to bottom."""
    return page.locator(".comments .comment").evaluate_all("cards => cards.map(c => Number(c.dataset.id))")


def current_id(page):
    return int(page.locator(".comments .comment.current").get_attribute("data-id"))


def outcome(live_server, comment_id):
    """(status, reject reason, spot verdict, label's toxic) of a comment, read in a new session."""

    def read():
        comment = db.session.get(Comment, comment_id)
        toxic = db.session.scalar(select(Label.toxic).where(Label.comment_id == comment_id))
        return comment.status, comment.reject_reason, comment.spot_verdict, toxic

    return live_server.query(read)


def test_spot_checks_page_and_weekly_estimate(page, live_server, site, moderator):
    ids = live_server.query(lambda: seed_spot_checks(site.id))
    insult_index = live_server.query(lambda: [r.code for r in reasons.active_reasons()].index("insult"))

    sign_in(page, live_server, moderator.login, moderator.password)
    nav = page.locator("nav.main-nav a.nav-spot-checks")
    assert nav.inner_text().split() == ["Выборочная", "проверка", "2"]
    nav.click()
    page.wait_for_url(re.compile(r"/dashboard/spot-checks$"))
    assert page.locator("h1").inner_text().split() == ["Выборочная", "проверка", "2"]
    assert nav.get_attribute("aria-current") == "page"
    # Only the drawn approvals, oldest first; the one the filter published without a draw is not there.
    assert card_ids(page) == [ids["harmless"], ids["insult"]]
    assert "отремонтируют мост на Сатпаева" in page.locator(f"#c{ids['harmless']} .text").inner_text()

    # The harmless one is first and focused: a keeps it published; the page reloads without it.
    assert current_id(page) == ids["harmless"]
    # A checked comment leaves the list at once, and the next one is focused (no reload, no double decision).
    page.keyboard.press("a")
    page.locator(f"#c{ids['harmless']}").wait_for(state="detached")
    assert card_ids(page) == [ids["insult"]]
    assert outcome(live_server, ids["harmless"]) == (APPROVED, None, "ok", False)
    page.reload()
    assert page.locator("nav.main-nav a.nav-spot-checks").inner_text().split() == ["Выборочная", "проверка", "1"]

    # The insult should not have been published: r, then the number of «Оскорбление», takes it down.
    assert current_id(page) == ids["insult"]
    page.keyboard.press("r")
    picker = page.locator("#reason-picker")
    picker.wait_for(state="visible")
    pick = picker.locator(".pick-reason").nth(insult_index)
    assert (pick.get_attribute("data-reason"), "Оскорбление" in pick.inner_text()) == ("insult", True)
    page.keyboard.press(str(insult_index + 1))
    page.locator(f"#c{ids['insult']}").wait_for(state="detached")
    assert card_ids(page) == []
    page.reload()
    assert page.locator(".comments .empty").inner_text() == "Комментариев на выборочную проверку нет."
    assert page.locator("nav.main-nav a.nav-spot-checks").inner_text().strip() == "Выборочная проверка"
    assert outcome(live_server, ids["insult"]) == (REJECTED, "insult", "toxic", True)
    assert outcome(live_server, ids["unchecked"]) == (APPROVED, None, None, None)

    # The statistics: this week, 2 checked, one toxic: half of what was published, within a wide interval.
    page.click("nav.main-nav a[href$='/dashboard/stats']")
    page.wait_for_url(re.compile(r"/dashboard/stats$"))
    section = page.locator("section.spot-estimates")
    assert section.locator("h2").inner_text() == "Выборочная проверка: что опубликовал фильтр"
    headers = section.locator(".spot-weeks thead th").all_inner_texts()
    assert headers == ["Неделя с", "Проверено", "Токсичных среди одобренных фильтром", "Спам среди одобренных фильтром"]
    rows = section.locator(".spot-weeks tbody tr")
    assert rows.count() == 1
    # The week of the filter's decision, in the site's zone (Almaty), as the page writes it.
    decided = live_server.query(lambda: db.session.get(Comment, ids["insult"]).decided_at)
    day = decided.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Almaty")).date()
    monday = format_date(day - timedelta(days=day.weekday()), "d MMM y", locale="ru")
    assert rows.locator("th").inner_text() == monday
    assert rows.locator("td").first.inner_text() == "2"
    assert rows.locator(".toxic-share").inner_text() == TOXIC_ONE_IN_TWO
    assert rows.locator(".spam-share").inner_text() == SPAM_NONE_IN_TWO


def seed_window(site_id, count):
    """`count` comments the filter decided over the last nine days or so, for the budget to read a share from."""
    now = utcnow()
    for i in range(count):
        seed.add_comment(
            site_id,
            name=f"Читатель {i}",
            text=f"Комментарий читателя номер {i} о ремонте дорог",
            status=APPROVED,
            spam=0.02,
            toxicity=0.05,
            created_at=now - timedelta(minutes=40 * i + 5),
        )
    db.session.commit()


def budget_row(live_server, site_id):
    """(percent, per day, state) of a site's budget, read in a new session."""

    def read():
        row = db.session.get(Site, site_id)
        return row.hold_budget_percent, row.hold_budget_per_day, row.budget_state

    return live_server.query(read)


def budget_events(live_server):
    """The details of the audit log's budget changes, oldest first."""
    return live_server.query(
        lambda: db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "site_budget").order_by(AuditEvent.id)
        ).all()
    )


def save_budget(page, site_id, text):
    """Type a budget into the site's row and press that row's Save, as an admin does."""
    page.fill(f"#budget-input-{site_id}", text)
    with page.expect_navigation():
        page.locator(f"#budget-{site_id} button[type=submit]").click()


def test_hold_budget_per_site(page, live_server, site, admin):
    sign_in(page, live_server, admin.login, admin.password)
    page.goto(live_server("/dashboard/admin/thresholds"))
    assert page.locator("h2#budget").inner_text() == "Бюджет модерации по сайтам"
    row = page.locator(f"#budget-{site.id}")
    assert row.locator("th").inner_text() == "Караганда сегодня"
    assert row.locator(".budget-state").inner_text().strip() == "пороги модели"
    assert page.input_value(f"#budget-input-{site.id}") == ""

    # Not a budget: the page says so in Russian, keeps what was typed, and stores nothing.
    save_budget(page, site.id, "abc")
    assert page.locator(".flash.error").inner_text() == BUDGET_INVALID
    assert page.input_value(f"#budget-input-{site.id}") == "abc"
    assert budget_row(live_server, site.id) == (None, None, None)
    assert budget_events(live_server) == []

    # 5%: saved, logged, and computing until the background task has run.
    save_budget(page, site.id, "5%")
    page.wait_for_url(re.compile(r"/dashboard/admin/thresholds$"))
    assert page.locator(".flash.success").inner_text() == BUDGET_SAVED
    assert page.input_value(f"#budget-input-{site.id}") == "5%"
    assert row.locator(".budget-state").inner_text().strip() == "вычисляются; пока действуют пороги модели"
    assert budget_row(live_server, site.id) == (5.0, None, None)
    [saved] = budget_events(live_server)
    assert saved == {"site_id": site.id, "name": "Караганда сегодня", "old": "off", "new": "5%"}

    # Enough recent comments, and the task's computation (run here, as the worker would): thresholds in force.
    live_server.query(lambda: seed_window(site.id, budget.MIN_COMMENTS + 20))
    models_dir = live_server.app.config["MODELS_DIR"]
    state = live_server.query(lambda: budget.compute(db.session.get(Site, site.id), scorer.active_bundle(models_dir)))
    assert (state["status"], state["window"], state["target"]) == ("active", budget.MIN_COMMENTS + 20, 0.05)
    assert budget_row(live_server, site.id)[2] == state
    page.reload()
    cells = row.locator("td")
    # Numbers as Russian writes them: a decimal comma.
    assert cells.nth(1).inner_text() == ru(state["per_day"], "#,##0.#")
    assert cells.nth(2).inner_text() == (
        f"{ru(state['expected_per_day'], '#,##0.#')} "
        f"({format_percent(state['expected_share'], '#,##0.#%', locale='ru')})"
    )
    shown = row.locator(".budget-state")
    assert shown.locator("strong").all_inner_texts() == [ru(state["toxicity_hold"]), ru(state["spam_hold"])]
    assert "," in ru(state["toxicity_hold"])
    text = " ".join(shown.inner_text().split())
    assert text.startswith("Отложить для модераторов, если токсичность ≥ ")
    assert ", Отложить для модераторов, если спам ≥ " in text
    model = state["model"]
    assert text.endswith(
        f"(у модели: {ru(model['toxicity_hold'])}, {ru(model['spam_hold'])}; "
        f"по {budget.MIN_COMMENTS + 20} комментариям)"
    )

    # An empty field removes the budget: the model's thresholds again, and the change logged.
    save_budget(page, site.id, "")
    assert page.locator(".flash.success").inner_text() == BUDGET_REMOVED
    assert row.locator(".budget-state").inner_text().strip() == "пороги модели"
    assert [c.inner_text() for c in (cells.nth(1), cells.nth(2))] == ["—", "—"]
    assert budget_row(live_server, site.id) == (None, None, None)
    assert [e["new"] for e in budget_events(live_server)] == ["5%", "off"]
