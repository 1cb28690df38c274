"""Spot checks: a random share of the filter's approvals, reviewed by moderators to measure what slips through.

The queue shows moderators what the filter held, never what it let through, so its misses stay
unseen and the held comments alone are a biased sample to learn from. A site-set share of the
approvals, drawn at random, is put before the moderators as well: their verdicts estimate the share
of toxic and spam comments among those published (with a confidence interval), and, being
decisions like any other, become training labels for the site's adapter.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scipy.stats import binomtest
from sqlalchemy import func, select

from moderation.db import db, utcnow
from moderation.models import Comment

OK, TOXIC, SPAM, OTHER = "ok", "toxic", "spam", "other"
WEEKS = 12  # the statistics page's estimates reach back this far
CONFIDENCE = 0.95


def draw(site, rng=random):
    """Whether this approval of the site's is a spot check (the site's share, at random)."""
    return rng.random() * 100 < site.spot_check_percent


def verdict_for(action, reason):
    """What a moderator's decision on a spot check says about the filter's approval."""
    if action == "approve":
        return OK
    if action == "spam":
        return SPAM
    return TOXIC if reason is not None and reason.toxic else OTHER


def waiting(site_ids, limit=100):
    """Spot checks nobody has reviewed yet on these sites, oldest first.

    Also those held since (readers' complaints, a campaign): leaving them out would bias the sample
    toward the harmless ones.
    """
    return db.session.scalars(
        select(Comment)
        .where(Comment.spot_check.is_(True), Comment.spot_verdict.is_(None), Comment.site_id.in_(site_ids))
        .order_by(Comment.id)
        .limit(limit)
    ).all()


def waiting_count():
    """Spot checks waiting on every site (the navigation's badge)."""
    return db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.spot_check.is_(True), Comment.spot_verdict.is_(None))
    )


def interval(k, n, confidence=CONFIDENCE):
    """Wilson score interval of a share k/n: (low, high)."""
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass
class Week:
    """The spot checks of the comments published in one week, and what they say of all published ones."""

    start: date
    checked: int
    toxic: int
    spam: int

    def estimate(self, count):
        """(share, low, high) among the published comments, or None before any check."""
        if not self.checked:
            return None
        return (count / self.checked, *interval(count, self.checked))

    @property
    def toxic_share(self):
        """(share, low, high) of toxic comments among the filter's approvals that week."""
        return self.estimate(self.toxic)

    @property
    def spam_share(self):
        """(share, low, high) of spam among the filter's approvals that week."""
        return self.estimate(self.spam)


def weekly(site_ids, zone, weeks=WEEKS, now=None):
    """Per week (Monday, in `zone`) of the filter's decision, newest first: the reviewed spot checks' verdicts.

    Pool sites only when they draw the same share: a site that checks more would weigh more.
    """
    now = now or utcnow()
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)  # the Monday `weeks` weeks back
    since = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    rows = db.session.execute(
        select(Comment.decided_at, Comment.spot_verdict).where(
            Comment.spot_check.is_(True),
            Comment.spot_verdict.is_not(None),
            Comment.site_id.in_(site_ids),
            Comment.decided_at >= since,
        )
    ).all()
    found = {}
    for decided_at, verdict in rows:
        local = decided_at.replace(tzinfo=UTC).astimezone(zone).date()
        start = local - timedelta(days=local.weekday())
        week = found.setdefault(start, Week(start, 0, 0, 0))
        week.checked += 1
        week.toxic += verdict == TOXIC
        week.spam += verdict == SPAM
    return sorted(found.values(), key=lambda w: w.start, reverse=True)
