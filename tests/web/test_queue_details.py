"""Queue details: the count is exact without a search and capped with one; a stale card never overwrites."""

import re

from moderation.services import queue as queue_service
from tests.web.dashboard_support import make_site, seed_comment, signed_in_client


def shown_total(page):
    return re.search(r'<span class="total">([^<]+)</span>', page.get_data(as_text=True)).group(1)


def test_search_count_stops_at_the_cap(app, monkeypatch):
    site_id = make_site(app)
    for n in range(4):
        seed_comment(app, site_id, text=f"Ремонт дороги номер {n}")
    seed_comment(app, site_id, text="Другое")
    client, _login = signed_in_client(app)
    assert shown_total(client.get("/dashboard/")) == "5"
    assert shown_total(client.get("/dashboard/?q=ремонт")) == "4"
    monkeypatch.setattr(queue_service, "SEARCH_COUNT_CAP", 2)
    assert shown_total(client.get("/dashboard/?q=ремонт")) == "2+"
    assert shown_total(client.get("/dashboard/")) == "5"  # no search: exact
    assert shown_total(client.get("/dashboard/?q=РЕМОНТ")) == "2+"  # Cyrillic case folded on SQLite too


def test_a_stale_card_answers_409_and_changes_nothing(app):
    from tests.web.dashboard_support import FETCH, comment_state, page_token

    site_id = make_site(app)
    comment_id = seed_comment(app, site_id)
    first, _a = signed_in_client(app)
    second, _b = signed_in_client(app)
    token_first, token_second = page_token(first), page_token(second)  # both pages show it held
    assert (
        first.post(
            f"/dashboard/comments/{comment_id}/moderate",
            headers=FETCH,
            data={"csrf_token": token_first, "action": "spam", "expected": "held"},
        ).status_code
        == 200
    )
    stale = second.post(
        f"/dashboard/comments/{comment_id}/moderate",
        headers=FETCH,
        data={"csrf_token": token_second, "action": "approve", "expected": "held"},
    )
    assert stale.status_code == 409 and stale.json["ok"] is False
    assert comment_state(app, comment_id)[0] == "spam"
