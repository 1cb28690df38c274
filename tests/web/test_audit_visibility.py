"""Moderators see decisions on comments in the audit log; admins' changes (keys, tokens, bans) only admins."""
from moderation.db import db
from moderation.models import AuditEvent
from tests.web.dashboard_support import make_site, seed_comment, signed_in_client, user_id


def test_moderators_do_not_see_admin_changes(app):
    site_id = make_site(app)
    comment_id = seed_comment(app, site_id)
    admin, admin_login = signed_in_client(app, role="admin")
    moderator, _login = signed_in_client(app, role="moderator")
    with app.app_context():
        db.session.add(AuditEvent(user_id=user_id(app, admin_login), action="site_key_rotate",
                                  detail={"key_prefix": "mk_SECRETPF"}))
        db.session.add(AuditEvent(user_id=user_id(app, admin_login), action="approve", comment_id=comment_id,
                                  from_status="held", to_status="approved"))
        db.session.commit()
    assert "mk_SECRETPF" in admin.get("/dashboard/audit").get_data(as_text=True)
    page = moderator.get("/dashboard/audit").get_data(as_text=True)
    assert "mk_SECRETPF" not in page
    assert f"#{comment_id}" in page
