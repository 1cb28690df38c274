"""Numbers for the statistics page: comments per day by decision, hold and spam rates, time to a decision.

Days are counted in one time zone (the site's), so "today" matches the newsroom's calendar. Grouping by
day happens in the database with a CASE over the day boundaries, which both SQLite and PostgreSQL run
without date functions; only moderated comments (a small share) come back to Python, for the median.
"""

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, exists, func, or_, select

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, PENDING, REJECTED, SPAM, STATUSES, AuditEvent, Comment, Site

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
DEFAULT_ZONE = "Asia/Almaty"


@dataclass
class Day:
    """Comments that arrived on one local day, counted by their current status."""

    day: date
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def total(self):
        """Every comment of the day."""
        return sum(self.counts.values())


@dataclass
class Summary:
    """What the statistics page shows for a period."""

    days: list
    zone: str
    totals: dict
    held_ever: int
    moderated: int
    median_decision: timedelta | None

    @property
    def total(self):
        """Every comment of the period."""
        return sum(self.totals.values())

    @property
    def decided(self):
        """Comments the filter has decided on (all but the pending ones)."""
        return self.total - self.totals[PENDING]

    @property
    def hold_rate(self):
        """Share of decided comments the filter sent to moderators; None without any."""
        return self.held_ever / self.decided if self.decided else None

    @property
    def spam_rate(self):
        """Share of decided comments that are spam now; None without any."""
        return self.totals[SPAM] / self.decided if self.decided else None

    @property
    def busiest(self):
        """The largest number of comments on one day (the chart's scale)."""
        return max((d.total for d in self.days), default=0)


def zone_for(site=None):
    """The zone days are counted in: the site's, or the zone all sites share, or Almaty."""
    if site is not None:
        name = site.timezone
    else:
        zones = set(db.session.scalars(select(Site.timezone).distinct()).all())
        name = zones.pop() if len(zones) == 1 else DEFAULT_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        name = DEFAULT_ZONE
    return name


def day_bounds(days, zone_name, now=None):
    """The local days of the period (oldest first) and their days+1 boundaries as naive UTC times."""
    zone = ZoneInfo(zone_name)
    now = (now or utcnow()).replace(tzinfo=UTC)
    today = now.astimezone(zone).date()
    local_days = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    edges = local_days + [today + timedelta(days=1)]
    # Each boundary is local midnight, so days across a clock change keep their true length.
    bounds = [datetime.combine(d, time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None) for d in edges]
    return local_days, bounds


def summary(days=DEFAULT_DAYS, site=None, now=None):
    """Counts per day and status, hold and spam rates, and the median time to a moderator's decision."""
    zone_name = zone_for(site)
    local_days, bounds = day_bounds(days, zone_name, now)
    in_period = [Comment.created_at >= bounds[0], Comment.created_at < bounds[-1]]
    if site is not None:
        in_period.append(Comment.site_id == site.id)

    bucket = case(*[(Comment.created_at < edge, index) for index, edge in enumerate(bounds[1:])])
    # The CASE goes in a subquery: PostgreSQL would not match a GROUP BY repeating its bound parameters.
    rows = select(bucket.label("bucket"), Comment.status.label("status")).where(*in_period).subquery()
    grouped = db.session.execute(
        select(rows.c.bucket, rows.c.status, func.count()).group_by(rows.c.bucket, rows.c.status)
    ).all()
    per_day = [Day(d) for d in local_days]
    totals = dict.fromkeys(STATUSES, 0)
    for index, status, count in grouped:
        if index is None or status not in totals:
            continue
        per_day[index].counts[status] += count
        totals[status] += count

    return Summary(
        days=per_day, zone=zone_name, totals=totals, held_ever=_held_ever(in_period), **_decision_times(in_period)
    )


def _held_ever(in_period):
    """Comments held now, or held by the filter and decided by a moderator since."""
    was_held = exists().where(and_(AuditEvent.comment_id == Comment.id, AuditEvent.from_status == HELD))
    query = select(func.count()).select_from(Comment).where(*in_period, or_(Comment.status == HELD, was_held))
    return db.session.scalar(query) or 0


def _decision_times(in_period):
    """How many comments a moderator decided, and the median time from arrival to that decision."""
    pairs = db.session.execute(
        select(Comment.created_at, Comment.moderated_at).where(*in_period, Comment.moderated_at.is_not(None))
    ).all()
    waits = [(moderated - created).total_seconds() for created, moderated in pairs]
    median = timedelta(seconds=max(0.0, statistics.median(waits))) if waits else None
    return {"moderated": len(waits), "median_decision": median}


@dataclass
class Agreement:
    """Shadow mode: what the filter would have done against what the moderators then did."""

    pairs: dict  # (filter decision, moderator decision) -> comments
    total: int

    @property
    def agreed(self):
        """Comments where filter and moderator agree: both publish, or both keep it off the site."""
        return sum(
            n for (filtered, moderated), n in self.pairs.items() if (filtered == APPROVED) == (moderated == APPROVED)
        )

    @property
    def rate(self):
        return self.agreed / self.total if self.total else None


def shadow_agreement(days=DEFAULT_DAYS, site=None, now=None):
    """For comments held in shadow mode and decided by a moderator: the filter's decision against theirs."""
    _local_days, bounds = day_bounds(days, zone_for(site), now)
    where = [
        Comment.created_at >= bounds[0],
        Comment.created_at < bounds[-1],
        Comment.filter_status.is_not(None),
        Comment.moderated_by_id.is_not(None),
        Comment.status.in_((APPROVED, REJECTED, SPAM)),
    ]
    if site is not None:
        where.append(Comment.site_id == site.id)
    rows = db.session.execute(
        select(Comment.filter_status, Comment.status, func.count())
        .where(*where)
        .group_by(Comment.filter_status, Comment.status)
    ).all()
    pairs = {(filtered, moderated): n for filtered, moderated, n in rows}
    return Agreement(pairs, sum(pairs.values()))


def parse_days(raw):
    """The period asked for in the query string, one of PERIODS; the default otherwise."""
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS
