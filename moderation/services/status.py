"""Every change of a comment's status, whoever makes it: the change, its audit entry, its training label and the
site's webhook event, written together in the caller's transaction.

The filter, moderators (dashboard, API, bulk, undo), the site's own moderation, readers' complaints and
campaign holds all change a status here, so that none of them can change one without the audit log, the
training data and the site hearing of it alike.
"""

import functools
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, PENDING, REJECTED, SPAM, AuditEvent, Comment, Label
from moderation.services import reasons, webhooks
from moderation.services.audit import APPROVE, FILTER, HOLD, MARK_SPAM, REJECT

ACTIONS = {APPROVE: APPROVED, REJECT: REJECTED, MARK_SPAM: SPAM, HOLD: HELD}  # a moderator's or the site's
DECISIONS = (APPROVE, REJECT, MARK_SPAM)  # what moderators decide; the site may also put a comment back on hold


class Ref(NamedTuple):
    """A comment the caller has not loaded (the filter's), with what its webhook event needs: no lookups."""

    id: int
    site_id: int
    article_id: str | None
    has_webhook: bool | None = None  # None: looked up


class Change(NamedTuple):
    """Whether the status changed, and the site's event to hand to `webhooks.send_soon` once committed."""

    changed: bool
    delivery: object = None


def change(
    comment,
    to,
    action,
    *,
    via,
    expected=None,
    when=(),
    values=None,
    user=None,
    reason=None,
    batch=None,
    detail=None,
    by=None,
    undoes=None,
):
    """Change the comment's status from `expected` to `to`, with its audit entry, label and event; the caller commits.

    The UPDATE is conditional on `expected` (by default the loaded comment's status) and `when`, so that a
    change made meanwhile, by a moderator or another worker, wins and nothing is written. Without a person,
    keeping the status a comment has is no change either: the site's echo of our own event. `comment` is a
    loaded Comment or a Ref; `values` are other columns to set. A moderator's or the site's decision teaches
    its label; an undo (`undoes`: the entry it reverts) gives the label back to the decision still standing
    and writes no entry of its own, as its caller logs the batch once. The event is `comment.decided` for the
    filter, else `comment.moderated` `by` whom.
    """
    expected = expected or comment.status
    if user is None and expected == to:
        return Change(False)
    values = {**(values or {}), "status": to}
    changed = (
        db.session.execute(
            update(Comment).where(Comment.id == comment.id, Comment.status == expected, *when).values(**values)
        ).rowcount
        == 1
    )
    if not changed:
        return Change(False)
    if undoes is None:  # a Core insert: an ORM object would cost a flush for a row nobody reads back here
        db.session.execute(
            insert(AuditEvent.__table__).values(
                _entry(comment.id, expected, to, action, via, detail, user=user, reason=reason, batch=batch)
            )
        )
        if action in ACTIONS:
            _set_label(comment.id, user, action, reason, by_site=user is None)
    else:
        _restore_label(comment.id, undoes)
    return Change(True, _event(comment, expected, values, action, by, undoes is not None))


def decide_all(decisions, *, via):
    """The filter's decisions on pending comments, each (Ref, status, other columns with `decided_at`, audit detail):
    each changed only if still pending, their audit entries written in one statement, their events recorded; the
    caller commits. Return a Change for each, in order.

    The updates go as one batch for each set of columns (a banned author's comment has no scores); when fewer rows
    changed than there are decisions, a moderator or another worker decided some first, and those this call wrote
    are told by their `decided_at`.
    """
    rows = [{**values, "status": to, "_id": ref.id} for ref, to, values, _detail in decisions]
    groups = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    written = sum(db.session.execute(_pending_update(columns), group).rowcount for columns, group in groups.items())
    if written == len(rows):
        changed = [True] * len(rows)
    else:
        stored = dict(
            db.session.execute(
                select(Comment.id, Comment.decided_at).where(Comment.id.in_(r["_id"] for r in rows))
            ).all()
        )
        changed = [stored.get(row["_id"]) == row["decided_at"] for row in rows]
    changes, entries = [], []
    for (ref, to, _values, detail), row, done in zip(decisions, rows, changed):
        if not done:
            changes.append(Change(False))
            continue
        entries.append(_entry(ref.id, PENDING, to, FILTER, via, detail))
        changes.append(
            Change(True, _event(ref, PENDING, {k: v for k, v in row.items() if k != "_id"}, FILTER, None, False))
        )
    if entries:
        db.session.execute(insert(AuditEvent.__table__), entries)
    return changes


@functools.cache
def _pending_update(columns):
    """An UPDATE of these columns of a comment still pending (`_id`), built once: the worker runs it for every
    comment it decides."""
    table = Comment.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.status == PENDING)
        .values({name: bindparam(name) for name in columns if name != "_id"})
    )


def _entry(comment_id, previous, to, action, via, detail, user=None, reason=None, batch=None):
    """An audit entry's row."""
    return {
        "user_id": user.id if user else None,
        "action": action,
        "comment_id": comment_id,
        "from_status": previous,
        "to_status": to,
        "reason": reason.code if reason else None,
        "batch": batch,
        "via": via,
        "detail": detail or {},
    }


def _event(comment, previous, values, action, by, undo):
    """The site's webhook event of the change, in the outbox; None without a webhook or a new status.

    A moderator's or the site's decision tells its reason; an undo says it is one.
    """
    if isinstance(comment, Ref):
        state, has_webhook = {"article_id": comment.article_id, **values}, comment.has_webhook
    else:
        state, has_webhook = {**webhooks.comment_state(comment), **values}, None
    if action == FILTER:
        return webhooks.record(comment.site_id, comment.id, webhooks.DECIDED, state, has_webhook=has_webhook)
    if previous == values["status"]:
        return None
    told = {"undo": True} if undo else {"reason": values.get("reject_reason")} if action in ACTIONS else {}
    return webhooks.record(
        comment.site_id,
        comment.id,
        webhooks.MODERATED,
        state,
        has_webhook=has_webhook,
        previous_status=previous,
        by=by,
        **told,
    )


def confirm(comment_id, action, reason=None):
    """The site's verdict agreeing with the status a comment already has (Akismet's submit-ham on an approval,
    Coral's approval of one): no change, but the label it teaches; the caller commits."""
    _set_label(comment_id, None, action, reason, by_site=True)


def _label_for(action, reason, by_site=False):
    """The training label a decision teaches: (spam, toxic); toxic None teaches nothing about toxicity.

    None: no label at all (putting a comment back on hold; the site trashing one without a reason, which
    may be housekeeping).
    """
    if action == HOLD or (by_site and action == REJECT and reason is None):
        return None
    if action == APPROVE:
        return False, False
    if action == MARK_SPAM:
        return True, None
    return False, (True if reason is not None and reason.toxic else None)


def _set_label(comment_id, user, action, reason, by_site=False):
    judged = _label_for(action, reason, by_site)
    if judged is None:
        return
    spam, toxic = judged
    label = db.session.scalar(select(Label).where(Label.comment_id == comment_id))
    if label is None:
        label = Label(comment_id=comment_id)
        db.session.add(label)
    label.user_id, label.spam, label.toxic, label.created_at = user.id if user else None, spam, toxic, utcnow()


def _restore_label(comment_id, undone_event):
    """The label of the latest decision still standing on the comment, or none."""
    standing = db.session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.comment_id == comment_id,
            AuditEvent.action.in_(DECISIONS),
            AuditEvent.undone.is_(False),
            AuditEvent.id != undone_event.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    label = db.session.scalar(select(Label).where(Label.comment_id == comment_id))
    if standing is None or (standing.user is None and standing.via != "site"):
        if label is not None:
            db.session.delete(label)
        return
    _set_label(comment_id, standing.user, standing.action, reasons.get(standing.reason), by_site=standing.user is None)
