"""The moderation queue page: statuses, order, filters, search, keyset pagination, authors' records."""

import re
from datetime import timedelta

import pytest

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM
from moderation.services import bans, reasons
from moderation.services import queue as queue_service
from tests.web.dashboard_support import (
    FETCH,
    audit_events,
    comment_ids_on,
    comment_state,
    label_of,
    make_site,
    next_link,
    page_token,
    seed_comment,
    signed_in_client,
    user_id,
)


@pytest.fixture
def moderator(app):
    client, _login = signed_in_client(app)
    return client


@pytest.fixture
def site_id(app):
    return make_site(app)


def shown(client, **args):
    response = client.get("/dashboard/", query_string=args)
    assert response.status_code == 200, response.status_code
    return comment_ids_on(response.data)


def test_default_view_is_held_comments_riskiest_first(app, moderator, site_id):
    low = seed_comment(app, site_id, risk=0.2)
    high = seed_comment(app, site_id, risk=0.9)
    middle = seed_comment(app, site_id, risk=0.5)
    for status in (APPROVED, REJECTED, SPAM, "pending"):
        seed_comment(app, site_id, status=status, risk=0.99)
    assert shown(moderator) == [high, middle, low]


def test_equal_risks_are_ordered_by_id(app, moderator, site_id):
    ids = [seed_comment(app, site_id, risk=0.7) for _ in range(3)]
    assert shown(moderator) == sorted(ids, reverse=True)


def test_oldest_and_newest_first(app, moderator, site_id):
    old = seed_comment(app, site_id, risk=0.1, age_minutes=60)
    new = seed_comment(app, site_id, risk=0.9, age_minutes=1)
    middle = seed_comment(app, site_id, risk=0.5, age_minutes=30)
    assert shown(moderator, order="oldest") == [old, middle, new]
    assert shown(moderator, order="newest") == [new, middle, old]


def test_other_statuses_newest_first(app, moderator, site_id):
    old = seed_comment(app, site_id, status=SPAM, age_minutes=10)
    new = seed_comment(app, site_id, status=SPAM, age_minutes=1)
    seed_comment(app, site_id)
    assert shown(moderator, status="spam") == [new, old]
    assert len(shown(moderator, status="all")) == 3


def test_site_and_article_filters(app, moderator, site_id):
    other_site = make_site(app)
    here = seed_comment(app, site_id, article_id="news-1")
    elsewhere = seed_comment(app, site_id, article_id="news-2")
    other = seed_comment(app, other_site, article_id="news-1")
    assert sorted(shown(moderator, site=site_id)) == [here, elsewhere]
    assert sorted(shown(moderator, article="news-1")) == [here, other]
    assert shown(moderator, site=site_id, article="news-1") == [here]


def test_reason_filter_reads_reason_codes(app, moderator, site_id):
    spam = seed_comment(app, site_id, reason_codes=" spam ")
    both = seed_comment(app, site_id, reason_codes=" spam toxicity ")
    toxic = seed_comment(app, site_id, reason_codes=" toxicity ")
    seed_comment(app, site_id, reason_codes=" error ")
    assert sorted(shown(moderator, reason="spam")) == [spam, both]
    assert sorted(shown(moderator, reason="toxicity")) == [both, toxic]
    assert shown(moderator, reason="spa") == []  # whole codes only
    assert shown(moderator, reason="%") == []


def test_rejected_view_filters_by_reject_reason(app, moderator, site_id):
    insult = seed_comment(app, site_id, status=REJECTED, reject_reason="insult")
    seed_comment(app, site_id, status=REJECTED, reject_reason="off-topic")
    assert shown(moderator, status="rejected", reason="insult") == [insult]


def test_language_filter(app, moderator, site_id):
    kazakh = seed_comment(app, site_id, lang="kk")
    seed_comment(app, site_id, lang="ru")
    english = seed_comment(app, site_id, lang="en")
    assert shown(moderator, lang="kk") == [kazakh]
    assert shown(moderator, lang="en") == [english]
    assert len(shown(moderator, lang="xx")) == 3  # an unknown language is no filter


def test_score_range(app, moderator, site_id):
    low, middle, high = (seed_comment(app, site_id, risk=r) for r in (0.1, 0.5, 0.9))
    assert shown(moderator, min="0.4") == [high, middle]
    assert shown(moderator, max="0.5") == [middle, low]
    assert shown(moderator, min="0.3", max="0.6") == [middle]
    assert shown(moderator, min="0.95") == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("ремонт", "text"),
        ("РЕМОНТ", "text"),
        ("Дорог", "text"),
        ("айгерим", "name"),
        ("АЙГЕРИМ", "name"),
        ("Айгерим", "name"),
        ("reader@example", "email"),
        ("READER@EXAMPLE.KZ", "email"),
        ("203.0.113.77", "ip"),
        ("100%", "percent"),
        ("under_score", "underscore"),
    ],
)
def test_search_over_text_name_email_and_exact_ip(app, moderator, site_id, query, expected):
    ids = {
        "text": seed_comment(app, site_id, text="Когда закончат Ремонт дорог?"),
        "name": seed_comment(app, site_id, name="Айгерим"),
        "email": seed_comment(app, site_id, email="reader@example.kz"),
        "ip": seed_comment(app, site_id, author_ip="203.0.113.77"),
        "percent": seed_comment(app, site_id, text="скидка 100% сегодня"),
        "underscore": seed_comment(app, site_id, text="user under_score"),
    }
    seed_comment(app, site_id, text="скидка 1000 сегодня, underscore", author_ip="203.0.113.7")
    assert shown(moderator, q=query) == [ids[expected]]


def test_search_for_part_of_an_ip_matches_no_address(app, moderator, site_id):
    seed_comment(app, site_id, author_ip="203.0.113.77")
    assert shown(moderator, q="203.0.113") == []


def test_email_and_ip_filters_find_an_authors_comments(app, moderator, site_id):
    mine = [seed_comment(app, site_id, email="reader@example.kz", status=s) for s in (HELD, APPROVED)]
    seed_comment(app, site_id, email="other@example.kz")
    by_ip = seed_comment(app, site_id, author_ip="2001:db8::1")
    assert sorted(shown(moderator, status="all", email="Reader@Example.KZ")) == mine
    assert shown(moderator, status="all", ip="2001:db8::1") == [by_ip]


@pytest.mark.parametrize("order", ["risk", "oldest", "newest"])
def test_keyset_pagination_walks_every_held_comment_once_in_order(make_app, order):
    app = make_app(PAGE_SIZE=5)
    site_id = make_site(app)
    client, _login = signed_in_client(app)
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    rows = []  # (risk, created_at, id); ties in both keys, so the id tie-break must carry the walk across pages
    for n in range(13):
        risk, created = (0.9, 0.5, 0.5, 0.1)[n % 4], start + timedelta(minutes=n // 3)
        rows.append((risk, created, seed_comment(app, site_id, risk=risk, created_at=created)))
    seed_comment(app, site_id, status=SPAM, risk=0.7)
    key = {
        "risk": lambda r: (-r[0], -r[2]),
        "oldest": lambda r: (r[1], r[2]),
        "newest": lambda r: (-r[1].timestamp(), -r[2]),
    }[order]
    expected = [row[2] for row in sorted(rows, key=key)]

    walked, link, pages = [], f"/dashboard/?order={order}", 0
    while link:
        response = client.get(link)
        assert response.status_code == 200
        page = comment_ids_on(response.data)
        assert 0 < len(page) <= 5
        walked += page
        link = next_link(response.data)
        pages += 1
        assert pages <= 3, walked
    assert walked == expected


@pytest.mark.parametrize(
    "args",
    [
        {"after": "garbage"},
        {"after": "~"},
        {"after": "0.5~"},
        {"after": "~12"},
        {"after": "nan~1"},
        {"after": "inf~1"},
        {"after": "-inf~-1"},
        {"after": "1e999~1"},
        {"after": "0.5~99999999999999999999999"},
        {"after": "0.5~-99999999999999999999999"},
        {"after": "0.5~1.5"},
        {"after": "0.5\x00~1"},
        {"order": "oldest", "after": "0.5~1"},
        {"order": "oldest", "after": "2024-01-01T00:00:00+05:00~3"},
        {"order": "oldest", "after": "0001-01-01~1"},
        {"order": "newest", "after": "9999-12-31T23:59:59.999999~1"},
        {"order": "oldest", "after": "2024-13-01~1"},
        {"order": "drop table"},
        {"status": "<script>"},
        {"site": "99999999999999999999999"},
        {"site": "-1"},
        {"site": "x"},
        {"min": "nan"},
        {"max": "-inf"},
        {"min": "1e999"},
        {"min": "0.9", "max": "0.1"},
        {"q": "\x00"},
        {"q": "a\x00b"},
        {"article": "\x00"},
        {"reason": "\x00"},
        {"email": "\x00@x"},
        {"ip": "\x00"},
        {"q": "%_\\"},
        {"q": "x" * 5000},
        {"lang": "\x00"},
        {"status": "all", "order": "risk", "after": "1.0~1"},
    ],
)
def test_hostile_parameters_do_not_break_the_queue(app, moderator, site_id, args):
    held = seed_comment(app, site_id, risk=0.5)
    response = moderator.get("/dashboard/", query_string=args)
    assert response.status_code == 200
    assert set(comment_ids_on(response.data)) <= {held}


def test_non_finite_scores_are_no_filter(app, moderator, site_id):
    held = seed_comment(app, site_id, risk=0.5)
    assert shown(moderator, min="nan") == [held]
    assert shown(moderator, max="nan") == [held]


def test_author_records_count_decisions_per_email(app, moderator, site_id):
    held = seed_comment(app, site_id, email="reader@example.kz")
    for status in (APPROVED, APPROVED, REJECTED, SPAM, SPAM, SPAM):
        seed_comment(app, site_id, email="reader@example.kz", status=status)
    seed_comment(app, site_id, email="other@example.kz", status=APPROVED)
    with app.app_context():
        view = queue_service.QueueFilter()
        comments, _cursor = queue_service.page(view)
        records = queue_service.author_records(comments)
    assert [c.id for c in comments] == [held]
    assert records == {"reader@example.kz": {"approved": 2, "rejected": 1, "spam": 3, "held": 1}}
    page = moderator.get("/dashboard/").get_data(as_text=True)
    record = page[page.index('class="record"') :]
    record = record[: record.index("</span>")]
    assert [int(n) for n in re.findall(r"(\d+)</a>", record)] == [2, 1, 3]  # approved, rejected, spam


def test_comment_page_shows_history(app, moderator, site_id):
    comment_id = seed_comment(app, site_id, text="Текст комментария")
    response = moderator.get(f"/dashboard/comments/{comment_id}")
    assert response.status_code == 200
    assert "Текст комментария" in response.get_data(as_text=True)
    assert moderator.get("/dashboard/comments/2147483647").status_code == 404


# Actions through the dashboard's routes: plain form posts (302) and the script's fetch (JSON).


def act(client, path, fetch=False, **data):
    data.setdefault("csrf_token", page_token(client))
    return client.post(path, data=data, headers=FETCH if fetch else {})


@pytest.mark.parametrize(
    "action, reason, status, label",
    [
        ("approve", "", "approved", (False, False)),
        ("reject", "insult", "rejected", (False, True)),
        ("reject", "off-topic", "rejected", (False, None)),
        ("spam", "", "spam", (True, None)),
    ],
)
def test_form_post_decides_and_redirects_back(app, site_id, action, reason, status, label):
    client, login = signed_in_client(app)
    comment_id = seed_comment(app, site_id)
    response = act(
        client,
        f"/dashboard/comments/{comment_id}/moderate",
        action=action,
        reason=reason,
        next="/dashboard/?order=oldest",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/?order=oldest"
    assert comment_state(app, comment_id) == (status, reason or None, user_id(app, login))
    assert label_of(app, comment_id) == label
    [event] = audit_events(app, comment_id=comment_id)
    assert (event["user_id"], event["action"], event["reason"], event["from"], event["to"], event["via"]) == (
        user_id(app, login),
        action,
        reason or None,
        "held",
        status,
        "dashboard",
    )


def test_fetch_post_answers_json(app, moderator, site_id):
    comment_id = seed_comment(app, site_id)
    response = act(
        moderator, f"/dashboard/comments/{comment_id}/moderate", fetch=True, action="reject", reason="threat"
    )
    assert response.status_code == 200
    body = response.json
    assert body["ok"] is True and body["action"] == "reject" and body["batch"]
    assert body["comments"] == [{"id": comment_id, "status": "rejected"}]


@pytest.mark.parametrize("reason", ["", "nonsense", "inactive"])
def test_reject_without_a_valid_reason_is_refused(app, moderator, site_id, reason):
    if reason == "inactive":
        with app.app_context():
            reasons.add_reason("inactive", "Old reason", toxic=False)
            reasons.set_active(reasons.find("inactive"), False)
    comment_id = seed_comment(app, site_id)
    path = f"/dashboard/comments/{comment_id}/moderate"
    response = act(moderator, path, fetch=True, action="reject", reason=reason)
    assert response.status_code == 400
    assert response.json["ok"] is False and set(response.json["fields"]) == {"reason"}
    plain = act(moderator, path, action="reject", reason=reason)
    assert plain.status_code == 302
    assert comment_state(app, comment_id)[0] == "held"
    assert audit_events(app) == [] and label_of(app, comment_id) is None


@pytest.mark.parametrize("action", ["", "ban", "undo", "delete"])
def test_unknown_action_is_refused(app, moderator, site_id, action):
    comment_id = seed_comment(app, site_id)
    response = act(moderator, f"/dashboard/comments/{comment_id}/moderate", fetch=True, action=action)
    assert response.status_code == 400 and set(response.json["fields"]) == {"action"}
    assert comment_state(app, comment_id)[0] == "held"


def test_redirect_after_an_action_stays_in_the_dashboard(app, moderator, site_id):
    comment_id = seed_comment(app, site_id)
    response = act(
        moderator, f"/dashboard/comments/{comment_id}/moderate", action="approve", next="//evil.example/dashboard/"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"


def test_bulk_action_and_one_undo(app, moderator, site_id):
    ids = [seed_comment(app, site_id) for _ in range(3)]
    untouched = seed_comment(app, site_id)
    response = act(moderator, "/dashboard/moderate", fetch=True, action="spam", ids=[str(i) for i in ids])
    assert response.status_code == 200
    assert sorted(c["id"] for c in response.json["comments"]) == ids
    assert {c["status"] for c in response.json["comments"]} == {"spam"}
    assert len({e["batch"] for e in audit_events(app)}) == 1
    assert comment_state(app, untouched)[0] == "held"
    undo = act(moderator, "/dashboard/undo", fetch=True)
    assert undo.status_code == 200 and sorted(undo.json["comments"]) == ids
    assert all(comment_state(app, i)[0] == "held" and label_of(app, i) is None for i in ids)


@pytest.mark.parametrize("ids", [[], ["x"], ["²"], ["１"], ["-1"], ["0"], ["2147483648"], ["9999999999"], ["9" * 5000]])
def test_bulk_action_with_no_usable_ids_is_refused(app, moderator, site_id, ids):
    seed_comment(app, site_id)
    response = act(moderator, "/dashboard/moderate", fetch=True, action="approve", ids=ids)
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"ids"}
    assert audit_events(app) == []


@pytest.mark.parametrize("kind, value", [("email", "spammer@example.com"), ("ip", "203.0.113.9")])
def test_ban_from_the_dashboard_and_undo_lifts_it(app, moderator, site_id, kind, value):
    comment_id = seed_comment(app, site_id, email="spammer@example.com", author_ip="203.0.113.9")
    response = act(moderator, f"/dashboard/comments/{comment_id}/ban", kind=kind, next="/dashboard/")
    assert response.status_code == 302
    with app.app_context():
        assert [(b.kind, b.value) for b in bans.all_bans()] == [(kind, value)]
    assert comment_state(app, comment_id)[0] == "spam"
    assert label_of(app, comment_id) == (True, None)
    assert [e["action"] for e in audit_events(app, comment_id=comment_id)] == ["ban", "spam"]
    undo = act(moderator, "/dashboard/undo", fetch=True)
    assert undo.json["comments"] == [comment_id]
    with app.app_context():
        assert bans.all_bans() == []
    assert comment_state(app, comment_id)[0] == "held"


def test_undo_of_a_ban_keeps_a_ban_that_existed_before(app, moderator, site_id):
    comment_id = seed_comment(app, site_id, email="spammer@example.com")
    with app.app_context():
        bans.add_ban("email", "spammer@example.com")
        db.session.commit()
    response = act(moderator, f"/dashboard/comments/{comment_id}/ban", fetch=True, kind="email")
    assert response.status_code == 200 and response.json["comments"] == [{"id": comment_id, "status": "spam"}]
    act(moderator, "/dashboard/undo", fetch=True)
    with app.app_context():
        assert len(bans.all_bans()) == 1
    assert comment_state(app, comment_id)[0] == "held"


@pytest.mark.parametrize("kind", ["email", "name", ""])
def test_ban_without_that_author_detail_is_refused(app, moderator, site_id, kind):
    comment_id = seed_comment(app, site_id, author_ip="203.0.113.9")
    response = act(moderator, f"/dashboard/comments/{comment_id}/ban", fetch=True, kind=kind)
    assert response.status_code == 400 and set(response.json["fields"]) == {"kind"}
    assert comment_state(app, comment_id)[0] == "held"


def test_undo_reverts_only_my_latest_batch_and_skips_what_others_changed(app, site_id):
    me, my_login = signed_in_client(app)
    other, other_login = signed_in_client(app)
    first, mine, theirs = (seed_comment(app, site_id) for _ in range(3))
    act(me, f"/dashboard/comments/{first}/moderate", action="approve")
    act(me, "/dashboard/moderate", action="reject", reason="insult", ids=[str(mine), str(theirs)])
    act(other, f"/dashboard/comments/{theirs}/moderate", action="approve")
    other_batch = act(other, f"/dashboard/comments/{first}/moderate", action="spam")
    assert other_batch.status_code == 302
    response = act(me, "/dashboard/undo", fetch=True)
    assert response.json["comments"] == [mine]
    assert comment_state(app, mine) == ("held", None, None)
    assert comment_state(app, theirs) == ("approved", None, user_id(app, other_login))
    assert comment_state(app, first) == ("spam", None, user_id(app, other_login))
    assert label_of(app, theirs) == (False, False)
    plain = act(me, "/dashboard/undo")
    assert plain.status_code == 302
    assert comment_state(app, first) == ("spam", None, user_id(app, other_login)), "their spam stands"
    nothing = act(me, "/dashboard/undo", fetch=True)
    assert nothing.json["comments"] == []
