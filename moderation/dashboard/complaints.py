"""Readers' complaints for moderators: the reported comments, most reported first, decided as in the queue."""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from moderation.dashboard import bp
from moderation.dashboard.forms import EmptyForm
from moderation.dashboard.helpers import nav_counts
from moderation.db import db
from moderation.models import Site
from moderation.services import complaints, reasons
from moderation.services import queue as queue_service

# The readers' reasons (services/complaints.REASONS), as moderators read them.
COMPLAINT_REASONS = {
    "insult": _l("Insult"),
    "spam": _l("Spam"),
    "threat": _l("Threat"),
    "hate": _l("Hate speech"),
    "illegal": _l("Illegal content"),
    "other": _l("Other"),
}
LIMIT = 100  # reported comments on one page; the most reported come first


def complaint_reason(code):
    """A reader's complaint reason in the moderator's language."""
    return str(COMPLAINT_REASONS.get(code, code))


@bp.get("/complaints")
def complaints_view():
    """Comments readers reported, most reported then riskiest first, with the complaints still open."""
    sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    site_id = request.args.get("site", type=int)
    shown = [s for s in sites if s.id == site_id] if site_id else sites
    items = complaints.open_complaints_on(shown, limit=LIMIT)
    return render_template(
        "dashboard/complaints.html",
        items=items,
        sites=sites,
        sites_by_id={s.id: s for s in sites},
        site_id=site_id,
        records=queue_service.author_records([item.comment for item in items]),
        reasons=reasons.active_reasons(),
        undo_form=EmptyForm(),
        complaint_reason=complaint_reason,
        counts=nav_counts(),
    )
