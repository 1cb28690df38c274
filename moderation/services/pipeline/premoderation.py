"""Pre-moderation: the site may hold every comment, a new author's first one, or any with a link."""

from moderation.models import HELD
from moderation.services.hold_reasons import PREMODERATION, Reason

from .context import Outcome


def check(ctx):
    """Held when the site's pre-moderation mode covers the comment."""
    mode = ctx.site.premoderation
    if not (mode == "all" or (mode == "first" and not ctx.approved_before) or (mode == "links" and ctx.links > 0)):
        return None
    return Outcome(HELD, [Reason(PREMODERATION, facts={"mode": mode})])
