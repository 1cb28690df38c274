"""Spot checks' verdicts and estimates, and hold budgets set from the command line and the dashboard.

The worker's part (sampling, thresholds in force) is in tests/tasks/test_budget_and_spot_checks.py.
"""

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from moderation.cli import main
from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, AuditEvent, Comment, Site
from moderation.services import budget, scorer, spot_checks
from tests.web.dashboard_support import (
    FETCH,
    comment_ids_on,
    label_of,
    make_site,
    page_token,
    seed_comment,
    signed_in_client,
)

PAGE = "/dashboard/spot-checks"


@pytest.fixture
def site_id(app):
    return make_site(app, "almaty-news")


def spot_check(app, site_id, **fields):
    """An approval the filter drew for a check."""
    return seed_comment(app, site_id, status=APPROVED, spot_check=True, **fields)


def verdict(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).spot_verdict


def decide(client, comment_id, action, reason=None):
    token = page_token(client, PAGE)
    data = {"csrf_token": token, "action": action, "expected": APPROVED, "next": PAGE}
    if reason:
        data["reason"] = reason
    response = client.post(f"/dashboard/comments/{comment_id}/moderate", headers=FETCH, data=data)
    assert response.json["ok"] is True, response.json
    return token


def test_the_page_lists_spot_checks_waiting_oldest_first(app, site_id):
    client, _login = signed_in_client(app)
    first, second = spot_check(app, site_id, age_minutes=30), spot_check(app, site_id, age_minutes=10)
    seed_comment(app, site_id, status=APPROVED)  # published, not drawn
    spot_check(app, site_id, spot_verdict="ok")  # checked already
    later_held = seed_comment(app, site_id, status=HELD, spot_check=True, age_minutes=5)  # reported since
    page = client.get(PAGE)
    assert page.status_code == 200
    assert comment_ids_on(page.data) == [first, second, later_held]
    text = page.get_data(as_text=True)
    assert "Выборочная проверка" in text and '<span class="badge">3</span>' in text


def test_each_decision_is_the_verdict_and_a_training_label(app, site_id):
    client, _login = signed_in_client(app)
    fine, insult, offtopic, spam = (spot_check(app, site_id) for _ in range(4))
    decide(client, fine, "approve")
    decide(client, insult, "reject", "insult")
    decide(client, offtopic, "reject", "off-topic")
    decide(client, spam, "spam")
    assert [verdict(app, c) for c in (fine, insult, offtopic, spam)] == ["ok", "toxic", "other", "spam"]
    assert [label_of(app, c) for c in (fine, insult, offtopic, spam)] == [
        (False, False),
        (False, True),
        (False, None),
        (True, None),
    ]
    assert comment_ids_on(client.get(PAGE).data) == []
    with app.app_context():
        statuses = [db.session.get(Comment, c).status for c in (fine, insult, offtopic, spam)]
    assert statuses == [APPROVED, REJECTED, REJECTED, SPAM]


def test_the_latest_decision_is_the_verdict(app, site_id):
    client, _login = signed_in_client(app)
    comment_id = spot_check(app, site_id)
    decide(client, comment_id, "approve")
    token = page_token(client, PAGE)
    response = client.post(
        f"/dashboard/comments/{comment_id}/moderate",
        headers=FETCH,
        data={"csrf_token": token, "action": "reject", "reason": "insult", "next": PAGE},
    )
    assert response.json["ok"] is True
    assert verdict(app, comment_id) == "toxic" and label_of(app, comment_id) == (False, True)


def test_undo_puts_the_spot_check_back(app, site_id):
    client, _login = signed_in_client(app)
    comment_id = spot_check(app, site_id)
    token = decide(client, comment_id, "reject", "insult")
    assert verdict(app, comment_id) == "toxic"
    assert client.post("/dashboard/undo", headers=FETCH, data={"csrf_token": token}).json["ok"] is True
    assert verdict(app, comment_id) is None
    assert comment_ids_on(client.get(PAGE).data) == [comment_id]


def test_a_comment_not_drawn_gets_no_verdict(app, site_id):
    client, _login = signed_in_client(app)
    comment_id = seed_comment(app, site_id, status=APPROVED)
    decide(client, comment_id, "reject", "insult")
    assert verdict(app, comment_id) is None


def test_weekly_estimates_with_their_interval(app, site_id):
    """Twenty checks this week, two toxic and one spam; five last week, none bad; one long ago is not counted."""
    now = utcnow()
    verdicts = ["toxic"] * 2 + ["spam"] + ["ok"] * 16 + ["other"]
    for v in verdicts:
        spot_check(app, site_id, spot_verdict=v, created_at=now)
    for _ in range(5):
        spot_check(app, site_id, spot_verdict="ok", created_at=now - timedelta(days=7))
    spot_check(app, site_id, spot_verdict="toxic", created_at=now - timedelta(weeks=20))
    spot_check(app, site_id)  # not reviewed yet
    with app.app_context():
        from zoneinfo import ZoneInfo

        weeks = spot_checks.weekly([site_id], ZoneInfo("Asia/Almaty"), now=now)
    assert [(w.checked, w.toxic, w.spam) for w in weeks] == [(20, 2, 1), (5, 0, 0)]
    share, low, high = weeks[0].toxic_share
    assert share == 0.1 and low == pytest.approx(0.0279, abs=1e-4) and high == pytest.approx(0.3010, abs=1e-4)
    assert weeks[1].spam_share[0] == 0 and weeks[1].spam_share[2] == pytest.approx(0.4345, abs=1e-4)

    client, _login = signed_in_client(app)
    page = client.get("/dashboard/stats").get_data(as_text=True)
    assert "10% (2,8%–30,1%)" in page and "5% (0,9%–23,6%)" in page


def site_of(app, site_id):
    with app.app_context():
        site = db.session.get(Site, site_id)
        db.session.expunge(site)
    return site


def seed_window(app, site_id, count, days=4):
    """`count` decided comments spread over the last `days` days, varied enough for the model."""
    now = utcnow()
    texts = [
        "Спасибо за новость, дороги наконец ремонтируют",
        "Опять подняли тарифы, сколько можно",
        "Ты тупой идиот, заткнись",
        "Акимат ничего не делает, позор",
        "Хорошая статья, всё по делу",
        "Сен ақымақсың",
        "Рахмет, жақсы жаңалық",
        "Когда уже починят свет в нашем районе?",
    ]
    for n in range(count):
        seed_comment(
            app,
            site_id,
            status=APPROVED,
            text=f"{texts[n % len(texts)]} ({n})",
            created_at=now - timedelta(days=days) * (n / count),
        )


def test_site_budget_command_sets_computes_and_removes(app, runner, site_id):
    result = runner.invoke(main, ["site", "budget", "almaty-news", "5%"])
    assert result.exit_code == 0, result.output
    assert "hold budget 5%" in result.output and "300 needed" in result.output
    assert site_of(app, site_id).hold_budget_percent == 5.0

    seed_window(app, site_id, budget.MIN_COMMENTS)
    result = runner.invoke(main, ["site", "budget", str(site_id), "40/day"])
    assert result.exit_code == 0, result.output
    site = site_of(app, site_id)
    assert (site.hold_budget_percent, site.hold_budget_per_day) == (None, 40)
    state = site.budget_state
    # 300 comments over four days: 75 a day, so 40 a day would be 53%: a budget a day holds at most 50%.
    assert state["status"] == "active" and state["per_day"] == pytest.approx(75, abs=1)
    assert state["target"] == budget.MAX_PERCENT / 100
    assert f"toxicity_hold {state['toxicity_hold']:.4f}" in result.output

    result = runner.invoke(main, ["site", "budget", "almaty-news", "off"])
    assert result.exit_code == 0 and "no hold budget" in result.output
    site = site_of(app, site_id)
    assert (site.hold_budget_percent, site.hold_budget_per_day, site.budget_state) == (None, None, None)
    with app.app_context():
        changes = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "site_budget").order_by(AuditEvent.id)
        ).all()
    assert [(c["old"], c["new"]) for c in changes] == [("off", "5%"), ("5%", "40/day"), ("40/day", "off")]


@pytest.mark.parametrize("value", ["abc", "0", "51", "0/day", "nan"])
def test_site_budget_command_refuses_what_it_cannot_read(app, runner, site_id, value):
    result = runner.invoke(main, ["site", "budget", "almaty-news", value])
    assert result.exit_code != 0 and "a budget is a percentage" in result.output
    assert site_of(app, site_id).hold_budget_percent is None


def test_site_budget_command_names_an_unknown_site(runner):
    result = runner.invoke(main, ["site", "budget", "nowhere", "5"])
    assert result.exit_code != 0 and "no site 'nowhere'" in result.output


def test_the_budget_is_set_on_the_thresholds_page_with_csrf_and_audit(app, site_id):
    client, _login = signed_in_client(app, role="admin")
    path = f"/dashboard/admin/thresholds/budget/{site_id}"
    assert client.post(path, data={"budget": "5"}).status_code == 400  # no CSRF token
    token = page_token(client, "/dashboard/admin/thresholds")
    refused = client.post(path, data={"csrf_token": token, "budget": "<b>lots</b>"})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "Бюджет — это процент" in body and "<b>lots</b>" not in body and html.escape("<b>lots</b>") in body
    assert site_of(app, site_id).hold_budget_percent is None

    saved = client.post(path, data={"csrf_token": token, "budget": "7,5 %"})
    assert saved.status_code == 302
    assert site_of(app, site_id).hold_budget_percent == 7.5
    page = client.get("/dashboard/admin/thresholds").get_data(as_text=True)
    assert 'value="7.5%"' in page and "вычисляются" in page


def test_moderators_cannot_set_a_budget(app, site_id):
    client, _login = signed_in_client(app)
    token = page_token(client)
    response = client.post(f"/dashboard/admin/thresholds/budget/{site_id}", data={"csrf_token": token, "budget": "5"})
    assert response.status_code in (403, 302)
    assert site_of(app, site_id).hold_budget_percent is None


def test_explicit_thresholds_win_over_the_budget(app, site_id):
    with app.app_context():
        bundle = scorer.active_bundle(app.config["MODELS_DIR"])
        chosen = {"percent": 5.0, "per_day": None}
        state = {
            "status": "active",
            "version": bundle.version,
            "toxicity_hold": 0.2,
            "spam_hold": 0.1,
            "budget": chosen,
        }
        assert budget.in_force(state, bundle.version, {"percent": 20.0, "per_day": None}) == {}  # changed since
        budgeted = budget.in_force(state, bundle.version, chosen)
        assert scorer.thresholds(bundle, app.config, {}, budgeted)["toxicity_hold"] == 0.2
        assert scorer.thresholds(bundle, app.config, {"toxicity_hold": 0.7}, budgeted)["toxicity_hold"] == 0.7
        assert scorer.thresholds(bundle, {"TOXICITY_HOLD": 0.6}, {}, budgeted)["toxicity_hold"] == 0.6
        assert scorer.thresholds(bundle, app.config, {}, budgeted)["spam"] == bundle.thresholds["spam"]
