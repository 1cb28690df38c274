"""Readers' complaints: POST /api/v1/comments/<id>/reports, hiding at N readers, closing on a decision, overdue."""

import hashlib
import hmac
import threading
from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import func, select, text, update

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, Comment, Complaint, Site
from moderation.services import complaints, sites, users
from tests.web.dashboard_support import (
    audit_events,
    comment_state,
    label_of,
    make_site,
    make_user,
    page_token,
    seed_comment,
    signed_in_client,
    user_id,
)


@pytest.fixture
def site_id(app, site_key):
    """The id of the site whose key `auth` carries."""
    with app.app_context():
        return sites.authenticate(site_key).id


def report(client, auth, comment_id, reporter="reader-1", reason="insult", language=None, **extra):
    """POST a complaint as JSON (or form fields with form=True)."""
    headers = {**auth, **({"Accept-Language": language} if language else {})}
    body = {"reporter": reporter, "reason": reason, **extra}
    if body.pop("form", False):
        return client.post(f"/api/v1/comments/{comment_id}/reports", data=body, headers=headers)
    return client.post(f"/api/v1/comments/{comment_id}/reports", json=body, headers=headers)


def stored_complaints(app, comment_id=None):
    with app.app_context():
        query = select(Complaint).order_by(Complaint.id)
        if comment_id is not None:
            query = query.where(Complaint.comment_id == comment_id)
        return [
            {
                "id": c.id,
                "reason": c.reason,
                "text": c.text,
                "closed_at": c.closed_at,
                "closed_by_id": c.closed_by_id,
                "decision": c.decision,
            }
            for c in db.session.scalars(query)
        ]


def comment_row(app, comment_id):
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return comment.status, comment.reasons, comment.reason_codes


def test_a_complaint_is_confirmed_at_once_with_the_time_received(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    before = utcnow().replace(microsecond=0)
    response = report(client, auth, comment_id, reporter="reader-1", reason="insult", text="Оскорбляет соседа")
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "comment_id", "received_at", "reports"}
    assert (body["comment_id"], body["reports"]) == (comment_id, 1)
    assert body["received_at"].endswith("Z")
    received = datetime.fromisoformat(body["received_at"][:-1])
    assert before <= received <= utcnow()
    assert stored_complaints(app) == [
        {
            "id": body["id"],
            "reason": "insult",
            "text": "Оскорбляет соседа",
            "closed_at": None,
            "closed_by_id": None,
            "decision": None,
        }
    ]
    # Form fields work as for intake, and a second reader counts.
    second = report(client, auth, comment_id, reporter="reader-2", reason="Spam", form=True)
    assert second.status_code == 201
    assert second.json["reports"] == 2 and second.json["id"] != body["id"]
    assert [c["reason"] for c in stored_complaints(app)] == ["insult", "spam"]


def test_the_same_reader_counts_once_whatever_the_case(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    first = report(client, auth, comment_id, reporter="Reader@Example.kz")
    assert first.status_code == 201
    again = report(client, auth, comment_id, reporter="  reader@example.KZ ", reason="threat")
    assert again.status_code == 200
    assert again.json == first.json  # the first complaint's id and time, and no new count
    assert len(stored_complaints(app)) == 1
    other = report(client, auth, comment_id, reporter="someone-else@example.kz")
    assert (other.status_code, other.json["reports"]) == (201, 2)


RU = {
    "reporter": "Пожалуйста, укажите, какой читатель жалуется (id учётной записи, e-mail или IP).",
    "reason": "Выберите причину: insult, spam, threat, hate, illegal или other.",
    "text": "Текст жалобы должен быть не длиннее 2000 символов.",
    "long_reporter": "Идентификатор читателя должен быть не длиннее 200 символов.",
}
KK = {
    "reporter": "Өтінеміз, қай оқырман шағымданатынын көрсетіңіз (есептік жазба id, e-mail немесе IP).",
    "reason": "Себепті таңдаңыз: insult, spam, threat, hate, illegal немесе other.",
    "text": "Шағым мәтіні 2000 таңбадан аспауы керек.",
    "long_reporter": "Оқырман идентификаторы 200 таңбадан аспауы керек.",
}


@pytest.mark.parametrize("language, messages", [(None, RU), ("ru-RU,ru;q=0.9", RU), ("kk-KZ,kk;q=0.9", KK)])
@pytest.mark.parametrize(
    "body, expected",
    [
        ({"reporter": "reader-1"}, {"reason": "reason"}),
        ({"reporter": "reader-1", "reason": "boring"}, {"reason": "reason"}),
        ({"reason": "spam"}, {"reporter": "reporter"}),
        ({"reporter": "   ", "reason": "spam"}, {"reporter": "reporter"}),
        ({"reporter": "reader-1", "reason": "other", "text": "ж" * 2001}, {"text": "text"}),
        ({"reporter": "r" * 201, "reason": "other"}, {"reporter": "long_reporter"}),
        ({}, {"reporter": "reporter", "reason": "reason"}),
    ],
)
def test_invalid_complaints_are_refused_in_the_readers_language(
    app, client, auth, site_id, language, messages, body, expected
):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    headers = {**auth, **({"Accept-Language": language} if language else {})}
    response = client.post(f"/api/v1/comments/{comment_id}/reports", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json["fields"] == {field: messages[key] for field, key in expected.items()}
    assert response.json["error"]
    assert stored_complaints(app) == []


def test_text_at_its_limit_is_accepted(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    assert report(client, auth, comment_id, reason="other", text="ж" * 2000).status_code == 201


def test_malformed_or_non_text_bodies_are_400(app, client, auth, site_id, caplog):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    path = f"/api/v1/comments/{comment_id}/reports"
    assert client.post(path, data="[1, 2]", content_type="application/json", headers=auth).status_code == 400
    nested = client.post(path, json={"reporter": {"id": 1}, "reason": "spam"}, headers=auth)
    assert nested.status_code == 400 and set(nested.json["fields"]) == {"reporter"}
    # A lone surrogate (JSON can carry one) is dropped as intake drops it, never a 500.
    unstorable = client.post(
        path, data='{"reporter": "\\ud800", "reason": "spam"}', content_type="application/json", headers=auth
    )
    assert unstorable.status_code == 400 and set(unstorable.json["fields"]) == {"reporter"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # nor a rate-limit key failing unseen
    assert stored_complaints(app) == []


def test_another_sites_comment_or_an_unknown_one_is_404(app, client, auth, site_id):
    theirs = seed_comment(app, make_site(app), status=APPROVED)
    for comment_id in (theirs, 2147483647):
        response = report(client, auth, comment_id)
        assert response.status_code == 404
        assert response.json["error"] and response.json["fields"] == {}
    assert stored_complaints(app) == []


def test_a_complaint_needs_the_site_key(app, client, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    assert report(client, {}, comment_id).status_code == 401
    assert report(client, {"Authorization": "Bearer mk_wrong"}, comment_id).status_code == 401


def test_an_approved_comment_is_held_when_the_third_reader_reports_it(app, client, auth, site_id):
    comment_id = seed_comment(
        app,
        site_id,
        status=APPROVED,
        reasons=[{"code": "trusted", "score": None, "spans": [], "approved": 2}],
        reason_codes=" trusted ",
    )
    for n in (1, 2):
        assert report(client, auth, comment_id, reporter=f"reader-{n}").status_code == 201
        assert client.get(f"/api/v1/comments/{comment_id}", headers=auth).json["status"] == "approved"
    assert audit_events(app, comment_id=comment_id, action="reports_hold") == []
    third = report(client, auth, comment_id, reporter="reader-3", reason="hate")
    assert (third.status_code, third.json["reports"]) == (201, 3)
    status, reasons, codes = comment_row(app, comment_id)
    assert status == HELD
    assert reasons[-1] == {"code": "reports", "score": None, "spans": [], "count": 3}
    assert reasons[0]["code"] == "trusted"  # appended, not replaced
    assert codes == " trusted reports "
    [event] = audit_events(app, comment_id=comment_id, action="reports_hold")
    assert (event["action"], event["from"], event["to"], event["user_id"]) == ("reports_hold", "approved", "held", None)
    # Each complaint is in the comment's history, with its reason and count, never the reader.
    filed = audit_events(app, comment_id=comment_id, action="complaint")
    assert [(e["via"], e["detail"]["reason"], e["detail"]["reports"]) for e in filed] == [
        ("api", "insult", 1),
        ("api", "insult", 2),
        ("api", "hate", 3),
    ]
    assert not any("reader" in str(e["detail"]) for e in filed)
    shown = client.get(f"/api/v1/comments/{comment_id}", headers=auth).json
    assert shown["status"] == "held"
    assert {"code": "reports", "score": None, "spans": [], "count": 3} in shown["reasons"]
    # A fourth reader is counted, and nothing more happens to the held comment.
    assert report(client, auth, comment_id, reporter="reader-4").json["reports"] == 4
    assert len(audit_events(app, comment_id=comment_id, action="reports_hold")) == 1


def test_the_moderators_see_the_reason_in_the_queue(app, client, auth, site_id):
    configure_site(app, site_id, complaints_hide_after=1)
    comment_id = seed_comment(app, site_id, status=APPROVED)
    report(client, auth, comment_id)
    moderator, _login = signed_in_client(app)
    page = moderator.get("/dashboard/", query_string={"reason": "reports"}).get_data(as_text=True)
    assert f'id="c{comment_id}"' in page
    assert '<span class="reason-code">жалобы читателей</span>: 1' in page
    history = moderator.get(f"/dashboard/comments/{comment_id}").get_data(as_text=True)
    assert "Отложено по жалобам читателей" in history


@pytest.mark.parametrize("status", [HELD, SPAM, REJECTED])
def test_a_comment_not_approved_is_not_changed(app, client, auth, site_id, status):
    reasons = [{"code": "toxicity", "score": 0.9, "spans": ["дурак"]}]
    comment_id = seed_comment(app, site_id, status=status, reasons=reasons, reason_codes=" toxicity ")
    for n in range(4):
        assert report(client, auth, comment_id, reporter=f"reader-{n}").status_code == 201
    assert comment_row(app, comment_id) == (status, reasons, " toxicity ")
    assert [e["action"] for e in audit_events(app, comment_id=comment_id)] == ["complaint"] * 4


def configure_site(app, site_id, **columns):
    with app.app_context():
        db.session.execute(update(Site).where(Site.id == site_id).values(**columns))
        db.session.commit()


def test_hiding_follows_the_sites_setting(app, client, auth, site_id):
    configure_site(app, site_id, complaints_hide_after=0)
    never = seed_comment(app, site_id, status=APPROVED)
    for n in range(5):
        report(client, auth, never, reporter=f"reader-{n}")
    assert comment_row(app, never)[0] == APPROVED
    configure_site(app, site_id, complaints_hide_after=1)
    at_once = seed_comment(app, site_id, status=APPROVED)
    report(client, auth, at_once)
    assert comment_row(app, at_once)[0] == HELD


@pytest.fixture
def moderator_token(app):
    """(login, API token) of a new moderator."""
    login = make_user(app)
    with app.app_context():
        return login, users.issue_token(users.find_user(login))


def test_a_moderators_decision_closes_the_open_complaints(app, client, auth, site_id, moderator_token):
    login, token = moderator_token
    comment_id = seed_comment(app, site_id, status=HELD)
    other = seed_comment(app, site_id, status=HELD)
    for reporter in ("reader-1", "reader-2"):
        report(client, auth, comment_id, reporter=reporter)
    report(client, auth, other)
    response = client.post(
        f"/api/v1/comments/{comment_id}/moderate",
        headers={"Authorization": f"Bearer {token}"},
        json={"action": "reject", "reason": "insult"},
    )
    assert response.status_code == 200
    closed = stored_complaints(app, comment_id)
    assert {(c["closed_by_id"], c["decision"]) for c in closed} == {(user_id(app, login), REJECTED)}
    assert all(c["closed_at"] is not None for c in closed)
    assert stored_complaints(app, other)[0]["closed_at"] is None  # another comment's complaint stays open
    assert label_of(app, comment_id) == (False, True)  # the decision is still a training label
    with app.app_context():
        site = db.session.get(Site, site_id)
        assert [item.comment.id for item in complaints.open_complaints(site)] == [other]


def test_after_an_approval_only_new_readers_count(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    for n in range(3):
        report(client, auth, comment_id, reporter=f"reader-{n}")
    assert comment_row(app, comment_id)[0] == HELD
    moderator, login = signed_in_client(app)
    done = moderator.post(
        f"/dashboard/comments/{comment_id}/moderate", data={"csrf_token": page_token(moderator), "action": "approve"}
    )
    assert done.status_code == 302
    assert comment_state(app, comment_id) == (APPROVED, None, user_id(app, login))
    assert {c["decision"] for c in stored_complaints(app, comment_id)} == {APPROVED}
    # The readers the moderator answered cannot complain again; two new ones do not reach three.
    assert report(client, auth, comment_id, reporter="reader-0").status_code == 200
    for n in (3, 4):
        assert report(client, auth, comment_id, reporter=f"reader-{n}").status_code == 201
    assert comment_row(app, comment_id)[0] == APPROVED
    assert report(client, auth, comment_id, reporter="reader-5").json["reports"] == 6
    status, reasons, codes = comment_row(app, comment_id)
    assert status == HELD
    assert [r for r in reasons if r["code"] == "reports"] == [
        {"code": "reports", "score": None, "spans": [], "count": 3}
    ]
    assert codes == " reports "


def test_open_complaints_are_listed_most_reported_then_riskiest_with_overdue_marked(app, client, auth, site_id):
    configure_site(app, site_id, complaints_overdue_hours=24, complaints_hide_after=0)
    old_calm = seed_comment(app, site_id, status=APPROVED, risk=0.1)
    fresh_risky = seed_comment(app, site_id, status=APPROVED, risk=0.8)
    most_reported = seed_comment(app, site_id, status=APPROVED, risk=0.05)
    report(client, auth, old_calm, reason="illegal")
    report(client, auth, fresh_risky)
    for reporter in ("a", "b"):
        report(client, auth, most_reported, reporter=reporter)
    with app.app_context():
        other_site, other_key = sites.create_site("other.example.kz")
        other_site_id = other_site.id
    theirs = seed_comment(app, other_site_id, status=APPROVED)
    assert report(client, {"Authorization": f"Bearer {other_key}"}, theirs).status_code == 201  # not listed here
    now = utcnow()
    with app.app_context():
        db.session.execute(
            update(Complaint).where(Complaint.comment_id == old_calm).values(created_at=now - timedelta(hours=30))
        )
        db.session.commit()
        listed = complaints.open_complaints(db.session.get(Site, site_id), now)
        got = [(item.comment.id, item.reports, item.overdue, [c.reason for c in item.complaints]) for item in listed]
        ages = {item.comment.id: item.oldest_age for item in listed}
    assert got == [
        (most_reported, 2, False, ["insult", "insult"]),
        (fresh_risky, 1, False, ["insult"]),
        (old_calm, 1, True, ["illegal"]),
    ]
    assert timedelta(hours=30) - timedelta(seconds=1) <= ages[old_calm] <= timedelta(hours=30, seconds=1)
    assert ages[fresh_risky] < timedelta(minutes=5)


def test_overdue_follows_the_sites_hours(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=HELD)
    report(client, auth, comment_id)
    with app.app_context():
        site = db.session.get(Site, site_id)
        later = utcnow() + timedelta(hours=2)
        assert complaints.open_complaints(site, later)[0].overdue is False
        site.complaints_overdue_hours = 1
        db.session.commit()
        assert complaints.open_complaints(site, later)[0].overdue is True


def test_the_reader_is_stored_only_as_a_keyed_hash(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    reporter = "Aigerim.Reader@Example.kz"
    assert report(client, auth, comment_id, reporter=f" {reporter} ", text="Ложь").status_code == 201
    with app.app_context():
        row = db.session.execute(text("SELECT * FROM complaint")).mappings().one()
    values = [str(value).lower() for value in row.values()]
    assert not any("aigerim" in value for value in values)
    expected = hmac.new(b"test-secret", f"{site_id}:{reporter.lower()}".encode(), hashlib.sha256).hexdigest()
    assert row["reporter_hash"] == expected
    assert row["reporter_hash"] != hashlib.sha256(reporter.lower().encode()).hexdigest()  # keyed, not plain
    # The rate limit counts the reader by the same hash: their address is not in Redis either.
    client_redis = redis.Redis.from_url(app.config["REDIS_URL"])
    keys = [key.decode() for key in client_redis.scan_iter(f"*{app.config['RATELIMIT_KEY_PREFIX']}*")]
    client_redis.close()
    assert keys and not any("aigerim" in key.lower() for key in keys)


def at_once(app, comment_id, auth, reporters):
    """Post one complaint per reporter from as many threads, released together; return the responses."""
    barrier, responses = threading.Barrier(len(reporters)), [None] * len(reporters)

    def post(index, reporter):
        client = app.test_client()
        barrier.wait()
        responses[index] = report(client, auth, comment_id, reporter=reporter)

    threads = [threading.Thread(target=post, args=(i, r)) for i, r in enumerate(reporters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def test_the_same_reader_at_once_from_many_requests_counts_once(app, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    responses = at_once(app, comment_id, auth, [f" Reader-{n % 2 and 'X' or 'x'} " for n in range(6)])
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json["id"] for r in responses}) == 1
    assert {r.json["reports"] for r in responses} == {1}
    assert len(stored_complaints(app)) == 1


def test_readers_reporting_at_once_are_all_counted_and_hold_the_comment_once(app, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    responses = at_once(app, comment_id, auth, [f"reader-{n}" for n in range(4)])
    assert sorted(r.status_code for r in responses) == [201] * 4
    assert sorted(r.json["reports"] for r in responses) == [1, 2, 3, 4]
    assert comment_row(app, comment_id)[0] == HELD
    assert [e["action"] for e in audit_events(app, comment_id=comment_id, action="reports_hold")] == ["reports_hold"]
    assert len(audit_events(app, comment_id=comment_id, action="complaint")) == 4


def test_complaints_are_rate_limited_per_reader(make_app):
    app = make_app(API_REPORTER_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        site, key = sites.create_site("limits.example.kz")
        site_id = site.id
    auth = {"Authorization": f"Bearer {key}"}
    ids = [seed_comment(app, site_id, status=HELD) for _ in range(3)]
    assert [report(client, auth, i, reporter="Busy@Reader").status_code for i in ids[:2]] == [201, 201]
    refused = report(client, auth, ids[2], reporter="busy@reader ")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]
    assert report(client, auth, ids[2], reporter="calm@reader").status_code == 201


def test_an_oversized_complaint_is_413(app, client, auth, site_id):
    comment_id = seed_comment(app, site_id, status=APPROVED)
    response = report(client, auth, comment_id, text="ж" * 70000)
    assert response.status_code == 413 and response.json["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
