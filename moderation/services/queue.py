"""What moderators look at: comments by status with filters, search and keyset pagination, and authors' records."""

import math
import re
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select

from moderation.db import db
from moderation.models import APPROVED, HELD, MAX_ID, REJECTED, SPAM, STATUSES, Comment

RISK, OLDEST, NEWEST = "risk", "oldest", "newest"
ORDERS = (RISK, OLDEST, NEWEST)
LANGUAGES = ("ru", "kk", "en")
# PostgreSQL refuses NUL in text, and no control character belongs in a filter.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class QueueFilter:
    """The moderator's view of the comments: which status, which of them, in what order."""

    status: str = HELD
    site_id: int | None = None
    article_id: str | None = None
    reason: str | None = None
    lang: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    q: str | None = None
    email: str | None = None
    ip: str | None = None
    campaign: int | None = None
    order: str = RISK
    errors: list = field(default_factory=list)

    @classmethod
    def from_args(cls, args):
        """Read a filter from query-string arguments, dropping values that make no sense."""
        view = cls()
        status = args.get("status", HELD)
        view.status = status if status in STATUSES or status == "all" else HELD
        view.order = args.get("order") if args.get("order") in ORDERS else (RISK if view.status == HELD else NEWEST)
        view.site_id = _id(args.get("site", type=int))
        view.article_id = _text(args.get("article"), 200)
        view.reason = _text(args.get("reason"), 40)
        view.lang = args.get("lang") if args.get("lang") in LANGUAGES else None
        view.min_score = _score(args.get("min"))
        view.max_score = _score(args.get("max"))
        view.q = _text(args.get("q"), 200)
        view.email = _text(args.get("email"), 254)
        view.ip = _text(args.get("ip"), 45)
        view.campaign = _id(args.get("campaign", type=int))
        return view

    def args(self, **changes):
        """The query-string arguments that reproduce this filter (with some changed), for links."""
        values = {
            "status": self.status,
            "site": self.site_id,
            "article": self.article_id,
            "reason": self.reason,
            "lang": self.lang,
            "min": self.min_score,
            "max": self.max_score,
            "q": self.q,
            "email": self.email,
            "ip": self.ip,
            "campaign": self.campaign,
            "order": self.order,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _text(value, limit):
    value = CONTROL_CHARS.sub("", value or "").strip()
    return value[:limit] or None


def _id(value):
    return value if value is not None and 0 < value <= MAX_ID else None


def _score(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(max(number, 0.0), 1.0) if math.isfinite(number) else None


def _conditions(view):
    conditions = []
    if view.status != "all":
        conditions.append(Comment.status == view.status)
    if view.site_id:
        conditions.append(Comment.site_id == view.site_id)
    if view.article_id:
        conditions.append(Comment.article_id == view.article_id)
    if view.reason:
        conditions.append(
            or_(
                Comment.reason_codes.contains(f" {view.reason} ", autoescape=True), Comment.reject_reason == view.reason
            )
        )
    if view.lang:
        conditions.append(Comment.lang == view.lang)
    if view.min_score is not None:
        conditions.append(Comment.risk >= view.min_score)
    if view.max_score is not None:
        conditions.append(Comment.risk <= view.max_score)
    if view.email:
        conditions.append(Comment.email == view.email.lower())  # intake stores e-mails lower-case
    if view.ip:
        conditions.append(Comment.author_ip == view.ip)
    if view.campaign:
        conditions.append(Comment.campaign_id == view.campaign)
    if view.q:
        pattern = f"%{_escape_like(view.q.lower())}%"
        conditions.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Comment.text, Comment.name, Comment.email)
                ),
                Comment.author_ip == view.q,
            )
        )
    return conditions


def _escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ordering(view):
    """(sort key column, descending?) for the view's order; ties broken by id in the same direction."""
    if view.order == RISK:
        return Comment.risk, True
    if view.order == OLDEST:
        return Comment.created_at, False
    return Comment.created_at, True


def page(view, after=None, size=50):
    """One page of comments and the cursor of the next page (None on the last).

    Keyset pagination: the cursor is the last row's (sort key, id), so page 2,000 costs what page 1 does.
    """
    key, descending = _ordering(view)
    query = select(Comment).where(*_conditions(view))
    if after is not None:
        last_key, last_id = after
        if descending:
            query = query.where(or_(key < last_key, and_(key == last_key, Comment.id < last_id)))
        else:
            query = query.where(or_(key > last_key, and_(key == last_key, Comment.id > last_id)))
    order = (key.desc(), Comment.id.desc()) if descending else (key.asc(), Comment.id.asc())
    rows = db.session.scalars(query.order_by(*order).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    cursor = _cursor(rows[-1], view) if more and rows else None
    return rows, cursor


def _cursor(comment, view):
    key = comment.risk if view.order == RISK else comment.created_at.isoformat()
    return f"{key}~{comment.id}"


def parse_cursor(value, view):
    """The (sort key, id) of a cursor from a link, or None if it is not one of ours."""
    from datetime import datetime

    try:
        key, _sep, comment_id = (value or "").rpartition("~")
        key = float(key) if view.order == RISK else datetime.fromisoformat(key)
        comment_id = int(comment_id)
    except (TypeError, ValueError):
        return None
    if not 0 <= comment_id <= MAX_ID or (view.order == RISK and not math.isfinite(key)):
        return None
    return key, comment_id


SEARCH_COUNT_CAP = 1000


def count(view):
    """How many comments the view holds; with a text search, at most SEARCH_COUNT_CAP + 1.

    A search reads every candidate row's text; counting stops early rather than read them all.
    """
    query = select(Comment.id).where(*_conditions(view))
    if view.q:
        query = query.limit(SEARCH_COUNT_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def held_count():
    """How many comments wait for a moderator, for the navigation (read from the status index alone)."""
    return db.session.scalar(select(func.count()).select_from(Comment).where(Comment.status == HELD))


def author_records(comments):
    """Per e-mail of these comments: how many of the author's comments were approved, rejected, spam."""
    emails = {c.email for c in comments if c.email}
    if not emails:
        return {}
    rows = db.session.execute(
        select(Comment.email, Comment.status, func.count())
        .where(Comment.email.in_(emails), Comment.status.in_((APPROVED, REJECTED, SPAM, HELD)))
        .group_by(Comment.email, Comment.status)
    ).all()
    records = {email: {APPROVED: 0, REJECTED: 0, SPAM: 0, HELD: 0} for email in emails}
    for email, status, n in rows:
        records[email][status] = n
    return records
