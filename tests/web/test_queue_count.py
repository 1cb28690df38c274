"""The queue's count: exact without a search, capped with one (a search reads every row's text)."""
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
