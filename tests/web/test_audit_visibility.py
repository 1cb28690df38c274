"""Moderators see decisions on comments in the audit log; admins' changes (keys, tokens, bans) only admins."""

from moderation.db import db
from moderation.models import AuditEvent
from moderation.services import audit
from tests.web.dashboard_support import make_site, seed_comment, signed_in_client, user_id


def test_moderators_do_not_see_admin_changes(app):
    site_id = make_site(app)
    comment_id = seed_comment(app, site_id)
    admin, admin_login = signed_in_client(app, role="admin")
    moderator, _login = signed_in_client(app, role="moderator")
    with app.app_context():
        db.session.add(
            AuditEvent(
                user_id=user_id(app, admin_login), action="site_key_rotate", detail={"key_prefix": "mk_SECRETPF"}
            )
        )
        db.session.add(
            AuditEvent(
                user_id=user_id(app, admin_login),
                action="approve",
                comment_id=comment_id,
                from_status="held",
                to_status="approved",
            )
        )
        db.session.commit()
    assert "mk_SECRETPF" in admin.get("/dashboard/audit").get_data(as_text=True)
    page = moderator.get("/dashboard/audit").get_data(as_text=True)
    assert "mk_SECRETPF" not in page
    assert f"#{comment_id}" in page


def test_the_filter_offers_every_action_that_can_be_recorded(app):
    admin, _login = signed_in_client(app, role="admin")
    with app.app_context():
        db.session.add(AuditEvent(action=audit.SITE_CORAL, via="cli", detail={"name": "coral-site-x", "on": True}))
        db.session.commit()
    page = admin.get("/dashboard/audit").get_data(as_text=True)
    assert [code for code in audit.LABELS if f'<option value="{code}"' not in page] == []
    filtered = admin.get(f"/dashboard/audit?action={audit.SITE_CORAL}").get_data(as_text=True)
    assert f'<option value="{audit.SITE_CORAL}" selected' in filtered and "coral-site-x" in filtered
