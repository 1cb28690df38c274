"""The audit log and the statistics page."""

import json
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app, render_template, request
from flask_babel import format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from moderation.dashboard import bp
from moderation.db import db
from moderation.models import APPROVED, HELD, PENDING, REJECTED, SPAM, AuditEvent, Comment, Site, User, parse_id
from moderation.services import audit as audit_log
from moderation.services import reasons, spot_checks
from moderation.services import stats as stats_service

STATUS_LABELS = {
    APPROVED: _l("Approved"),
    HELD: _l("Held"),
    SPAM: _l("Spam"),
    REJECTED: _l("Rejected"),
    PENDING: _l("Pending"),
}
VIA_LABELS = {
    "dashboard": _l("dashboard"),
    "api": _l("API"),
    "cli": _l("command line"),
    "worker": _l("filter"),
    "auto": _l("automatically"),
    "site": _l("the site"),
}
# Bottom to top in the stacked bars: the good news first, the work and the waste on top.
CHART_ORDER = (APPROVED, PENDING, HELD, REJECTED, SPAM)
CHART_COLOURS = {APPROVED: "#1a7f37", PENDING: "#98a2b3", HELD: "#e0a100", REJECTED: "#c62828", SPAM: "#8e44ad"}
# Keys of an event's detail that are bookkeeping for undo, not news for a reader.
HIDDEN_DETAIL = {"previous", "batch"}


def _int_arg(name):
    """A positive integer query argument, or None."""
    return parse_id(request.args.get(name, ""))


def detail_items(event):
    """The event's detail as (key, readable value) pairs, without undo bookkeeping."""
    items = []
    for key, value in sorted((event.detail or {}).items()):
        if key in HIDDEN_DETAIL:
            continue
        if isinstance(value, (list, tuple)):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            text = "—" if value is None else str(value)
        items.append((key, text if len(text) <= 200 else text[:199] + "…"))
    return items


@bp.get("/audit")
def audit():
    """Every action moderators and admins took, newest first, filtered by person, action and comment."""
    user_id, comment_id, before = _int_arg("user"), _int_arg("comment"), _int_arg("before")
    action = request.args.get("action", "")
    action = action if action in audit_log.LABELS else ""
    size = current_app.config["PAGE_SIZE"]

    query = select(AuditEvent).options(
        joinedload(AuditEvent.user), joinedload(AuditEvent.comment).joinedload(Comment.site)
    )
    if user_id:
        query = query.where(AuditEvent.user_id == user_id)
    if action:
        query = query.where(AuditEvent.action == action)
    elif not comment_id:
        # One filter decision per comment would bury what people did; asked for by action or comment, it shows.
        query = query.where(AuditEvent.action != audit_log.FILTER)
    if comment_id:
        query = query.where(AuditEvent.comment_id == comment_id)
    if before:
        query = query.where(AuditEvent.id < before)
    if not current_user.is_admin:
        # Admins' changes (keys, tokens, bans everywhere) are for admins; moderators see decisions on comments.
        query = query.where(AuditEvent.comment_id.is_not(None))
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(size + 1)).all()
    older = events[size - 1].id if len(events) > size else None

    filters = {k: v for k, v in {"user": user_id, "action": action, "comment": comment_id}.items() if v}
    return render_template(
        "dashboard/audit.html",
        active_nav="audit",
        events=events[:size],
        older=older,
        filters=filters,
        first_page=before is None,
        users=db.session.scalars(select(User).order_by(User.login)).all(),
        action_labels=audit_log.LABELS,
        status_labels=STATUS_LABELS,
        via_labels=VIA_LABELS,
        detail_items=detail_items,
        reason_labels={r.code: reasons.label_of(r) for r in reasons.all_reasons()},
    )


@bp.get("/stats")
def stats():
    """Comments per day by decision, hold and spam rates, time to a decision, what spot checks find."""
    days = stats_service.parse_days(request.args.get("days"))
    site_id = _int_arg("site")
    site = db.session.get(Site, site_id) if site_id else None
    summary = stats_service.summary(days, site)
    sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return render_template(
        "dashboard/stats.html",
        active_nav="stats",
        summary=summary,
        days=days,
        site=site,
        periods=stats_service.PERIODS,
        sites=sites,
        chart=chart(summary),
        order=CHART_ORDER,
        colours=CHART_COLOURS,
        status_labels=STATUS_LABELS,
        hold_rate=_percent(summary.hold_rate),
        spam_rate=_percent(summary.spam_rate),
        median=duration_text(summary.median_decision),
        day_label=day_label,
        agreement=stats_service.shadow_agreement(days, site),
        spot_groups=_spot_groups([site] if site else sites),
        share_text=_share_text,
    )


def _spot_groups(sites):
    """Per site with reviewed spot checks (sites draw different shares, so they are never pooled): its weeks."""
    groups = [(site, spot_checks.weekly([site.id], ZoneInfo(stats_service.zone_for(site)))) for site in sites]
    return [(site, weeks) for site, weeks in groups if weeks]


def _share_text(estimate):
    """A spot-check estimate as "2.1% (0.9–4.6%)", or a dash before any check."""
    if estimate is None:
        return "—"
    share, low, high = estimate
    return f"{_percent(share)} ({_percent(low)}–{_percent(high)})"


def _percent(share):
    return "—" if share is None else format_percent(share, "#,##0.#%")


def day_label(day, pattern="d MMM"):
    """A local day as the moderator's language writes it (5 нояб.)."""
    return format_date(day, pattern, locale=str(get_locale()))


def duration_text(delta):
    """A duration as a person reads it at a glance: 40 s, 12 min, 3 h 20 min, 2 d 5 h."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    if minutes:
        return _("%(m)d min", m=minutes)
    return _("%(s)d s", s=secs)


def chart(summary, width=720, height=220, top=10, bottom=24, left=36, right=28):
    """Geometry of the stacked-bar chart in SVG units: bars, their segments, axis ticks and labels."""
    plot_height = height - top - bottom
    count = len(summary.days) or 1
    slot = (width - left - right) / count
    gap = max(1.0, slot * 0.15)
    scale = _nice_ceiling(summary.busiest)
    every = 1 if count <= 10 else 5 if count <= 31 else 15
    bars = []
    for index, day in enumerate(summary.days):
        x = left + index * slot + gap / 2
        y = top + plot_height
        segments = []
        for status in CHART_ORDER:
            n = day.counts[status]
            if not n:
                continue
            h = plot_height * n / scale
            y -= h
            segments.append({"status": status, "y": round(y, 2), "h": round(h, 2), "n": n})
        bars.append(
            {
                "x": round(x, 2),
                "w": round(slot - gap, 2),
                "day": day,
                "segments": segments,
                "label": day_label(day.day) if index % every == 0 or index == count - 1 else "",
            }
        )
    fractions = (0, 0.5, 1) if scale >= 2 else (0, 1)
    ticks = [{"y": round(top + plot_height * (1 - f), 2), "value": round(scale * f)} for f in fractions]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "left": left,
        "right": width - right,
        "base": top + plot_height,
        "label_y": height - 6,
    }


def _nice_ceiling(n):
    """The smallest 1, 2 or 5 times a power of ten at least n (and at least 1): a readable axis top."""
    n = max(int(n), 1)
    power = 1
    while True:
        for step in (1, 2, 5):
            if step * power >= n:
                return step * power
        power *= 10
