"""Readers' complaints: an approval of a comment that enough readers reported while it was pending is a hold.

A complaint holds only an approved comment (services/complaints.py), so those filed before the decision are
counted here: the worker reads the open ones with the comment (decisions.score_comment).
"""

from moderation.models import APPROVED, HELD
from moderation.services.hold_reasons import REPORTS, Reason

from .context import Outcome


def check(ctx):
    """Held when at least the site's number of readers reported the comment the filter would approve."""
    threshold = ctx.site.complaints_hide_after
    if ctx.count_reports is None or ctx.status != APPROVED or threshold <= 0:
        return None
    count = ctx.count_reports()
    if count < threshold:
        return None
    return Outcome(HELD, [Reason(REPORTS, facts={"count": count})])
