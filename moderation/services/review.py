"""Moderators' decisions on comments: approve, reject with a reason, spam, ban, undo.

Every decision changes the status through status.change (its audit event, training label and webhook event),
closes the readers' open complaints about the comment and, on a spot check, records the verdict on the filter's
approval.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, AuditEvent, Comment
from moderation.services import bans, complaints, reasons, spot_checks, status, webhooks
from moderation.services.audit import BAN, UNDO
from moderation.services.status import ACTIONS, APPROVE, DECISIONS, HOLD, MARK_SPAM, REJECT

# The site's own moderation (WordPress: approve, spam, trash, unapprove), by the status it gives a comment.
SITE_ACTIONS = {APPROVED: APPROVE, SPAM: MARK_SPAM, REJECTED: REJECT, HELD: HOLD}
MAX_BULK = 500
IP_BAN_DAYS = 7
UNDO_MINUTES = 60  # an undo reaches back this far, no further


class ReviewError(ValueError):
    """An action that cannot be taken as asked; `field` names the faulty input."""

    def __init__(self, field, message=""):
        super().__init__(message or field)
        self.field = field


def _lock(comment_ids):
    """The comments with these ids, locked for this transaction where the database can (PostgreSQL)."""
    query = select(Comment).where(Comment.id.in_(comment_ids)).order_by(Comment.id).with_for_update()
    return db.session.scalars(query).all()


def moderate(comment_ids, user, action, reason_code=None, via="dashboard", batch=None, expected=None):
    """Apply one decision to comments; return (batch id, the comments changed). One undo reverts the batch.

    With `expected` (the status the moderator saw), a comment whose status has changed since, because a
    colleague decided it meanwhile, is left alone rather than overwritten. Without a user, the decision is
    the site's own (via "site"): a rejection then needs no reason.
    """
    if action not in ACTIONS:
        raise ReviewError("action")
    comment_ids = sorted({int(i) for i in comment_ids})
    if not comment_ids:
        raise ReviewError("ids")
    if len(comment_ids) > MAX_BULK:
        raise ReviewError("ids", f"at most {MAX_BULK} comments at once")
    reason = None
    if action == REJECT and (user is not None or reason_code):
        reason = reasons.find(reason_code)
        if reason is None:
            raise ReviewError("reason")
    batch = batch or uuid.uuid4().hex
    by_site = user is None
    # The site repeating a status it already shows (its own echo of our event) changes nothing: see status.change.
    comments = [c for c in _lock(comment_ids) if expected is None or c.status == expected]
    now, changed, events = utcnow(), [], []
    for comment in comments:
        values = {
            "reject_reason": reason.code if reason else None,
            "moderated_by_id": user.id if user else None,
            "moderated_at": now,
        }
        # The moderators' latest decision is the verdict, like the training label; the site's is not a check.
        if comment.spot_check and action != HOLD and not by_site:
            values["spot_verdict"] = spot_checks.verdict_for(action, reason)
        result = status.change(
            comment,
            ACTIONS[action],
            action,
            via=via,
            values=values,
            user=user,
            reason=reason,
            batch=batch,
            detail={"previous": _moderation_state(comment)},
            by="site" if by_site else "moderator",
        )
        if result.changed:
            changed.append(comment)
            events.append(result.delivery)
    # The decision answers the readers who complained; in the same transaction, so none stays open behind it.
    if action != HOLD:
        complaints.close_open([c.id for c in changed], user, ACTIONS[action], now)
    db.session.commit()
    webhooks.send_soon(events)
    return batch, changed


def ban_author(comment_id, user, kind, via="dashboard"):
    """Ban the comment's author by e-mail or IP, and mark the comment spam; one undo reverts both."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise ReviewError("id")
    value = comment.email if kind == bans.EMAIL else comment.author_ip if kind == bans.IP else None
    if not value:
        raise ReviewError("kind")
    # A moderator's ban covers the comment's site only; an IP ban expires, because mobile operators put
    # many readers behind one address. Admins can ban everywhere and for good on the bans page.
    expires = utcnow() + timedelta(days=IP_BAN_DAYS) if kind == bans.IP else None
    ban, created = bans.add_ban(
        kind, value, user=user, site_id=comment.site_id, note=f"comment {comment.id}", expires_at=expires
    )
    batch = uuid.uuid4().hex
    db.session.add(
        AuditEvent(
            user_id=user.id,
            action=BAN,
            comment_id=comment.id,
            batch=batch,
            via=via,
            detail={"ban_id": ban.id, "kind": ban.kind, "value": ban.value, "created": created},
        )
    )
    moderate([comment.id], user, MARK_SPAM, via=via, batch=batch)
    return batch, ban


def _moderation_state(comment):
    return {
        "reject_reason": comment.reject_reason,
        "moderated_by_id": comment.moderated_by_id,
        "moderated_at": comment.moderated_at.isoformat() if comment.moderated_at else None,
        "spot_verdict": comment.spot_verdict,
    }


def undo_last(user, via="dashboard"):
    """Revert the user's latest batch not yet undone, if recent; return the ids restored ([] when nothing to undo).

    A comment someone else has decided since is left as it is. Older decisions are changed in the
    approved, rejected and spam views instead, so that a stray key press cannot unwind yesterday's work.
    """
    since = utcnow() - timedelta(minutes=UNDO_MINUTES)
    last = db.session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.user_id == user.id,
            AuditEvent.undone.is_(False),
            AuditEvent.batch.is_not(None),
            AuditEvent.action != UNDO,
            AuditEvent.created_at >= since,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if last is None:
        return []
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.batch == last.batch).order_by(AuditEvent.id.desc())
    ).all()
    comments = {c.id: c for c in _lock([e.comment_id for e in events if e.comment_id])}
    restored, sent = [], []
    for event in events:
        event.undone = True
        if event.action == BAN:
            if event.detail.get("created"):
                bans.remove_ban(event.detail.get("ban_id"))
            continue
        comment = comments.get(event.comment_id)
        if comment is None or comment.status != event.to_status or _decided_since(event):
            continue
        previous = event.detail.get("previous") or {}
        values = {key: previous.get(key) for key in ("reject_reason", "moderated_by_id", "spot_verdict")}
        values["moderated_at"] = _parse_time(previous.get("moderated_at"))
        result = status.change(
            comment, event.from_status, UNDO, via=via, values=values, user=user, by="moderator", undoes=event
        )
        if result.changed:
            restored.append(comment.id)
            sent.append(result.delivery)
    db.session.add(
        AuditEvent(user_id=user.id, action=UNDO, via=via, detail={"batch": last.batch, "comments": restored})
    )
    db.session.commit()
    webhooks.send_soon(sent)
    return restored


def _decided_since(event):
    """Whether someone took a decision on the event's comment after it that still stands (same status or not)."""
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.comment_id == event.comment_id,
                AuditEvent.id > event.id,
                AuditEvent.action.in_(DECISIONS),
                AuditEvent.undone.is_(False),
            )
            .limit(1)
        )
        is not None
    )


def _parse_time(value):
    return datetime.fromisoformat(value) if value else None
