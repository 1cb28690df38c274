"""Readers' complaints: confirmed at once, one per reader and comment, an approved comment held at N readers,
closed by the moderator's decision, and the reported comments that wait too long.

The reader is personal data and is needed only to count them once, so only a keyed hash of them is stored.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select, update
from sqlalchemy.exc import IntegrityError

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, AuditEvent, Comment, Complaint
from moderation.services import audit, status, webhooks
from moderation.services.hold_reasons import REPORTS, Reason, with_code

REASONS = ("insult", "spam", "threat", "hate", "illegal", "other")
REPORTER_MAX, TEXT_MAX = 200, 2000


def normalise_reporter(reporter):
    """The reader as the site names them, compared without case and surrounding spaces."""
    return (reporter or "").strip().lower()


def reporter_hash(site_id, reporter, secret):
    """HMAC-SHA256 (hex) of the site and the reader, keyed with the app's secret.

    Keyed, because a plain hash of an e-mail address or an IP is reversed by hashing the likely ones; with
    the site in it, one reader's hashes on two sites cannot be linked.
    """
    message = f"{site_id}:{normalise_reporter(reporter)}".encode()
    return hmac.new(str(secret).encode(), message, hashlib.sha256).hexdigest()


@dataclass
class Receipt:
    """The confirmation a reader's complaint gets: which complaint, when received, how many readers reported."""

    id: int
    comment_id: int
    received_at: datetime
    reports: int
    created: bool  # False: this reader had already complained about the comment; nothing new is counted


def _find(comment_id, digest):
    return db.session.scalar(
        select(Complaint).where(Complaint.comment_id == comment_id, Complaint.reporter_hash == digest)
    )


def reporters(comment_id, only_open=False):
    """How many distinct readers reported the comment (one row per reader), or how many since its last decision."""
    return db.session.scalar(reporters_query(comment_id, only_open))


def reporters_query(comment_id, only_open=False):
    """reporters() as a query, to be a column of another."""
    query = select(func.count()).select_from(Complaint).where(Complaint.comment_id == comment_id)
    return query.where(Complaint.closed_at.is_(None)) if only_open else query


def _receipt(complaint, created):
    return Receipt(complaint.id, complaint.comment_id, complaint.created_at, reporters(complaint.comment_id), created)


def file_complaint(site, comment_id, reporter, reason, text, secret):
    """Store a reader's complaint about one of the site's comments; return its Receipt, or None if no such comment.

    A reader's second complaint about the same comment returns the first one's receipt. An approved comment
    that reaches the site's number of readers is held in the same transaction.
    """
    # Locking the comment makes complaints about it take turns, so that two readers reporting at once both
    # see each other when counting (PostgreSQL; SQLite writes one at a time anyway).
    comment = db.session.scalar(
        select(Comment)
        .where(Comment.id == comment_id, Comment.site_id == site.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if comment is None:
        db.session.rollback()
        return None
    digest = reporter_hash(site.id, reporter, secret)
    existing = _find(comment_id, digest)
    if existing is not None:
        receipt = _receipt(existing, created=False)
        db.session.rollback()
        return receipt
    complaint = Complaint(
        comment_id=comment_id, site_id=site.id, reporter_hash=digest, reason=reason, text=text or None
    )
    db.session.add(complaint)
    try:
        db.session.flush()
    except IntegrityError:  # the same reader's complaint, committed meanwhile (where the lock did not hold)
        db.session.rollback()
        existing = _find(comment_id, digest)
        if existing is None:
            raise
        receipt = _receipt(existing, created=False)
        db.session.rollback()
        return receipt
    receipt = _receipt(complaint, created=True)
    # In the comment's history and the audit log; the reader stays unnamed there too.
    db.session.add(
        AuditEvent(
            action=audit.COMPLAINT,
            comment_id=comment_id,
            via="api",
            detail={"complaint": complaint.id, "reason": reason, "reports": receipt.reports},
        )
    )
    event = _hold_if_reported(comment, site)
    db.session.commit()
    webhooks.send_soon([event])
    return receipt


def _hold_if_reported(comment, site):
    """Hold an approved comment once enough readers complain; return the site's webhook event, if any.

    Only open complaints count: readers who reported it before a moderator approved it were answered by
    that decision. The change is conditional (status.change), so a moderator's decision taken meanwhile wins.
    """
    threshold = site.complaints_hide_after
    if threshold <= 0 or comment.status != APPROVED:
        return None
    count = reporters(comment.id, only_open=True)
    if count < threshold:
        return None
    reason = Reason(REPORTS, facts={"count": count}).as_dict()
    reasons = [r for r in comment.reasons or [] if r.get("code") != REPORTS] + [reason]
    codes = with_code(comment.reason_codes, REPORTS)
    return status.change(
        comment,
        HELD,
        audit.REPORTS_HOLD,
        via="api",
        expected=APPROVED,
        values={"reasons": reasons, "reason_codes": codes},
        detail={"reports": count},
        by="readers",
    ).delivery


def close_open(comment_ids, user, decision, now=None):
    """Close the open complaints about these comments with a moderator's (or the site's) decision; the caller
    commits."""
    if not comment_ids:
        return
    db.session.execute(
        update(Complaint)
        .where(Complaint.comment_id.in_(comment_ids), Complaint.closed_at.is_(None))
        .values(closed_at=now or utcnow(), closed_by_id=user.id if user else None, decision=decision)
        .execution_options(synchronize_session=False)
    )


@dataclass
class ReportedComment:
    """A comment with open complaints, as the complaints view lists it."""

    comment: Comment
    complaints: list
    reports: int
    oldest_age: timedelta  # of its oldest open complaint
    overdue: bool  # that complaint is older than the site's complaints_overdue_hours


def open_complaints(site, now=None, limit=100):
    """The site's comments with open complaints, most reported then riskiest first, each with its complaints."""
    now = now or utcnow()
    summary = (
        select(Complaint.comment_id, func.count().label("reports"), func.min(Complaint.created_at).label("oldest"))
        .where(Complaint.site_id == site.id, Complaint.closed_at.is_(None))
        .group_by(Complaint.comment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Comment, summary.c.reports, summary.c.oldest)
        .join(summary, Comment.id == summary.c.comment_id)
        .order_by(summary.c.reports.desc(), Comment.risk.desc().nulls_last(), summary.c.oldest, Comment.id)
        .limit(limit)
    ).all()
    by_comment = {}
    if rows:
        for complaint in db.session.scalars(
            select(Complaint)
            .where(Complaint.comment_id.in_([row[0].id for row in rows]), Complaint.closed_at.is_(None))
            .order_by(Complaint.created_at, Complaint.id)
        ):
            by_comment.setdefault(complaint.comment_id, []).append(complaint)
    due = timedelta(hours=site.complaints_overdue_hours)
    return [
        ReportedComment(comment, by_comment.get(comment.id, []), reports, now - oldest, now - oldest > due)
        for comment, reports, oldest in rows
    ]


def _rank(item):
    """open_complaints' order, for merging several sites' lists: most reported, riskiest, oldest, lowest id."""
    risk = item.comment.risk
    return -item.reports, risk is None, -(risk or 0.0), -item.oldest_age, item.comment.id


def open_complaints_on(sites, now=None, limit=100):
    """open_complaints of several sites merged in the same order, at most `limit` comments in all."""
    now = now or utcnow()
    items = [item for site in sites for item in open_complaints(site, now, limit)]
    return sorted(items, key=_rank)[:limit]


def reported_count():
    """How many comments have open complaints, on every site: the dashboard's badge."""
    return db.session.scalar(select(func.count(distinct(Complaint.comment_id))).where(Complaint.closed_at.is_(None)))
