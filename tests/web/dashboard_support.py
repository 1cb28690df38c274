"""Helpers for dashboard tests: users, sign-in, CSRF tokens read from the pages, seeded comments."""

import html
import re
import uuid
from datetime import timedelta

from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import HELD, AuditEvent, Comment, Label
from moderation.services import sites, users

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FETCH = {"X-Requested-With": "fetch"}


def csrf_token(page):
    """The CSRF token of the first form on an HTML page (bytes or text)."""
    text = page.decode() if isinstance(page, bytes) else page
    match = CSRF.search(text)
    assert match, "no csrf_token on the page"
    return html.unescape(match.group(1))


def make_user(app, login=None, role="moderator", password=PASSWORD):
    """Create a dashboard user; return its login."""
    login = login or f"mod-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        users.create_user(login, password, role)
    return login


def user_id(app, login):
    """The id of the user with this login."""
    with app.app_context():
        return users.find_user(login).id


def sign_in(client, login, password=PASSWORD, **kwargs):
    """Sign in through the login form; return the response (302 on success)."""
    token = csrf_token(client.get("/dashboard/login", **kwargs).data)
    return client.post("/dashboard/login", data={"login": login, "password": password, "csrf_token": token}, **kwargs)


def signed_in_client(app, role="moderator"):
    """A new client signed in as a new user; return (client, login)."""
    login = make_user(app, role=role)
    client = app.test_client()
    response = sign_in(client, login)
    assert response.status_code == 302, response.data[:500]
    return client, login


def page_token(client, path="/dashboard/"):
    """A CSRF token for the signed-in session, read from a dashboard page."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_token(response.data)


def make_site(app, name=None):
    """A site; return its id."""
    with app.app_context():
        site, _key = sites.create_site(name or f"site-{uuid.uuid4().hex[:6]}")
        return site.id


def configure(app, site_key, **columns):
    """Set the site's rule columns in the database, as the admins' settings page does."""
    with app.app_context():
        site = sites.authenticate(site_key)
        for name, value in columns.items():
            setattr(site, name, value)
        db.session.commit()


def seed_comment(app, site_id, status=HELD, risk=0.5, age_minutes=0, created_at=None, **fields):
    """Store a decided comment directly (no worker); return its id."""
    values = {"name": "Читатель", "text": "Комментарий", "reasons": [], "reason_codes": "", "lang": "ru"}
    values.update(fields)
    created = created_at or utcnow() - timedelta(minutes=age_minutes)
    with app.app_context():
        comment = Comment(
            site_id=site_id,
            status=status,
            risk=risk,
            spam_score=risk,
            toxicity_score=0.0,
            created_at=created,
            queued_at=created,
            decided_at=created,
            **values,
        )
        db.session.add(comment)
        db.session.commit()
        return comment.id


def comment_state(app, comment_id):
    """(status, reject_reason, moderated_by_id) of a comment."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return comment.status, comment.reject_reason, comment.moderated_by_id


def label_of(app, comment_id):
    """(spam, toxic) of the comment's training label, or None."""
    with app.app_context():
        label = db.session.scalar(select(Label).where(Label.comment_id == comment_id))
        return None if label is None else (label.spam, label.toxic)


def audit_events(app, **where):
    """Audit events as dicts, oldest first, filtered by column values."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return [
            {
                "user_id": e.user_id,
                "action": e.action,
                "comment_id": e.comment_id,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
                "via": e.via,
                "batch": e.batch,
                "undone": e.undone,
                "detail": e.detail,
            }
            for e in db.session.scalars(query)
        ]


def comment_ids_on(page):
    """The ids of the comment cards on a queue page, in page order."""
    text = page.decode() if isinstance(page, bytes) else page
    return [int(n) for n in re.findall(r'<article class="comment[^"]*" id="c(\d+)"', text)]


def next_link(page):
    """The queue page's "next page" link, or None."""
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(r'<a href="([^"]+)" rel="next">', text)
    return html.unescape(match.group(1)) if match else None
