"""Shadow mode: every stored comment is held for the moderators, keeping what the filter decided."""

from moderation.models import HELD
from moderation.services.hold_reasons import SHADOW, Reason

from .context import ALL, Outcome


def check(ctx):
    """Held whatever the other phases decided, their decision kept as `filter_status`."""
    if not ctx.storing or not ctx.site.shadow_mode:
        return None
    return Outcome(HELD, [Reason(SHADOW, facts={"decision": ctx.status})], {"filter_status": ctx.status}, withdraw=ALL)
