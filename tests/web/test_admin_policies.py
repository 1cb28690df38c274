"""Admins' policies as services (the pages only call them): how wide a ban may be, which reasons may be deleted."""

import uuid

import pytest

from moderation.db import db
from moderation.models import AuditEvent, Reason
from moderation.services import audit, bans, reasons
from tests.web.dashboard_support import make_site, seed_comment


@pytest.fixture
def ctx(app):
    """An app context for the test body."""
    with app.app_context():
        yield


@pytest.mark.parametrize("value", ["0.0.0.0/0", "10.0.0.0/7", "2001:db8::/31", "::/0"])
def test_a_range_wider_than_a_slash_8_or_a_slash_32_is_refused(app, ctx, value):
    with pytest.raises(bans.BanError, match="wide"):
        bans.add_ban(bans.IP, value)


@pytest.mark.parametrize("value, stored", [("10.1.2.3/8", "10.0.0.0/8"), ("2001:db8::/32", "2001:db8::/32")])
def test_the_widest_ranges_allowed_are_banned(app, ctx, value, stored):
    assert bans.add_ban(bans.IP, value)[0].value == stored


def _own_reason():
    return reasons.add_reason(f"own-{uuid.uuid4().hex[:6]}", "Своя", toxic=False)


def test_an_own_unused_reason_is_deleted(app, ctx):
    reason = _own_reason()
    reasons.delete_reason(reason)
    assert reasons.get(reason.code) is None


def test_a_builtin_reason_is_kept(app, ctx):
    with pytest.raises(reasons.ReasonError, match="kept"):
        reasons.delete_reason(reasons.get("insult"))
    assert reasons.get("insult") is not None


@pytest.mark.parametrize("where", ["comment", "audit"])
def test_a_reason_a_decision_used_is_kept(app, where):
    with app.app_context():
        code = _own_reason().code
    comment_id = seed_comment(app, make_site(app), reject_reason=code if where == "comment" else None)
    with app.app_context():
        if where == "audit":  # a rejection since undone: the comment forgot the reason, the audit log did not
            db.session.add(AuditEvent(action=audit.REJECT, comment_id=comment_id, reason=code))
            db.session.commit()
        with pytest.raises(reasons.ReasonError):
            reasons.delete_reason(reasons.get(code))
        assert db.session.query(Reason).filter_by(code=code).count() == 1
