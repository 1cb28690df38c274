"""«Выборочная проверка»: approvals drawn at random for a moderator to check, decided as in the queue."""

from flask import render_template, request
from sqlalchemy import select

from moderation.dashboard import bp
from moderation.dashboard.forms import EmptyForm
from moderation.dashboard.helpers import nav_counts
from moderation.db import db
from moderation.models import Site
from moderation.services import queue as queue_service
from moderation.services import reasons, spot_checks

LIMIT = 100  # spot checks on one page, oldest first


@bp.get("/spot-checks")
def spot_checks_view():
    """The filter's approvals drawn for a check that nobody has reviewed yet, oldest first."""
    sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    site_id = request.args.get("site", type=int)
    shown = [s.id for s in sites if s.id == site_id] if site_id else [s.id for s in sites]
    items = spot_checks.waiting(shown, limit=LIMIT)
    return render_template(
        "dashboard/spot_checks.html",
        items=items,
        sites=sites,
        sites_by_id={s.id: s for s in sites},
        site_id=site_id,
        records=queue_service.author_records(items),
        reasons=reasons.active_reasons(),
        undo_form=EmptyForm(),
        counts=nav_counts(),
    )
