"""Moderators' decisions at the service level: statuses, audit events, training labels, bans and undo."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from moderation.db import db, utcnow
from moderation.models import AuditEvent, Ban, Label
from moderation.services import bans, reasons, review, sites, users
from tests.web.dashboard_support import PASSWORD, audit_events, comment_state, label_of, make_site, seed_comment


@pytest.fixture
def ctx(app):
    """An app context for the test body."""
    with app.app_context():
        yield


@pytest.fixture
def site_id(app):
    return make_site(app)


def person(login, role="moderator"):
    return users.create_user(login, PASSWORD, role)


def labels_count(comment_id):
    return db.session.scalar(select(func.count()).select_from(Label).where(Label.comment_id == comment_id))


@pytest.mark.parametrize(
    "action, reason, status, label",
    [
        ("approve", None, "approved", (False, False)),
        ("reject", "insult", "rejected", (False, True)),
        ("reject", "obscenity", "rejected", (False, True)),
        ("reject", "threat", "rejected", (False, True)),
        ("reject", "hate", "rejected", (False, True)),
        ("reject", "off-topic", "rejected", (False, None)),
        ("reject", "other", "rejected", (False, None)),
        ("spam", None, "spam", (True, None)),
    ],
)
def test_decision_sets_status_audit_and_label(app, ctx, site_id, action, reason, status, label):
    comment_id = seed_comment(app, site_id)
    moderator = person("aigerim")
    batch, changed = review.moderate([comment_id], moderator, action, reason)
    assert [c.id for c in changed] == [comment_id]
    assert comment_state(app, comment_id) == (status, reason, moderator.id)
    assert label_of(app, comment_id) == label
    [event] = audit_events(app, comment_id=comment_id)
    assert event | {"detail": None} == {
        "user_id": moderator.id,
        "action": action,
        "comment_id": comment_id,
        "from": "held",
        "to": status,
        "reason": reason,
        "via": "dashboard",
        "batch": batch,
        "undone": False,
        "detail": None,
    }


def test_a_reason_given_with_approve_or_spam_is_not_kept(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    review.moderate([comment_id], person("a"), "spam", "insult")
    assert comment_state(app, comment_id)[:2] == ("spam", None)
    assert label_of(app, comment_id) == (True, None)


@pytest.mark.parametrize("toxic, label", [(True, (False, True)), (False, (False, None))])
def test_admins_reasons_teach_toxicity_only_when_marked(app, ctx, site_id, toxic, label):
    reasons.add_reason("doxxing", "Personal data", toxic=toxic)
    comment_id = seed_comment(app, site_id)
    review.moderate([comment_id], person("a"), "reject", "doxxing")
    assert label_of(app, comment_id) == label


@pytest.mark.parametrize("code", [None, "", "nonsense", "INSULT"])
def test_reject_needs_a_known_reason(app, ctx, site_id, code):
    comment_id = seed_comment(app, site_id)
    with pytest.raises(review.ReviewError) as error:
        review.moderate([comment_id], person("a"), "reject", code)
    assert error.value.field == "reason"
    assert comment_state(app, comment_id)[0] == "held"
    assert audit_events(app) == [] and label_of(app, comment_id) is None


def test_reject_with_an_inactive_reason_is_refused(app, ctx, site_id):
    reasons.set_active(reasons.find("off-topic"), False)
    comment_id = seed_comment(app, site_id)
    with pytest.raises(review.ReviewError) as error:
        review.moderate([comment_id], person("a"), "reject", "off-topic")
    assert error.value.field == "reason"


@pytest.mark.parametrize("action", ["ban", "undo", "delete", "", None])
def test_unknown_action_is_refused(app, ctx, site_id, action):
    comment_id = seed_comment(app, site_id)
    with pytest.raises(review.ReviewError) as error:
        review.moderate([comment_id], person("a"), action)
    assert error.value.field == "action"


def test_no_ids_or_too_many_ids_are_refused(app, ctx, site_id):
    moderator = person("a")
    for ids in ([], range(1, review.MAX_BULK + 2)):
        with pytest.raises(review.ReviewError) as error:
            review.moderate(ids, moderator, "approve")
        assert error.value.field == "ids"


def test_a_later_decision_replaces_the_label(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    first, second = person("a"), person("b")
    review.moderate([comment_id], first, "reject", "insult")
    review.moderate([comment_id], second, "approve")
    assert label_of(app, comment_id) == (False, False)
    assert labels_count(comment_id) == 1
    assert db.session.scalar(select(Label.user_id).where(Label.comment_id == comment_id)) == second.id


def test_bulk_decision_shares_one_batch(app, ctx, site_id):
    ids = [seed_comment(app, site_id) for _ in range(3)]
    batch, changed = review.moderate(ids + [ids[0]], person("a"), "spam")
    assert sorted(c.id for c in changed) == ids
    assert {e["batch"] for e in audit_events(app)} == {batch}
    assert all(label_of(app, i) == (True, None) for i in ids)


def test_undo_reverts_the_whole_latest_batch_and_removes_its_labels(app, ctx, site_id):
    ids = [seed_comment(app, site_id) for _ in range(3)]
    moderator = person("a")
    review.moderate(ids, moderator, "reject", "hate")
    assert sorted(review.undo_last(moderator)) == ids
    for comment_id in ids:
        assert comment_state(app, comment_id) == ("held", None, None)
        assert label_of(app, comment_id) is None
    events = audit_events(app)
    assert all(e["undone"] for e in events if e["action"] == "reject")
    assert events[-1]["action"] == "undo" and events[-1]["user_id"] == moderator.id
    assert review.undo_last(moderator) == []


def test_undo_restores_the_previous_standing_decision_and_its_label(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    first, second = person("a"), person("b")
    review.moderate([comment_id], first, "reject", "insult")
    review.moderate([comment_id], second, "approve")
    assert review.undo_last(second) == [comment_id]
    assert comment_state(app, comment_id) == ("rejected", "insult", first.id)
    assert label_of(app, comment_id) == (False, True)


def test_undo_goes_back_one_batch_at_a_time(app, ctx, site_id):
    one, two = seed_comment(app, site_id), seed_comment(app, site_id)
    moderator = person("a")
    review.moderate([one], moderator, "approve")
    review.moderate([two], moderator, "spam")
    assert review.undo_last(moderator) == [two]
    assert comment_state(app, one)[0] == "approved"
    assert review.undo_last(moderator) == [one]
    assert comment_state(app, one)[0] == "held"


def test_undo_never_touches_another_moderators_batch(app, ctx, site_id):
    mine, theirs = seed_comment(app, site_id), seed_comment(app, site_id)
    me, other = person("a"), person("b")
    review.moderate([mine], me, "approve")
    review.moderate([theirs], other, "spam")
    assert review.undo_last(me) == [mine]
    assert comment_state(app, theirs) == ("spam", None, other.id)
    assert review.undo_last(me) == []
    assert comment_state(app, theirs)[0] == "spam"


def test_undo_skips_a_comment_someone_else_changed_since(app, ctx, site_id):
    kept, changed = seed_comment(app, site_id), seed_comment(app, site_id)
    me, other = person("a"), person("b")
    review.moderate([kept, changed], me, "approve")
    review.moderate([changed], other, "reject", "threat")
    assert review.undo_last(me) == [kept]
    assert comment_state(app, changed) == ("rejected", "threat", other.id)
    assert label_of(app, changed) == (False, True)


def test_undo_skips_a_comment_someone_else_decided_since_even_to_the_same_status(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    me, other = person("a"), person("b")
    review.moderate([comment_id], me, "reject", "insult")
    review.moderate([comment_id], other, "reject", "off-topic")
    assert review.undo_last(me) == []
    assert comment_state(app, comment_id) == ("rejected", "off-topic", other.id)
    assert label_of(app, comment_id) == (False, None)


def test_undo_after_the_other_moderator_undid_theirs_reverts_mine(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    me, other = person("a"), person("b")
    review.moderate([comment_id], me, "approve")
    review.moderate([comment_id], other, "spam")
    assert review.undo_last(other) == [comment_id]
    assert review.undo_last(me) == [comment_id]
    assert comment_state(app, comment_id) == ("held", None, None)
    assert label_of(app, comment_id) is None


def test_ban_by_email_creates_a_ban_and_marks_spam_and_undo_lifts_it(app, ctx, site_id):
    comment_id = seed_comment(app, site_id, email="spammer@example.com", author_ip="203.0.113.5")
    moderator = person("a")
    batch, ban = review.ban_author(comment_id, moderator, "email")
    assert (ban.kind, ban.value, ban.created_by_id) == ("email", "spammer@example.com", moderator.id)
    assert comment_state(app, comment_id)[0] == "spam"
    assert label_of(app, comment_id) == (True, None)
    actions = [(e["action"], e["batch"]) for e in audit_events(app, comment_id=comment_id)]
    assert actions == [("ban", batch), ("spam", batch)]
    assert review.undo_last(moderator) == [comment_id]
    assert comment_state(app, comment_id)[0] == "held"
    assert db.session.scalar(select(func.count()).select_from(Ban)) == 0
    assert bans.ban_for(site_id, "spammer@example.com", None) is None


def test_ban_by_ip_and_undo_keeps_a_ban_that_existed_before(app, ctx, site_id):
    comment_id = seed_comment(app, site_id, author_ip="203.0.113.5")
    earlier, _created = bans.add_ban("ip", "203.0.113.5", site_id=site_id)
    db.session.commit()
    moderator = person("a")
    _batch, ban = review.ban_author(comment_id, moderator, "ip")
    assert ban.id == earlier.id
    assert review.undo_last(moderator) == [comment_id]
    assert bans.ban_for(site_id, None, "203.0.113.5") is not None


def test_a_moderators_ban_covers_the_site_only_and_an_ip_ban_expires(app, ctx, site_id):
    other_site = sites.create_site(f"other-{uuid.uuid4().hex[:6]}")[0].id
    by_ip = seed_comment(app, site_id, author_ip="198.51.100.7")
    by_email = seed_comment(app, site_id, email="troll@example.kz")
    moderator = person("a")
    _batch, ip_ban = review.ban_author(by_ip, moderator, "ip")
    _batch, email_ban = review.ban_author(by_email, moderator, "email")
    assert bans.ban_for(site_id, None, "198.51.100.7") is not None
    assert bans.ban_for(other_site, None, "198.51.100.7") is None  # another site's readers are not affected
    assert bans.ban_for(other_site, "troll@example.kz", None) is None
    assert email_ban.expires_at is None
    assert timedelta(days=6) < ip_ban.expires_at - utcnow() <= timedelta(days=review.IP_BAN_DAYS)
    ip_ban.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert bans.ban_for(site_id, None, "198.51.100.7") is None  # expired


def test_undo_does_not_reach_back_past_its_window(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    moderator = person("a")
    review.moderate([comment_id], moderator, review.APPROVE)
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.comment_id == comment_id)):
        event.created_at = utcnow() - timedelta(minutes=review.UNDO_MINUTES + 1)
    db.session.commit()
    assert review.undo_last(moderator) == []
    assert comment_state(app, comment_id)[0] == "approved"


@pytest.mark.parametrize("kind", ["email", "name", None])
def test_ban_needs_the_author_detail(app, ctx, site_id, kind):
    comment_id = seed_comment(app, site_id, author_ip="203.0.113.5")  # no e-mail
    with pytest.raises(review.ReviewError) as error:
        review.ban_author(comment_id, person("a"), kind)
    assert error.value.field == "kind"
    assert comment_state(app, comment_id)[0] == "held"
    assert db.session.scalar(select(func.count()).select_from(Ban)) == 0


def test_ban_of_an_unknown_comment_is_refused(app, ctx):
    with pytest.raises(review.ReviewError) as error:
        review.ban_author(2**31 - 1, person("a"), "email")
    assert error.value.field == "id"


@pytest.mark.parametrize(
    "kind, value, stored",
    [
        ("email", " Spammer@Example.COM ", "spammer@example.com"),
        ("ip", "203.0.113.5", "203.0.113.5"),
        ("ip", "2001:DB8::1", "2001:db8::1"),
        ("ip", "10.1.2.3/16", "10.1.0.0/16"),
    ],
)
def test_ban_values_are_normalised(app, ctx, kind, value, stored):
    ban, created = bans.add_ban(kind, value)
    assert (ban.value, created) == (stored, True)
    assert bans.add_ban(kind, value) == (ban, False)


@pytest.mark.parametrize("kind, value", [("email", "no-at-sign"), ("ip", "10.0.0.300"), ("ip", ""), ("name", "x")])
def test_bad_ban_values_are_refused(app, ctx, kind, value):
    with pytest.raises(bans.BanError):
        bans.add_ban(kind, value)


def test_ban_for_matches_email_ip_and_range(app, ctx, site_id):
    bans.add_ban("email", "bad@example.com")
    bans.add_ban("ip", "198.51.100.7")
    bans.add_ban("ip", "10.20.0.0/16")
    db.session.commit()
    assert bans.ban_for(site_id, "BAD@example.com", None).kind == "email"
    assert bans.ban_for(site_id, None, "198.51.100.7").value == "198.51.100.7"
    assert bans.ban_for(site_id, None, "10.20.255.1").value == "10.20.0.0/16"
    assert bans.ban_for(site_id, "good@example.com", "10.21.0.1") is None
    assert bans.ban_for(site_id, None, "not an ip") is None


def test_a_site_ban_covers_only_that_site(app, ctx, site_id):
    other = make_site(app)
    bans.add_ban("ip", "198.51.100.7", site_id=other)
    db.session.commit()
    assert bans.ban_for(site_id, None, "198.51.100.7") is None
    assert bans.ban_for(other, None, "198.51.100.7") is not None


@pytest.mark.parametrize(
    "banned, author_ip",
    [
        ("10.20.0.0/16", "::ffff:10.20.1.1"),  # a dual-stack web server reports IPv4 readers this way
        ("198.51.100.7", "::ffff:198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_ipv4_bans_cover_ipv4_mapped_addresses(app, ctx, site_id, banned, author_ip):
    bans.add_ban("ip", banned)
    db.session.commit()
    assert bans.ban_for(site_id, None, author_ip) is not None


def test_a_stale_page_does_not_overwrite_a_colleagues_decision(app, ctx, site_id):
    comment_id = seed_comment(app, site_id)
    first, second = person("first"), person("second")
    review.moderate([comment_id], first, review.REJECT, "insult", expected="held")
    _batch, changed = review.moderate([comment_id], second, review.APPROVE, expected="held")  # saw it held
    assert changed == []
    assert comment_state(app, comment_id)[0] == "rejected"
