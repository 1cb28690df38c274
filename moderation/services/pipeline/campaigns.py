"""Campaigns: the same message from several authors within the window is held, as one group."""

from moderation.models import HELD
from moderation.services.hold_reasons import CAMPAIGN, Reason

from .context import Outcome


def check(ctx):
    """Held under the group's id when enough other authors sent the same message (see rules.campaign_members)."""
    if not ctx.campaign:
        return None
    # A group keeps the id it already has, so it does not split as the window moves on.
    known = [c.campaign_id for c in ctx.campaign if c.campaign_id]
    campaign_id = min(known or [c.id for c in ctx.campaign])
    reason = Reason(CAMPAIGN, facts={"campaign_id": campaign_id, "size": len(ctx.campaign) + 1})
    return Outcome(HELD, [reason], {"campaign_id": campaign_id})
