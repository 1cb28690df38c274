"""An author's record (rules.author_histories): their decided comments on this site, by name and e-mail or by name
and address, read by the author's index on each test database."""

import pytest
from sqlalchemy import event, func, insert, select, text

from moderation.db import db
from moderation.models import APPROVED, PENDING, REJECTED, SPAM, Comment
from moderation.services import rules
from tests.web.dashboard_support import make_site, seed_comment


def test_an_authors_record_counts_their_decided_comments_on_this_site_only(app):
    here, elsewhere = make_site(app), make_site(app)
    for status in (APPROVED, APPROVED, REJECTED, PENDING):
        seed_comment(app, here, status=status, name="Айгуль", email="aigul@example.kz")
    seed_comment(app, here, status=SPAM, name="Айгуль", author_ip="203.0.113.5")
    seed_comment(app, here, status=APPROVED, name="Ерлан", email="aigul@example.kz")  # another name, the same e-mail
    seed_comment(app, elsewhere, status=APPROVED, name="Айгуль", email="aigul@example.kz")
    by_email, by_address = (here, "айгуль", "email", "aigul@example.kz"), (here, "айгуль", "ip", "203.0.113.5")
    on_the_other_site, stranger = (elsewhere, "айгуль", "ip", "203.0.113.5"), (here, "дина", "ip", "192.0.2.1")
    with app.app_context():
        histories = rules.author_histories([by_email, by_address, on_the_other_site, stranger, None])
    assert histories == {by_email: (2, 1), by_address: (0, 1), on_the_other_site: (0, 0), stranger: (0, 0)}


def test_an_authors_record_is_read_by_the_authors_index_not_by_walking_the_sites_comments(app):
    """With the site in the condition, SQLite walked every comment of the site (and lowered each name in Python):
    a batch's history cost a millisecond a comment at 13,000 comments, and grew with the site. So it did when its
    statistics counted the comments without an e-mail as one e-mail, most of the table."""
    site_id = make_site(app)
    seed_comment(app, site_id, status=APPROVED, name="Гость", email=None, author_ip=None)
    with app.app_context():  # and as many again as a day of a news site's comments brings
        guest = db.session.get(Comment, db.session.scalar(select(func.max(Comment.id))))
        row = {c.key: getattr(guest, c.key) for c in Comment.__table__.columns if c.key not in ("id", "dedupe_key")}
        db.session.execute(insert(Comment), [row] * 3000)
        db.session.commit()
    readers = [(site_id, f"читатель {n}", "email", f"reader{n}@example.kz") for n in range(8)]
    authors = [*readers, (site_id, "ерлан", "ip", "203.0.113.5")]  # a batch's: several e-mails
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL plans by its statistics of the tables' rows; these few say nothing")
        db.session.execute(text("ANALYZE"))
        statements = []
        listener = lambda *args: statements.append(args[2:4])  # noqa: E731 (conn, cursor, statement, parameters)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rules.author_histories(authors)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        [(statement, parameters)] = statements
        explained = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = [row[3] for row in explained]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert searches == [
        "SEARCH comment USING INDEX ix_comment_by_email (email=?)",
        "SEARCH comment USING INDEX ix_comment_by_address (author_ip=?)",
    ], plan
