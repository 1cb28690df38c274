"""The queue: held comments (and the decided ones), one comment's page, and the moderators' actions."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from moderation.dashboard import bp
from moderation.dashboard.forms import ActionForm, EmptyForm
from moderation.dashboard.helpers import nav_counts, safe_next
from moderation.db import db
from moderation.models import STATUSES, AuditEvent, Comment, Site, parse_id
from moderation.services import audit, reasons, review
from moderation.services import queue as queue_service

DONE = {
    review.APPROVE: _l("Approved: %(n)d."),
    review.REJECT: _l("Rejected: %(n)d."),
    review.MARK_SPAM: _l("Marked as spam: %(n)d."),
}
FIELD_ERRORS = {
    "action": _l("Unknown action."),
    "reason": _l("Choose a reason for the rejection."),
    "ids": _l("Select at least one comment (at most 500)."),
    "id": _l("Comment not found."),
    "kind": _l("This comment has no such author detail to ban."),
    "stale": _l("Another moderator has decided this meanwhile; reload the page to see it."),
}


def wants_json():
    """The dashboard's script asks for JSON; a plain form post gets a redirect."""
    return request.headers.get("X-Requested-With") == "fetch"


@bp.get("/")
def queue():
    """Comments of one status (held by default), filtered, riskiest or oldest first, a page at a time."""
    view = queue_service.QueueFilter.from_args(request.args)
    after = queue_service.parse_cursor(request.args.get("after"), view) if request.args.get("after") else None
    comments, cursor = queue_service.page(view, after=after, size=current_app.config["PAGE_SIZE"])
    sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return render_template(
        "dashboard/queue.html",
        view=view,
        comments=comments,
        cursor=cursor,
        total=queue_service.count(view),
        count_cap=queue_service.SEARCH_COUNT_CAP,
        counts=nav_counts(),
        sites=sites,
        sites_by_id={s.id: s for s in sites},
        records=queue_service.author_records(comments),
        undo_form=EmptyForm(),
        reasons=reasons.active_reasons(),
        first_page=after is None,
    )


@bp.get("/comments/<int(max=2147483647):comment_id>")
def comment(comment_id):
    """One comment in full: author, article, scores, reasons, history, and what moderators did to it."""
    item = db.session.get(Comment, comment_id) or abort(404)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.comment_id == comment_id).order_by(AuditEvent.id.desc())
    ).all()
    return render_template(
        "dashboard/comment.html",
        comment=item,
        events=events,
        records=queue_service.author_records([item]),
        undo_form=EmptyForm(),
        reasons=reasons.active_reasons(),
        action_labels=audit.LABELS,
    )


def _done(action, changed, batch=None):
    """Answer an action: JSON for the script, a message and a redirect for a plain form."""
    message = DONE[action] % {"n": len(changed)} if action in DONE else ""
    if wants_json():
        return jsonify(
            {
                "ok": True,
                "action": action,
                "batch": batch,
                "message": message,
                "comments": [{"id": c.id, "status": c.status} for c in changed],
            }
        )
    flash(message, "success")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.queue"))


def _refused(field, status=400):
    message = str(FIELD_ERRORS.get(field, FIELD_ERRORS["action"]))
    if wants_json():
        return jsonify({"ok": False, "error": message, "fields": {field: message}}), status
    flash(message, "error")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.queue"))


@bp.post("/comments/<int(max=2147483647):comment_id>/moderate")
def moderate(comment_id):
    """Approve, reject (with a reason) or mark one comment as spam."""
    return _apply([comment_id])


@bp.post("/moderate")
def moderate_many():
    """The same actions on a selection of comments (bulk)."""
    ids = [i for i in map(parse_id, request.form.getlist("ids")) if i is not None]
    return _apply(ids)


def _apply(ids):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    expected = form.expected.data if form.expected.data in STATUSES else None
    if form.action.data not in review.DECISIONS:  # putting a comment back on hold is the site's own action
        return _refused("action")
    try:
        batch, changed = review.moderate(
            ids, current_user, form.action.data, form.reason.data or None, expected=expected
        )
    except review.ReviewError as exc:
        return _refused(exc.field)
    if ids and not changed and expected:
        return _refused("stale", 409)
    return _done(form.action.data, changed, batch)


@bp.post("/comments/<int(max=2147483647):comment_id>/ban")
def ban(comment_id):
    """Ban the comment's author by e-mail or IP; the comment goes to spam."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        batch, ban_row = review.ban_author(comment_id, current_user, request.form.get("kind"))
    except review.ReviewError as exc:
        return _refused(exc.field)
    message = _("Banned %(value)s; the comment is marked as spam.", value=ban_row.value)
    if wants_json():
        return jsonify(
            {
                "ok": True,
                "action": "ban",
                "batch": batch,
                "message": message,
                "comments": [{"id": comment_id, "status": "spam"}],
            }
        )
    flash(message, "success")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.queue"))


@bp.post("/undo")
def undo():
    """Undo your last action (a whole bulk action at once)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    restored = review.undo_last(current_user)
    message = _("Undone: %(n)d.", n=len(restored)) if restored else _("Nothing to undo.")
    if wants_json():
        return jsonify({"ok": True, "action": "undo", "message": message, "comments": restored})
    flash(message, "success" if restored else "info")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.queue"))
